"""Tracking on synthetic sequences: stable ids, order of appearance, gaps, no swaps."""

from __future__ import annotations

import numpy as np
import pytest

from engine.faces.tracking import FaceTracker, TrackerConfig, assign_track_ids, group_by_track
from engine.types import FaceDetection

_TEMPLATE = np.random.default_rng(0).uniform(-0.5, 0.5, size=(478, 2))


def _face(frame_idx: int, cx: float, cy: float, side: float = 100.0) -> FaceDetection:
    lm = (_TEMPLATE * side + (cx, cy)).astype(np.float32)
    x0, y0 = lm.min(axis=0)
    x1, y1 = lm.max(axis=0)
    return FaceDetection(frame_idx, (float(x0), float(y0), float(x1), float(y1)), lm, 0.9)


def test_two_faces_keep_their_ids_while_moving() -> None:
    rng = np.random.default_rng(1)
    per_frame = []
    for t in range(12):
        faces = [_face(t, 200 + 15 * t, 300), _face(t, 600 - 10 * t, 320 + 5 * t)]
        per_frame.append([faces[k] for k in rng.permutation(2)])  # order must not matter
    ids = assign_track_ids(per_frame)
    tracks = group_by_track(per_frame, ids)
    assert len(tracks) == 2
    # track 0 is the face that was leftmost when both first appeared
    assert [f.bbox_xyxy[0] < 300 + 15 * f.frame_idx for f in tracks[0]] == [True] * 12
    assert all(len(track) == 12 for track in tracks)
    for track in tracks:
        assert [f.frame_idx for f in track] == list(range(12))


def test_ids_follow_order_of_appearance() -> None:
    per_frame = [
        [_face(0, 500, 300)],
        [_face(1, 505, 300)],
        [_face(2, 100, 300), _face(2, 510, 300)],
        [_face(3, 105, 300), _face(3, 515, 300), _face(3, 900, 300)],
    ]
    ids = assign_track_ids(per_frame)
    assert ids == [[0], [0], [1, 0], [1, 0, 2]]


def test_face_that_leaves_and_returns_keeps_its_id() -> None:
    per_frame: list[list[FaceDetection]] = [[_face(t, 300 + 4 * t, 300)] for t in range(5)]
    per_frame += [[] for _ in range(6)]  # the face leaves for 6 sampled frames
    per_frame += [[_face(t, 340 + 4 * t, 310)] for t in range(11, 15)]  # back, having moved
    ids = assign_track_ids(per_frame)
    assert {i for frame in ids for i in frame} == {0}


def test_gap_longer_than_allowed_starts_a_new_track() -> None:
    config = TrackerConfig(max_gap_steps=3)
    per_frame: list[list[FaceDetection]] = [[_face(0, 300, 300)], [], [], [], [], []]
    per_frame.append([_face(6, 300, 300)])
    ids = assign_track_ids(per_frame, config)
    assert ids[0] == [0]
    assert ids[-1] == [1]


def test_a_different_face_far_away_is_not_linked() -> None:
    per_frame = [[_face(0, 150, 300)], [], [_face(2, 900, 300)]]
    assert assign_track_ids(per_frame) == [[0], [], [1]]


def test_adjacent_faces_are_not_swapped_when_one_disappears() -> None:
    per_frame = [
        [_face(0, 300, 300), _face(0, 420, 300)],
        [_face(1, 305, 300), _face(1, 425, 300)],
        [_face(2, 428, 300)],  # the left face is missed for a frame
        [_face(3, 310, 300), _face(3, 430, 300)],
    ]
    ids = assign_track_ids(per_frame)
    assert ids == [[0, 1], [0, 1], [1], [0, 1]]


def test_online_tracker_counts_tracks() -> None:
    tracker = FaceTracker()
    assert tracker.n_tracks == 0
    assert tracker.update([_face(0, 100, 100), _face(0, 500, 100)]) == [0, 1]
    assert tracker.update([]) == []
    assert tracker.n_tracks == 2


def test_group_by_track_checks_shapes() -> None:
    with pytest.raises(ValueError, match="zip"):
        group_by_track([[_face(0, 1, 1)]], [[0], [1]])
