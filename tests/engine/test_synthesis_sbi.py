"""Self-Blended Images on real faces: locality, X-ray target, determinism, replay, errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.errors import SynthesisInputError
from engine.synthesis.masks import HULL_SHAPES, hull_mask
from engine.synthesis.result import real_xray
from engine.synthesis.sbi import (
    SbiParams,
    blend_mask,
    params_from_unit,
    params_to_unit,
    sample_sbi_params,
    self_blend,
)
from tests.engine.test_synthesis_masks import NOSE_TIP, RealFace, real_faces

# NOTE: the farthest the blend can reach beyond the hull: translation 3% (8 px) + scale 5%
# (~5 px) + elastic (~5 px) + the second blur's half kernel (12 px at 192 -> 16 px) + resizes.
REACH_PX = 40
SEEDS = range(12)


@pytest.fixture(scope="module")
def faces(shared_data: Path) -> tuple[RealFace, ...]:
    return real_faces(shared_data)


def _any_hull(face: RealFace) -> np.ndarray:
    shape = face.rgb_u8.shape[:2]
    masks = [hull_mask(face.landmarks_xy, shape, s, r) for s in HULL_SHAPES for r in (0, 1)]
    return (np.max(masks, axis=0) > 0).astype(np.uint8)


def _dilate(mask_u8: np.ndarray, radius_px: int) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius_px + 1,) * 2)
    return cv2.dilate(mask_u8, kernel).astype(bool)


def test_blend_equals_target_outside_the_dilated_hull_and_differs_inside(
    faces: tuple[RealFace, ...],
) -> None:
    for face in faces:
        hull = _any_hull(face)
        outside = ~_dilate(hull, REACH_PX)
        assert outside.sum() > 2000, "test crop leaves too little background to check"
        for seed in SEEDS:
            res = self_blend(face.rgb_u8, face.landmarks_xy, np.random.default_rng(seed))
            assert res.image_rgb_u8.shape == face.rgb_u8.shape
            assert res.image_rgb_u8.dtype == np.uint8
            assert np.all(res.mask_f32[outside] == 0), (face.name, seed)
            zero = res.mask_f32 == 0
            assert np.array_equal(res.image_rgb_u8[zero], res.target_rgb_u8[zero])
            if res.params.transform_source:  # the target is the untouched input
                assert np.array_equal(res.target_rgb_u8, face.rgb_u8)
                assert np.array_equal(res.image_rgb_u8[outside], face.rgb_u8[outside])
            inner = hull.astype(bool) & (res.mask_f32 > 0)
            changed = np.any(res.image_rgb_u8 != res.target_rgb_u8, axis=2)
            assert changed[inner].mean() > 0.2, (face.name, seed)


def test_both_source_target_directions_occur_and_transformed_target_is_the_twin(
    faces: tuple[RealFace, ...],
) -> None:
    face = faces[0]
    directions = set()
    for seed in SEEDS:
        res = self_blend(face.rgb_u8, face.landmarks_xy, np.random.default_rng(seed))
        directions.add(res.params.transform_source)
        if not res.params.transform_source:
            assert not np.array_equal(res.target_rgb_u8, face.rgb_u8)
    assert directions == {True, False}


def _distance_to_contour(hull_u8: np.ndarray) -> np.ndarray:
    contour = np.zeros_like(hull_u8)
    contours, _ = cv2.findContours(hull_u8, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(contour, contours, -1, 1, 1)
    return cv2.distanceTransform(1 - contour, cv2.DIST_L2, 5)


def test_xray_target_is_a_ring_on_the_blend_boundary(faces: tuple[RealFace, ...]) -> None:
    for face in faces:
        for seed in SEEDS:
            p = dataclasses.replace(sample_sbi_params(np.random.default_rng(seed)), blend_ratio=1.0)
            res = self_blend(face.rgb_u8, face.landmarks_xy, np.random.default_rng(0), p)
            hull = hull_mask(
                face.landmarks_xy, face.rgb_u8.shape[:2], p.hull_shape, p.reduced_landmarks
            )
            dist = _distance_to_contour((hull > 0.5).astype(np.uint8))
            b = res.xray_f32
            assert b.dtype == np.float32
            assert b.shape == face.rgb_u8.shape[:2]
            np.testing.assert_allclose(b, 4 * res.mask_f32 * (1 - res.mask_f32), atol=1e-6)
            assert b.max() > 0.99
            assert dist[b > 0.9].max() < REACH_PX, (face.name, seed)
            x, y = np.round(face.landmarks_xy[NOSE_TIP]).astype(int)
            assert b[y - 3 : y + 4, x - 3 : x + 4].max() < 0.05, (face.name, seed)
            assert b[:8, :8].max() == 0
            assert b[-8:, -8:].max() == 0


def test_partial_blend_ratio_scales_the_mask(faces: tuple[RealFace, ...]) -> None:
    face = faces[1]
    p = sample_sbi_params(np.random.default_rng(3))
    rng = np.random.default_rng(0)
    full = self_blend(face.rgb_u8, face.landmarks_xy, rng, dataclasses.replace(p, blend_ratio=1.0))
    half = self_blend(face.rgb_u8, face.landmarks_xy, rng, dataclasses.replace(p, blend_ratio=0.5))
    np.testing.assert_allclose(half.mask_f32, 0.5 * full.mask_f32, atol=1e-6)
    assert full.mask_f32.max() == pytest.approx(1.0)


def test_real_xray_is_all_zero() -> None:
    b = real_xray((256, 256, 3))
    assert b.shape == (256, 256)
    assert b.dtype == np.float32
    assert not b.any()


def test_same_seed_same_bytes_and_different_seeds_differ(faces: tuple[RealFace, ...]) -> None:
    face = faces[2]
    a = self_blend(face.rgb_u8, face.landmarks_xy, np.random.default_rng(7))
    b = self_blend(face.rgb_u8, face.landmarks_xy, np.random.default_rng(7))
    c = self_blend(face.rgb_u8, face.landmarks_xy, np.random.default_rng(8))
    assert a.params == b.params
    assert a.image_rgb_u8.tobytes() == b.image_rgb_u8.tobytes()
    assert a.mask_f32.tobytes() == b.mask_f32.tobytes()
    assert a.image_rgb_u8.tobytes() != c.image_rgb_u8.tobytes()
    replay = self_blend(face.rgb_u8, face.landmarks_xy, np.random.default_rng(99), a.params)
    assert replay.image_rgb_u8.tobytes() == a.image_rgb_u8.tobytes()


def test_sampled_params_stay_in_the_reference_ranges() -> None:
    rng = np.random.default_rng(0)
    draws = [sample_sbi_params(rng) for _ in range(400)]
    ratios = np.array([p.blend_ratio for p in draws])
    assert set(ratios) == {0.25, 0.5, 0.75, 1.0}
    assert 0.4 < (ratios == 1.0).mean() < 0.6  # {0.25, 0.5, 0.75, 1, 1, 1}
    assert 0.15 < np.mean([p.reduced_landmarks for p in draws]) < 0.35
    assert 0.2 < np.mean([p.rgb_shift_r != 0 for p in draws]) < 0.4
    assert {p.hull_shape for p in draws} == set(HULL_SHAPES)
    for p in draws:
        assert p.blur_k1 % 2 == 1
        assert 5 <= p.blur_k1 <= 25
        assert 192 <= p.mask_h <= 256
        assert 5 <= p.blur_sigma2 <= 45
        assert np.all((params_to_unit(p) >= 0) & (params_to_unit(p) <= 1))


def test_unit_round_trip_keeps_params(faces: tuple[RealFace, ...]) -> None:
    p = sample_sbi_params(np.random.default_rng(5))
    q = params_from_unit(p, params_to_unit(p))
    assert isinstance(q, SbiParams)
    for name, value in dataclasses.asdict(p).items():
        assert getattr(q, name) == pytest.approx(value), name


def test_bad_inputs_raise_typed_errors(faces: tuple[RealFace, ...]) -> None:
    face = faces[0]
    rng = np.random.default_rng(0)
    with pytest.raises(SynthesisInputError, match="uint8"):
        self_blend(face.rgb_u8.astype(np.float32), face.landmarks_xy, rng)
    with pytest.raises(SynthesisInputError, match="landmarks"):
        self_blend(face.rgb_u8, face.landmarks_xy[:68], rng)
    with pytest.raises(SynthesisInputError, match="does not overlap"):
        self_blend(face.rgb_u8, face.landmarks_xy + 5000, rng)


def _radius(mask: np.ndarray) -> float:
    """Radius of the disc with the same area as ``mask``."""
    return float(np.sqrt(mask.sum() / np.pi))


@pytest.mark.parametrize(("k1", "k2"), [(25, 5), (5, 25), (15, 15)])
def test_two_gaussian_mask_blur_erodes_by_k1_and_feathers_by_k2(k1: int, k2: int) -> None:
    disc = np.zeros((256, 256), np.float32)
    cv2.circle(disc, (128, 128), 60, 1.0, -1)
    p = dataclasses.replace(
        sample_sbi_params(np.random.default_rng(0)),
        mask_h=256,
        mask_w=256,
        blur_k1=k1,
        blur_k2=k2,
        blur_sigma2=20.0,
    )
    m = blend_mask(disc, p)
    assert m.max() == 1.0
    assert m[128, 128] == 1.0
    # The first blur + "zero below 1" keeps only pixels whose whole square k1 x k1 kernel lies
    # inside: an erosion by half the kernel's diagonal. The second blur centres a soft edge of
    # half-width k2 // 2 (more along the kernel's diagonals) on the eroded boundary.
    eroded = 60 - (k1 // 2) * np.sqrt(2)
    assert _radius(m >= 0.5) == pytest.approx(eroded, abs=2.0)
    assert eroded + k2 // 2 - 2 <= _radius(m > 0) <= eroded + (k2 // 2) * np.sqrt(2) + 2
