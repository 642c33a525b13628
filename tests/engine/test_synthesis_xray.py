"""Face X-ray blended images (BI) on real faces: locality, X-ray ring, donor search."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.errors import SynthesisInputError
from engine.synthesis.masks import hull_mask
from engine.synthesis.xray_blend import (
    BiParams,
    blend_with_donor,
    nearest_donor,
    sample_bi_params,
    similarity_transform,
)
from tests.engine.test_synthesis_masks import NOSE_TIP, RealFace, real_faces

# NOTE: grid jitter sigma <= 4% (10 px; ~3 sigma at most) + dilation 5 px + the blur's 3-sigma
# kernel radius (<= 27 px) at 256 px; measured worst case over 400 blends: 49 px.
REACH_PX = 60


@pytest.fixture(scope="module")
def faces(shared_data: Path) -> tuple[RealFace, ...]:
    return real_faces(shared_data)


def _hull(face: RealFace, shape: str = "facehull") -> np.ndarray:
    return (hull_mask(face.landmarks_xy, face.rgb_u8.shape[:2], shape, False) > 0).astype(np.uint8)


def _distance_from(mask_u8: np.ndarray) -> np.ndarray:
    """Distance of every pixel to the nearest pixel of ``mask_u8`` (0 inside)."""
    return cv2.distanceTransform(1 - mask_u8, cv2.DIST_L2, 5)


def test_blend_differs_from_target_only_near_the_face(faces: tuple[RealFace, ...]) -> None:
    target, donor = faces[0], faces[1]
    hull_dist = _distance_from(_hull(target))
    assert (hull_dist >= REACH_PX).sum() > 2000, "test crop leaves too little background"
    for seed in range(8):
        res = blend_with_donor(
            target.rgb_u8,
            target.landmarks_xy,
            donor.rgb_u8,
            donor.landmarks_xy,
            np.random.default_rng(seed),
        )
        assert res.image_rgb_u8.shape == target.rgb_u8.shape
        assert np.array_equal(res.target_rgb_u8, target.rgb_u8)
        changed = np.any(res.image_rgb_u8 != target.rgb_u8, axis=2)
        assert hull_dist[changed].max() < REACH_PX, seed
        assert np.array_equal(res.image_rgb_u8[res.mask_f32 == 0], target.rgb_u8[res.mask_f32 == 0])
        assert changed[res.mask_f32 > 0.99].mean() > 0.5, seed


def test_xray_target_peaks_on_the_boundary_and_is_zero_inside_and_outside(
    faces: tuple[RealFace, ...],
) -> None:
    target, donor = faces[2], faces[3]
    for seed in range(6):
        p = sample_bi_params(np.random.default_rng(seed))
        res = blend_with_donor(
            target.rgb_u8,
            target.landmarks_xy,
            donor.rgb_u8,
            donor.landmarks_xy,
            np.random.default_rng(0),
            p,
        )
        b = res.xray_f32
        np.testing.assert_allclose(b, 4 * res.mask_f32 * (1 - res.mask_f32), atol=1e-6)
        assert b.max() > 0.99
        contour = np.zeros_like(_hull(target, p.hull_shape))
        found, _ = cv2.findContours(
            _hull(target, p.hull_shape), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE
        )
        cv2.drawContours(contour, found, -1, 1, 1)
        assert _distance_from(contour)[b > 0.9].max() < 45, seed
        x, y = np.round(target.landmarks_xy[NOSE_TIP]).astype(int)
        assert b[y - 3 : y + 4, x - 3 : x + 4].max() < 0.05, seed
        assert b[:8, :8].max() == 0
        assert b[-8:, -8:].max() == 0


def test_same_seed_same_bytes_and_params_replay(faces: tuple[RealFace, ...]) -> None:
    t, d = faces[1], faces[3]
    args = (t.rgb_u8, t.landmarks_xy, d.rgb_u8, d.landmarks_xy)
    a = blend_with_donor(*args, np.random.default_rng(4))
    b = blend_with_donor(*args, np.random.default_rng(4))
    c = blend_with_donor(*args, np.random.default_rng(5))
    assert isinstance(a.params, BiParams)
    assert a.image_rgb_u8.tobytes() == b.image_rgb_u8.tobytes()
    assert a.image_rgb_u8.tobytes() != c.image_rgb_u8.tobytes()
    replay = blend_with_donor(*args, np.random.default_rng(123), a.params)
    assert replay.mask_f32.tobytes() == a.mask_f32.tobytes()


def test_similarity_transform_recovers_a_known_transform(faces: tuple[RealFace, ...]) -> None:
    src = faces[0].landmarks_xy[:468].astype(np.float64)
    angle, scale, shift = np.deg2rad(12.0), 0.8, np.array([7.0, -4.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = src @ rot.T + shift
    np.testing.assert_allclose(
        similarity_transform(src, dst), np.hstack([rot, shift[:, None]]), atol=1e-9
    )


def test_nearest_donor_finds_a_moved_copy_of_the_target(faces: tuple[RealFace, ...]) -> None:
    rng = np.random.default_rng(0)
    target = faces[0].landmarks_xy
    others = [f.landmarks_xy for f in faces[1:]]
    theta = np.deg2rad(8.0)
    rot = 1.3 * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    copy = target @ rot.T + np.array([20.0, -9.0]) + rng.normal(0, 0.3, target.shape)
    pool = np.stack([*others, copy.astype(np.float32), target])
    assert nearest_donor(target, pool, rng, exclude=[len(pool) - 1]) == len(pool) - 2
    # Without the copy, one of the real others is picked, and exclusions are respected.
    assert nearest_donor(target, pool, rng, exclude=[3, 4]) in (0, 1, 2)
    picks = {
        nearest_donor(target, pool, np.random.default_rng(s), n_candidates=1) for s in range(20)
    }
    assert len(picks) > 1  # one random candidate each time: the subset is random


def test_nearest_donor_rejects_bad_pools(faces: tuple[RealFace, ...]) -> None:
    lm = faces[0].landmarks_xy
    rng = np.random.default_rng(0)
    with pytest.raises(SynthesisInputError, match="no donor candidates"):
        nearest_donor(lm, lm[None], rng, exclude=[0])
    with pytest.raises(SynthesisInputError, match=r"\(K, 478, 2\)"):
        nearest_donor(lm, lm, rng)


def test_donor_with_bad_landmarks_is_a_typed_error(faces: tuple[RealFace, ...]) -> None:
    t, d = faces[0], faces[1]
    with pytest.raises(SynthesisInputError, match="donor landmarks"):
        blend_with_donor(
            t.rgb_u8, t.landmarks_xy, d.rgb_u8, d.landmarks_xy[:, :1], np.random.default_rng(0)
        )
