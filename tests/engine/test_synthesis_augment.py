"""Blur + JPEG augmentation and SBI's paired post-augmentation."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.errors import SynthesisInputError
from engine.synthesis.augment import blur_jpeg, pair_postaug
from engine.synthesis.sbi import self_blend
from tests.engine.test_synthesis_masks import RealFace, real_faces


@pytest.fixture(scope="module")
def faces(shared_data: Path) -> tuple[RealFace, ...]:
    return real_faces(shared_data)


def _sharpness(rgb_u8: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(rgb_u8, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


@pytest.mark.parametrize("shape", [(256, 256, 3), (181, 97, 3)])
def test_blur_jpeg_keeps_shape_and_dtype(faces: tuple[RealFace, ...], shape: tuple) -> None:
    img = cv2.resize(faces[0].rgb_u8, (shape[1], shape[0]))
    for seed in range(8):
        out = blur_jpeg(img, np.random.default_rng(seed))
        assert out.shape == img.shape
        assert out.dtype == np.uint8


def test_blur_jpeg_probabilities_and_strength(faces: tuple[RealFace, ...]) -> None:
    img = faces[0].rgb_u8
    rng = np.random.default_rng(0)
    untouched = blur_jpeg(img, rng, p_blur=0.0, p_jpeg=0.0)
    assert np.array_equal(untouched, img)
    assert untouched is not img
    blurred = blur_jpeg(img, rng, p_blur=1.0, sigma=(2.0, 2.0), p_jpeg=0.0)
    assert _sharpness(blurred) < 0.5 * _sharpness(img)
    jpeg = blur_jpeg(img, rng, p_blur=0.0, p_jpeg=1.0, quality=(30, 30))
    assert not np.array_equal(jpeg, img)
    assert np.abs(jpeg.astype(int) - img).mean() < 10


def test_blur_jpeg_is_deterministic(faces: tuple[RealFace, ...]) -> None:
    img = faces[1].rgb_u8
    runs = [blur_jpeg(img, np.random.default_rng(s), p_blur=1, p_jpeg=1) for s in (3, 3, 4)]
    assert runs[0].tobytes() == runs[1].tobytes()
    assert runs[0].tobytes() != runs[2].tobytes()


def test_pair_postaug_treats_both_images_alike_and_flips_the_maps(
    faces: tuple[RealFace, ...],
) -> None:
    face = faces[2]
    fake = self_blend(face.rgb_u8, face.landmarks_xy, np.random.default_rng(1))
    kernel = np.ones((49, 49), np.uint8)
    flips = set()
    for seed in range(12):
        real_aug, fake_aug = pair_postaug(fake.target_rgb_u8, fake, np.random.default_rng(seed))
        assert real_aug.shape == fake_aug.image_rgb_u8.shape == face.rgb_u8.shape
        assert fake_aug.target_rgb_u8 is real_aug
        flipped = np.array_equal(fake_aug.mask_f32, fake.mask_f32[:, ::-1])
        flips.add(flipped)
        expected = fake.mask_f32[:, ::-1] if flipped else fake.mask_f32
        assert np.array_equal(fake_aug.mask_f32, expected)
        np.testing.assert_array_equal(
            fake_aug.xray_f32, fake.xray_f32[:, ::-1] if flipped else fake.xray_f32
        )
        # Same photometric draw on both: far from the (moved) mask they stay identical, even
        # after JPEG (8x8 blocks, 16x16 chroma).
        far = cv2.dilate((fake_aug.mask_f32 > 0).astype(np.uint8), kernel) == 0
        assert np.array_equal(real_aug[far], fake_aug.image_rgb_u8[far]), seed
    assert flips == {True, False}


def test_pair_postaug_rejects_mismatched_pairs(faces: tuple[RealFace, ...]) -> None:
    face = faces[0]
    fake = self_blend(face.rgb_u8, face.landmarks_xy, np.random.default_rng(0))
    with pytest.raises(SynthesisInputError, match="differ in shape"):
        pair_postaug(face.rgb_u8[:128], fake, np.random.default_rng(0))
