"""Reading evidence files: hashing, format probing, images and video frames.

Every function opens files read-only and either returns a result or raises one typed
:class:`engine.errors.MediaError` with a message an analyst can act on. Formats are recognised
from the file's bytes, never from its extension. Frames are always upright (H, W, 3) uint8 RGB.
Videos are decoded with PyAV (FFmpeg), stills and animated images with Pillow (HEIC through
pillow-heif); docs/MEDIA.md explains frame indexing, seeking and what is reported.

Public API::

    sha256_file(path, *, progress=None, cancel=None) -> str
    probe(path, *, limits=DEFAULT_LIMITS) -> MediaInfo
    read_image(path, *, limits=DEFAULT_LIMITS) -> np.ndarray
    sample_frames(path, *, n_frames=32, fps=None, cancel=None, limits=..., report=None)
        -> Iterator[Frame]
    read_frame(path, frame_idx, *, limits=..., report=None) -> Frame
    iter_frames(path, start=0, stop=None, step=1, *, cancel=None, limits=..., report=None)
        -> Iterator[Frame]
    DecodeReport: filled by ``report=``; ``cautions()`` gives sentences for an analyst
    clear_index_cache(): forget the cached frame indices
"""

from engine.media.frames import (
    describe_sampling,
    iter_frames,
    plan_frame_indices,
    read_frame,
    sample_frames,
)
from engine.media.hashing import sha256_file
from engine.media.index_build import FRAME_COUNT_SLACK
from engine.media.limits import DEFAULT_LIMITS, MediaLimits
from engine.media.probe import probe, read_image
from engine.media.report import DecodeReport, ResolutionChange
from engine.media.video_index import clear_index_cache

__all__ = [
    "DEFAULT_LIMITS",
    "FRAME_COUNT_SLACK",
    "DecodeReport",
    "MediaLimits",
    "ResolutionChange",
    "clear_index_cache",
    "describe_sampling",
    "iter_frames",
    "plan_frame_indices",
    "probe",
    "read_frame",
    "read_image",
    "sample_frames",
    "sha256_file",
]
