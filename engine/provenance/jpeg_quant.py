"""A JPEG's quantisation tables and frame header: estimated quality, standard tables or not.

Every JPEG carries the tables its encoder divided the DCT coefficients by. libjpeg (and so
Pillow, OpenCV, GIMP, most web tools) scales two standard tables (ITU-T T.81 Annex K) by a
quality factor; cameras and many editors use their own. The quality estimate is the libjpeg
quality whose scaled tables are closest to the file's; ``tables_match_ijg`` says whether they
are exactly those. A photo whose EXIF names a camera but whose tables are libjpeg's at some
quality was most likely saved again by software (some phones do use libjpeg's tables, so this
is a reason to look, never proof). Only the header is read (segments up to the first scan), with
every length checked, so a damaged file gives ``None`` instead of an exception.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

__all__ = ["ZIGZAG", "JpegHeader", "estimate_quality", "ijg_tables", "read_jpeg_header"]

# ITU-T T.81 Annex K tables in natural (row-major) order.
_STD_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
], dtype=np.int64)
_STD_CHROMA = np.array([
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    *([99] * 32),
], dtype=np.int64)
# Zig-zag position k -> natural index (row * 8 + col): DQT stores tables in this order.
ZIGZAG = np.array([
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
], dtype=np.int64)
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}


@dataclass(frozen=True)
class JpegHeader:
    """Tables and frame facts from a JPEG header.

    Attributes:
        tables: quantisation tables by id (0-3), each 64 steps in zig-zag order.
        components: ``(id, h_sampling, v_sampling, table_id)`` per colour component.
        progressive: a progressive frame (SOF2/6/10/14).
        width: frame width in pixels.
        height: frame height in pixels.
    """

    tables: dict[int, tuple[int, ...]]
    components: tuple[tuple[int, int, int, int], ...]
    progressive: bool
    width: int
    height: int

    @property
    def subsampling(self) -> str:
        """Chroma subsampling in the usual notation (``"4:2:0"``), or the raw factors."""
        if len(self.components) == 1:
            return "greyscale"
        if len(self.components) != 3:
            return f"{len(self.components)} components"
        (_, h0, v0, _), (_, h1, v1, _), _ = self.components
        ratio = (h0 // max(h1, 1), v0 // max(v1, 1))
        return {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (1, 2): "4:4:0",
                (4, 1): "4:1:1"}.get(ratio, f"{h0}x{v0} / {h1}x{v1}")

    def table_of(self, component: int) -> tuple[int, ...] | None:
        """The zig-zag table of component ``component`` (0 = luma)."""
        if component >= len(self.components):
            return None
        return self.tables.get(self.components[component][3])


def read_jpeg_header(data: bytes) -> JpegHeader | None:
    """Parse segments up to the first scan; ``None`` if it is not a readable JPEG header."""
    if not data.startswith(b"\xff\xd8"):
        return None
    tables: dict[int, tuple[int, ...]] = {}
    frame: tuple[int, int, int, tuple[tuple[int, int, int, int], ...]] | None = None
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        (length,) = struct.unpack_from(">H", data, at + 2)
        body = data[at + 4 : at + 2 + length]
        if length < 2 or len(body) != length - 2:
            return None
        if marker == 0xDB:
            tables.update(_dqt(body))
        elif marker in _SOF_MARKERS:
            frame = _sof(marker, body)
        elif marker == 0xDA:
            break
        at += 2 + length
    if frame is None or not tables:
        return None
    marker, height, width, components = frame
    return JpegHeader(tables, components, marker in _PROGRESSIVE, width, height)


def _dqt(body: bytes) -> dict[int, tuple[int, ...]]:
    found: dict[int, tuple[int, ...]] = {}
    at = 0
    while at < len(body):
        precision, table_id = body[at] >> 4, body[at] & 0x0F
        size = 128 if precision else 64
        raw = body[at + 1 : at + 1 + size]
        if len(raw) != size or table_id > 3:
            break
        fmt = ">64H" if precision else "64B"
        found[table_id] = tuple(struct.unpack(fmt, raw))
        at += 1 + size
    return found


def _sof(marker: int, body: bytes) -> tuple[int, int, int, tuple[tuple[int, int, int, int], ...]]:
    if len(body) < 6:
        return marker, 0, 0, ()
    _precision, height, width, n = struct.unpack_from(">BHHB", body, 0)
    comps = []
    for i in range(n):
        at = 6 + 3 * i
        if at + 3 > len(body):
            break
        comp_id, sampling, table_id = body[at], body[at + 1], body[at + 2]
        comps.append((comp_id, sampling >> 4, sampling & 0x0F, table_id))
    return marker, height, width, tuple(comps)


def ijg_tables(quality: int) -> tuple[np.ndarray, np.ndarray]:
    """libjpeg's (luma, chroma) tables for ``quality`` 1-100, zig-zag order, baseline-clamped."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    luma = np.clip((_STD_LUMA * scale + 50) // 100, 1, 255)[ZIGZAG]
    chroma = np.clip((_STD_CHROMA * scale + 50) // 100, 1, 255)[ZIGZAG]
    return luma, chroma


def estimate_quality(
    luma: tuple[int, ...], chroma: tuple[int, ...] | None
) -> tuple[int, bool]:
    """``(quality, exact)``: the closest libjpeg quality and whether its tables match exactly."""
    file_luma = np.asarray(luma, dtype=np.int64)
    file_chroma = None if chroma is None else np.asarray(chroma, dtype=np.int64)
    best_q, best_err, exact = 0, None, False
    for q in range(1, 101):
        ref_luma, ref_chroma = ijg_tables(q)
        err = int(np.abs(ref_luma - file_luma).sum())
        if file_chroma is not None:
            err += int(np.abs(ref_chroma - file_chroma).sum())
        if best_err is None or err < best_err:
            best_q, best_err = q, err
        if err == 0:
            # NOTE: at high qualities several q share tables; the first exact one is reported.
            return q, True
    return best_q, exact
