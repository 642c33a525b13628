"""What a media file is (``probe``) and still-image reading (``read_image``).

Both sniff the format from the bytes first, so every input, whatever its name, either becomes a
:class:`MediaInfo` / an RGB array or raises one typed :class:`engine.errors.MediaError`.
"""

from __future__ import annotations

import os

import numpy as np

from engine.errors import UnsupportedFormatError
from engine.media.image_io import decode_image, image_info
from engine.media.limits import DEFAULT_LIMITS, MediaLimits
from engine.media.sniff import Sniffed, sniff
from engine.media.sources import video_info
from engine.types import MediaInfo

__all__ = ["probe", "read_image"]


def probe(path: str | os.PathLike[str], *, limits: MediaLimits = DEFAULT_LIMITS) -> MediaInfo:
    """Describe the image or video at ``path`` without decoding it all.

    Images are decoded once (after the size limit was checked from the header); videos and
    animations are described from their frame index and their first decodable frame. So a
    file that cannot give a single frame fails here, not later. ``width`` and ``height`` are
    after rotation (EXIF orientation or the video's display matrix). ``n_frames`` of a video is
    the number of frames its stream holds (from the container's sample table or a packet scan,
    see :mod:`engine.media.video_index`), never the header's claim; ``fps`` is the average rate.

    Raises:
        UnreadableMediaError: missing, a folder, or unreadable.
        NotMediaError: not an image or video (text, random bytes, documents, empty).
        UnsupportedFormatError: audio only, or another format that is not supported.
        TruncatedMediaError: the file is cut short.
        CorruptMediaError: the data cannot be decoded.
        ZeroFramesError: a video without frames.
        MediaTooLargeError: the frame size exceeds ``limits``.
    """
    path_str = os.fspath(path)
    sniffed = sniff(path_str)
    if sniffed.kind == "image":
        return image_info(path_str, sniffed, limits)
    return video_info(path_str, sniffed, limits)


def read_image(path: str | os.PathLike[str], *, limits: MediaLimits = DEFAULT_LIMITS) -> np.ndarray:
    """Decode a still image to upright (H, W, 3) uint8 RGB.

    EXIF orientation is applied; grayscale, palette, CMYK, alpha and 16-bit images are converted
    as described in :mod:`engine.media.image_io`. Animated images are videos (use
    ``sample_frames``).

    Raises:
        UnsupportedFormatError: the file is a video (use ``sample_frames``) or an unsupported
            pixel format.
        The errors of :func:`probe` for unusable files.
    """
    path_str = os.fspath(path)
    sniffed = sniff(path_str)
    return read_sniffed_image(path_str, sniffed, limits)


def read_sniffed_image(path: str, sniffed: Sniffed, limits: MediaLimits) -> np.ndarray:
    """``read_image`` for a file already sniffed (avoids reading the header twice)."""
    if sniffed.kind != "image":
        raise UnsupportedFormatError(
            path, f"This is a video ({sniffed.format_name}), not a still image"
        )
    return decode_image(path, sniffed, limits)
