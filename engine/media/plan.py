"""Which frames of a video to sample: planned by presentation time, over the frames that exist.

``n_frames`` evenly spaced frames are the frames nearest to ``n_frames`` evenly spaced instants
from the first to the last frame; ``fps`` per second are the frames nearest to 0 s, 1/fps s,
... (at most ``n_frames``, evenly spaced, when both are given). "Nearest" is in frame positions
interpolated between the frames' own timestamps, so on a constant-frame-rate video the plan is
exactly :func:`plan_frame_indices` and on a variable-frame-rate one the samples stay evenly
spaced in time (index / fps would bunch them where the rate is high).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["check_sampling", "describe_sampling", "plan_by_time", "plan_frame_indices"]

# NOTE: a rate of more than 4 instants per frame on average takes every frame; it also keeps
# the array of instants bounded by the real frame count whatever rate is asked for.
_MAX_INSTANTS_PER_FRAME = 4


def plan_frame_indices(
    n_total: int, video_fps: float, *, n_frames: int | None = 32, fps: float | None = None
) -> list[int]:
    """Choose which frames to sample from a constant-rate video of ``n_total`` frames.

    Args:
        n_total: frames in the video.
        video_fps: the video's frame rate.
        n_frames: with ``fps`` None, this many evenly spaced frames, first and last included
            (all frames when the video has fewer). With ``fps`` set, the most frames to take:
            if ``fps`` would give more, ``n_frames`` evenly spaced frames are taken instead.
        fps: frames per second of video time to take (0.0 s, 1/fps s, ...); ``None`` to use
            ``n_frames`` alone.

    Returns:
        Sorted, distinct frame indices in ``[0, n_total)``.

    Raises:
        ValueError: neither or a non-positive ``n_frames``/``fps``, or a bad ``video_fps``
            with ``fps`` set.
    """
    check_sampling(n_frames, fps)
    if n_total <= 0:
        return []
    if fps is not None:
        if not (math.isfinite(video_fps) and video_fps > 0):
            raise ValueError(f"video_fps must be a positive number, got {video_fps}")
        step_frames = video_fps / fps
        if step_frames <= 1.0:  # at least the video's own rate: every frame (and no huge range)
            indices = list(range(n_total))
        else:
            n_steps = math.ceil(n_total / step_frames)
            per_second = np.unique(np.rint(np.arange(n_steps) * step_frames).astype(np.int64))
            indices = [int(i) for i in per_second if i < n_total]
        if n_frames is None or len(indices) <= n_frames:
            return indices
    assert n_frames is not None  # for the type checker: fps alone returned above
    if n_frames >= n_total:
        return list(range(n_total))
    return [int(i) for i in np.unique(np.rint(np.linspace(0, n_total - 1, n_frames)))]


def plan_by_time(
    times_s: np.ndarray, *, n_frames: int | None = 32, fps: float | None = None
) -> list[int]:
    """Like :func:`plan_frame_indices` for frames shown at ``times_s`` (seconds, increasing).

    Returns:
        Sorted, distinct frame indices in ``[0, len(times_s))``.
    """
    check_sampling(n_frames, fps)
    n_total = len(times_s)
    if n_total <= 1:
        return list(range(n_total))
    last_s = float(times_s[-1])
    if last_s <= 0:  # every frame at one instant: time says nothing, positions do
        return plan_frame_indices(n_total, 1.0, n_frames=n_frames or n_total, fps=None)
    mean_frame_s = last_s / (n_total - 1)
    if fps is not None:
        n_instants = math.ceil((last_s + mean_frame_s) * fps - 1e-9)
        if n_instants > _MAX_INSTANTS_PER_FRAME * n_total:  # far above the video's own rate
            indices = list(range(n_total))
        else:
            indices = _nearest(times_s, np.arange(n_instants) / fps, mean_frame_s)
        if n_frames is None or len(indices) <= n_frames:
            return indices
    assert n_frames is not None
    if n_frames >= n_total:
        return list(range(n_total))
    return _nearest(times_s, np.linspace(0.0, last_s, n_frames), mean_frame_s)


def _nearest(times_s: np.ndarray, instants: np.ndarray, mean_frame_s: float) -> list[int]:
    """Distinct frames nearest to ``instants`` (in interpolated positions), inside the video."""
    n_total = len(times_s)
    positions = np.interp(instants, times_s, np.arange(n_total, dtype=np.float64))
    after = instants > times_s[-1]
    positions[after] = n_total - 1 + (instants[after] - times_s[-1]) / mean_frame_s
    # NOTE: rounded to 1e-6 first, so a half-way position computed as 7.4999999 ties like 7.5.
    picks = np.unique(np.rint(np.round(positions, 6)).astype(np.int64))
    return [int(i) for i in picks if 0 <= i < n_total]


def check_sampling(n_frames: int | None, fps: float | None) -> None:
    """Raise ``ValueError`` unless ``n_frames``/``fps`` describe a sampling."""
    if n_frames is None and fps is None:
        raise ValueError("give n_frames, fps, or both")
    if n_frames is not None and n_frames <= 0:
        raise ValueError(f"n_frames must be positive, got {n_frames}")
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps}")


def describe_sampling(*, n_frames: int | None = 32, fps: float | None = None) -> str:
    """Words for provenance, e.g. ``"32 evenly spaced"`` or ``"2 per second, at most 32"``."""
    if fps is None:
        return f"{n_frames} evenly spaced"
    cap = "" if n_frames is None else f", at most {n_frames}"
    return f"{fps:g} per second{cap}"
