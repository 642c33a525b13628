"""The one crop policy: geometry, the crop_to_frame affine, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from engine.faces.crop import (
    CropPolicy,
    apply_affine,
    crop_face,
    crop_square_xyxy,
    invert_affine,
    map_to_frame,
)


def _landmarks(rng: np.random.Generator, centre_xy: tuple[float, float], side: float) -> np.ndarray:
    pts = rng.uniform(-0.5, 0.5, size=(478, 2)) * side
    return (pts + np.asarray(centre_xy)).astype(np.float32)


@pytest.mark.parametrize(
    ("side", "path"), [(60.0, "upscale"), (400.0, "downscale")], ids=["up", "down"]
)
def test_crop_to_frame_inverts_the_landmark_mapping(side: float, path: str) -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, size=(720, 1280, 3), dtype=np.uint8)
    landmarks = _landmarks(rng, (640.3, 360.7), side)
    policy = CropPolicy(margin=0.25, size=256)
    crop, lm_crop, crop_to_frame = crop_face(image, landmarks, policy)
    assert crop.shape == (256, 256, 3)
    assert crop.dtype == np.uint8
    assert lm_crop.dtype == np.float32
    assert crop_to_frame.shape == (2, 3)
    np.testing.assert_allclose(apply_affine(crop_to_frame, lm_crop), landmarks, atol=1e-3)
    # the landmark box spans 1/1.5 of the crop, centred
    span = lm_crop.max(axis=0) - lm_crop.min(axis=0)
    assert span.max() == pytest.approx(256 / 1.5, rel=0.02), path
    assert lm_crop.mean(axis=0) == pytest.approx((128, 128), abs=256 * 0.06)


@pytest.mark.parametrize("side", [50.0, 500.0], ids=["up", "down"])
def test_crop_pixels_sit_where_the_affine_says(side: float) -> None:
    """A bright square drawn in the frame appears in the crop where crop_to_frame maps it."""
    image = np.zeros((900, 900, 3), dtype=np.uint8)
    image[440:450, 455:465] = 255  # centre (459.5, 444.5) in pixel-centre coordinates
    landmarks = np.array([[450 - side / 2, 450 - side / 2], [450 + side / 2, 450 + side / 2]])
    crop, _, crop_to_frame = crop_face(image, landmarks.astype(np.float32), CropPolicy(size=128))
    grey = crop[..., 0].astype(np.float64)
    ys, xs = np.nonzero(grey > 0)
    weights = grey[ys, xs]
    centre_crop = np.array([[np.average(xs, weights=weights), np.average(ys, weights=weights)]])
    centre_frame = apply_affine(crop_to_frame, centre_crop)[0]
    pixel_size = crop_to_frame[0, 0]
    assert centre_frame == pytest.approx((459.5, 444.5), abs=max(0.1, pixel_size / 8))


def test_face_at_the_border_is_padded_by_replication() -> None:
    image = np.zeros((200, 200, 3), dtype=np.uint8)
    image[:, :5] = 200  # a bright left edge column band
    landmarks = np.array([[0.0, 80.0], [60.0, 140.0]], dtype=np.float32)
    crop, lm_crop, crop_to_frame = crop_face(image, landmarks, CropPolicy(size=64))
    assert crop.shape == (64, 64, 3)
    # everything left of the image edge repeats the bright edge pixels
    x_edge_in_crop = apply_affine(invert_affine(crop_to_frame), np.array([[0.0, 100.0]]))[0, 0]
    assert x_edge_in_crop > 5
    assert (crop[:, : int(x_edge_in_crop) - 1, 0] == 200).all()
    np.testing.assert_allclose(apply_affine(crop_to_frame, lm_crop), landmarks, atol=1e-3)


def test_crop_square_is_square_and_grown_by_the_margin() -> None:
    landmarks = np.array([[10.0, 20.0], [110.0, 70.0]])
    x0, y0, x1, y1 = crop_square_xyxy(landmarks, 0.25)
    assert x1 - x0 == pytest.approx(150.0)
    assert y1 - y0 == pytest.approx(150.0)
    assert ((x0 + x1) / 2, (y0 + y1) / 2) == pytest.approx((60.0, 45.0))


def test_map_to_frame_lands_on_the_crop_region() -> None:
    image = np.zeros((300, 400, 3), dtype=np.uint8)
    landmarks = np.array([[100.0, 100.0], [180.0, 180.0]], dtype=np.float32)
    _, _, crop_to_frame = crop_face(image, landmarks, CropPolicy(size=64))
    on_frame = map_to_frame(np.ones((16, 16), np.float32), crop_to_frame, 64, (300, 400))
    assert on_frame.shape == (300, 400)
    assert on_frame[140, 140] == pytest.approx(1.0)
    assert on_frame[10, 10] == 0.0
    assert on_frame[290, 390] == 0.0


@pytest.mark.parametrize(
    ("image", "landmarks", "message"),
    [
        (np.zeros((50, 50), np.uint8), np.zeros((478, 2)), "uint8 image"),
        (np.zeros((50, 50, 3), np.uint8), np.zeros((478, 3)), r"\(K, 2\)"),
        (np.zeros((50, 50, 3), np.uint8), np.full((478, 2), np.nan), "NaN"),
        (np.zeros((50, 50, 3), np.uint8), np.full((478, 2), 7.0), "less than one pixel"),
    ],
    ids=["grey", "3d-landmarks", "nan", "degenerate"],
)
def test_bad_input_raises(image: np.ndarray, landmarks: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        crop_face(image, landmarks, CropPolicy())


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="margin"):
        CropPolicy(margin=-0.1)
    with pytest.raises(ValueError, match="size"):
        CropPolicy(size=2)
