"""Byte-level edits of the MP4 and AVI files cv2 writes: rotation, frame timing, frame count.

Phones store portrait video as landscape pixels plus a display matrix, and record with a
variable frame rate. No FFmpeg binary is available to make such files, so these helpers patch
the ISO-BMFF boxes of a cv2 ``mp4v`` file directly. cv2 (FFmpeg's muxer without faststart)
writes the ``moov`` index after the ``mdat`` payload, so a box inside ``moov`` may change size
without moving the sample data its chunk offsets point at; :func:`vary_frame_rate` checks that.
"""

from __future__ import annotations

import struct
from pathlib import Path

__all__ = ["find_boxes", "patch_avi_frame_count", "rotate_mp4", "vary_frame_rate"]

_STTS_PATH = [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stts"]


def _isobmff_boxes(buf: bytes | bytearray, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of the boxes in ``buf[start:end]`` (32-bit sizes only: cv2 output)."""
    boxes = []
    pos = start
    while pos + 8 <= end:
        size, box_type = struct.unpack(">I4s", buf[pos : pos + 8])
        boxes.append((box_type, pos, size))
        pos += size
    return boxes


def _find_paths(buf: bytes | bytearray, path_types: list[bytes]) -> list[list[int]]:
    """For each box reached by ``path_types``, the offsets of it and of its ancestors."""
    chains: list[list[int]] = [[]]
    ranges = [(0, len(buf))]
    for wanted in path_types:
        next_chains, next_ranges = [], []
        for chain, (start, end) in zip(chains, ranges, strict=True):
            for box_type, off, size in _isobmff_boxes(buf, start, end):
                if box_type == wanted:
                    next_chains.append([*chain, off])
                    next_ranges.append((off + 8, off + size))
        chains, ranges = next_chains, next_ranges
    return chains


def find_boxes(buf: bytes | bytearray, path_types: list[bytes]) -> list[int]:
    """Offsets of boxes reached by ``path_types`` (e.g. moov/trak/tkhd) from the top level."""
    return [chain[-1] for chain in _find_paths(buf, path_types)]


def rotate_mp4(src: Path, dst: Path, rotation_deg: int) -> Path:
    """Copy an mp4 and set its video track's display matrix to a clockwise rotation.

    This is how phones store portrait video: the pixels stay landscape and 'tkhd' carries the
    matrix. FFmpeg reports it as rotation metadata, exactly as for a phone clip.
    """
    cos, sin = {90: (0, 1), 180: (-1, 0), 270: (0, -1)}[rotation_deg]
    buf = bytearray(src.read_bytes())
    for off in find_boxes(buf, [b"moov", b"trak", b"tkhd"]):
        version = buf[off + 8]
        matrix_at = off + 8 + 4 + (32 if version == 1 else 20) + 16
        matrix = [cos << 16, sin << 16, 0, -sin << 16, cos << 16, 0, 0, 0, 1 << 30]
        buf[matrix_at : matrix_at + 36] = struct.pack(">9i", *matrix)
    dst.write_bytes(bytes(buf))
    return dst


def vary_frame_rate(src: Path, dst: Path, pattern: tuple[int, ...] = (2, 6, 3, 5)) -> Path:
    """Copy an mp4 with a variable frame rate: frame durations cycle through ``pattern``.

    The original constant duration is split in ``sum(pattern) / len(pattern)`` parts; with the
    default ``(2, 6, 3, 5)`` quarters, frames last 0.5, 1.5, 0.75 and 1.25 times the nominal
    duration (20, 6.7, 13.3 and 8 fps for a 10 fps file), and the total duration is unchanged,
    so the movie header, edit list and track durations stay valid.
    """
    buf = bytearray(src.read_bytes())
    (chain,) = _find_paths(buf, _STTS_PATH)
    stts = chain[-1]
    mdat = find_boxes(buf, [b"mdat"])
    if not mdat or mdat[0] > chain[0]:
        raise ValueError(f"{src}: 'moov' is not after 'mdat'; resizing it would move the data")
    (n_entries,) = struct.unpack(">I", buf[stts + 12 : stts + 16])
    if n_entries != 1:
        raise ValueError(f"{src}: expected a constant frame rate (one stts entry)")
    n_frames, delta = struct.unpack(">II", buf[stts + 16 : stts + 24])
    unit, rest = divmod(delta * len(pattern), sum(pattern))
    if rest or n_frames % len(pattern):
        raise ValueError(f"{src}: {n_frames} frames of {delta} ticks do not split by {pattern}")
    entries = [(1, unit * pattern[i % len(pattern)]) for i in range(n_frames)]
    body = struct.pack(">4xI", len(entries)) + b"".join(struct.pack(">II", *e) for e in entries)
    new_box = struct.pack(">I4s", 8 + len(body), b"stts") + body
    old_size = struct.unpack(">I", buf[stts : stts + 4])[0]
    growth = len(new_box) - old_size
    for ancestor in chain[:-1]:
        (size,) = struct.unpack(">I", buf[ancestor : ancestor + 4])
        buf[ancestor : ancestor + 4] = struct.pack(">I", size + growth)
    buf[stts : stts + old_size] = new_box
    dst.write_bytes(bytes(buf))
    return dst


def patch_avi_frame_count(src: Path, dst: Path, n_frames: int) -> Path:
    """Make an AVI header list ``n_frames`` frames (avih total and strh length)."""
    buf = bytearray(src.read_bytes())
    avih = buf.find(b"avih")
    strh = buf.find(b"strh")
    buf[avih + 8 + 16 : avih + 8 + 20] = struct.pack("<I", n_frames)
    buf[strh + 8 + 32 : strh + 8 + 36] = struct.pack("<I", n_frames)
    dst.write_bytes(bytes(buf))
    return dst
