"""Structural checks of video containers, read from box and chunk headers only.

FFmpeg, given a cut or audio-only file, says little more than "could not open". The layout of
MP4/MOV (ISO-BMFF boxes) and AVI (RIFF chunks) states how long each part is, so a few header
reads tell a person *why*: the recording was cut off, the index ('moov') is missing, or the file
has no video track. Only headers are read; ``mdat`` payloads are skipped with ``seek``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

from engine.errors import (
    TruncatedMediaError,
    UnreadableMediaError,
    UnsupportedFormatError,
    ZeroFramesError,
)

__all__ = ["check_container"]

# NOTE: a 'moov' index is a few kB to a few MB (about 12 bytes per frame); 256 MiB is far beyond
# any real file and stops a forged size from making us read gigabytes.
_MAX_MOOV_BYTES = 256 << 20


def check_container(path: str, format_name: str, size_bytes: int) -> None:
    """Check the container structure of a video before FFmpeg opens it.

    Args:
        path: the file.
        format_name: as sniffed; only ``"mp4"``, ``"mov"`` and ``"avi"`` are checked, other
            containers pass unchanged.
        size_bytes: the file size.

    Raises:
        TruncatedMediaError: a box or chunk runs past the end of the file, or there is no index.
        UnsupportedFormatError: an MP4/MOV with tracks but no video track (audio only).
        ZeroFramesError: an MP4/MOV with no track, or whose video track holds no samples.
    """
    try:
        with open(path, "rb") as fh:
            if format_name in ("mp4", "mov"):
                _check_isobmff(path, fh, size_bytes)
            elif format_name == "avi":
                _check_riff(path, fh, size_bytes)
    except OSError as exc:
        raise UnreadableMediaError(path, f"Cannot read the file: {exc.strerror}") from exc


def _check_riff(path: str, fh: BinaryIO, size_bytes: int) -> None:
    header = fh.read(12)
    declared = struct.unpack("<I", header[4:8])[0] + 8 if len(header) >= 8 else 0
    if len(header) < 12 or declared > size_bytes:
        raise TruncatedMediaError(
            path,
            f"The AVI file is truncated: its header declares {declared} bytes but the file has "
            f"{size_bytes}; the recording or copy was probably interrupted",
        )


def _top_level_boxes(path: str, fh: BinaryIO, size_bytes: int) -> list[tuple[bytes, int, int]]:
    """Return ``(type, payload_offset, payload_size)`` of each top-level box."""
    boxes: list[tuple[bytes, int, int]] = []
    offset = 0
    while offset < size_bytes:
        box_type, header_len, box_size = _read_box_header(fh, offset, size_bytes)
        if box_size < header_len:
            if offset + 8 > size_bytes:
                break  # trailing padding shorter than a box header
            raise TruncatedMediaError(path, _cut_message(box_type, offset, size_bytes))
        if offset + box_size > size_bytes:
            raise TruncatedMediaError(path, _cut_message(box_type, offset, size_bytes))
        boxes.append((box_type, offset + header_len, box_size - header_len))
        offset += box_size
    return boxes


def _read_box_header(fh: BinaryIO, offset: int, size_bytes: int) -> tuple[bytes, int, int]:
    fh.seek(offset)
    head = fh.read(16)
    if len(head) < 8:
        return b"", 8, 0
    size, box_type = struct.unpack(">I4s", head[:8])
    if size == 1:
        if len(head) < 16:
            return box_type, 16, 0
        return box_type, 16, struct.unpack(">Q", head[8:16])[0]
    if size == 0:  # the box extends to the end of the file
        return box_type, 8, size_bytes - offset
    return box_type, 8, size


def _cut_message(box_type: bytes, offset: int, size_bytes: int) -> str:
    name = box_type.decode("latin-1", "replace").strip() or "?"
    return (
        f"The video file is truncated: its '{name}' section at byte {offset} runs past the end "
        f"of the file ({size_bytes} bytes); the recording or copy was probably interrupted"
    )


def _check_isobmff(path: str, fh: BinaryIO, size_bytes: int) -> None:
    boxes = _top_level_boxes(path, fh, size_bytes)
    moov = [(off, size) for box_type, off, size in boxes if box_type == b"moov"]
    if not moov:
        raise TruncatedMediaError(
            path,
            "The video has no index ('moov' section): the recording was interrupted before it "
            "was finalised, or the file was cut",
        )
    moov_offset, moov_size = moov[0]
    if moov_size > _MAX_MOOV_BYTES:
        raise UnsupportedFormatError(path, f"The video index is implausibly large ({moov_size} B)")
    fh.seek(moov_offset)
    _check_tracks(path, fh.read(moov_size))


def _check_tracks(path: str, moov: bytes) -> None:
    tracks = [
        _track_summary(moov, start, end) for start, end in _children(moov, 0, len(moov), b"trak")
    ]
    if not tracks:
        raise ZeroFramesError(
            path, "The video holds no tracks and so no frames (recording stopped before the first)"
        )
    handlers = {handler for handler, _ in tracks if handler is not None}
    if handlers and b"vide" not in handlers:
        kinds = ", ".join(sorted(h.decode("latin-1", "replace") for h in handlers))
        raise UnsupportedFormatError(
            path, f"The file has no video track (only: {kinds}); it is probably audio only"
        )
    video_counts = [count for handler, count in tracks if handler == b"vide" and count is not None]
    fragmented = any(True for _ in _children(moov, 0, len(moov), b"mvex"))
    if video_counts and not fragmented and max(video_counts) == 0:
        raise ZeroFramesError(path, "The video track holds no frames")


def _track_summary(moov: bytes, start: int, end: int) -> tuple[bytes | None, int | None]:
    """(handler type such as 'vide'/'soun', sample count) of one 'trak' box's payload."""
    handler: bytes | None = None
    n_samples: int | None = None
    for mdia in _children(moov, start, end, b"mdia"):
        for hdlr_start, hdlr_end in _children(moov, *mdia, b"hdlr"):
            if hdlr_end - hdlr_start >= 12:
                handler = moov[hdlr_start + 8 : hdlr_start + 12]
        for minf in _children(moov, *mdia, b"minf"):
            for stbl in _children(moov, *minf, b"stbl"):
                for stsz_start, stsz_end in _children(moov, *stbl, b"stsz", b"stz2"):
                    if stsz_end - stsz_start >= 12:
                        n_samples = struct.unpack(">I", moov[stsz_start + 8 : stsz_start + 12])[0]
    return handler, n_samples


def _children(buf: bytes, start: int, end: int, *types: bytes) -> Iterator[tuple[int, int]]:
    """Payload ``(start, end)`` of the child boxes of ``buf[start:end]`` with one of ``types``.

    A damaged inner box ends the walk quietly: FFmpeg then gives the final word on the file.
    """
    pos = start
    while pos + 8 <= end:
        size, box_type = struct.unpack(">I4s", buf[pos : pos + 8])
        header_len = 8
        if size == 1 and pos + 16 <= end:
            size = struct.unpack(">Q", buf[pos + 8 : pos + 16])[0]
            header_len = 16
        elif size == 0:
            size = end - pos
        if size < header_len or pos + size > end:
            return
        if box_type in types:
            yield pos + header_len, pos + size
        pos += size
