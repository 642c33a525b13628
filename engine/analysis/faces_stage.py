"""Frames -> tracked face crops, through ``engine.faces.pipeline.detect_faces_in_frames``.

The faces pipeline consumes the frame iterator one frame at a time (decoded frames never pile
up), tracks the faces and crops them with the one crop policy, and flags faces too small to
score. This adapter times decoding apart from face finding (the frame iterator is timed as it
is pulled), re-reports progress with the planned frame count, and keeps, for every face, whether
it is usable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.analysis.progress import StageClock, StageReporter
from engine.jobs import CancelToken, Progress
from engine.types import FaceCrop, Frame

__all__ = ["FaceStage", "FoundFaces", "FrameTap"]

FrameTap = Callable[[Any, int, Sequence[Any]], None]
"""``on_frame(rgb_u8, frame_idx, faces)``: a frame and the faces detected in it."""


@dataclass(frozen=True)
class FoundFaces:
    """Every face of the analysed frames, in frame order, with track ids.

    Attributes:
        frames: ``(frame_idx, t_sec)`` of every analysed frame, in order.
        crops: every face found, usable or not.
        usable: per crop, False when the face is too small to score.
        n_faces_found: per analysed frame, the faces found there: cropped, beyond the
            per-frame limit, or detected without usable landmarks.
        n_beyond_limit: faces found beyond the per-frame limit (not cropped, not scored).
        n_without_landmarks: faces detected without usable landmarks (not scored).
        frame_sizes: per analysed frame, its ``(width, height)`` in pixels.
    """

    frames: tuple[tuple[int, float], ...]
    crops: tuple[FaceCrop, ...]
    usable: tuple[bool, ...]
    n_faces_found: dict[int, int] = field(default_factory=dict)
    n_beyond_limit: int = 0
    n_without_landmarks: int = 0
    frame_sizes: dict[int, tuple[int, int]] = field(default_factory=dict)


class FaceStage:
    """Finds, tracks and crops faces with a loaded face detector, reused across files.

    Args:
        detector: a ``FaceMeshDetector`` (or an object with its ``analyze`` method).
        policy: the crop policy (``engine.faces.crop.CropPolicy``).
    """

    def __init__(self, detector: Any, policy: Any) -> None:
        self._detector = detector
        self._policy = policy

    def warm_up(self) -> None:
        """Pay one-off start-up costs now (see ``warm_up_face_pipeline``)."""
        from engine.faces.pipeline import warm_up_face_pipeline

        warm_up_face_pipeline(self._detector, self._policy)

    def run(
        self,
        frames: Iterator[Frame],
        *,
        planned: int,
        reporter: StageReporter,
        clock: StageClock,
        cancel: CancelToken | None,
        on_frame: FrameTap | None = None,
    ) -> FoundFaces:
        """Pull every frame from ``frames`` and return its faces.

        ``on_frame(rgb_u8, frame_idx, faces)`` is called with every frame and its detected
        faces while the frame is still in memory (whole-picture scoring); its time is
        reported as the ``native_tiles`` stage, not as face finding.
        """
        from engine.faces.pipeline import detect_faces_in_frames

        seen: list[tuple[int, float]] = []
        sizes: dict[int, tuple[int, int]] = {}
        decode_s = [0.0]
        reporter.start("frames", planned)

        def report(p: Progress) -> None:
            reporter.update(p.done)

        tap_s = [0.0]
        detector = self._detector if on_frame is None else _Tapped(self._detector, on_frame, tap_s)
        t0 = time.perf_counter()
        try:
            found = detect_faces_in_frames(
                _timed(frames, seen, sizes, decode_s),
                detector,
                self._policy,
                cancel=cancel,
                progress=report,
            )
        finally:
            clock.add("decode", decode_s[0])
            if on_frame is not None:
                clock.add("native_tiles", tap_s[0])
            clock.add("faces", time.perf_counter() - t0 - decode_s[0] - tap_s[0])
        return FoundFaces(
            frames=tuple(seen),
            crops=tuple(f.crop for f in found.faces),
            usable=tuple(not f.too_small for f in found.faces),
            n_faces_found={idx: found.n_found(idx) for idx, _ in seen},
            n_beyond_limit=len(found.not_kept),
            n_without_landmarks=len(found.boxes_without_landmarks),
            frame_sizes=sizes,
        )


def _timed(
    frames: Iterator[Frame],
    seen: list[tuple[int, float]],
    sizes: dict[int, tuple[int, int]],
    decode_s: list[float],
) -> Iterator[Frame]:
    """Yield ``frames``, adding the seconds spent decoding each to ``decode_s[0]``."""
    while True:
        t0 = time.perf_counter()
        frame = next(frames, None)
        decode_s[0] += time.perf_counter() - t0
        if frame is None:
            return
        seen.append((frame.frame_idx, frame.t_sec))
        sizes[frame.frame_idx] = (int(frame.rgb_u8.shape[1]), int(frame.rgb_u8.shape[0]))
        yield frame


class _Tapped:
    """The face detector, passing every analysed frame and its faces on to ``on_frame``."""

    def __init__(self, detector: Any, on_frame: FrameTap, tap_s: list[float]) -> None:
        self._detector = detector
        self._on_frame = on_frame
        self._tap_s = tap_s

    def analyze(self, rgb_u8: Any, frame_idx: int = 0) -> Any:
        result = self._detector.analyze(rgb_u8, frame_idx)
        t0 = time.perf_counter()
        self._on_frame(rgb_u8, frame_idx, result.faces)
        self._tap_s[0] += time.perf_counter() - t0
        return result
