"""engine.api.Analyzer end to end on real files, with fake detectors (no weights needed)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from engine.api import AnalysisOptions, Analyzer, fuse_for, overlay_maps, read_frame
from engine.errors import UnknownDetectorError
from engine.types import Grade
from tests.engine.analysis_fakes import (
    FakeDetector,
    FakeFaceFinder,
    fake_factory,
    write_blank_image,
    write_test_video,
)


@pytest.fixture(scope="module")
def video_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_test_video(str(tmp_path_factory.mktemp("media") / "clip.avi"), n_frames=40)


def _analyzer(*detectors: FakeDetector, face: object | None = None, **opts: object) -> Analyzer:
    factory, _ = fake_factory(*detectors)
    names = tuple(d.name for d in detectors)
    return Analyzer(
        AnalysisOptions(detectors=names, **opts),  # type: ignore[arg-type]
        isolation=None,
        detector_factory=factory,  # type: ignore[arg-type]
        face_detector=face or FakeFaceFinder(),
    )


def test_video_follows_the_named_rule_at_every_level(video_path: str) -> None:
    with _analyzer(
        FakeDetector("a"), FakeDetector("b"), face=FakeFaceFinder(n_faces=2), n_frames=8
    ) as analyzer:
        result = analyzer.analyze(video_path)
    assert result.status == "ok"
    assert result.sha256 == hashlib.sha256(Path(video_path).read_bytes()).hexdigest()
    assert result.media is not None
    assert result.media.kind == "video"
    assert len(result.frames) == 8
    assert result.provenance is not None
    assert result.provenance.sampled_frame_indices == tuple(f.frame_idx for f in result.frames)
    assert [d.name for d in result.provenance.detectors] == ["a", "b"]
    assert "max over faces" in result.provenance.aggregation_rule
    for frame in result.frames:
        assert len(frame.faces) == 2
        for k, _name in enumerate(("a", "b")):
            assert frame.scores[k].p_fake == max(f.scores[k].p_fake for f in frame.faces)
        assert frame.finding == fuse_for(result, frame.scores, "frame")
    for k in range(2):
        frame_mean = np.mean([f.scores[k].p_fake for f in result.frames])
        assert result.scores[k].p_fake == pytest.approx(frame_mean)
    assert [t.track_id for t in result.tracks] == [0, 1]
    assert result.finding == fuse_for(result, result.scores, "media")
    assert result.finding.grade is not Grade.NOT_APPLICABLE


def test_no_face_video_is_no_face_and_not_applicable(shared_data: Path) -> None:
    path = shared_data / "videos_real" / "pyfeat_no_face.mp4"
    factory, _ = fake_factory(FakeDetector("a"))
    with Analyzer(
        AnalysisOptions(detectors=("a",), n_frames=4), isolation=None, detector_factory=factory
    ) as analyzer:
        result = analyzer.analyze(path)
    assert result.status == "no_face"
    assert result.finding is not None
    assert result.finding.grade is Grade.NOT_APPLICABLE
    assert result.finding.p_fake is None
    assert result.scores[0].p_fake is None
    assert result.scores[0].reason == "no face"
    assert len(result.frames) == 4
    assert all(f.finding.grade is Grade.NOT_APPLICABLE and not f.faces for f in result.frames)


def test_blank_image_is_no_face(tmp_path: Path) -> None:
    path = write_blank_image(str(tmp_path / "blank.png"))
    factory, _ = fake_factory(FakeDetector("a"))
    with Analyzer(AnalysisOptions(detectors=("a",)), isolation=None,
                  detector_factory=factory) as analyzer:
        result = analyzer.analyze(path)
    assert result.status == "no_face"
    assert result.finding is not None
    assert result.finding.grade is Grade.NOT_APPLICABLE


def test_real_face_image_is_found_and_scored(shared_data: Path) -> None:
    path = shared_data / "videos_real" / "pyfeat_single_face.jpg"
    factory, _ = fake_factory(FakeDetector("a"))
    with Analyzer(AnalysisOptions(detectors=("a",)), isolation=None,
                  detector_factory=factory) as analyzer:
        result = analyzer.analyze(path)
    assert result.status == "ok"
    assert len(result.frames) == 1
    assert len(result.frames[0].faces) == 1
    assert result.scores[0].p_fake is not None
    assert result.finding == fuse_for(result, result.scores, "media")


def test_zero_detectors_still_read_media_and_find_faces(video_path: str) -> None:
    with _analyzer(n_frames=4) as analyzer:
        result = analyzer.analyze(video_path)
    assert result.status == "ok"
    assert result.scores == ()
    assert result.finding is not None
    assert result.finding.grade is Grade.NOT_APPLICABLE
    assert all(len(f.faces) == 1 for f in result.frames)


def test_face_too_small_is_a_reason_not_a_number(video_path: str) -> None:
    with _analyzer(FakeDetector("a"), face=FakeFaceFinder(side_px=20), n_frames=4) as analyzer:
        result = analyzer.analyze(video_path)
    assert result.status == "no_face"
    assert result.scores[0].reason == "face too small"
    assert result.frames[0].faces[0].scores[0].reason == "face too small"


def test_clip_detector_scores_track_windows_or_says_clip_too_short(video_path: str) -> None:
    clip = FakeDetector("clip", clip_len=3)
    with _analyzer(FakeDetector("a"), clip, n_frames=7) as analyzer:
        result = analyzer.analyze(video_path)
        short = analyzer.analyze(video_path, progress=lambda p: None)
    # 7 faces in one track -> windows [0,3), [3,6) and the end-aligned [4,7)
    faces = [f.faces[0] for f in result.frames]
    assert all(face.scores[1].p_fake is not None for face in faces)
    assert result.tracks[0].scores[1].p_fake is not None
    assert short.status == "ok"
    with _analyzer(clip, n_frames=2) as analyzer:
        too_short = analyzer.analyze(video_path)
    assert too_short.scores[0].reason == "clip too short"
    assert too_short.finding is not None
    assert too_short.finding.grade is Grade.NOT_APPLICABLE


def test_hash_mismatch_is_an_error_result(video_path: str) -> None:
    with _analyzer(FakeDetector("a"), n_frames=2) as analyzer:
        result = analyzer.analyze(video_path, expected_sha256="0" * 64)
    assert result.status == "error"
    assert result.error is not None
    assert "changed since acquisition" in result.error
    assert result.frames == ()


@pytest.mark.parametrize(
    ("name", "content"),
    [("notes.mp4", b"just some text\n"), ("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 50)],
)
def test_bad_media_is_an_error_result_not_an_exception(
    tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with _analyzer(FakeDetector("a")) as analyzer:
        result = analyzer.analyze(path)
    assert result.status == "error"
    assert result.error
    assert result.sha256 == hashlib.sha256(content).hexdigest()


def test_models_load_once_for_many_files(video_path: str, tmp_path: Path) -> None:
    factory, loaded = fake_factory(FakeDetector("a"), FakeDetector("b"))
    blank = write_blank_image(str(tmp_path / "blank.png"))
    options = AnalysisOptions(detectors=("a", "b"), n_frames=3)
    with Analyzer(options, isolation=None, detector_factory=factory,
                  face_detector=FakeFaceFinder()) as analyzer:
        for path in (video_path, blank, video_path):
            analyzer.analyze(path)
    assert loaded == ["a", "b"]


def test_inference_is_batched(video_path: str) -> None:
    det = FakeDetector("a")
    with _analyzer(det, face=FakeFaceFinder(n_faces=2), n_frames=16) as analyzer:
        analyzer.analyze(video_path)
    assert sum(det.batch_sizes) == 32
    assert max(det.batch_sizes) > 1


def test_unknown_detector_is_refused() -> None:
    factory, _ = fake_factory(FakeDetector("a"))
    with pytest.raises(UnknownDetectorError, match="Valid detectors: a"):
        Analyzer(AnalysisOptions(detectors=("nope",)), isolation=None, detector_factory=factory)  # type: ignore[arg-type]


def test_maps_are_kept_on_request_and_drawn_on_the_frame(video_path: str) -> None:
    with _analyzer(FakeDetector("a"), n_frames=2, want_maps=True) as analyzer:
        result = analyzer.analyze(video_path)
    frame = result.frames[0]
    assert set(frame.faces[0].maps) == {"a"}
    rgb_u8 = read_frame(video_path, frame.frame_idx).rgb_u8
    drawn = overlay_maps(rgb_u8, frame.faces, "a", opacity=0.6)
    changed = np.any(drawn != rgb_u8, axis=2)
    x0, y0, x1, y1 = frame.faces[0].bbox_xyxy
    assert changed.any()
    ys, xs = np.nonzero(changed)
    margin = 0.25 * (x1 - x0) + 2
    assert xs.min() >= x0 - margin
    assert xs.max() <= x1 + margin
    assert ys.min() >= y0 - margin
    assert ys.max() <= y1 + margin
    assert np.array_equal(overlay_maps(rgb_u8, frame.faces, "other"), rgb_u8)
