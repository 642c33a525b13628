"""The frame index of a video: which frames exist, their presentation times, where keyframes are.

``frame_idx`` is a frame's position in presentation order among the frames the stream holds
(packets the container shows; frames an edit list hides do not count). The index is built once
per file by :mod:`engine.media.index_build`, in one of three modes:

- ``constant_rate``: from the container's sample table (MP4/MOV, AVI): frame ``i`` is shown at
  ``start_pts + i * step_pts``; no sample data is read.
- ``packet_scan``: every packet's presentation timestamp, read by demuxing (not decoding) the
  whole stream: variable frame rate, Matroska, MPEG-TS, broken headers.
- ``decode_order``: the stream's packets carry no usable timestamps (some MPEG program streams):
  frames are numbered in the order the decoder outputs them, from the beginning, as OpenCV
  did; nothing seeks and times are ``frame_idx / nominal_fps``.

Either way the count is the stream's own, never the header's claim; that claim is kept to be
reported. Indices are cached per file identity (path, device, inode, size, mtime), so the GUI's
frame view pays for a scan once.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = [
    "MAX_DEMUX_ERRORS",
    "NO_TS",
    "FrameIndex",
    "cached_index",
    "clear_index_cache",
    "demux_packets",
    "is_unseekable",
    "mark_unseekable",
    "remember_index",
]

# NOTE: 16 indices of 90,000 frames are 24 MB at most; a batch decodes each file once anyway.
_CACHE_SIZE = 16
# NOTE: consecutive unreadable stretches after which a container is taken to end there.
MAX_DEMUX_ERRORS = 32
NO_TS = -(2**63)  # "no timestamp" in int64 tables (FFmpeg's AV_NOPTS_VALUE)


@dataclass(frozen=True, eq=False)
class FrameIndex:
    """Frames of one video stream in presentation order (see the module docstring).

    Attributes:
        mode: ``"constant_rate"``, ``"packet_scan"`` or ``"decode_order"``.
        n_frames: frames the stream holds.
        time_base: seconds per timestamp tick.
        start_pts: presentation timestamp of frame 0 (0 for ``decode_order``).
        step_pts: ticks per frame (``constant_rate`` only, else 0).
        pts: (n_frames,) int64 sorted presentation timestamps (``packet_scan`` only).
        dts: (n_frames,) int64 decode timestamps of those frames, ``NO_TS`` where the container
            gives none (``packet_scan`` only): a seek is trusted only if the packets after it carry
            the same (pts, dts) pairs as the scan saw.
        key_indices: sorted frame indices of keyframes (for ``constant_rate`` their decode
            positions, equal to their presentation positions in closed GOPs; a seek that lands
            wrong is detected and retried). Empty for ``decode_order``.
        key_seek_ts: for each keyframe, the timestamp to seek to: its decode timestamp where
            the container gives one (MP4, AVI and MPEG-TS seek by decode time), else its
            presentation timestamp (Matroska seeks by presentation time).
        n_header: frames the container states, ``None`` when it states none.
        n_trimmed: packets an edit list hides.
        nominal_fps: the stream's stated average rate (for ``decode_order`` times).
    """

    mode: str
    n_frames: int
    time_base: Fraction
    start_pts: int
    step_pts: int
    pts: np.ndarray | None
    dts: np.ndarray | None
    key_indices: np.ndarray
    key_seek_ts: np.ndarray
    n_header: int | None
    n_trimmed: int = 0
    nominal_fps: float = 0.0

    def pts_of(self, frame_idx: int) -> int:
        """Presentation timestamp of ``frame_idx`` (0 <= frame_idx < n_frames)."""
        if self.pts is not None:
            return int(self.pts[frame_idx])
        return self.start_pts + frame_idx * self.step_pts

    def idx_of(self, pts: int | None) -> int | None:
        """The frame presented at exactly ``pts``, or ``None`` if no frame is."""
        if pts is None or self.mode == "decode_order":
            return None
        if self.pts is not None:
            pos = int(np.searchsorted(self.pts, pts))
            return pos if pos < self.n_frames and int(self.pts[pos]) == pts else None
        offset, rest = divmod(pts - self.start_pts, self.step_pts)
        return offset if rest == 0 and 0 <= offset < self.n_frames else None

    def matches_scan(self, pts: int | None, dts: int | None) -> bool:
        """Whether a packet's timestamps are those the scan saw (True off ``packet_scan``)."""
        if self.pts is None or self.dts is None:
            return True
        idx = self.idx_of(pts)
        if idx is None:
            return False
        known = int(self.dts[idx])
        return dts is None or known in (NO_TS, dts)

    def t_sec(self, frame_idx: int) -> float:
        """Seconds from frame 0 to ``frame_idx``."""
        if self.mode == "decode_order":
            return frame_idx / self.nominal_fps if self.nominal_fps > 0 else 0.0
        return float((self.pts_of(frame_idx) - self.start_pts) * self.time_base)

    def times_s(self) -> np.ndarray:
        """(n_frames,) float64 seconds of every frame from frame 0."""
        if self.mode == "decode_order":
            rate = self.nominal_fps if self.nominal_fps > 0 else 1.0
            return np.arange(self.n_frames, dtype=np.float64) / rate
        if self.pts is not None:
            ticks = self.pts - self.start_pts
        else:
            ticks = np.arange(self.n_frames, dtype=np.int64) * self.step_pts
        return ticks.astype(np.float64) * float(self.time_base)

    def key_at_or_before(self, frame_idx: int, back: int = 0) -> tuple[int, int] | None:
        """(frame index, seek timestamp) of the ``back``-th keyframe before the last one at or
        before ``frame_idx``; ``None`` when there is none (decode from the beginning)."""
        pos = int(np.searchsorted(self.key_indices, frame_idx, side="right")) - 1 - back
        if pos < 0 or self.mode == "decode_order" or is_unseekable(self):
            return None
        return int(self.key_indices[pos]), int(self.key_seek_ts[pos])

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
        if self.mode == "decode_order":
            return self.n_frames / self.nominal_fps if self.nominal_fps > 0 else 0.0
        if self.n_frames <= 1:
            return float(self.step_pts * self.time_base) if self.step_pts else 0.0
        last = self.t_sec(self.n_frames - 1)
        return last * self.n_frames / (self.n_frames - 1)

    @property
    def fps(self) -> float:
        """Average frames per second (frames over duration; else the stated rate, or 0.0)."""
        duration = self.duration_s
        return self.n_frames / duration if duration > 0 else self.nominal_fps

    @property
    def constant_fps(self) -> float | None:
        """The frame rate when frames are presented at a constant rate, else ``None``."""
        constant = self.mode != "packet_scan" or not self.variable_rate
        return self.fps if constant and self.fps > 0 else None

    @property
    def n_missing(self) -> int:
        """Frames the container states beyond those the stream holds or its edit list hides."""
        return max(0, (self.n_header or 0) - self.n_frames - self.n_trimmed)


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


_CACHE: OrderedDict[tuple[Any, ...], FrameIndex] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_UNSEEKABLE: weakref.WeakSet[FrameIndex] = weakref.WeakSet()


def mark_unseekable(index: FrameIndex) -> None:
    """Remember that seeking in this file gives other timestamps than the scan saw."""
    with _CACHE_LOCK:
        _UNSEEKABLE.add(index)


def is_unseekable(index: FrameIndex) -> bool:
    """Whether :func:`mark_unseekable` was called for ``index``."""
    with _CACHE_LOCK:
        return index in _UNSEEKABLE


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
