"""Frozen result types shared by the engine, the CLI and the GUI.

Only stdlib and numpy are imported here (and ``engine.provenance.model``, itself stdlib-only)
so the GUI can start fast. Every array field is
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
from typing import Any, Literal

import numpy as np

from engine.provenance.model import FileProvenance

__all__ = [
    "Caution",
    "DetectorProvenance",
    "DetectorScore",
    "EvidenceKind",
    "FaceCrop",
    "FaceDetection",
    "FaceScore",
    "FileProvenance",
    "Finding",
    "Frame",
    "FrameResult",
    "Grade",
    "KindFinding",
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

    @property
    def level(self) -> int:
        """Order of support: -1 not applicable, 0 none, 1 weak, 2 moderate, 3 strong."""
        return _GRADE_LEVELS[self.name]

    @property
    def words(self) -> str:
        """The grade without its object: ``"moderate support"``, ``"no support"``."""
        return self.value.removesuffix(" for manipulation")


_GRADE_LEVELS = {"NOT_APPLICABLE": -1, "NO_SUPPORT": 0, "WEAK": 1, "MODERATE": 2, "STRONG": 3}


class EvidenceKind(enum.Enum):
    """The kind of manipulation a detector looks for; findings are graded per kind.

    A detector declares its kind next to its registration (``DetectorCfg.looks_for``). The
    evidence of one kind is combined from its detectors only, so a detector that does not look
    for a manipulation never dilutes the evidence of one that does (docs/FINDINGS.md).
    """

    FACE_SWAP = "face_swap"
    TEMPORAL = "temporal"
    GENERATED = "generated"

    @property
    def phrase(self) -> str:
        """What a finding of this kind supports, as the finding's statement names it."""
        return _KIND_PHRASES[self.value]


_KIND_PHRASES = {
    "face_swap": "a face swap or blend",
    "temporal": "frame-to-frame manipulation of a face",
    "generated": "a fully generated face or image",
}


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
class KindFinding:
    """The graded evidence of one kind of manipulation, from that kind's detectors only.

    Attributes:
        kind: the :class:`EvidenceKind` value (``"face_swap"``, ``"temporal"``,
            ``"generated"``).
        grade: the verbal grade; ``NOT_APPLICABLE`` when none of the kind's detectors applied.
        p_fake: the kind's probability, calibrated on media made by others; ``None`` when not
            applicable.
        applicable_detectors: the kind's detectors that applied, whose scores were combined.
    """

    kind: str
    grade: Grade
    p_fake: float | None
    applicable_detectors: tuple[str, ...]

    @property
    def statement(self) -> str:
        """E.g. ``"moderate support for a face swap or blend"``, ``"no support for ..."``."""
        if self.grade is Grade.NOT_APPLICABLE:
            return f"not applicable for {EvidenceKind(self.kind).phrase}"
        return f"{self.grade.words} for {EvidenceKind(self.kind).phrase}"


@dataclass(frozen=True)
class Finding:
    """A fused statement about a face, frame, track or file.

    Fusion v2 grades each kind of manipulation from its own detectors (``kinds``) and the
    finding names the kind with the strongest support (``kind``); its ``grade`` and ``p_fake``
    are that kind's. Findings made with fusion v1 (one mean over every detector) have
    ``kind = None`` and no ``kinds``.

    Attributes:
        grade: the verbal grade; ``NOT_APPLICABLE`` when no detector applied.
        p_fake: the fused calibrated probability, ``None`` when not applicable.
        applicable_detectors: names of the detectors whose scores were fused.
        rule: the named fusion rule that produced it (recorded for reproducibility).
        kind: the :class:`EvidenceKind` value with the strongest support, or ``None``.
        kinds: every kind's own finding, in the rule's order of kinds.
    """

    grade: Grade
    p_fake: float | None
    applicable_detectors: tuple[str, ...]
    rule: str
    kind: str | None = None
    kinds: tuple[KindFinding, ...] = ()

    @property
    def statement(self) -> str:
        """E.g. ``"strong support for a fully generated face or image"``."""
        return _statement(self.grade, self.kind)


def _statement(grade: Grade, kind: str | None) -> str:
    if kind is None or grade.level < 1:
        return grade.value
    return f"{grade.words} for {EvidenceKind(kind).phrase}"


@dataclass(frozen=True)
class Caution:
    """Why this media lies outside what the detectors know, in words for the analyst.

    A caution lowers confidence in words; it never changes a score or a grade.

    Attributes:
        code: a stable identifier (``"faces_not_analysed"``, ``"short_clip"``, ...).
        message: one or two sentences an analyst can act on.
    """

    code: str
    message: str


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
    """Per-frame scores: each detector's max over faces, and the fused finding.

    A detector that scores whole pictures (the generated-image detector) also scores the
    frame itself: its frame score is the max over the faces AND the whole picture, and
    ``picture_scores`` keeps the whole-picture score alone. ``picture_maps`` holds, per such
    detector, a (gh, gw) float32 map in [0, 1] over the frame (resize it to the frame): the
    calibrated ``p_fake`` of the tiles covering each cell; empty unless maps were requested.
    """

    frame_idx: int
    t_sec: float
    faces: tuple[FaceScore, ...]
    scores: tuple[DetectorScore, ...]
    finding: Finding
    n_faces_found: int | None = None
    """Faces found in the frame, analysed or not (``None`` in results stored before it)."""
    picture_scores: tuple[DetectorScore, ...] = ()
    picture_maps: dict[str, np.ndarray] = field(default_factory=dict, compare=False, hash=False)


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
    looks_for: str | None = None
    """The :class:`EvidenceKind` value the detector declares (``None``: stored before v2)."""


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
    fusion: dict[str, Any] | None = field(default=None, hash=False)
    """The fusion rule the findings were made with, whole (``FusionRule.to_dict``), so a
    stored result can be re-fused and explained with its own rule; ``None`` for fusion v1."""
    decoding: dict[str, Any] | None = field(default=None, hash=False)
    """What decoding met (``engine.media.DecodeReport.as_dict``): frames the stream holds,
    damaged frames skipped, resolution changes, seeks; ``None`` when not recorded."""


@dataclass(frozen=True)
class MediaResult:
    """The analysis of one input file.

    ``status`` is ``"ok"`` when at least one face was scored, ``"no_face"`` when the media was
    read but no usable face was found (every face detector is then not applicable), and
    ``"error"`` when the file could not be analysed; ``error`` holds the message then.
    ``cautions`` say, in words, where the media lies outside what the detectors know (more
    faces than were analysed, tiny faces, a very short clip, heavy compression, ...).
    ``picture_scores`` are the whole-picture scores of the detectors that have them (the
    generated-image detector), the mean over frames; they apply with or without a face.
    ``file_provenance`` is what the file says about its own origin (metadata, Content
    Credentials, inconsistencies), read from the hashed bytes before decoding; ``None`` for
    results made before it existed or when the file could not be hashed.
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
    cautions: tuple[Caution, ...] = ()
    picture_scores: tuple[DetectorScore, ...] = ()
    file_provenance: FileProvenance | None = None
