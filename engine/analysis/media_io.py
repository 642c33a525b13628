"""The orchestrator's one doorway to ``engine.media``: hash, probe and the frames to analyse.

A still image is one frame (index 0 at 0 s); a video is sampled by ``engine.media``: N evenly
spaced frames, or F per second (at most N when both are given). Keeping these calls in one
module keeps the orchestrator independent of how the media package is laid out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from engine.jobs import CancelToken, ProgressSink
from engine.types import Frame, MediaInfo

if TYPE_CHECKING:
    from engine.media import DecodeReport

__all__ = [
    "describe_sampling",
    "hash_file",
    "iter_frames",
    "new_decode_report",
    "planned_frame_count",
    "probe",
    "read_one_frame",
]


def hash_file(path: str, progress: ProgressSink, cancel: CancelToken | None) -> str:
    """Lowercase hex SHA-256 of the file, streamed, with progress and cancellation."""
    from engine.media import sha256_file

    return sha256_file(path, progress=progress, cancel=cancel)


def probe(path: str) -> MediaInfo:
    """What the file is (raises ``engine.errors.MediaError`` subclasses)."""
    from engine.media import probe as media_probe

    return media_probe(path)


def read_one_frame(path: str, frame_idx: int) -> Frame:
    """One decoded frame (frame 0 of a still image)."""
    from engine.media import read_frame

    return read_frame(path, frame_idx)


def iter_frames(
    path: str,
    *,
    n_frames: int | None,
    fps: float | None,
    cancel: CancelToken | None,
    report: DecodeReport | None = None,
) -> Iterator[Frame]:
    """The frames to analyse, decoded one at a time, in increasing ``frame_idx``.

    ``report`` (an ``engine.media.DecodeReport``) is filled while decoding: damaged frames
    skipped or replaced, resolution changes, a header whose frame count disagrees; its
    ``cautions()`` are sentences for the analyst.
    """
    from engine.media import sample_frames

    return sample_frames(path, n_frames=n_frames, fps=fps, cancel=cancel, report=report)


def new_decode_report() -> DecodeReport:
    """An empty ``engine.media.DecodeReport`` to pass to :func:`iter_frames`."""
    from engine.media import DecodeReport

    return DecodeReport()


def planned_frame_count(info: MediaInfo, *, n_frames: int | None, fps: float | None) -> int:
    """How many frames :func:`iter_frames` plans to yield (from the container's frame count)."""
    if info.kind == "image":
        return 1
    from engine.media import plan_frame_indices

    video_fps = info.fps if info.fps and info.fps > 0 else 25.0  # only used with fps sampling
    return len(plan_frame_indices(info.n_frames, video_fps, n_frames=n_frames, fps=fps))


def describe_sampling(info: MediaInfo | None, *, n_frames: int | None, fps: float | None) -> str:
    """The sampling rule in words, for provenance."""
    if info is not None and info.kind == "image":
        return "still image: its one frame"
    from engine.media import describe_sampling as media_describe

    return f"video frames: {media_describe(n_frames=n_frames, fps=fps)}"
