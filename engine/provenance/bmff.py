"""MP4/MOV (ISO-BMFF) boxes the demuxer does not report: times, rotation, handlers, edit lists.

The header boxes of a phone video record when the movie and each track were created and
modified (``mvhd``/``tkhd``/``mdhd``, seconds since 1904 UTC), the display matrix (rotation),
the handler names (``"Core Media Video"`` on an iPhone, ``"VideoHandler"`` from FFmpeg), the
compressor name in the sample description, and edit lists (``elst``): which parts of the media
are presented, which is how editors cut without re-encoding. The top-level box order is kept
too (cameras write ``mdat`` before ``moov``; "fast start" tools move ``moov`` first).

Only box headers and the ``moov`` box are read (at most :data:`MAX_MOOV_BYTES`); every length
is checked against its parent, so a crafted file ends the walk with a note, never an exception.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from engine.provenance.model import EditListEntry

__all__ = ["MAX_MOOV_BYTES", "BmffFacts", "TrackBoxes", "read_bmff"]

# NOTE: the moov of a one-hour phone video (sample tables of ~100k frames) is 5-20 MB.
MAX_MOOV_BYTES = 64 * 2**20
# NOTE: a real file has a handful of top-level boxes; a crafted one with millions is cut here.
_MAX_TOP_LEVEL = 10_000
_MAX_DEPTH = 8
_EPOCH_1904 = datetime(1904, 1, 1, tzinfo=UTC)
_CONTAINERS = {b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf"}


@dataclass
class TrackBoxes:
    """What the boxes of one track say."""

    track_id: int = 0
    handler_type: str = ""
    handler_name: str | None = None
    created_utc: str | None = None
    modified_utc: str | None = None
    rotation_deg: int = 0
    width: float = 0.0
    height: float = 0.0
    codec_fourcc: str | None = None
    compressor: str | None = None
    media_timescale: int = 0
    raw_edits: list[tuple[int, int, float]] = field(default_factory=list)


@dataclass
class BmffFacts:
    """The header facts of an MP4/MOV file."""

    box_order: list[str] = field(default_factory=list)
    created_utc: str | None = None
    modified_utc: str | None = None
    movie_timescale: int = 0
    tracks: list[TrackBoxes] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def edit_lists(self) -> tuple[EditListEntry, ...]:
        """Every edit-list entry, with durations in seconds."""
        entries = []
        for track in self.tracks:
            for duration, media_time, rate in track.raw_edits:
                entries.append(EditListEntry(
                    track_id=track.track_id,
                    segment_duration_s=duration / self.movie_timescale
                    if self.movie_timescale else 0.0,
                    media_time_s=None if media_time < 0 or not track.media_timescale
                    else media_time / track.media_timescale,
                    rate=rate,
                ))
        return tuple(entries)


def _fourcc(raw: bytes) -> str:
    return raw.decode("latin-1") if all(32 <= b < 127 or b == 0xA9 for b in raw) else raw.hex()


def _time_1904(seconds: int) -> str | None:
    """ISO 8601 UTC of a 1904-epoch time; ``None`` for 0 (unset) or an impossible value."""
    if seconds <= 0 or seconds > 2**33:
        return None
    return (_EPOCH_1904 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _top_level(stream: BinaryIO, size: int, facts: BmffFacts) -> Iterator[tuple[bytes, int, int]]:
    """``(type, payload_offset, payload_size)`` of each top-level box."""
    at = 0
    while at + 8 <= size and len(facts.box_order) < _MAX_TOP_LEVEL:
        stream.seek(at)
        header = stream.read(16)
        box_size, kind = struct.unpack_from(">I4s", header)
        header_len = 8
        if box_size == 1 and len(header) == 16:
            (box_size,) = struct.unpack_from(">Q", header, 8)
            header_len = 16
        elif box_size == 0:
            box_size = size - at
        if box_size < header_len or at + box_size > size:
            facts.notes.append(f"box {_fourcc(kind)!r} at byte {at} claims {box_size} bytes, "
                               "past the end of the file: the box walk stops there")
            return
        facts.box_order.append(_fourcc(kind))
        yield kind, at + header_len, box_size - header_len
        at += box_size


def _children(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """``(type, payload_start, payload_end)`` of the boxes inside ``data[start:end]``."""
    at = start
    while at + 8 <= end:
        box_size, kind = struct.unpack_from(">I4s", data, at)
        header_len = 8
        if box_size == 1 and at + 16 <= end:
            (box_size,) = struct.unpack_from(">Q", data, at + 8)
            header_len = 16
        elif box_size == 0:
            box_size = end - at
        if box_size < header_len or at + box_size > end:
            return
        yield kind, at + header_len, at + box_size
        at += box_size


def read_bmff(stream: BinaryIO, size: int) -> BmffFacts:
    """Walk an MP4/MOV file's boxes (see the module docstring); never raises on bad data."""
    facts = BmffFacts()
    try:
        for kind, offset, length in list(_top_level(stream, size, facts)):
            if kind != b"moov":
                continue
            if length > MAX_MOOV_BYTES:
                facts.notes.append(f"the moov box is {length} bytes, over the "
                                   f"{MAX_MOOV_BYTES >> 20} MB read limit: not parsed")
                continue
            stream.seek(offset)
            moov = stream.read(length)
            _parse_moov(moov, facts)
    except (struct.error, OSError, ValueError, OverflowError) as exc:
        facts.notes.append(f"the MP4/MOV boxes could not be read completely: {exc}")
    return facts


def _parse_moov(moov: bytes, facts: BmffFacts) -> None:
    for kind, start, end in _children(moov, 0, len(moov)):
        if kind == b"mvhd":
            created, modified, timescale = _times(moov, start)
            facts.created_utc, facts.modified_utc = created, modified
            facts.movie_timescale = timescale
        elif kind == b"trak":
            track = TrackBoxes()
            _parse_container(moov, start, end, track, depth=1)
            facts.tracks.append(track)


def _times(data: bytes, start: int) -> tuple[str | None, str | None, int]:
    """(created, modified, timescale) of an ``mvhd``/``mdhd`` payload."""
    version = data[start]
    if version == 1:
        created, modified, timescale = struct.unpack_from(">QQI", data, start + 4)
    else:
        created, modified, timescale = struct.unpack_from(">III", data, start + 4)
    return _time_1904(created), _time_1904(modified), timescale


def _parse_container(data: bytes, start: int, end: int, track: TrackBoxes, depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    for kind, s, e in _children(data, start, end):
        if kind in _CONTAINERS:
            _parse_container(data, s, e, track, depth + 1)
        elif kind == b"tkhd":
            _parse_tkhd(data, s, track)
        elif kind == b"mdhd":
            track.created_utc, track.modified_utc, track.media_timescale = _times(data, s)
        elif kind == b"hdlr" and e - s >= 24 and data[s + 4 : s + 8] != b"dhlr":
            # NOTE: QuickTime's minf holds a second, data-reference handler ('dhlr'): skipped.
            track.handler_type = _fourcc(data[s + 8 : s + 12])
            name = data[s + 24 : e].split(b"\x00", 1)[0]
            # NOTE: QuickTime writes a Pascal string (length byte first), MP4 a C string.
            if name and name[0] == len(name) - 1:
                name = name[1:]
            track.handler_name = name.decode("utf-8", "replace").strip() or None
        elif kind == b"stsd":
            _parse_stsd(data, s, e, track)
        elif kind == b"elst":
            _parse_elst(data, s, e, track)


def _parse_tkhd(data: bytes, start: int, track: TrackBoxes) -> None:
    version = data[start]
    body = start + 4
    if version == 1:
        (track.track_id,) = struct.unpack_from(">I", data, body + 16)
        matrix_at = body + 16 + 4 + 4 + 8 + 8 + 8
    else:
        (track.track_id,) = struct.unpack_from(">I", data, body + 8)
        matrix_at = body + 8 + 4 + 4 + 4 + 8 + 8
    a, b, _u, c, d = struct.unpack_from(">iiiii", data, matrix_at)
    width, height = struct.unpack_from(">II", data, matrix_at + 36)
    track.width, track.height = width / 65536.0, height / 65536.0
    if a or b or c or d:
        # NOTE: atan2(b, a) of the matrix [a b; c d] is the clockwise turn a player applies,
        # the convention of MediaInfo.rotation_deg (checked against engine.media's probe).
        degrees = round(math.degrees(math.atan2(b, a)) / 90.0) * 90
        track.rotation_deg = degrees % 360


def _parse_stsd(data: bytes, start: int, end: int, track: TrackBoxes) -> None:
    entry = start + 8  # version/flags, entry count
    if entry + 8 > end:
        return
    track.codec_fourcc = _fourcc(data[entry + 4 : entry + 8])
    name_at = entry + 50
    if track.handler_type == "vide" and name_at + 32 <= end:
        length = min(data[name_at], 31)
        name = data[name_at + 1 : name_at + 1 + length].decode("utf-8", "replace").strip()
        track.compressor = name.strip("\x00") or None


def _parse_elst(data: bytes, start: int, end: int, track: TrackBoxes) -> None:
    version = data[start]
    (count,) = struct.unpack_from(">I", data, start + 4)
    fmt, size = (">QqhH", 20) if version == 1 else (">IihH", 12)
    at = start + 8
    for _ in range(min(count, 1000)):
        if at + size > end:
            return
        duration, media_time, rate_int, rate_frac = struct.unpack_from(fmt, data, at)
        track.raw_edits.append((duration, media_time, rate_int + rate_frac / 65536.0))
        at += size
