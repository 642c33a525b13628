"""Frozen result types shared by the engine, the CLI and the GUI.

Only stdlib and numpy are imported here so the GUI can start fast. Every array field is
documented with its shape, dtype and coordinate frame. Arrays are never compared by ``==``
(``eq=False`` where a dataclass holds one).

Coordinate frames:
- *frame*: pixels of the decoded, rotation-corrected frame, origin top-left, x right, y down.
- *crop*: pixels of the square face crop produced by the crop policy (see ``engine.faces.crop``).
  ``crop_to_frame`` is the 2x3 affine that maps crop pixels to frame pixels.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = [
    "DetectorProvenance",
    "DetectorScore",
    "FaceCrop",
    "FaceDetection",
    "FaceScore",
    "Finding",
    "Frame",
    "FrameResult",
    "Grade",
    "MediaInfo",
    "MediaKind",
    "MediaResult",
    "MediaStatus",
    "Provenance",
    "TrackResult",
]

MediaKind = Literal["image", "video"]
MediaStatus = Literal["ok", "no_face", "error"]


@dataclass(frozen=True)
class MediaInfo:
    """What a media file is, read without decoding every frame.

    Attributes:
        path: the file as given by the caller (absolute where the caller gave one).
        kind: ``"image"`` or ``"video"``.
        format_name: container or image format as detected from the bytes (``"mp4"``, ``"png"``).
        size_bytes: file size.
        width: frame width after rotation correction, in pixels.
        height: frame height after rotation correction, in pixels.
        n_frames: frame count (1 for still images; an estimate for some video containers).
        fps: frames per second, ``None`` for images.
        duration_s: duration in seconds, ``None`` for images.
        rotation_deg: clockwise rotation applied to decoded frames (0, 90, 180, 270).
        codec: video codec four-cc or image mode, where known.
    """

    path: str
    kind: MediaKind
    format_name: str
    size_bytes: int
    width: int
    height: int
    n_frames: int
    fps: float | None = None
    duration_s: float | None = None
    rotation_deg: int = 0
    codec: str | None = None


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded frame. ``rgb_u8`` is (H, W, 3) uint8 RGB, rotation already applied."""

    frame_idx: int
    t_sec: float
    rgb_u8: np.ndarray


@dataclass(frozen=True, eq=False)
class FaceDetection:
    """One face found in one frame, before tracking.

    Attributes:
        frame_idx: index of the frame in the media.
        bbox_xyxy: landmark bounding box in frame pixels (x0, y0, x1, y1).
        landmarks_xy: (478, 2) float32 Face Mesh landmarks in frame pixels.
        det_score: face detector confidence in [0, 1].
    """

    frame_idx: int
    bbox_xyxy: tuple[float, float, float, float]
    landmarks_xy: np.ndarray
    det_score: float


@dataclass(frozen=True, eq=False)
class FaceCrop:
    """A face cut out with the one crop policy, linked to a track.

    Attributes:
        frame_idx: index of the frame in the media.
        track_id: stable id of the face track across frames (0, 1, ... in order of appearance).
        bbox_xyxy: landmark bounding box in frame pixels.
        landmarks_crop_xy: (478, 2) float32 landmarks in crop pixels.
        crop_rgb_u8: (S, S, 3) uint8 RGB crop.
        crop_to_frame: (2, 3) float64 affine mapping crop pixels to frame pixels.
    """

    frame_idx: int
    track_id: int
    bbox_xyxy: tuple[float, float, float, float]
    landmarks_crop_xy: np.ndarray
    crop_rgb_u8: np.ndarray
    crop_to_frame: np.ndarray


class Grade(enum.Enum):
    """Verbal scale of support for manipulation, as a fused finding states it."""

    NOT_APPLICABLE = "not applicable"
    NO_SUPPORT = "no support for manipulation"
    WEAK = "weak support for manipulation"
    MODERATE = "moderate support for manipulation"
    STRONG = "strong support for manipulation"


@dataclass(frozen=True)
class DetectorScore:
    """One detector's calibrated score for one face, frame, track or file.

    ``p_fake`` is ``None`` exactly when the detector did not apply; ``reason`` then says why
    ("no face", "face too small", "clip too short"). ``p_fake_raw`` is the uncalibrated output.
    """

    detector: str
    p_fake: float | None
    p_fake_raw: float | None = None
    reason: str | None = None

    @property
    def applicable(self) -> bool:
        """Whether the detector produced a number."""
        return self.p_fake is not None


@dataclass(frozen=True)
class Finding:
    """A fused statement about a face, frame, track or file.

    Attributes:
        grade: the verbal grade; ``NOT_APPLICABLE`` when no detector applied.
        p_fake: the fused calibrated probability, ``None`` when not applicable.
        applicable_detectors: names of the detectors whose scores were fused.
        rule: the named fusion rule that produced it (recorded for reproducibility).
    """

    grade: Grade
    p_fake: float | None
    applicable_detectors: tuple[str, ...]
    rule: str


@dataclass(frozen=True, eq=False)
class FaceScore:
    """Every selected detector's output on one face crop.

    ``maps`` holds, per detector that has one, a (h, w) float32 map in [0, 1] in crop
    coordinates (resize it to the crop and warp it with ``crop_to_frame``). It is empty unless
    maps were requested.
    """

    frame_idx: int
    track_id: int
    bbox_xyxy: tuple[float, float, float, float]
    scores: tuple[DetectorScore, ...]
    crop_to_frame: np.ndarray
    crop_size: int
    maps: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class FrameResult:
    """Per-frame scores: each detector's max over faces, and the fused finding."""

    frame_idx: int
    t_sec: float
    faces: tuple[FaceScore, ...]
    scores: tuple[DetectorScore, ...]
    finding: Finding


@dataclass(frozen=True)
class TrackResult:
    """One face track summed up: each detector's mean over the track's frames, and a finding."""

    track_id: int
    frame_indices: tuple[int, ...]
    scores: tuple[DetectorScore, ...]
    finding: Finding


@dataclass(frozen=True)
class DetectorProvenance:
    """Which model produced a score, exactly."""

    name: str
    version: str
    weights_sha256: str
    threshold: float
    calibration: str


@dataclass(frozen=True)
class Provenance:
    """Everything needed to reproduce a result.

    Attributes:
        engine_version: ``engine.__version__``.
        detectors: the detectors that ran, with their weights' SHA-256.
        runtime: ``"onnx"`` or ``"torch"``.
        device: ``"cpu"`` or a CUDA device name.
        sampling: how frames were chosen, e.g. ``"32 evenly spaced"`` or ``"2.0 per second"``.
        aggregation_rule: e.g. ``"frame=max over faces; video=mean over frames"``.
        sampled_frame_indices: the frame indices that were analysed.
        timings_s: seconds spent per stage.
    """

    engine_version: str
    detectors: tuple[DetectorProvenance, ...]
    runtime: str
    device: str
    sampling: str
    aggregation_rule: str
    sampled_frame_indices: tuple[int, ...]
    timings_s: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class MediaResult:
    """The analysis of one input file.

    ``status`` is ``"ok"`` when at least one face was scored, ``"no_face"`` when the media was
    read but no usable face was found (every face detector is then not applicable), and
    ``"error"`` when the file could not be analysed; ``error`` holds the message then.
    """

    path: str
    status: MediaStatus
    sha256: str | None
    media: MediaInfo | None
    frames: tuple[FrameResult, ...] = ()
    tracks: tuple[TrackResult, ...] = ()
    scores: tuple[DetectorScore, ...] = ()
    finding: Finding | None = None
    provenance: Provenance | None = None
    error: str | None = None
