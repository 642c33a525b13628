"""Frame count and per-frame durations of animated GIF, APNG and WebP, read from their headers.

Animated images are videos whose frame times live in the file: GIF graphic-control extensions
(centiseconds), APNG ``fcTL`` chunks (a fraction of a second) and WebP ``ANMF`` chunks
(milliseconds). They are read here from block and chunk headers only (pixel data is skipped
with ``seek``), so sniffing can tell an animation from a still and sampling can plan by time
before any frame is decoded.

Durations of 10 ms or less are shown by browsers as 100 ms (GIFs saved with delay 0 or 1 rely
on it); the same rule is applied here, so frame times match what a viewer shows.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

__all__ = ["MIN_SHOWN_S", "frame_durations_s"]

# NOTE: the browsers' rule (Chromium, Firefox, Safari): a delay <= 10 ms is shown as 100 ms.
MIN_SHOWN_S = 0.010
_SHOWN_INSTEAD_S = 0.100


def frame_durations_s(path: str, format_name: str, limit: int | None = None) -> list[float]:
    """Durations in seconds of the frames of a GIF/PNG/WebP file (one entry for a still).

    Args:
        path: the file.
        format_name: ``"gif"``, ``"png"``/``"apng"`` or ``"webp"``.
        limit: stop after this many frames (sniffing needs two).

    Returns:
        One duration per frame, in file order; ``[]`` when the structure is unreadable (the
        image decoder then gives the error).
    """
    with open(path, "rb") as fh:
        if format_name == "gif":
            raw = _gif_delays_s(fh, limit)
        elif format_name in ("png", "apng"):
            raw = _apng_delays_s(fh, limit)
        elif format_name == "webp":
            raw = _webp_durations_s(fh, limit)
        else:
            raise ValueError(f"not an animated image format: {format_name}")
    return [_SHOWN_INSTEAD_S if d <= MIN_SHOWN_S else d for d in raw]


def _skip_sub_blocks(fh: BinaryIO) -> bool:
    """Skip GIF data sub-blocks up to the terminator; False if the file ends first."""
    while True:
        size = fh.read(1)
        if not size:
            return False
        if size[0] == 0:
            return True
        fh.seek(size[0], 1)


def _gif_delays_s(fh: BinaryIO, limit: int | None) -> list[float]:
    header = fh.read(13)
    if len(header) < 13:
        return []
    if header[10] & 0x80:  # global colour table
        fh.seek(3 << ((header[10] & 0x07) + 1), 1)
    delays: list[float] = []
    pending_delay = 0.0
    while limit is None or len(delays) < limit:
        kind = fh.read(1)
        if kind == b"\x21":  # extension
            label = fh.read(1)
            if label == b"\xf9":
                block = fh.read(6)
                if len(block) < 6:
                    break
                pending_delay = struct.unpack("<H", block[2:4])[0] / 100.0
                fh.seek(-1, 1)  # the block terminator is read by the sub-block skip
            if not _skip_sub_blocks(fh):
                break
        elif kind == b"\x2c":  # image descriptor
            desc = fh.read(9)
            if len(desc) < 9:
                break
            if desc[8] & 0x80:  # local colour table
                fh.seek(3 << ((desc[8] & 0x07) + 1), 1)
            if not fh.read(1) or not _skip_sub_blocks(fh):  # LZW code size, then the data
                break
            delays.append(pending_delay)
            pending_delay = 0.0
        else:  # the trailer (0x3B), the end of the file, or garbage: the frames end here
            break
    return delays


def _apng_delays_s(fh: BinaryIO, limit: int | None) -> list[float]:
    fh.seek(8)
    delays: list[float] = []
    seen_idat = seen_actl = default_outside = False
    while limit is None or len(delays) < limit:
        head = fh.read(8)
        if len(head) < 8:
            break
        length, kind = struct.unpack(">I4s", head)
        seen_actl = seen_actl or kind == b"acTL"
        if kind == b"IDAT" and not seen_actl:
            return [0.0]  # the animation control chunk must come before the image data
        if kind == b"fcTL":
            body = fh.read(26)
            if len(body) < 26:
                break
            num, den = struct.unpack(">HH", body[20:24])
            delays.append(num / (den or 100))
            fh.seek(length - 26 + 4, 1)
            continue
        if kind == b"IDAT" and not seen_idat:
            seen_idat = True
            default_outside = not delays  # no fcTL before IDAT: a still default image
        if kind == b"IEND":
            break
        fh.seek(length + 4, 1)
    if not delays:
        return [0.0] if seen_idat else []
    # NOTE: a default image outside the animation (what non-APNG viewers show) is frame 0, as
    # Pillow, which decodes the frames, numbers it; it has no duration of its own.
    return [0.0, *delays] if default_outside else delays


def _webp_durations_s(fh: BinaryIO, limit: int | None) -> list[float]:
    header = fh.read(12)
    if len(header) < 12 or header[8:12] != b"WEBP":
        return []
    durations: list[float] = []
    still = False
    while limit is None or len(durations) < limit:
        head = fh.read(8)
        if len(head) < 8:
            break
        kind, length = head[:4], struct.unpack("<I", head[4:8])[0]
        if kind == b"ANMF":
            body = fh.read(16)
            if len(body) < 16:
                break
            durations.append(int.from_bytes(body[12:15], "little") / 1000.0)
            fh.seek(length - 16 + (length & 1), 1)
            continue
        if kind in (b"VP8 ", b"VP8L"):
            still = True
        fh.seek(length + (length & 1), 1)
    if not durations:
        return [0.0] if still else []
    return durations
