"""result_to_dict / result_from_dict, and findings reproducible from stored scores."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.api import AnalysisOptions, Analyzer, fuse_for, result_from_dict, result_to_dict
from engine.fusion.aggregate import max_over, mean_over
from engine.types import MediaResult
from tests.engine.analysis_fakes import FakeDetector, FakeFaceFinder, fake_factory, write_test_video


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> MediaResult:
    path = write_test_video(str(tmp_path_factory.mktemp("ser") / "clip.avi"), n_frames=12)
    factory, _ = fake_factory(FakeDetector("a"), FakeDetector("clip", clip_len=4))
    with Analyzer(
        AnalysisOptions(detectors=("a", "clip"), n_frames=6, want_maps=True),
        isolation=None,
        detector_factory=factory,  # type: ignore[arg-type]
        face_detector=FakeFaceFinder(n_faces=2),
    ) as analyzer:
        return analyzer.analyze(path)


def _stored(result: MediaResult) -> MediaResult:
    return result_from_dict(json.loads(json.dumps(result_to_dict(result), allow_nan=False)))


def test_round_trip_through_json_keeps_every_number(result: MediaResult) -> None:
    restored = _stored(result)
    assert result_to_dict(restored) == result_to_dict(result)
    assert restored.scores == result.scores
    assert restored.finding == result.finding
    assert restored.media == result.media
    assert restored.provenance == result.provenance
    assert restored.tracks == result.tracks
    for before, after in zip(result.frames, restored.frames, strict=True):
        assert (after.frame_idx, after.t_sec, after.scores) == (
            before.frame_idx,
            before.t_sec,
            before.scores,
        )
        for face_before, face_after in zip(before.faces, after.faces, strict=True):
            assert face_after.scores == face_before.scores
            assert face_after.bbox_xyxy == face_before.bbox_xyxy
            np.testing.assert_array_equal(face_after.crop_to_frame, face_before.crop_to_frame)
            assert face_after.maps == {}  # maps are not stored
    assert any(face.maps for frame in result.frames for face in frame.faces)


def test_every_finding_is_reproducible_from_stored_scores(result: MediaResult) -> None:
    stored = _stored(result)
    names = ("a", "clip")
    assert fuse_for(stored, stored.scores, "media") == stored.finding
    assert mean_over([f.scores for f in stored.frames], names) == stored.scores
    for frame in stored.frames:
        assert fuse_for(stored, frame.scores, "frame") == frame.finding
        assert max_over([face.scores for face in frame.faces], names) == frame.scores
    for track in stored.tracks:
        assert fuse_for(stored, track.scores, "track") == track.finding
        faces = [f for fr in stored.frames for f in fr.faces if f.track_id == track.track_id]
        assert mean_over([f.scores for f in faces], names) == track.scores


def test_error_result_round_trips() -> None:
    error = MediaResult("x.mp4", "error", None, None, error="File not found (x.mp4)")
    assert result_from_dict(json.loads(json.dumps(result_to_dict(error)))) == error


def test_other_schema_is_refused(result: MediaResult) -> None:
    data = result_to_dict(result)
    data["schema_version"] = 99
    with pytest.raises(ValueError, match="schema_version"):
        result_from_dict(data)
