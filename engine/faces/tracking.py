"""Link the faces of consecutive sampled frames into tracks with stable ids.

Sampled frames can be far apart (32 frames over a 10 s clip are 0.3 s apart) and Face Mesh
misses a face now and then, so a track survives ``max_gap_steps`` sampled frames without a face
and can be picked up again when a face reappears near where it was last seen. Matching is an
optimal assignment (Hungarian, ``scipy.optimize.linear_sum_assignment``) on a cost that adds
``1 - IoU`` of the landmark boxes and the mean landmark distance in face sizes, so two faces
next to each other are not swapped when their boxes overlap. A pair is allowed only when the
boxes overlap (``min_iou``) or the landmarks are close (``max_landmark_dist``); the distance
allowed grows with the gap, because a face that was away for longer may have moved more.

Tracking uses geometry only, no appearance: two people who swap places during a gap, or a scene
cut that puts another face at the same spot, keep one id. Ids are 0, 1, ... in order of first
appearance (left to right within a frame).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.faces.boxes import iou_matrix
from engine.types import FaceDetection

__all__ = ["FaceTracker", "TrackerConfig", "assign_track_ids", "group_by_track"]

_N_MESH = 468  # iris points are left out of distances: they move with the gaze


@dataclass(frozen=True)
class TrackerConfig:
    """Gates and costs of the tracker.

    Attributes:
        min_iou: landmark-box IoU at or above which a pair may be linked.
        max_landmark_dist: mean landmark distance, in face sizes (square root of the landmark
            box area), at or below which a pair may be linked after a one-step move.
        gap_dist_growth: added to ``max_landmark_dist`` per sampled frame of gap.
        max_gap_steps: sampled frames a track may go unseen and still be continued.
        gap_cost: cost added per missed sampled frame, so a recent track wins over an old one.
    """

    # NOTE: a face moving half its width between samples keeps IoU about 0.33; 0.2 tolerates
    # fast motion while two side-by-side faces (IoU 0) never pass the box gate.
    min_iou: float = 0.2
    max_landmark_dist: float = 0.5
    gap_dist_growth: float = 0.1
    max_gap_steps: int = 15
    gap_cost: float = 0.05


@dataclass
class _Track:
    track_id: int
    last: FaceDetection
    last_step: int


@dataclass
class FaceTracker:
    """Online tracker: feed each sampled frame's detections in order to :meth:`update`."""

    config: TrackerConfig = field(default_factory=TrackerConfig)
    _tracks: list[_Track] = field(default_factory=list)
    _step: int = 0
    _next_id: int = 0

    @property
    def n_tracks(self) -> int:
        """How many track ids were handed out so far."""
        return self._next_id

    def update(self, detections: Sequence[FaceDetection]) -> list[int]:
        """Track ids for the faces of the next sampled frame, in the order given."""
        step = self._step
        self._step += 1
        alive = [t for t in self._tracks if step - t.last_step - 1 <= self.config.max_gap_steps]
        ids = [-1] * len(detections)
        for t_idx, d_idx in _match(alive, list(detections), step, self.config):
            alive[t_idx].last = detections[d_idx]
            alive[t_idx].last_step = step
            ids[d_idx] = alive[t_idx].track_id
        new = [i for i in range(len(detections)) if ids[i] < 0]
        for d_idx in sorted(new, key=lambda i: detections[i].bbox_xyxy[0]):
            ids[d_idx] = self._next_id
            self._tracks.append(_Track(self._next_id, detections[d_idx], step))
            self._next_id += 1
        return ids


def assign_track_ids(
    per_frame: Sequence[Sequence[FaceDetection]], config: TrackerConfig | None = None
) -> list[list[int]]:
    """Track ids for every face; ``per_frame`` holds each sampled frame's faces, in frame order.

    Returns:
        A list shaped like ``per_frame``: the track id of each face.
    """
    tracker = FaceTracker(config or TrackerConfig())
    return [tracker.update(faces) for faces in per_frame]


def group_by_track(
    per_frame: Sequence[Sequence[FaceDetection]], track_ids: Sequence[Sequence[int]]
) -> list[list[FaceDetection]]:
    """Per-track lists of faces (index = track id), each in frame order."""
    n_tracks = 1 + max((i for ids in track_ids for i in ids), default=-1)
    tracks: list[list[FaceDetection]] = [[] for _ in range(n_tracks)]
    for faces, ids in zip(per_frame, track_ids, strict=True):
        for face, track_id in zip(faces, ids, strict=True):
            tracks[track_id].append(face)
    return tracks


def _match(
    tracks: list[_Track], detections: list[FaceDetection], step: int, config: TrackerConfig
) -> list[tuple[int, int]]:
    """Optimal (track index, detection index) pairs that pass the gates."""
    if not tracks or not detections:
        return []
    from scipy.optimize import linear_sum_assignment

    cost, allowed = _cost_matrix(tracks, detections, step, config)
    big = float(cost[allowed].max() + 1.0) if allowed.any() else 1.0
    rows, cols = linear_sum_assignment(np.where(allowed, cost, big * 10.0))
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if allowed[r, c]]


def _cost_matrix(
    tracks: list[_Track], detections: list[FaceDetection], step: int, config: TrackerConfig
) -> tuple[np.ndarray, np.ndarray]:
    ious = iou_matrix([t.last.bbox_xyxy for t in tracks], [d.bbox_xyxy for d in detections])
    dists = np.array([[_landmark_dist(t.last, d) for d in detections] for t in tracks])
    gaps = np.array([step - t.last_step - 1 for t in tracks], dtype=np.float64)[:, None]
    max_dist = config.max_landmark_dist + config.gap_dist_growth * gaps
    allowed = (ious >= config.min_iou) | (dists <= max_dist)
    cost = (1.0 - ious) + dists + config.gap_cost * gaps
    return cost, allowed


def _landmark_dist(a: FaceDetection, b: FaceDetection) -> float:
    """Mean landmark distance between two faces, in units of ``a``'s face size."""
    x0, y0, x1, y1 = a.bbox_xyxy
    size = max(float(np.sqrt(max(x1 - x0, 0.0) * max(y1 - y0, 0.0))), 1.0)
    la, lb = a.landmarks_xy[:_N_MESH], b.landmarks_xy[:_N_MESH]
    return float(np.linalg.norm(la - lb, axis=1).mean() / size)
