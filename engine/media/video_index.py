"""The frame index of a video: which frames exist, their presentation times, where keyframes are.

``frame_idx`` is a frame's position in presentation order among the frames the stream holds
(packets the container shows; frames an edit list hides do not count). Two ways to know them,
the cheap one first:

- ``constant_rate``: MP4/MOV and AVI keep a sample table that FFmpeg reads when it opens the
  file (``Stream.index_entries``). When it lists every frame (as many entries as the header
  states, none hidden by an edit list, the data of the last one inside the file) and the
  decode timestamps advance by one constant step, frame ``i`` is presented at
  ``start_pts + i * step``. The first and last keyframe intervals are demuxed to find
  ``start_pts`` and to check that the presentation timestamps lie on that grid; any doubt
  falls back to the scan. Cost: about 1.5 us per frame, no sample data read.
- ``packet_scan``: every packet of the video stream is demuxed (not decoded) and its
  presentation timestamp kept: exact for variable frame rate, B-frames, Matroska, MPEG-TS and
  broken headers. Cost: reading the whole file once (about 1 s per GB from the page cache).

Either way the count is the stream's own, never the header's; the header's count is kept to be
reported. Indices are cached per file identity (device, inode, size, mtime), so the GUI's frame
view pays for a scan once.
"""

from __future__ import annotations

import logging
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = ["FrameIndex", "build_index", "cached_index", "clear_index_cache", "scan_index_of"]

logger = logging.getLogger(__name__)

_FLAG_KEYFRAME = 1  # AVINDEX_KEYFRAME
_FLAG_DISCARD = 2  # AVINDEX_DISCARD_FRAME
# NOTE: B-frame reordering is at most 16 frames deep (H.264/HEVC DPB), so the earliest
# presented frame is among the first 64 packets, and the last among the last keyframe interval.
_HEAD_PACKETS = 64
# NOTE: the last keyframe interval is read to check the end of the grid; one longer than this
# (about 80 s at 25 fps) is not worth reading, and the packet scan decides instead.
_TAIL_PACKETS = 2048
# NOTE: 16 indices of 90,000 frames are 12 MB at most; more files than that in one session
# (a batch) are decoded once each, so a small cache loses nothing.
_CACHE_SIZE = 16
# NOTE: consecutive unreadable stretches after which a container is taken to end there.
MAX_DEMUX_ERRORS = 32


@dataclass(frozen=True, eq=False)
class FrameIndex:
    """Frames of one video stream in presentation order (see the module docstring).

    Attributes:
        mode: ``"constant_rate"`` or ``"packet_scan"``.
        n_frames: frames the stream holds.
        time_base: seconds per timestamp tick.
        start_pts: presentation timestamp of frame 0.
        step_pts: ticks per frame (``constant_rate`` only, else 0).
        pts: (n_frames,) int64 sorted presentation timestamps (``packet_scan`` only).
        key_indices: sorted frame indices of keyframes (for ``constant_rate`` their decode
            positions, equal to their presentation positions in closed GOPs; a seek that lands
            wrong is detected and retried).
        n_header: frames the container states, ``None`` when it states none.
        n_trimmed: packets an edit list hides.
        n_untimed: packets without any timestamp (their frames cannot be placed).
    """

    mode: str
    n_frames: int
    time_base: Fraction
    start_pts: int
    step_pts: int
    pts: np.ndarray | None
    key_indices: np.ndarray
    n_header: int | None
    n_trimmed: int = 0
    n_untimed: int = 0

    def pts_of(self, frame_idx: int) -> int:
        """Presentation timestamp of ``frame_idx`` (0 <= frame_idx < n_frames)."""
        if self.pts is not None:
            return int(self.pts[frame_idx])
        return self.start_pts + frame_idx * self.step_pts

    def idx_of(self, pts: int | None) -> int | None:
        """The frame presented at exactly ``pts``, or ``None`` if no frame is."""
        if pts is None:
            return None
        if self.pts is not None:
            pos = int(np.searchsorted(self.pts, pts))
            return pos if pos < self.n_frames and int(self.pts[pos]) == pts else None
        offset, rest = divmod(pts - self.start_pts, self.step_pts)
        return offset if rest == 0 and 0 <= offset < self.n_frames else None

    def t_sec(self, frame_idx: int) -> float:
        """Seconds from frame 0 to ``frame_idx``."""
        return float((self.pts_of(frame_idx) - self.start_pts) * self.time_base)

    def times_s(self) -> np.ndarray:
        """(n_frames,) float64 seconds of every frame from frame 0."""
        if self.pts is not None:
            ticks = self.pts - self.start_pts
        else:
            ticks = np.arange(self.n_frames, dtype=np.int64) * self.step_pts
        return ticks.astype(np.float64) * float(self.time_base)

    def key_at_or_before(self, frame_idx: int, back: int = 0) -> int:
        """The ``back``-th keyframe before the last one at or before ``frame_idx`` (0: none)."""
        pos = int(np.searchsorted(self.key_indices, frame_idx, side="right")) - 1 - back
        return int(self.key_indices[pos]) if pos >= 0 else 0

    @property
    def variable_rate(self) -> bool:
        """Whether frame durations differ by more than timestamp rounding."""
        if self.pts is None or self.n_frames < 3:
            return False
        deltas = np.diff(self.pts)
        # NOTE: 29.97 fps in milliseconds (Matroska) alternates 33/34 ticks: rounding, not VFR.
        return int(deltas.max() - deltas.min()) > max(1, int(0.05 * float(np.median(deltas))))

    @property
    def duration_s(self) -> float:
        """Seconds from frame 0 to the end of the last frame (its duration taken as typical)."""
        if self.n_frames <= 1:
            return float(self.step_pts * self.time_base) if self.step_pts else 0.0
        last = self.t_sec(self.n_frames - 1)
        return last * self.n_frames / (self.n_frames - 1)

    @property
    def fps(self) -> float:
        """Average frames per second (frames over duration); 0.0 for one frame of unknown length."""
        duration = self.duration_s
        return self.n_frames / duration if duration > 0 else 0.0


def demux_packets(
    container: Any, stream: Any, on_error: Callable[[str], None]
) -> Iterator[Any]:
    """Demux ``stream``'s packets, stepping over unreadable stretches (each passed to ``on_error``).

    Ends after ``MAX_DEMUX_ERRORS`` consecutive errors: the rest of the file is unreadable.
    """
    import av

    consecutive = 0
    while consecutive <= MAX_DEMUX_ERRORS:
        try:
            for packet in container.demux(stream):
                consecutive = 0
                yield packet
            return
        except av.error.EOFError:
            return
        except av.error.FFmpegError as exc:
            consecutive += 1
            on_error(str(exc))


def build_index(
    open_fresh: Callable[[], tuple[Any, Any, Any]], path: str, size_bytes: int
) -> FrameIndex:
    """Index the video stream of ``path``.

    Args:
        open_fresh: opens the file anew and returns (file, container, stream); each way of
            indexing reads from the start of its own container, which it closes.
        path: the file, for messages.
        size_bytes: its size, to tell whether the sample table points past its end.
    """
    fh, container, stream = open_fresh()
    try:
        index = _constant_rate_index(container, stream, path, size_bytes)
    finally:
        container.close()
        fh.close()
    if index is not None:
        return index
    fh, container, stream = open_fresh()
    try:
        return _scan_index(container, stream, path)
    finally:
        container.close()
        fh.close()


def _header_count(stream: Any) -> int | None:
    n_header = int(stream.frames or 0)
    return n_header if n_header > 0 else None


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
    grid = _presentation_grid(container, stream, len(table), max(step, 1), key_indices)
    if grid is None:
        logger.info("%s: timestamps are not on a constant grid; scanning packets", path)
        return None
    return FrameIndex("constant_rate", len(table), Fraction(stream.time_base), grid,
                      max(step, 1), None, key_indices, n_header)


def _presentation_grid(
    container: Any, stream: Any, n_frames: int, step: int, key_indices: np.ndarray
) -> int | None:
    """``start_pts`` if the first and last packets' timestamps fit ``start + i * step``."""
    import av

    head = _packet_pts(container, stream, limit=min(_HEAD_PACKETS, n_frames))
    if not head:
        return None
    start = min(head)
    tail: list[int] = []
    if n_frames > len(head):
        last_key = int(key_indices[-1]) if len(key_indices) else 0
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


def _scan_index(container: Any, stream: Any, path: str) -> FrameIndex:
    pts_all, key_pts = array("q"), array("q")
    n_trimmed = n_untimed = 0
    errors: list[str] = []
    for packet in demux_packets(container, stream, errors.append):
        if packet.size == 0:
            continue
        if packet.is_discard:
            n_trimmed += 1
            continue
        ts = packet.pts if packet.pts is not None else packet.dts
        if ts is None:
            n_untimed += 1
            continue
        pts_all.append(ts)
        if packet.is_keyframe:
            key_pts.append(ts)
    if errors:
        logger.warning("%s: %d unreadable stretch(es) while indexing: %s", path, len(errors),
                       errors[0])
    pts = np.unique(np.frombuffer(pts_all, dtype=np.int64)) if pts_all else np.zeros(0, np.int64)
    if len(pts) < len(pts_all):
        logger.warning("%s: %d packets repeat a timestamp; counted once", path,
                       len(pts_all) - len(pts))
    keys = np.unique(np.searchsorted(pts, np.frombuffer(key_pts, dtype=np.int64)))
    start = int(pts[0]) if len(pts) else 0
    return FrameIndex("packet_scan", len(pts), Fraction(stream.time_base), start, 0, pts,
                      keys.astype(np.int64), _header_count(stream), n_trimmed, n_untimed)


_CACHE: OrderedDict[tuple[Any, ...], FrameIndex] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def cached_index(key: tuple[Any, ...]) -> FrameIndex | None:
    """The cached index for a file identity ``key``, if any."""
    with _CACHE_LOCK:
        index = _CACHE.get(key)
        if index is not None:
            _CACHE.move_to_end(key)
        return index


def remember_index(key: tuple[Any, ...], index: FrameIndex) -> None:
    """Cache ``index`` under ``key``, dropping the least recently used beyond the cache size."""
    with _CACHE_LOCK:
        _CACHE[key] = index
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)


def clear_index_cache() -> None:
    """Forget every cached index (benchmarks; tests that rewrite a file in place)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def scan_index_of(path: str) -> FrameIndex:
    """The packet-scan index of ``path``'s video stream, uncached (for benchmarks)."""
    from engine.media.video_io import open_video_container

    fh, container, stream = open_video_container(path, None)
    try:
        return _scan_index(container, stream, path)
    finally:
        container.close()
        fh.close()
