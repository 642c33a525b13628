"""Native-tile scoring (``engine.runtime.tiles``): coverage, budgets, small pictures, pooling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.runtime.tiles import (
    TilePolicy,
    crop_square_of,
    face_region,
    normalise_tiles,
    plan_tiles,
    pool_logits,
    score_region,
    tile_map,
)
from tests.engine.analysis_fakes import native_tiles_cfg

_CFG = native_tiles_cfg("fake_tiles")


class _MeanRuntime:
    """Logit = mean of the normalised tile (so brighter tiles score higher); records shapes."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.shapes.append(x.shape)
        cam = x.mean(axis=1)[:, ::16, ::16]
        return x.mean(axis=(1, 2, 3))[:, None], cam


class _Loaded:
    def __init__(self) -> None:
        self.cfg = _CFG
        self.runtime = _MeanRuntime()
        self.calibration = None


def _covered(boxes: np.ndarray, h: int, w: int) -> bool:
    mask = np.zeros((h, w), dtype=bool)
    for x0, y0, x1, y1 in boxes:
        mask[y0:y1, x0:x1] = True
    return bool(mask.all())


def test_tiles_cover_a_picture_without_resizing_and_stay_inside() -> None:
    boxes = plan_tiles((0, 0, 1000, 700), 128, 1000)
    assert _covered(boxes, 700, 1000)
    assert set(map(tuple, boxes[:, 2:] - boxes[:, :2])) == {(128, 128)}
    assert boxes[:, 2].max() == 1000
    assert boxes[:, 3].max() == 700


def test_a_capped_grid_keeps_evenly_spread_tiles_and_phase_moves_them() -> None:
    full = plan_tiles((0, 0, 4000, 3000), 128, 10_000)
    capped = plan_tiles((0, 0, 4000, 3000), 128, 48)
    moved = plan_tiles((0, 0, 4000, 3000), 128, 48, phase=1)
    assert len(full) > 48
    assert len(capped) == len(moved) == 48
    assert capped[:, 1].min() == 0
    assert capped[:, 3].max() > 2500
    assert not np.array_equal(capped, moved)


def test_a_panorama_is_a_row_of_full_tiles_and_a_small_picture_one_small_tile() -> None:
    boxes = plan_tiles((0, 0, 8000, 300), 128, 10_000)
    assert _covered(boxes, 300, 8000)
    small = plan_tiles((0, 0, 90, 60), 128, 4)
    np.testing.assert_array_equal(small, [[0, 0, 90, 60]])
    thin = plan_tiles((0, 0, 8000, 100), 128, 8)
    assert set(map(tuple, thin[:, 2:] - thin[:, :2])) == {(128, 100)}


def test_pooling_is_the_mean_of_the_top_quarter() -> None:
    z = np.arange(8, dtype=float)
    assert pool_logits(z, 0.25) == pytest.approx(6.5)
    assert pool_logits(np.array([-3.0]), 0.25) == -3.0
    assert pool_logits(z, 1.0) == pytest.approx(3.5)


def test_score_region_scores_odd_sizes_in_unit_range_and_skips_tiny_ones() -> None:
    rng = np.random.default_rng(0)
    loaded = _Loaded()
    policy = TilePolicy()
    for h, w in ((300, 8000), (37, 300), (129, 131), (64, 64)):
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        score = score_region(loaded, img, policy=policy, max_tiles=policy.max_tiles_image)
        assert score is not None
        assert 0.0 <= score.p_fake <= 1.0
        assert math.isfinite(score.p_fake)
        assert len(score.tiles_xyxy) <= policy.max_tiles_image
        assert all(s[2] <= 128 and s[3] <= 128 for s in loaded.runtime.shapes)
    for h, w in ((1, 1), (20, 500), (31, 31)):
        assert score_region(loaded, np.zeros((h, w, 3), np.uint8), policy=policy,
                            max_tiles=4) is None


def test_the_pooled_score_follows_the_brightest_tiles() -> None:
    img = np.zeros((256, 512, 3), dtype=np.uint8)
    img[:128, :128] = 255
    score = score_region(_Loaded(), img, policy=TilePolicy(), max_tiles=8)
    assert score is not None
    assert len(score.tiles_xyxy) == 8
    assert score.tile_logits.max() == pytest.approx(1.0)
    # top quarter of 8 tiles = the white tile (+1) and a black one (-1): pooled logit 0
    assert score.p_fake_raw == pytest.approx(0.5)
    heat = tile_map(score, img.shape[:2], cell_px=64)
    assert heat.shape == (4, 8)
    assert heat[0, 0] == heat.max()


def test_normalisation_matches_the_cfg() -> None:
    tiles = np.full((2, 5, 7, 3), 255, dtype=np.uint8)
    out = normalise_tiles(tiles, _CFG)
    assert out.shape == (2, 3, 5, 7)
    np.testing.assert_allclose(out, 1.0)


def test_a_face_region_is_the_policy_box_or_a_whole_tile_inside_the_picture() -> None:
    assert face_region((100.0, 50.0, 400.0, 350.0), (600, 800), 128) == (100, 50, 400, 350)
    small = face_region((10.0, 10.0, 60.0, 60.0), (600, 800), 128)
    assert small == (0, 0, 128, 128)
    assert face_region((700.0, 500.0, 900.0, 700.0), (600, 800), 128) == (600, 400, 800, 600)
    affine = np.array([[1.5, 0.0, 20.0], [0.0, 1.5, 30.0]])
    assert crop_square_of(affine, 256) == pytest.approx((20.0, 30.0, 404.0, 414.0))


def test_a_region_outside_the_picture_is_an_error() -> None:
    with pytest.raises(ValueError, match="inside"):
        score_region(_Loaded(), np.zeros((64, 64, 3), np.uint8), (0, 0, 65, 64),
                     policy=TilePolicy(), max_tiles=4)
    with pytest.raises(ValueError, match="uint8"):
        score_region(_Loaded(), np.zeros((64, 64), np.uint8), policy=TilePolicy(), max_tiles=4)
