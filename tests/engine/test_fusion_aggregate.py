"""The video rule: frame = max over faces, video = mean over frames, track = mean over frames."""

from __future__ import annotations

import numpy as np
import pytest

from engine.fusion.aggregate import (
    build_frame_results,
    build_track_results,
    max_over,
    mean_over,
    media_scores,
)
from engine.fusion.findings import fuse_scores
from engine.types import DetectorScore, FaceScore, Finding, Grade

DETS = ("a", "b")


def _face(frame_idx: int, track_id: int, p_a: float | None, p_b: float | None) -> FaceScore:
    scores = tuple(
        DetectorScore(name, p, None if p is None else p * 2.0, None if p is not None else "x")
        for name, p in zip(DETS, (p_a, p_b), strict=True)
    )
    return FaceScore(frame_idx, track_id, (0.0, 0.0, 10.0, 10.0), scores, np.eye(2, 3), 256)


def test_max_over_faces_keeps_the_raw_score_of_the_max_face() -> None:
    faces = [_face(0, 0, 0.2, 0.9), _face(0, 1, 0.7, 0.1)]
    a, b = max_over([f.scores for f in faces], DETS)
    assert (a.p_fake, a.p_fake_raw) == (0.7, 1.4)
    assert (b.p_fake, b.p_fake_raw) == (0.9, 1.8)


def test_mean_leaves_not_applicable_out() -> None:
    items = [
        (DetectorScore("a", 0.2, 0.0), DetectorScore("b", None, None, "clip too short")),
        (DetectorScore("a", 0.4, 1.0), DetectorScore("b", 0.8, 3.0)),
    ]
    a, b = mean_over(items, DETS)
    assert a.p_fake == pytest.approx(0.3)
    assert a.p_fake_raw == pytest.approx(0.5)
    assert b.p_fake == pytest.approx(0.8)


def test_nowhere_applicable_gives_the_most_common_reason() -> None:
    items = [
        (DetectorScore("a", None, None, "face too small"),),
        (DetectorScore("a", None, None, "no face"),),
        (DetectorScore("a", None, None, "face too small"),),
    ]
    (a,) = mean_over(items, ("a",))
    assert a.p_fake is None
    assert a.reason == "face too small"


def test_nothing_below_means_no_face() -> None:
    (a,) = max_over([], ("a",))
    assert (a.p_fake, a.reason) == (None, "no face")


def _v1(scores: tuple[DetectorScore, ...], level: str) -> Finding:
    return fuse_scores(scores)


def test_frames_tracks_and_media_follow_the_named_rule() -> None:
    frames = [(0, 0.0), (10, 0.4), (20, 0.8)]
    faces = [
        _face(0, 0, 0.2, 0.4),
        _face(0, 1, 0.6, None),
        _face(10, 0, 0.4, 0.5),
        # frame 20: no face
    ]
    fuse = _v1
    frame_results = build_frame_results(frames, faces, DETS, fuse=fuse, media_kind="video")
    assert [f.frame_idx for f in frame_results] == [0, 10, 20]
    assert [s.p_fake for s in frame_results[0].scores] == [0.6, 0.4]
    assert frame_results[2].faces == ()
    assert frame_results[2].finding.grade is Grade.NOT_APPLICABLE
    assert all(s.reason == "no face" for s in frame_results[2].scores)

    video = media_scores(frame_results, DETS)
    assert video[0].p_fake == pytest.approx((0.6 + 0.4) / 2)  # frame 20 is left out
    assert video[1].p_fake == pytest.approx((0.4 + 0.5) / 2)

    tracks = build_track_results(faces, DETS, fuse=fuse, media_kind="video")
    assert [t.track_id for t in tracks] == [0, 1]
    assert tracks[0].frame_indices == (0, 10)
    assert tracks[0].scores[0].p_fake == pytest.approx(0.3)
    assert tracks[1].scores[1].p_fake is None
    for level in (*frame_results, *tracks):
        assert level.finding == fuse_scores(level.scores)
