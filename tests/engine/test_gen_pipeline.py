"""A native-tile detector in the analysis: whole pictures with or without faces, face regions at
native resolution, the frame rule, and the results' JSON, maps and overlays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.api import AnalysisOptions, Analyzer, overlay_maps
from engine.faces.mesh import MeshResult
from engine.runtime.loaded import LoadedDetector
from engine.runtime.tiles import TilePolicy
from engine.serialize import result_from_dict, result_to_dict
from engine.types import Grade
from tests.engine.analysis_fakes import (
    FakeDetector,
    FakeFaceFinder,
    native_tiles_cfg,
    write_blank_image,
    write_test_video,
)

_CFG = native_tiles_cfg("tiles_fake", weights_sha256="cd" * 32)


class _BrightnessRuntime:
    """Logit = 4 x (mean normalised value of the tile); records every tile shape it ran."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.shapes.append(x.shape)
        return 4.0 * x.mean(axis=(1, 2, 3))[:, None], x.mean(axis=1)[:, ::16, ::16]


class _NoFaces:
    """A face finder that finds nothing (a scene, a texture, a generated landscape)."""

    def analyze(self, rgb_u8: np.ndarray, frame_idx: int = 0) -> MeshResult:
        return MeshResult(faces=())

    def close(self) -> None:
        """Nothing to release."""


def _tile_detector(policy: TilePolicy | None = None) -> LoadedDetector:
    return LoadedDetector(_CFG, _BrightnessRuntime(), runtime_name="onnx", device="cpu",
                          tile_policy=policy or TilePolicy(max_tiles_image=6, max_tiles_frame=2))


def _analyzer(face: object, policy: TilePolicy | None = None,
              **opts: object) -> tuple[Analyzer, LoadedDetector]:
    tiles, crops = _tile_detector(policy), FakeDetector("crops")
    by_name = {"tiles_fake": tiles, "crops": crops}
    analyzer = Analyzer(AnalysisOptions(detectors=("crops", "tiles_fake"), **opts),  # type: ignore[arg-type]
                        detector_factory=lambda n, r, d: by_name[n],  # type: ignore[arg-type,return-value]
                        face_detector=face, isolation=None)
    return analyzer, tiles


def test_a_picture_without_a_face_gets_a_generated_image_score(tmp_path: Path) -> None:
    path = write_blank_image(str(tmp_path / "blank.png"), size_wh=(500, 300))
    analyzer, tiles = _analyzer(_NoFaces(), want_maps=True)
    with analyzer:
        result = analyzer.analyze(path)
    assert result.status == "no_face"
    crops, tiled = result.scores
    assert crops.p_fake is None
    assert tiled.p_fake is not None
    assert 0.0 <= tiled.p_fake <= 1.0
    assert result.picture_scores[0].p_fake == pytest.approx(tiled.p_fake)
    assert result.finding is not None
    assert result.finding.kind == "generated"
    assert result.finding.grade is not Grade.NOT_APPLICABLE
    (frame,) = result.frames
    assert frame.picture_maps["tiles_fake"].ndim == 2
    assert all(s[2] <= 128 and s[3] <= 128 for s in tiles.runtime.shapes)  # type: ignore[attr-defined]
    again = result_from_dict(result_to_dict(result))
    assert again.picture_scores == result.picture_scores
    assert again.frames[0].picture_scores == frame.picture_scores


def test_faces_get_native_region_scores_and_the_frame_takes_the_max(tmp_path: Path) -> None:
    video = write_test_video(str(tmp_path / "clip.avi"), n_frames=12, size_wh=(320, 240))
    analyzer, tiles = _analyzer(FakeFaceFinder(n_faces=1, side_px=90.0), n_frames=4,
                                want_maps=True)
    with analyzer:
        result = analyzer.analyze(video)
    assert result.status == "ok"
    for frame in result.frames:
        (face,) = frame.faces
        assert [s.detector for s in face.scores] == ["crops", "tiles_fake"]
        face_p = face.scores[1].p_fake
        picture_p = frame.picture_scores[0].p_fake
        assert face_p is not None
        assert picture_p is not None
        assert frame.scores[1].p_fake == pytest.approx(max(face_p, picture_p))
        assert face.maps["tiles_fake"].shape == (16, 16)
    assert result.scores[1].p_fake == pytest.approx(
        np.mean([f.scores[1].p_fake for f in result.frames]))
    assert [t.scores[1].detector for t in result.tracks] == ["tiles_fake"]
    # per video frame: at most the per-frame budget for the picture, the face budget per face
    assert max(s[0] for s in tiles.runtime.shapes) <= 4  # type: ignore[attr-defined]


def test_the_overlay_draws_the_picture_map_where_tiles_scored_high() -> None:
    rgb = np.zeros((64, 128, 3), dtype=np.uint8)
    grid = np.zeros((4, 8), dtype=np.float32)
    grid[:, :4] = 1.0
    drawn = overlay_maps(rgb, (), "tiles_fake", opacity=1.0, picture_map=grid)
    assert drawn[:, :64].any()
    assert not drawn[:, 64:].any()


def test_picture_maps_survive_the_case_store_blob(tmp_path: Path) -> None:
    from forensic_gui.cases.maps_blob import has_maps, pack_maps, with_maps

    path = write_blank_image(str(tmp_path / "blank.png"), size_wh=(300, 200))
    analyzer, _ = _analyzer(_NoFaces(), want_maps=True)
    with analyzer:
        result = analyzer.analyze(path)
    assert has_maps(result)
    stored = result_from_dict(result_to_dict(result))
    assert not stored.frames[0].picture_maps
    restored = with_maps(stored, pack_maps(result))
    np.testing.assert_allclose(restored.frames[0].picture_maps["tiles_fake"],
                               result.frames[0].picture_maps["tiles_fake"], atol=1 / 255)


def _analyse_one_face_strip(tmp_path: Path, policy: TilePolicy) -> tuple[Any, LoadedDetector]:
    """A 320x100 clip, 3 of its frames, one 60 px face each, scored with ``policy``."""
    video = write_test_video(str(tmp_path / "clip.avi"), n_frames=12, size_wh=(320, 100))
    analyzer, tiles = _analyzer(FakeFaceFinder(n_faces=1, side_px=60.0), policy, n_frames=3)
    with analyzer:
        return analyzer.analyze(video), tiles


def test_a_whole_picture_only_detector_leaves_faces_alone(tmp_path: Path) -> None:
    # NOTE: gan_effl0's shipped policy: fixed-size tiles, faces not scored apart; the frame
    # score is then the picture's, and a tile smaller than the graph's size is upscaled to it.
    policy = TilePolicy(max_tiles_image=6, max_tiles_frame=2, fixed_size=True, score_faces=False)
    result, tiles = _analyse_one_face_strip(tmp_path, policy)
    assert result.status == "ok"
    for frame in result.frames:
        (face,) = frame.faces
        assert face.scores[1].p_fake is None
        assert face.scores[1].reason == "scores the whole picture only"
        assert frame.scores[1].p_fake == pytest.approx(frame.picture_scores[0].p_fake)
    assert {s[2:] for s in tiles.runtime.shapes} == {(128, 128)}  # type: ignore[attr-defined]
    assert "whole picture only" in result.provenance.aggregation_rule


def test_a_face_region_only_detector_scores_faces_and_leaves_pictures_alone(
        tmp_path: Path) -> None:
    # NOTE: gen_probe_face_effl0's policy: the frame score is the max over its faces; a frame
    # without a face gets no score from it, and the whole picture is never scored.
    policy = TilePolicy(max_tiles_image=6, max_tiles_frame=2, score_picture=False)
    result, _ = _analyse_one_face_strip(tmp_path, policy)
    assert result.status == "ok"
    for frame in result.frames:
        (face,) = frame.faces
        assert face.scores[1].p_fake is not None
        assert frame.picture_scores[0].p_fake is None
        assert frame.picture_scores[0].reason == "scores face regions only"
        assert frame.scores[1].p_fake == pytest.approx(face.scores[1].p_fake)
    assert "face region only" in result.provenance.aggregation_rule
    analyzer, _ = _analyzer(_NoFaces(), policy)
    image = write_blank_image(str(tmp_path / "scene.png"), size_wh=(300, 200))
    with analyzer:
        no_face = analyzer.analyze(image)
    assert no_face.status == "no_face"  # nothing scored the whole picture
    assert all(s.p_fake is None for s in no_face.scores)


def test_a_tile_policy_must_score_something() -> None:
    with pytest.raises(ValueError, match="picture, its faces or both"):
        TilePolicy(score_faces=False, score_picture=False)
