"""Building a video's frame index (see :mod:`engine.media.video_index` for what it holds).

Cheapest first:

1. ``constant_rate``: the container's sample table that FFmpeg read when it opened the file
   (``Stream.index_entries``: MP4/MOV ``stbl``, AVI ``idx1``). It is used when it lists every
   frame (as many entries as the header states, none hidden by an edit list, the data of the
   last one inside the file) and decode timestamps advance by one constant step; the packets of
   the first and the last keyframe interval are then demuxed to find ``start_pts`` and to check
   that presentation timestamps lie on the grid ``start_pts + i * step`` (B-frames reorder
   within it). Cost: about 1.5 us per frame, plus two short reads; no decoding.
2. ``packet_scan``: every packet of the video stream is demuxed (not decoded), keeping its
   presentation and decode timestamps and its keyframe flag. Exact for any timing; cost: one
   read of the whole file (measured in docs/PERFORMANCE.md).
3. ``decode_order``: the scan found packets without timestamps, or repeated timestamps, so
   timestamps cannot name frames; frames are numbered as the decoder outputs them.
"""

from __future__ import annotations

import logging
import os
from array import array
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from engine.errors import TruncatedMediaError, UnreadableMediaError, ZeroFramesError
from engine.media.video_index import (
    NO_TS,
    FrameIndex,
    cached_index,
    demux_packets,
    remember_index,
)

__all__ = [
    "FRAME_COUNT_SLACK",
    "build_index",
    "check_frame_count",
    "load_index",
    "scan_index_of",
    "truncated_error",
]

logger = logging.getLogger(__name__)

_FLAG_KEYFRAME = 1  # AVINDEX_KEYFRAME
_FLAG_DISCARD = 2  # AVINDEX_DISCARD_FRAME
# NOTE: B-frame reordering is at most 16 frames deep (H.264/HEVC DPB), so the earliest
# presented frame is among the first 64 packets, and the last in the last keyframe interval.
_HEAD_PACKETS = 64
# NOTE: the last keyframe interval is read to check the end of the grid; one longer than this
# (about 80 s at 25 fps) is not worth reading, and the packet scan decides instead.
_TAIL_PACKETS = 2048

# NOTE: Matroska stores presentation times only; FFmpeg derives decode times from the packet
# order, differently after a seek, so they are not compared after a seek.
_PTS_ONLY_DEMUXERS = ("matroska",)
# NOTE: demuxers that seek by presentation time (MP4/MOV: a decode time lands one keyframe
# early; Matroska: cue points are presentation times). Others (MPEG-TS/PS, FLV, ASF) search
# by decode time, which is never later than the keyframe's presentation time.
_PTS_SEEKING_DEMUXERS = ("mov", "matroska")

# NOTE: 5 frames covers the over-reports seen in practice (1-3 frames: B-frame delay,
# duration-based estimates) and is still far below any real truncation.
FRAME_COUNT_SLACK = 5

Opener = Callable[[], tuple[Any, Any, Any]]


def load_index(path: str, stream_index: int, open_fresh: Opener) -> FrameIndex:
    """The cached index of ``path``'s stream ``stream_index``, built on the first call.

    The cache key is the file's identity (path, device, inode, size, mtime): a file replaced
    or rewritten in place is indexed again.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise UnreadableMediaError(path, f"Cannot access the file: {exc.strerror}") from exc
    key = (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, stream_index)
    index = cached_index(key)
    if index is None:
        index = build_index(open_fresh, path, st.st_size)
        remember_index(key, index)
    return index


def truncated_error(path: str, n_decoded: int, reported_count: int) -> TruncatedMediaError:
    """The error for a stream that holds ``n_decoded`` of the ``reported_count`` frames."""
    return TruncatedMediaError(
        path,
        f"The video stream ends after {n_decoded} frames although the file lists "
        f"{reported_count}: it is truncated or damaged",
    )


def check_frame_count(index: FrameIndex, path: str, *, strict: bool) -> None:
    """Refuse a stream without frames; with ``strict``, one far shorter than its header says.

    Raises:
        ZeroFramesError: the stream holds no frame.
        TruncatedMediaError: ``strict`` and more than ``FRAME_COUNT_SLACK`` stated frames are
            missing (neither in the stream nor hidden by an edit list).
    """
    if index.n_frames <= 0:
        raise ZeroFramesError(path, "The video holds no frames")
    if index.n_header is None or index.n_header <= index.n_frames:
        return
    if strict and index.n_missing > FRAME_COUNT_SLACK:
        raise truncated_error(path, index.n_frames, index.n_header)
    logger.warning("%s: the file lists %d frames but only %d decode; using %d",
                   path, index.n_header, index.n_frames, index.n_frames)


def build_index(open_fresh: Opener, path: str, size_bytes: int) -> FrameIndex:
    """Index the video stream of ``path``.

    Args:
        open_fresh: opens the file anew and returns (file, container, stream); each way of
            indexing reads from the start of its own container, which is closed after.
        path: the file, for messages.
        size_bytes: its size, to tell whether the sample table points past its end.
    """
    index = _with_container(open_fresh, lambda c, s: _constant_rate_index(c, s, path, size_bytes))
    if index is not None:
        return index
    return _with_container(open_fresh, lambda c, s: _scan_index(c, s, path))


def _with_container(open_fresh: Opener, use: Callable[[Any, Any], Any]) -> Any:
    fh, container, stream = open_fresh()
    try:
        return use(container, stream)
    finally:
        container.close()
        fh.close()


def scan_index_of(path: str) -> FrameIndex:
    """The packet-scan index of ``path``'s video stream, uncached (for benchmarks)."""
    from engine.media.video_io import open_video_container

    return _with_container(lambda: open_video_container(path, None),
                           lambda c, s: _scan_index(c, s, path))


def _header_count(stream: Any) -> int | None:
    n_header = int(stream.frames or 0)
    return n_header if n_header > 0 else None


def _nominal_fps(stream: Any) -> float:
    rate = stream.average_rate or stream.guessed_rate
    return float(rate) if rate else 0.0


def _constant_rate_index(
    container: Any, stream: Any, path: str, size_bytes: int
) -> FrameIndex | None:
    entries = stream.index_entries
    n_header = _header_count(stream)
    if not entries or n_header != len(entries):
        return None
    table = np.array([(e.timestamp, e.flags) for e in entries], dtype=np.int64)
    last = entries[len(entries) - 1]
    if (table[:, 1] & _FLAG_DISCARD).any() or last.pos + last.size > size_bytes:
        return None
    steps = np.unique(np.diff(table[:, 0]))
    step = int(steps[0]) if len(steps) == 1 else 0
    if step <= 0 and len(table) > 1:
        return None
    key_indices = np.flatnonzero(table[:, 1] & _FLAG_KEYFRAME).astype(np.int64)
    last_key = int(key_indices[-1]) if len(key_indices) else 0
    start = _presentation_grid(container, stream, len(table), max(step, 1), last_key)
    if start is None:
        logger.info("%s: timestamps are not on a constant grid; scanning packets", path)
        return None
    # NOTE: MP4/MOV seek by presentation time (a decode time lands one keyframe early) and
    # AVI's two times are equal, so keyframes are sought at their presentation times.
    return FrameIndex(
        "constant_rate", len(table), Fraction(stream.time_base), start, max(step, 1), None,
        None, key_indices, start + key_indices * max(step, 1), n_header,
        nominal_fps=_nominal_fps(stream),
    )


def _presentation_grid(
    container: Any, stream: Any, n_frames: int, step: int, last_key: int
) -> int | None:
    """``start_pts`` if the first and last packets' timestamps fit ``start + i * step``."""
    import av

    head = _packet_pts(container, stream, limit=min(_HEAD_PACKETS, n_frames))
    if not head:
        return None
    start = min(head)
    tail: list[int] = []
    if n_frames > len(head):
        try:
            container.seek(start + last_key * step, stream=stream, backward=True)
        except av.error.FFmpegError:
            return None
        tail = _packet_pts(container, stream, limit=_TAIL_PACKETS) or []
        if not tail or len(tail) >= _TAIL_PACKETS:
            return None  # no tail, or a last keyframe interval too long to check cheaply
    for part in (head, tail):
        offsets = [p - start for p in part]
        if len(set(offsets)) != len(offsets) or any(o % step for o in offsets):
            return None
    return start if max(head + tail) - start == (n_frames - 1) * step else None


def _packet_pts(container: Any, stream: Any, limit: int | None) -> list[int] | None:
    """Presentation timestamps of the next ``limit`` packets (``None`` if one has none)."""
    import av

    out: list[int] = []
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if packet.pts is None:
                return None
            out.append(int(packet.pts))
            if limit is not None and len(out) >= limit:
                break
    except av.error.FFmpegError:
        return None
    return out


class _ScanTables:
    """Timestamps collected by the scan (int64 arrays grow without Python objects per frame)."""

    def __init__(self) -> None:
        self.pts, self.dts, self.key_pts = array("q"), array("q"), array("q")
        self.n_trimmed = self.n_untimed = 0
        self.errors: list[str] = []

    def add(self, packet: Any) -> None:
        if packet.size == 0:
            return
        if packet.is_discard:
            self.n_trimmed += 1
            return
        ts = packet.pts if packet.pts is not None else packet.dts
        if ts is None:
            self.n_untimed += 1
            return
        self.pts.append(ts)
        self.dts.append(packet.dts if packet.dts is not None else NO_TS)
        if packet.is_keyframe:
            self.key_pts.append(ts)


def _scan_index(container: Any, stream: Any, path: str) -> FrameIndex:
    tables = _ScanTables()
    for packet in demux_packets(container, stream, tables.errors.append):
        tables.add(packet)
    demuxer = str(container.format.name)
    if demuxer.startswith(_PTS_ONLY_DEMUXERS):
        tables.dts = array("q", [NO_TS]) * len(tables.pts)
    if tables.errors:
        logger.warning("%s: %d unreadable stretch(es) while indexing: %s", path,
                       len(tables.errors), tables.errors[0])
    raw_pts = np.frombuffer(tables.pts, dtype=np.int64)
    pts, first = np.unique(raw_pts, return_index=True)
    n_repeated = len(raw_pts) - len(pts)
    common = {"time_base": Fraction(stream.time_base), "n_header": _header_count(stream),
              "n_trimmed": tables.n_trimmed, "nominal_fps": _nominal_fps(stream)}
    if tables.n_untimed or n_repeated:
        logger.warning("%s: %d packets without and %d with repeated timestamps; frames are "
                       "numbered in decoding order", path, tables.n_untimed, n_repeated)
        empty = np.zeros(0, np.int64)
        return FrameIndex("decode_order", len(raw_pts) + tables.n_untimed, start_pts=0,
                          step_pts=0, pts=None, dts=None, key_indices=empty, key_seek_ts=empty,
                          **common)
    dts = np.frombuffer(tables.dts, dtype=np.int64)[first]
    keys = np.unique(np.searchsorted(pts, np.frombuffer(tables.key_pts, dtype=np.int64)))
    by_pts = demuxer.startswith(_PTS_SEEKING_DEMUXERS)
    seek_ts = pts[keys] if by_pts else np.where(dts[keys] != NO_TS, dts[keys], pts[keys])
    return FrameIndex("packet_scan", len(pts), start_pts=int(pts[0]) if len(pts) else 0,
                      step_pts=0, pts=pts, dts=dts, key_indices=keys.astype(np.int64),
                      key_seek_ts=seek_ts.astype(np.int64), **common)
