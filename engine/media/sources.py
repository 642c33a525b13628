"""One reading interface for every medium with more than one frame: videos and animations.

:func:`open_source` gives a ``VideoDecoder`` (PyAV) or an ``AnimationDecoder`` (Pillow); both
have ``n_frames``, ``read(frame_idx, until=None, cancel=None)``, ``times_s()``,
``constant_fps``, ``fps``, ``duration_s``, ``n_header``, ``n_missing`` and ``report``, so
sampling and iteration in :mod:`engine.media.frames` do not care which it is.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from engine.errors import ZeroFramesError
from engine.jobs import CancelToken
from engine.media.animation import AnimationDecoder
from engine.media.limits import MediaLimits
from engine.media.plan import plan_by_time, plan_frame_indices
from engine.media.report import DecodeReport
from engine.media.sniff import Sniffed
from engine.media.video_io import VideoDecoder
from engine.types import Frame, MediaInfo

__all__ = ["ANIMATED_FORMATS", "FrameSource", "open_source", "plan_samples", "video_info"]

ANIMATED_FORMATS = frozenset({"gif", "apng", "webp"})


class FrameSource(Protocol):
    """What ``VideoDecoder`` and ``AnimationDecoder`` have in common."""

    path: str
    report: DecodeReport

    @property
    def n_frames(self) -> int: ...
    @property
    def n_header(self) -> int | None: ...
    @property
    def n_missing(self) -> int: ...
    @property
    def fps(self) -> float: ...
    @property
    def duration_s(self) -> float: ...
    @property
    def constant_fps(self) -> float | None: ...
    def times_s(self) -> np.ndarray: ...
    def read(
        self, frame_idx: int, until: int | None = None, cancel: CancelToken | None = None
    ) -> Frame | None: ...
    def close(self) -> None: ...
    def __enter__(self) -> FrameSource: ...
    def __exit__(self, *exc: object) -> None: ...


def open_source(
    path: str,
    sniffed: Sniffed,
    limits: MediaLimits,
    report: DecodeReport | None = None,
    *,
    strict_count: bool = False,
) -> FrameSource:
    """Open a video or an animated image for reading frames by index."""
    if sniffed.format_name in ANIMATED_FORMATS:
        return AnimationDecoder(path, sniffed, limits, report)
    return VideoDecoder(path, sniffed, limits, report, strict_count=strict_count)


def plan_samples(source: FrameSource, n_frames: int | None, fps: float | None) -> list[int]:
    """The frames to sample (see :mod:`engine.media.plan`)."""
    rate = source.constant_fps
    if rate is not None:
        return plan_frame_indices(source.n_frames, rate, n_frames=n_frames, fps=fps)
    return plan_by_time(source.times_s(), n_frames=n_frames, fps=fps)


def video_info(path: str, sniffed: Sniffed, limits: MediaLimits) -> MediaInfo:
    """Describe a video or animation from its index and its first decodable frame.

    ``width``/``height`` are those of the first decodable frame once turned upright; a
    damaged first frame is skipped (the report of a later decode counts it).

    Raises:
        The errors of :func:`open_source`, and ZeroFramesError: no frame decodes.
    """
    with open_source(path, sniffed, limits) as source:
        first = source.read(0, until=source.n_frames)
        if first is None:
            raise ZeroFramesError(path, "No frame of the video could be decoded")
        height, width = first.rgb_u8.shape[:2]
        return MediaInfo(
            path=path,
            kind="video",
            format_name=sniffed.format_name,
            size_bytes=sniffed.size_bytes,
            width=width,
            height=height,
            n_frames=source.n_frames,
            fps=source.fps,
            duration_s=source.duration_s,
            rotation_deg=source.report.rotation_deg,
            codec=getattr(source, "codec", None) or sniffed.format_name,
        )
