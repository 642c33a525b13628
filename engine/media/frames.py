"""Frames out of any media file: sampled, by index, or consecutive.

A still image is a one-frame medium (``frame_idx`` 0, ``t_sec`` 0.0), so every caller handles
photos, videos and animations with the same three functions. A video's ``frame_idx`` is the
frame's position in presentation order among the frames its stream holds, and ``t_sec`` its
presentation time from the first frame, both from the file's own timestamps (see
:mod:`engine.media.video_index`); all three functions give the same pixels for the same index.

Every function takes an optional :class:`engine.media.report.DecodeReport` (``report=``) that
is filled in while decoding: damaged frames skipped, substitutions, resolution changes, and a
container whose frame count disagrees with its stream.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from engine.errors import CorruptMediaError, TruncatedMediaError, ZeroFramesError
from engine.jobs import CancelToken
from engine.media.index_build import FRAME_COUNT_SLACK, truncated_error
from engine.media.limits import DEFAULT_LIMITS, MediaLimits
from engine.media.plan import check_sampling, describe_sampling, plan_frame_indices
from engine.media.probe import read_sniffed_image
from engine.media.report import DecodeReport
from engine.media.sniff import Sniffed, sniff
from engine.media.sources import FrameSource, open_source, plan_samples
from engine.types import Frame

__all__ = ["describe_sampling", "iter_frames", "plan_frame_indices", "read_frame", "sample_frames"]

logger = logging.getLogger(__name__)


def sample_frames(
    path: str | os.PathLike[str],
    *,
    n_frames: int | None = 32,
    fps: float | None = None,
    cancel: CancelToken | None = None,
    limits: MediaLimits = DEFAULT_LIMITS,
    report: DecodeReport | None = None,
) -> Iterator[Frame]:
    """Yield sampled frames in increasing ``frame_idx`` order (see :mod:`engine.media.plan`).

    A still image yields one frame (index 0, ``t_sec`` 0.0). A video is planned over the frames
    its stream holds, by presentation time, and each planned frame is reached by a keyframe
    seek, so the cost does not grow with the video's length. A damaged planned frame is
    replaced by the next decodable frame before the following planned one (recorded in
    ``report.substitutions``), or skipped. ``cancel`` is checked before every frame.

    Raises:
        ValueError: bad ``n_frames``/``fps``.
        The errors of :func:`engine.media.probe` for unusable files, and JobCancelled: a file
        that is missing or not media fails on the call itself, decoding errors on iteration.
        TruncatedMediaError (on iteration, before any frame): the container lists more than
        ``FRAME_COUNT_SLACK`` frames beyond those the stream holds.
        ZeroFramesError (on iteration): no planned frame or substitute decodes.
    """
    check_sampling(n_frames, fps)
    path_str = os.fspath(path)
    sniffed = sniff(path_str)  # missing or not media: fail on the call, not on next()
    if sniffed.kind == "image":
        return _image_frames(path_str, sniffed, limits, cancel, report)
    return _sample_video(path_str, sniffed, limits, n_frames, fps, cancel, report)


def _sample_video(
    path: str,
    sniffed: Sniffed,
    limits: MediaLimits,
    n_frames: int | None,
    fps: float | None,
    cancel: CancelToken | None,
    report: DecodeReport | None,
) -> Iterator[Frame]:
    with open_source(path, sniffed, limits, report, strict_count=True) as source:
        plan = plan_samples(source, n_frames, fps)
        n_yielded = 0
        for pos, frame_idx in enumerate(plan):
            if cancel is not None:
                cancel.raise_if_cancelled()
            until = plan[pos + 1] if pos + 1 < len(plan) else source.n_frames
            frame = source.read(frame_idx, until=until, cancel=cancel)
            if frame is not None:
                n_yielded += 1
                yield frame
        if n_yielded == 0:
            raise ZeroFramesError(path, "No frame of the video could be decoded")


def read_frame(
    path: str | os.PathLike[str],
    frame_idx: int,
    *,
    limits: MediaLimits = DEFAULT_LIMITS,
    report: DecodeReport | None = None,
) -> Frame:
    """Decode the one frame ``frame_idx`` (0 for a still image).

    Cost: a video seeks to the keyframe at or before the frame and decodes forward from there
    (one keyframe interval at most); the frame index is cached per file, so only the first
    call on a file that needs a packet scan pays for it.

    Raises:
        IndexError: ``frame_idx`` is negative or past the last frame.
        TruncatedMediaError: the file lists the frame but the stream ends before it.
        CorruptMediaError: the frame exists but is damaged.
        The errors of :func:`engine.media.probe` for unusable files.
    """
    if frame_idx < 0:
        raise IndexError(f"frame_idx must be >= 0, got {frame_idx}")
    path_str = os.fspath(path)
    sniffed = sniff(path_str)
    if sniffed.kind == "image":
        if frame_idx != 0:
            raise IndexError(f"frame {frame_idx} is out of range: a still image has frame 0 only")
        return _image_frame(path_str, sniffed, limits, None, report)
    with open_source(path_str, sniffed, limits, report) as source:
        _check_in_range(source, frame_idx)
        frame = source.read(frame_idx)
        if frame is None:
            raise CorruptMediaError(
                path_str, f"Frame {frame_idx} is damaged and cannot be decoded"
            )
        return frame


def _check_in_range(source: FrameSource, frame_idx: int) -> None:
    n_frames = source.n_frames
    if frame_idx < n_frames:
        return
    if source.n_header is not None and frame_idx < source.n_header and source.n_missing:
        raise TruncatedMediaError(
            source.path,
            f"Frame {frame_idx} cannot be decoded: the stream ends after {n_frames} frames "
            f"although the file lists {source.n_header}",
        )
    raise IndexError(f"frame {frame_idx} is out of range: the video has {n_frames} frames")


def iter_frames(
    path: str | os.PathLike[str],
    start: int = 0,
    stop: int | None = None,
    step: int = 1,
    *,
    cancel: CancelToken | None = None,
    limits: MediaLimits = DEFAULT_LIMITS,
    report: DecodeReport | None = None,
) -> Iterator[Frame]:
    """Yield frames ``start, start+step, ...`` before ``stop`` (``None``: to the end).

    Like ``range``: a ``stop`` past the end simply ends at the last frame. A still image yields
    its one frame when ``start`` is 0. Damaged frames are skipped (and counted in ``report``).
    If the container lists more than ``FRAME_COUNT_SLACK`` frames beyond those the stream holds
    (and ``stop`` reaches past them), :class:`TruncatedMediaError` is raised after the frames
    that exist were yielded.

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
        return _image_frames(path_str, sniffed, limits, cancel, report) if wants_first else iter(())
    return _iter_video(path_str, sniffed, limits, range(start, stop or 0, step), stop is None,
                       cancel, report)


def _iter_video(
    path: str,
    sniffed: Sniffed,
    limits: MediaLimits,
    wanted: range,
    to_end: bool,
    cancel: CancelToken | None,
    report: DecodeReport | None,
) -> Iterator[Frame]:
    with open_source(path, sniffed, limits, report) as source:
        end = source.n_frames if to_end else min(wanted.stop, source.n_frames)
        n_yielded = 0
        for frame_idx in range(wanted.start, end, wanted.step):
            if cancel is not None:
                cancel.raise_if_cancelled()
            frame = source.read(frame_idx, cancel=cancel)
            if frame is not None:
                n_yielded += 1
                yield frame
        if n_yielded == 0 and wanted.start == 0 and end > 0:
            raise ZeroFramesError(path, "No frame of the video could be decoded")
        reaches_missing = to_end or wanted.stop > source.n_frames
        if reaches_missing and source.n_missing > FRAME_COUNT_SLACK:
            assert source.n_header is not None  # n_missing > 0 needs a stated count
            raise truncated_error(path, source.n_frames, source.n_header)


def _image_frames(
    path: str,
    sniffed: Sniffed,
    limits: MediaLimits,
    cancel: CancelToken | None,
    report: DecodeReport | None,
) -> Iterator[Frame]:
    yield _image_frame(path, sniffed, limits, cancel, report)


def _image_frame(
    path: str,
    sniffed: Sniffed,
    limits: MediaLimits,
    cancel: CancelToken | None,
    report: DecodeReport | None,
) -> Frame:
    if cancel is not None:
        cancel.raise_if_cancelled()
    rgb = read_sniffed_image(path, sniffed, limits)
    if report is not None:
        report.index_mode = "image"
        report.n_frames_stream = 1
        report.n_frames_decoded += 1
        report.n_frames_returned += 1
    return Frame(frame_idx=0, t_sec=0.0, rgb_u8=rgb)
