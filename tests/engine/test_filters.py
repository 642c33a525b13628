"""The forensic filters: shape, range, bounded size, guidance, and that they show what they say."""

from __future__ import annotations

import numpy as np
import pytest

from engine.api import apply_filter, list_filters, render_filter
from engine.filters.base import MAX_MAP_SIDE, tiles
from engine.jobs import CancelToken, JobCancelled
from tests.provenance_media import decode, jpeg_bytes, textured_rgb

REGION = (slice(96, 224), slice(128, 288))  # rows, cols of the edited area (16-aligned)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return textured_rgb(320, 448, seed=5)


def _inside_outside(heat: np.ndarray, cell_px: int) -> tuple[float, float]:
    mask = np.zeros(heat.shape, bool)
    rows, cols = REGION
    mask[rows.start // cell_px + 1 : rows.stop // cell_px - 1,
         cols.start // cell_px + 1 : cols.stop // cell_px - 1] = True
    return float(heat[mask].mean()), float(np.percentile(heat[~mask], 90))


def test_every_filter_has_guidance_and_a_valid_map(photo: np.ndarray) -> None:
    names = [f.name for f in list_filters()]
    assert names == ["ela", "noise", "jpeg_ghost"]
    for info in list_filters():
        assert "How to read it" in info.guidance
        assert "What not to conclude" in info.guidance
        assert "proof" in info.guidance
        result = apply_filter(info.name, photo, jpeg_quality=90)
        heat = result.map_f32
        assert heat.dtype == np.float32
        assert heat.ndim == 2
        assert np.isfinite(heat).all()
        assert 0.0 <= float(heat.min()) <= float(heat.max()) <= 1.0
        assert heat.shape == (-(-320 // result.cell_px), -(-448 // result.cell_px))
        assert render_filter(result).shape == (*heat.shape, 3)
        assert result.caption


def test_ela_shows_a_region_saved_fewer_times(photo: np.ndarray) -> None:
    settled = decode(jpeg_bytes(photo, 70))
    edited = settled.copy()
    edited[REGION] = photo[REGION]  # pasted in after the first save
    final = decode(jpeg_bytes(edited, 95))
    result = apply_filter("ela", final)
    inside, outside = _inside_outside(result.map_f32, result.cell_px)
    assert inside > 2.0 * outside


def test_noise_map_shows_a_region_with_other_noise(photo: np.ndarray) -> None:
    noisy = photo.astype(np.float32)
    noisy[REGION] += np.random.default_rng(0).normal(0, 12, noisy[REGION].shape)
    result = apply_filter("noise", np.clip(noisy, 0, 255).astype(np.uint8))
    inside, outside = _inside_outside(result.map_f32, result.cell_px)
    assert inside > 1.5 * outside


def test_jpeg_ghost_shows_a_region_from_a_lower_quality_save(photo: np.ndarray) -> None:
    composite = photo.copy()
    composite[REGION] = decode(jpeg_bytes(photo, 60))[REGION]
    final = decode(jpeg_bytes(composite, 90))
    result = apply_filter("jpeg_ghost", final, jpeg_quality=90)
    assert "quality 60" in result.caption
    inside, outside = _inside_outside(result.map_f32, result.cell_px)
    assert inside > 0.6
    assert inside > outside + 0.2


def test_huge_image_gives_a_bounded_map() -> None:
    big = np.zeros((6000, 9000, 3), np.uint8)
    big[::5, ::3] = 180
    result = apply_filter("noise", big)
    assert max(result.map_f32.shape) <= MAX_MAP_SIDE
    assert result.cell_px == 9
    assert result.map_f32.shape == (667, 1000)


def test_tiles_cover_the_image_once_on_the_grid() -> None:
    seen = np.zeros((2100, 3300), np.int32)
    for rows, cols in tiles((2100, 3300), 4):
        assert (rows.start % 16, cols.start % 16, rows.start % 4, cols.start % 4) == (0, 0, 0, 0)
        seen[rows, cols] += 1
    assert (seen == 1).all()


def test_filters_refuse_bad_input_and_stop_on_cancel(photo: np.ndarray) -> None:
    with pytest.raises(KeyError, match="known: ela, noise, jpeg_ghost"):
        apply_filter("sharpen", photo)
    with pytest.raises(ValueError, match="uint8"):
        apply_filter("ela", photo.astype(np.float32))
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(JobCancelled):
        apply_filter("jpeg_ghost", photo, cancel=cancel)
