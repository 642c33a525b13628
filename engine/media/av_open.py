"""Opening a video with PyAV, safely, and turning its decoded frames into upright RGB arrays.

The file is opened by Python and handed to FFmpeg as a file object, so any path the OS gives
works (non-UTF-8 and non-ASCII names included) and FFmpeg never opens a path itself; the
demuxer is the one the sniffed format names, so a hostile file cannot steer FFmpeg into a
playlist or concat demuxer that would open other files.
"""

from __future__ import annotations

from typing import Any, BinaryIO

import numpy as np

from engine.errors import (
    CorruptMediaError,
    TruncatedMediaError,
    UnreadableMediaError,
    UnsupportedFormatError,
    ZeroFramesError,
)
from engine.media.orient import Orientation, orientation_from_matrix, orientation_from_tag
from engine.media.sniff import Sniffed

__all__ = ["DEMUXERS", "frame_orientation", "frame_to_rgb", "open_video_container"]

# Sniffed container -> the FFmpeg demuxer that must read it.
DEMUXERS = {
    "mp4": "mov",
    "mov": "mov",
    "avi": "avi",
    "mkv": "matroska",
    "webm": "matroska",
    "flv": "flv",
    "asf": "asf",
    "mpeg": "mpeg",
    "mpegts": "mpegts",
}
# NOTE: FFmpeg's MPEG program-stream demuxer re-derives timestamps after a seek (its parser
# restarts), so they differ from a scan from the start; such files are decoded from the start.

def open_video_container(path: str, sniffed: Sniffed | None) -> tuple[BinaryIO, Any, Any]:
    """Open ``path`` read-only with PyAV; return (file, container, video stream).

    Raises:
        UnreadableMediaError: the file cannot be opened.
        CorruptMediaError: FFmpeg cannot read the container.
        TruncatedMediaError: the file ends inside the container header.
        UnsupportedFormatError: there is no video stream (audio only), or no decoder for it.
        ZeroFramesError: there is no stream at all.
    """
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the caller, after the container
    except OSError as exc:
        raise UnreadableMediaError(path, f"Cannot read the file: {exc.strerror}") from exc
    try:
        container = _open_container(path, fh, sniffed)
    except BaseException:
        fh.close()
        raise
    try:
        return fh, container, _video_stream(path, container)
    except BaseException:
        container.close()
        fh.close()
        raise


def _open_container(path: str, fh: BinaryIO, sniffed: Sniffed | None) -> Any:
    import av

    try:
        return av.open(
            fh,
            mode="r",
            format=DEMUXERS.get(sniffed.format_name) if sniffed is not None else None,
            metadata_errors="replace",
        )
    except av.error.EOFError as exc:
        raise TruncatedMediaError(
            path,
            "The file ends inside its container header: it holds no frames, or it was cut "
            "short (the recording or copy was probably interrupted)",
        ) from exc
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise CorruptMediaError(
            path,
            "The video decoder (FFmpeg) cannot open this file: it is damaged, or its "
            f"codec is not supported ({exc})",
        ) from exc


def _video_stream(path: str, container: Any) -> Any:
    import av

    attached = av.stream.Disposition.attached_pic
    videos = [s for s in container.streams.video if not s.disposition & attached]
    if videos and videos[0].codec_context is None:  # FFmpeg has no decoder for it
        raise UnsupportedFormatError(
            path, f"The video codec ({videos[0].codec_tag or 'unknown'}) is not supported"
        )
    if videos:
        return videos[0]
    if container.streams.audio:
        raise UnsupportedFormatError(
            path, "The file has no video stream; it is probably audio only"
        )
    if container.streams.video:
        raise ZeroFramesError(path, "The file holds only a cover picture, no video frames")
    raise ZeroFramesError(path, "The file holds no video stream and so no frames")


def frame_to_rgb(path: str, av_frame: Any) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a decoded frame, as stored (before any rotation).

    Raises:
        UnsupportedFormatError: a pixel format FFmpeg's scaler cannot convert to RGB.
    """
    import av

    # NOTE: BT.601 whatever the stream is tagged: OpenCV converted every video so, and the
    # detectors were trained and calibrated on such frames (an HD stream tagged BT.709 would
    # otherwise shift colours by up to 8-15 levels). Full-range (yuvj) input stays full range.
    try:
        rgb = av_frame.reformat(format="rgb24", src_colorspace="ITU601").to_ndarray()
    except (av.error.FFmpegError, ValueError) as exc:
        raise UnsupportedFormatError(
            path, f"Video frames in pixel format {av_frame.format.name} cannot be converted "
            f"to RGB ({exc})"
        ) from exc
    return np.ascontiguousarray(rgb)


def frame_orientation(path: str, av_frame: Any, stream: Any) -> Orientation:
    """How to show a decoded frame: its display matrix, else the stream's ``rotate`` tag."""
    matrix = av_frame.side_data.get("DISPLAYMATRIX")
    if matrix is not None:
        return orientation_from_matrix(path, bytes(matrix))
    return orientation_from_tag(path, stream.metadata)
