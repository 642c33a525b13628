"""Decoding video frames with OpenCV's FFmpeg backend, by exact frame index.

Why decoding is sequential and never seeks: a ``frame_idx`` in a report must name the frame the
analyst sees. OpenCV's ``CAP_PROP_POS_FRAMES`` seek converts the index to a timestamp, which is
exact for constant-frame-rate MP4 but lands 2-5 frames off, or fails, on variable-frame-rate
phone video (measured on the HEVC ``pyfeat_*.mov`` clips in the shared data). So a frame's index
is its position in decode order, reached with ``grab()`` (decode without colour conversion, about
1 ms per 512x512 frame, 11 ms per 1080p frame on one core).

Rotation: ``CAP_PROP_ORIENTATION_AUTO`` is switched off and the container's rotation
(``CAP_PROP_ORIENTATION_META``, clockwise degrees) is applied here, so the result does not depend
on the OpenCV version's default and ``MediaInfo.rotation_deg`` says what was done.

Wrong frame counts: containers often report a few frames more than they hold (98 reported, 95
decodable on a real phone clip); Matroska's count is an estimate from the duration. When the
stream ends at most ``FRAME_COUNT_SLACK`` frames before the reported count, that is logged as a
warning and treated as the true end. When it ends earlier, :class:`TruncatedMediaError` is raised.
"""

from __future__ import annotations

import logging
import math
import os
from types import TracebackType
from typing import Any

import numpy as np

from engine.errors import (
    CorruptMediaError,
    TruncatedMediaError,
    UnreadableMediaError,
    ZeroFramesError,
)
from engine.jobs import CancelToken
from engine.media.containers import check_container
from engine.media.limits import MediaLimits, check_frame_size
from engine.media.sniff import Sniffed
from engine.types import Frame, MediaInfo

__all__ = [
    "FRAME_COUNT_SLACK",
    "VideoDecoder",
    "stream_ended",
    "truncated_error",
    "video_info",
]

logger = logging.getLogger(__name__)

# NOTE: 5 frames covers the over-reports seen in practice (1-3 frames: edit lists, B-frame
# delay, duration-based estimates) and is still far below any real truncation.
FRAME_COUNT_SLACK = 5
# NOTE: check for cancellation every 32 skipped frames: at most ~0.4 s of 1080p decoding.
_CANCEL_EVERY_FRAMES = 32


def video_info(path: str, sniffed: Sniffed, limits: MediaLimits) -> MediaInfo:
    """Describe a video from its container and its first decoded frame.

    Raises:
        TruncatedMediaError, UnsupportedFormatError: from the container structure check.
        CorruptMediaError: FFmpeg cannot open it.
        ZeroFramesError: no frame decodes.
        MediaTooLargeError: the frame size exceeds ``limits``.
    """
    with VideoDecoder(path, sniffed, limits) as dec:
        first = dec.read_next()
        if first is None:
            raise ZeroFramesError(path, "No frame of the video could be decoded")
        height, width = first.shape[:2]
        return MediaInfo(
            path=path,
            kind="video",
            format_name=sniffed.format_name,
            size_bytes=sniffed.size_bytes,
            width=width,
            height=height,
            n_frames=dec.reported_count,
            fps=dec.fps,
            duration_s=dec.reported_count / dec.fps,
            rotation_deg=dec.rotation_deg,
            codec=dec.codec,
        )


def stream_ended(path: str, n_decoded: int, wanted_end: int | None, reported_count: int) -> None:
    """Decide what it means that the stream ended after ``n_decoded`` frames.

    Args:
        path: the file, for messages.
        n_decoded: frames decoded before the stream ended.
        wanted_end: one past the last frame the caller wanted (``None``: all of them).
        reported_count: the container's frame count.

    Raises:
        ZeroFramesError: no frame decoded at all.
        TruncatedMediaError: more than ``FRAME_COUNT_SLACK`` listed frames are missing.
    """
    wanted = reported_count if wanted_end is None else min(wanted_end, reported_count)
    if n_decoded >= wanted:
        return
    if n_decoded == 0:
        raise ZeroFramesError(path, "No frame of the video could be decoded")
    if reported_count - n_decoded > FRAME_COUNT_SLACK:
        raise truncated_error(path, n_decoded, reported_count)
    logger.warning(
        "%s: the file lists %d frames but only %d decode; using %d",
        path,
        reported_count,
        n_decoded,
        n_decoded,
    )


def truncated_error(path: str, n_decoded: int, reported_count: int) -> TruncatedMediaError:
    """The error for a stream that ends after ``n_decoded`` of ``reported_count`` frames."""
    return TruncatedMediaError(
        path,
        f"The video stream ends after {n_decoded} frames although the file lists "
        f"{reported_count}: it is truncated or damaged",
    )


class VideoDecoder:
    """One open video, decoded forward only, that knows the index of its next frame.

    Use as a context manager. ``reported_count`` is the container's frame count (decoded and
    counted when the container gives none); ``next_idx`` is the index of the next frame to
    decode.
    """

    def __init__(self, path: str, sniffed: Sniffed, limits: MediaLimits) -> None:
        check_container(path, sniffed.format_name, sniffed.size_bytes)
        self.path = path
        self._cap = _open_capture(path)
        self.next_idx = 0
        try:
            self._read_properties(limits)
            if self.reported_count <= 0:
                self.reported_count = self._count_by_decoding()
            if self.reported_count <= 0:
                raise ZeroFramesError(path, "The video holds no frames")
        except BaseException:
            self._cap.release()
            raise

    def __enter__(self) -> VideoDecoder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the decoder (also done by the context manager)."""
        self._cap.release()

    def skip_to(self, frame_idx: int, cancel: CancelToken | None = None) -> bool:
        """Decode forward until ``frame_idx`` is next; False when the stream ends first."""
        if frame_idx < self.next_idx:
            raise ValueError(f"cannot go back from frame {self.next_idx} to {frame_idx}")
        while self.next_idx < frame_idx:
            if cancel is not None and self.next_idx % _CANCEL_EVERY_FRAMES == 0:
                cancel.raise_if_cancelled()
            if not self._cap.grab():
                return False
            self.next_idx += 1
        return True

    def read_next(self) -> np.ndarray | None:
        """Decode the next frame as upright (H, W, 3) uint8 RGB; ``None`` at the end."""
        import cv2

        if not self._cap.grab():
            return None
        self.next_idx += 1
        ok, bgr = self._cap.retrieve()
        if not ok or bgr is None:
            raise CorruptMediaError(self.path, f"Frame {self.next_idx - 1} cannot be decoded")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if self.rotation_deg:
            rgb = cv2.rotate(rgb, _cv2_rotate_code(self.rotation_deg))
        return np.ascontiguousarray(rgb)

    def frame(self, frame_idx: int, rgb_u8: np.ndarray) -> Frame:
        """Wrap a decoded frame; ``t_sec`` is ``frame_idx / fps`` (nominal frame rate)."""
        return Frame(frame_idx=frame_idx, t_sec=frame_idx / self.fps, rgb_u8=rgb_u8)

    def _read_properties(self, limits: MediaLimits) -> None:
        import cv2

        cap, path = self._cap, self.path
        self.reported_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = float(cap.get(cv2.CAP_PROP_FPS))
        if not math.isfinite(fps) or fps <= 0:
            raise CorruptMediaError(path, "The video does not state a valid frame rate")
        self.fps = fps
        self.rotation_deg = _rotation_deg(path, cap.get(cv2.CAP_PROP_ORIENTATION_META))
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)  # before reading the (unrotated) frame size
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width <= 0 or height <= 0:
            raise CorruptMediaError(
                path, f"The video declares an empty frame size {width}x{height}"
            )
        check_frame_size(path, width, height, limits)
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC))
        self.codec = fourcc.to_bytes(4, "little").decode("latin-1").strip("\x00 ") or None

    def _count_by_decoding(self) -> int:
        """Count frames by decoding them all; only for containers that give no count."""
        logger.warning("%s: the container gives no frame count; counting by decoding", self.path)
        n_frames = 0
        while self._cap.grab():
            n_frames += 1
        self._cap.release()
        self._cap = _open_capture(self.path)
        import cv2

        self._cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
        return n_frames


def _cv2_rotate_code(rotation_deg: int) -> int:
    import cv2

    return {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}[
        rotation_deg
    ]


def _rotation_deg(path: str, meta_deg: float) -> int:
    """Snap the container's clockwise rotation to 0/90/180/270 degrees."""
    if not math.isfinite(meta_deg):
        return 0
    meta_deg %= 360.0
    rotation_deg = round(meta_deg / 90.0) * 90 % 360
    off_deg = abs(meta_deg - rotation_deg)
    if min(off_deg, 360.0 - off_deg) > 1.0:
        logger.warning(
            "%s: rotation %.1f° is not a multiple of 90°; using %d°", path, meta_deg, rotation_deg
        )
    return rotation_deg


def _open_capture(path: str) -> Any:
    import cv2

    cap = cv2.VideoCapture(_cv2_path(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise CorruptMediaError(
            path,
            "The video decoder (FFmpeg) cannot open this file: it is damaged, or its "
            "codec is not supported",
        )
    return cap


def _cv2_path(path: str) -> str:
    """A path OpenCV can open. On Windows OpenCV takes narrow (ANSI) paths only."""
    if os.name != "nt" or path.isascii():
        return path
    import ctypes  # Windows only: the 8.3 short name is ASCII and names the same file

    buffer = ctypes.create_unicode_buffer(32768)
    n_chars = ctypes.windll.kernel32.GetShortPathNameW(path, buffer, len(buffer))  # type: ignore[attr-defined]
    short = buffer.value if n_chars else ""
    if not short or not short.isascii():
        raise UnreadableMediaError(
            path,
            "The video decoder cannot open non-ASCII paths on this system (no short "
            "name); move or rename the file to a path with ASCII characters only",
        )
    return short
