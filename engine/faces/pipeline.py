"""Frames in, tracked face crops out: detection, tracking and the one crop policy in one pass.

Each frame is searched, its faces tracked and cropped as soon as it arrives, and then dropped,
so a long frame iterator never piles decoded frames up in memory (a 1080p frame is 6 MB, a
256 px crop 0.2 MB). Nothing is dropped silently: faces whose landmark box is smaller than
``min_face_px`` are tracked and cropped but returned flagged ``too_small`` (the detectors were
trained on 100-200 px faces; a 6x-upsampled face gives a number nobody should read), detector
boxes without landmarks are listed per frame, and frames without any face are listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sized
from dataclasses import dataclass, field

import numpy as np

from engine.faces.crop import CropPolicy, crop_face
from engine.faces.mesh import FaceBox, FaceMeshDetector, MeshResult
from engine.faces.tracking import FaceTracker, TrackerConfig
from engine.jobs import CancelToken, Progress, ProgressSink
from engine.types import FaceCrop, FaceDetection, Frame

__all__ = [
    "MIN_FACE_PX",
    "FacesInFrames",
    "TrackSummary",
    "TrackedFace",
    "detect_faces_in_frames",
    "warm_up_face_pipeline",
]

# NOTE: 40 px of landmark box (about 60 px of crop with the 0.25 margin) is where Face Mesh
# landmarks on our clips stop being stable; below it a crop is mostly upsampling.
MIN_FACE_PX = 40.0


@dataclass(frozen=True, eq=False)
class TrackedFace:
    """One face of one frame: its crop (with track id), detector score, and usability."""

    crop: FaceCrop
    det_score: float
    too_small: bool

    @property
    def face_px(self) -> float:
        """Longer side of the landmark box, in frame pixels."""
        return _face_px(self.crop.bbox_xyxy)


@dataclass(frozen=True)
class TrackSummary:
    """One face track summed up.

    Attributes:
        track_id: the id shared by the track's crops.
        frame_indices: frames where the face was found, increasing.
        n_too_small: how many of those faces are below the minimum size.
        mean_det_score: mean detector score over the track.
        median_face_px: median longer side of the landmark box, in frame pixels.
    """

    track_id: int
    frame_indices: tuple[int, ...]
    n_too_small: int
    mean_det_score: float
    median_face_px: float

    @property
    def usable(self) -> bool:
        """Whether at least one face of the track is large enough to score."""
        return self.n_too_small < len(self.frame_indices)


@dataclass(frozen=True, eq=False)
class FacesInFrames:
    """Every face found in a frame sequence, tracked and cropped.

    Attributes:
        faces: every face in frame order (left to right within a frame), usable or not.
        tracks: one summary per track id, in id order.
        frame_indices: every frame that was searched, in order.
        frames_without_face: searched frames where no face was found.
        boxes_without_landmarks: ``(frame_idx, box)`` for detector boxes where Face Mesh found
            no landmarks (blurred, profile or false detections); not tracked, not cropped.
        unconfirmed: Face Mesh faces no detector confirmed; not tracked, not cropped.
        not_kept: faces found beyond the detector's ``max_faces`` in their frame (the
            smaller ones; see ``FaceMeshDetector``); not tracked, not cropped.
    """

    faces: tuple[TrackedFace, ...]
    tracks: tuple[TrackSummary, ...]
    frame_indices: tuple[int, ...]
    frames_without_face: tuple[int, ...]
    boxes_without_landmarks: tuple[tuple[int, FaceBox], ...]
    unconfirmed: tuple[FaceDetection, ...] = ()
    not_kept: tuple[FaceDetection, ...] = ()

    def n_found(self, frame_idx: int) -> int:
        """Faces found in a frame: tracked, beyond the limit, or a box without landmarks."""
        return (
            sum(f.crop.frame_idx == frame_idx for f in self.faces)
            + sum(d.frame_idx == frame_idx for d in self.not_kept)
            + sum(i == frame_idx for i, _ in self.boxes_without_landmarks)
        )

    @property
    def crops(self) -> list[FaceCrop]:
        """Crops of the faces large enough to score."""
        return [f.crop for f in self.faces if not f.too_small]

    @property
    def too_small(self) -> list[FaceCrop]:
        """Crops of the faces below the minimum size ("face too small")."""
        return [f.crop for f in self.faces if f.too_small]


def detect_faces_in_frames(
    frames: Iterable[Frame],
    detector: FaceMeshDetector,
    policy: CropPolicy,
    *,
    min_face_px: float = MIN_FACE_PX,
    tracker: TrackerConfig | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressSink | None = None,
) -> FacesInFrames:
    """Find, track and crop the faces of ``frames`` (in increasing ``frame_idx`` order).

    Args:
        frames: the sampled frames; an iterator is consumed one frame at a time.
        detector: the face detector (shared; it serialises its own calls).
        policy: the crop policy.
        min_face_px: faces whose landmark box has a shorter longer side are ``too_small``.
        tracker: tracking gates; the defaults suit sampled frames.
        cancel: checked before every frame.
        progress: gets ``Progress("faces", done, total)`` after every frame (total 0 when
            ``frames`` has no length).

    Raises:
        JobCancelled: ``cancel`` was set.
    """
    total = len(frames) if isinstance(frames, Sized) else 0
    collected = _Collector(FaceTracker(tracker or TrackerConfig()), policy, min_face_px)
    for done, frame in enumerate(frames, start=1):
        if cancel is not None:
            cancel.raise_if_cancelled()
        collected.add(frame, detector.analyze(frame.rgb_u8, frame.frame_idx))
        if progress is not None:
            progress(Progress("faces", done, total, f"frame {frame.frame_idx}"))
    return collected.result()


def warm_up_face_pipeline(detector: FaceMeshDetector, policy: CropPolicy) -> None:
    """Pay the pipeline's one-off start-up costs now, not in the middle of the first file.

    The first Face Mesh call builds its TFLite interpreters, and the tracker imports SciPy the
    first time two frames have faces (1.4 s on the reference machine): either would leave the
    first :func:`detect_faces_in_frames` silent and deaf to a cancel for longer than half a
    second. A synthetic face is tracked and cropped over two frames, the path real faces take.
    """
    blank = Frame(0, 0.0, np.zeros((64, 64, 3), dtype=np.uint8))
    detector.analyze(blank.rgb_u8, blank.frame_idx)
    grid = np.stack(np.meshgrid(np.arange(22.0), np.arange(22.0)), axis=-1).reshape(-1, 2)
    face = FaceDetection(0, (0.0, 0.0, 21.0, 21.0), grid[:478].astype(np.float32), 1.0)
    collected = _Collector(FaceTracker(TrackerConfig()), policy, MIN_FACE_PX)
    for frame_idx in (0, 1):
        collected.add(Frame(frame_idx, 0.0, blank.rgb_u8), MeshResult(faces=(face,)))


@dataclass
class _Collector:
    """What :func:`detect_faces_in_frames` has found so far."""

    tracker: FaceTracker
    policy: CropPolicy
    min_face_px: float
    faces: list[TrackedFace] = field(default_factory=list)
    searched: list[int] = field(default_factory=list)
    empty: list[int] = field(default_factory=list)
    missed: list[tuple[int, FaceBox]] = field(default_factory=list)
    unconfirmed: list[FaceDetection] = field(default_factory=list)
    not_kept: list[FaceDetection] = field(default_factory=list)

    def add(self, frame: Frame, result: MeshResult) -> None:
        self.searched.append(frame.frame_idx)
        self.missed.extend((frame.frame_idx, box) for box in result.boxes_without_landmarks)
        self.unconfirmed.extend(result.unconfirmed)
        self.not_kept.extend(result.not_kept)
        if not result.faces:
            self.empty.append(frame.frame_idx)
        ids = self.tracker.update(result.faces)
        self.faces.extend(
            _tracked_face(frame, det, track_id, self.policy, self.min_face_px)
            for det, track_id in zip(result.faces, ids, strict=True)
        )

    def result(self) -> FacesInFrames:
        return FacesInFrames(
            faces=tuple(self.faces),
            tracks=_summaries(self.faces, self.tracker.n_tracks),
            frame_indices=tuple(self.searched),
            frames_without_face=tuple(self.empty),
            boxes_without_landmarks=tuple(self.missed),
            unconfirmed=tuple(self.unconfirmed),
            not_kept=tuple(self.not_kept),
        )


def _tracked_face(
    frame: Frame, det: FaceDetection, track_id: int, policy: CropPolicy, min_face_px: float
) -> TrackedFace:
    crop_rgb_u8, landmarks_crop_xy, crop_to_frame = crop_face(
        frame.rgb_u8, det.landmarks_xy, policy
    )
    crop = FaceCrop(
        frame_idx=frame.frame_idx,
        track_id=track_id,
        bbox_xyxy=det.bbox_xyxy,
        landmarks_crop_xy=landmarks_crop_xy,
        crop_rgb_u8=crop_rgb_u8,
        crop_to_frame=crop_to_frame,
    )
    return TrackedFace(crop, det.det_score, _face_px(det.bbox_xyxy) < min_face_px)


def _summaries(faces: list[TrackedFace], n_tracks: int) -> tuple[TrackSummary, ...]:
    by_track: list[list[TrackedFace]] = [[] for _ in range(n_tracks)]
    for face in faces:
        by_track[face.crop.track_id].append(face)
    return tuple(
        TrackSummary(
            track_id=track_id,
            frame_indices=tuple(f.crop.frame_idx for f in members),
            n_too_small=sum(f.too_small for f in members),
            mean_det_score=float(np.mean([f.det_score for f in members])),
            median_face_px=float(np.median([f.face_px for f in members])),
        )
        for track_id, members in enumerate(by_track)
    )


def _face_px(bbox_xyxy: tuple[float, float, float, float]) -> float:
    x0, y0, x1, y1 = bbox_xyxy
    return float(max(x1 - x0, y1 - y0))
