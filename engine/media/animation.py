"""Animated GIF, APNG and WebP as videos: frames by index, times from the file's durations.

Animations are how many face swaps circulate (reaction GIFs, stickers), so every frame can be
analysed like a video frame. Frame ``i`` is the ``i``-th frame in file order, shown at the sum
of the durations before it (:mod:`engine.media.anim_timing` reads them from the headers, so
sampling plans by time before decoding). Pixels come from Pillow, which composites each frame
onto the previous ones (GIF disposal, APNG blending) exactly as a viewer shows it, with the
same colour conversions and EXIF orientation as still images (:mod:`engine.media.image_io`).

Compositing means frame ``i`` needs frames ``0..i-1``: decoding is sequential (Pillow restarts
from frame 0 to go back), so the work is bounded by ``MediaLimits.max_animation_pixels``,
checked from the header (frames x canvas) before the first frame is decoded.
"""

from __future__ import annotations

import contextlib
import logging

import numpy as np

from engine.closing import Closing
from engine.errors import CorruptMediaError, MediaTooLargeError, ZeroFramesError
from engine.jobs import CancelToken
from engine.media.anim_timing import frame_durations_s
from engine.media.image_io import exif_rotation_deg, open_pil, pil_to_rgb_u8, upright
from engine.media.limits import MediaLimits
from engine.media.report import DecodeReport
from engine.media.sniff import Sniffed
from engine.types import Frame

__all__ = ["AnimationDecoder"]

logger = logging.getLogger(__name__)

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)
# NOTE: a frame of unknown duration (a file whose headers list fewer frames than Pillow
# decodes) is shown for the browsers' default of 100 ms.
_DEFAULT_DURATION_S = 0.1


class AnimationDecoder(Closing):
    """One open animated image; the same reading interface as ``VideoDecoder``.

    Raises (on construction):
        MediaTooLargeError: canvas or frames x canvas beyond ``limits``.
        The errors of :func:`engine.media.image_io.open_pil` for unusable files.
    """

    def __init__(
        self,
        path: str,
        sniffed: Sniffed,
        limits: MediaLimits,
        report: DecodeReport | None = None,
    ) -> None:
        self.path = path
        self.report = report if report is not None else DecodeReport()
        self._stack = contextlib.ExitStack()
        self._img = self._stack.enter_context(open_pil(path, sniffed, limits))
        self._broken_from: int | None = None
        try:
            durations = self._durations(sniffed)
            self._check_work(limits)
        except BaseException:
            self._stack.close()
            raise
        self._times_s = np.concatenate([[0.0], np.cumsum(durations)[:-1]])
        self._duration_s = float(np.sum(durations))
        report = self.report
        report.index_mode = "animation"
        report.n_frames_stream = self.n_frames
        report.variable_frame_rate = len(set(durations)) > 1
        report.rotation_deg = exif_rotation_deg(path, self._img)

    def _durations(self, sniffed: Sniffed) -> list[float]:
        durations = frame_durations_s(self.path, sniffed.format_name)
        try:
            n_frames = int(getattr(self._img, "n_frames", 1))
        except _DECODE_ERRORS as exc:  # Pillow counts by reading on, and a cut file ends
            logger.warning("%s: the frames cannot all be counted (%s); %d are complete",
                           self.path, exc, len(durations))
            n_frames = len(durations)
        if n_frames <= 0:
            raise ZeroFramesError(self.path, "The animation holds no frames")
        if len(durations) != n_frames:
            logger.warning("%s: the headers list %d frame durations for %d frames", self.path,
                           len(durations), n_frames)
            durations = (durations + [_DEFAULT_DURATION_S] * n_frames)[:n_frames]
        self.n_frames = n_frames
        return durations

    def _check_work(self, limits: MediaLimits) -> None:
        width, height = self._img.size
        work = width * height * self.n_frames
        if work > limits.max_animation_pixels:
            raise MediaTooLargeError(
                self.path,
                f"The animation has {self.n_frames} frames of {width}x{height}: "
                f"{work / 1e9:.1f} gigapixels to composite, over the limit of "
                f"{limits.max_animation_pixels / 1e9:.1f}",
            )

    def close(self) -> None:
        """Close the image and the file."""
        self._stack.close()

    def t_sec(self, frame_idx: int) -> float:
        """When ``frame_idx`` is shown, in seconds from the first frame."""
        return float(self._times_s[frame_idx])

    def times_s(self) -> np.ndarray:
        """(n_frames,) float64 seconds at which each frame is shown."""
        return self._times_s

    @property
    def duration_s(self) -> float:
        """Seconds the animation runs once."""
        return self._duration_s

    @property
    def n_header(self) -> None:
        """Animations state no frame count apart from their frames."""
        return None

    @property
    def n_missing(self) -> int:
        """Frames stated but absent: none (the frames are counted from the file itself)."""
        return 0

    @property
    def fps(self) -> float:
        """Average frames per second of one run through the animation."""
        return self.n_frames / self._duration_s if self._duration_s > 0 else 0.0

    @property
    def constant_fps(self) -> float | None:
        """Frames per second when every frame lasts as long, else ``None``."""
        if self.report.variable_frame_rate or self._duration_s <= 0:
            return None
        return self.n_frames / self._duration_s

    def read(
        self, frame_idx: int, until: int | None = None, cancel: CancelToken | None = None
    ) -> Frame | None:
        """Decode ``frame_idx``; ``None`` if it cannot be (counted as damaged).

        A frame that does not decode breaks the compositing chain, so it and every later frame
        are damaged; ``until`` (a substitute before it) therefore never finds one.
        """
        if not 0 <= frame_idx < self.n_frames:
            raise IndexError(f"frame {frame_idx} is out of range: the video has {self.n_frames}")
        if cancel is not None:
            cancel.raise_if_cancelled()
        if self._broken_from is not None and frame_idx >= self._broken_from:
            self.report.note_damaged(frame_idx)
            return None
        try:
            self._img.seek(frame_idx)
            self._img.load()
            rgb = pil_to_rgb_u8(self.path, upright(self.path, self._img))
        except _DECODE_ERRORS as exc:
            logger.warning("%s: frame %d does not decode (%s)", self.path, frame_idx, exc)
            self._broken_from = frame_idx
            self.report.note_damaged(frame_idx)
            return None
        self.report.n_frames_decoded += 1
        self.report.n_frames_returned += 1
        self.report.note_size(frame_idx, *self._img.size)
        return Frame(frame_idx=frame_idx, t_sec=self.t_sec(frame_idx), rgb_u8=rgb)

    def first_frame(self) -> Frame:
        """Frame 0 (an animation whose first frame is broken is unusable).

        Raises:
            CorruptMediaError: frame 0 does not decode.
        """
        frame = self.read(0)
        if frame is None:
            raise CorruptMediaError(self.path, "The first frame of the animation cannot be decoded")
        return frame
