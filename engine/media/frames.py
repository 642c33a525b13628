"""Frames out of any media file: sampled, by index, or consecutive.

A still image is a one-frame medium (``frame_idx`` 0, ``t_sec`` 0.0), so every caller handles
photos and videos with the same three functions. Video frame indices are positions in decode
order and are exact (see :mod:`engine.media.video_io` for why nothing here seeks).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator, Sequence

import numpy as np

from engine.errors import TruncatedMediaError
from engine.jobs import CancelToken
from engine.media.limits import DEFAULT_LIMITS, MediaLimits
from engine.media.probe import read_sniffed_image
from engine.media.sniff import Sniffed, sniff
from engine.media.video_io import (
    FRAME_COUNT_SLACK,
    VideoDecoder,
    stream_ended,
    truncated_error,
)
from engine.types import Frame

__all__ = ["describe_sampling", "iter_frames", "plan_frame_indices", "read_frame", "sample_frames"]

logger = logging.getLogger(__name__)


def plan_frame_indices(
    n_total: int, video_fps: float, *, n_frames: int | None = 32, fps: float | None = None
) -> list[int]:
    """Choose which frames to sample from a video of ``n_total`` frames at ``video_fps``.

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
        ValueError: neither or a non-positive ``n_frames``/``fps``.
    """
    _check_sampling(n_frames, fps)
    if n_total <= 0:
        return []
    if fps is not None:
        step_frames = video_fps / fps
        n_steps = math.ceil(n_total / step_frames)
        per_second = np.unique(np.rint(np.arange(n_steps) * step_frames).astype(np.int64))
        indices = [int(i) for i in per_second if i < n_total]
        if n_frames is None or len(indices) <= n_frames:
            return indices
    assert n_frames is not None  # for the type checker: fps alone returned above
    if n_frames >= n_total:
        return list(range(n_total))
    return [int(i) for i in np.unique(np.rint(np.linspace(0, n_total - 1, n_frames)))]


def _check_sampling(n_frames: int | None, fps: float | None) -> None:
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


def sample_frames(
    path: str | os.PathLike[str],
    *,
    n_frames: int | None = 32,
    fps: float | None = None,
    cancel: CancelToken | None = None,
    limits: MediaLimits = DEFAULT_LIMITS,
) -> Iterator[Frame]:
    """Yield sampled frames in increasing ``frame_idx`` order (see :func:`plan_frame_indices`).

    A still image yields one frame (index 0, ``t_sec`` 0.0). The plan uses the container's
    frame count. If the stream ends early by at most ``FRAME_COUNT_SLACK`` frames (a common
    over-report), the samples planned past the end are re-spaced over the last frames that do
    exist and a warning is logged; the count is kept where the video has enough frames. If the
    stream ends earlier, :class:`TruncatedMediaError` is raised after the frames before the end
    were yielded. ``cancel`` is checked before every frame and every 32 skipped frames.

    Raises:
        ValueError: bad ``n_frames``/``fps``.
        The errors of :func:`engine.media.probe` for unusable files, and JobCancelled: a file
        that is missing or not media fails on the call itself, decoding errors on iteration.
    """
    _check_sampling(n_frames, fps)
    path_str = os.fspath(path)
    sniffed = sniff(path_str)  # missing or not media: fail on the call, not on next()
    if sniffed.kind == "image":
        return _image_frames(path_str, sniffed, limits, cancel)
    return _sample_video(path_str, sniffed, limits, n_frames, fps, cancel)


def _sample_video(
    path: str,
    sniffed: Sniffed,
    limits: MediaLimits,
    n_frames: int | None,
    fps: float | None,
    cancel: CancelToken | None,
) -> Iterator[Frame]:
    with VideoDecoder(path, sniffed, limits) as dec:
        plan = plan_frame_indices(dec.reported_count, dec.fps, n_frames=n_frames, fps=fps)
        tail_start = max(0, dec.reported_count - FRAME_COUNT_SLACK)
        head = [i for i in plan if i < tail_start]
        tail = [i for i in plan if i >= tail_start]
        for frame_idx in head:
            yield _read_at(dec, frame_idx, cancel)
        if tail:
            yield from _sample_tail(dec, tail, cancel)


def read_frame(
    path: str | os.PathLike[str], frame_idx: int, *, limits: MediaLimits = DEFAULT_LIMITS
) -> Frame:
    """Decode the one frame ``frame_idx`` (0 for a still image).

    Cost: a video is decoded from its start up to ``frame_idx`` (exactness over speed; see
    :mod:`engine.media.video_io`). To step through many frames use :func:`iter_frames`.

    Raises:
        IndexError: ``frame_idx`` is negative or past the last frame.
        TruncatedMediaError: the file lists the frame but the stream ends before it.
        The errors of :func:`engine.media.probe` for unusable files.
    """
    if frame_idx < 0:
        raise IndexError(f"frame_idx must be >= 0, got {frame_idx}")
    path_str = os.fspath(path)
    sniffed = sniff(path_str)
    if sniffed.kind == "image":
        if frame_idx != 0:
            raise IndexError(f"frame {frame_idx} is out of range: a still image has frame 0 only")
        return _image_frame(path_str, sniffed, limits, None)
    with VideoDecoder(path_str, sniffed, limits) as dec:
        rgb = dec.read_next() if dec.skip_to(frame_idx) else None
        if rgb is None:
            n_decoded = dec.next_idx
            if frame_idx < dec.reported_count:
                raise TruncatedMediaError(
                    path_str,
                    f"Frame {frame_idx} cannot be decoded: the stream ends after {n_decoded} "
                    f"frames although the file lists {dec.reported_count}",
                )
            raise IndexError(f"frame {frame_idx} is out of range: the video has {n_decoded} frames")
        return dec.frame(frame_idx, rgb)


def iter_frames(
    path: str | os.PathLike[str],
    start: int = 0,
    stop: int | None = None,
    step: int = 1,
    *,
    cancel: CancelToken | None = None,
    limits: MediaLimits = DEFAULT_LIMITS,
) -> Iterator[Frame]:
    """Yield frames ``start, start+step, ...`` before ``stop`` (``None``: to the end).

    Like ``range``: a ``stop`` past the end simply ends at the last frame. A still image yields
    its one frame when ``start`` is 0. If the stream ends more than ``FRAME_COUNT_SLACK`` frames
    before the count the file lists (and before ``stop``), :class:`TruncatedMediaError` is
    raised after the frames that exist were yielded.

    Raises:
        ValueError: negative ``start`` or non-positive ``step``.
        The errors of :func:`engine.media.probe` for unusable files, and JobCancelled: a file
        that is missing or not media fails on the call itself, decoding errors on iteration.
    """
    if start < 0 or step < 1:
        raise ValueError(f"need start >= 0 and step >= 1, got start={start}, step={step}")
    path_str = os.fspath(path)
    sniffed = sniff(path_str)  # missing or not media: fail on the call, not on next()
    if sniffed.kind == "image":
        wants_first = start == 0 and (stop is None or stop > 0)
        return _image_frames(path_str, sniffed, limits, cancel) if wants_first else iter(())
    return _iter_video(path_str, sniffed, limits, start, stop, step, cancel)


def _iter_video(
    path: str,
    sniffed: Sniffed,
    limits: MediaLimits,
    start: int,
    stop: int | None,
    step: int,
    cancel: CancelToken | None,
) -> Iterator[Frame]:
    with VideoDecoder(path, sniffed, limits) as dec:
        frame_idx = start
        while stop is None or frame_idx < stop:
            if cancel is not None:
                cancel.raise_if_cancelled()
            rgb = dec.read_next() if dec.skip_to(frame_idx, cancel) else None
            if rgb is None:
                stream_ended(path, dec.next_idx, stop, dec.reported_count)
                return
            yield dec.frame(frame_idx, rgb)
            frame_idx += step


def _image_frames(
    path: str, sniffed: Sniffed, limits: MediaLimits, cancel: CancelToken | None
) -> Iterator[Frame]:
    yield _image_frame(path, sniffed, limits, cancel)


def _image_frame(
    path: str, sniffed: Sniffed, limits: MediaLimits, cancel: CancelToken | None
) -> Frame:
    if cancel is not None:
        cancel.raise_if_cancelled()
    return Frame(frame_idx=0, t_sec=0.0, rgb_u8=read_sniffed_image(path, sniffed, limits))


def _read_at(dec: VideoDecoder, frame_idx: int, cancel: CancelToken | None) -> Frame:
    """Decode ``frame_idx``, which lies well before the reported end of the stream."""
    if cancel is not None:
        cancel.raise_if_cancelled()
    rgb = dec.read_next() if dec.skip_to(frame_idx, cancel) else None
    if rgb is None:
        # More than FRAME_COUNT_SLACK frames before the listed end: always a truncation.
        raise truncated_error(dec.path, dec.next_idx, dec.reported_count)
    return dec.frame(frame_idx, rgb)


def _sample_tail(
    dec: VideoDecoder, tail_plan: Sequence[int], cancel: CancelToken | None
) -> Iterator[Frame]:
    """Sample the last ``FRAME_COUNT_SLACK`` listed frames, which may not all exist.

    Every frame from the first candidate on is kept (at most ``FRAME_COUNT_SLACK`` frames), so
    when the stream ends early the planned samples can be re-spaced over the frames that exist.
    """
    first_idx = max(dec.next_idx, dec.reported_count - FRAME_COUNT_SLACK)
    if cancel is not None:
        cancel.raise_if_cancelled()
    kept: dict[int, np.ndarray] = {}
    if dec.skip_to(first_idx, cancel):
        while dec.next_idx <= tail_plan[-1]:
            frame_idx = dec.next_idx
            rgb = dec.read_next()
            if rgb is None:
                break
            kept[frame_idx] = rgb
    if tail_plan[-1] in kept:
        chosen = list(tail_plan)
    else:
        stream_ended(dec.path, dec.next_idx, tail_plan[-1] + 1, dec.reported_count)
        available = sorted(kept)
        # NOTE: spaced from the last decoded frame backwards, so the video's end stays sampled.
        picks = np.unique(np.rint(np.linspace(len(available) - 1, 0, len(tail_plan))))
        chosen = [available[int(p)] for p in picks] if available else []
        logger.warning(
            "%s: samples planned at frames %s re-spaced to %s", dec.path, list(tail_plan), chosen
        )
    for frame_idx in chosen:
        yield dec.frame(frame_idx, kept[frame_idx])
