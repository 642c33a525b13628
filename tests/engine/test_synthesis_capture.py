"""The capture chain (engine.synthesis.capture) and its H.264 round trip (synthesis.codec)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.errors import SynthesisInputError
from engine.synthesis.capture import (
    CaptureParams,
    apply_capture,
    capture_pair,
    refill_margin,
    sample_capture_params,
)
from engine.synthesis.codec import h264_roundtrip
from engine.synthesis.sbi import self_blend
from tests.engine.test_synthesis_masks import RealFace, real_faces

_PLAIN = CaptureParams(warp=None, noise_sigma=0.0, noise_seed=0, face_scale=1.0, blur_sigma=0.0,
                       motion_px=0, motion_deg=0.0, sharpen=0.0, sharpen_sigma=1.0, codecs=())


@pytest.fixture(scope="module")
def faces(shared_data: Path) -> tuple[RealFace, ...]:
    return real_faces(shared_data)


@pytest.mark.parametrize("shape", [(256, 256, 3), (101, 77, 3)])
def test_h264_roundtrip_keeps_shape_and_loses_more_at_a_higher_crf(
    faces: tuple[RealFace, ...], shape: tuple[int, int, int]
) -> None:
    img = cv2.resize(faces[0].rgb_u8, (shape[1], shape[0]))
    errors = []
    for crf in (10, 30, 45):
        out = h264_roundtrip(img, crf, "medium")
        assert out.shape == img.shape
        assert out.dtype == np.uint8
        errors.append(float(np.abs(out.astype(int) - img).mean()))
    assert errors[0] < errors[1] < errors[2]
    assert errors[0] < 3.0  # near-transparent at CRF 10
    again = h264_roundtrip(img, 30, "medium")
    assert again.tobytes() == h264_roundtrip(img, 30, "medium").tobytes()


def test_h264_roundtrip_subsamples_chroma(faces: tuple[RealFace, ...]) -> None:
    """A one-pixel red/blue checkerboard keeps its luma pattern, but 4:2:0 stores one chroma
    sample per 2x2 block, so red and blue come back mixed even at a lossless CRF."""
    board = np.zeros((64, 64, 3), np.uint8)
    board[::2, ::2] = board[1::2, 1::2] = (255, 0, 0)
    board[1::2, ::2] = board[::2, 1::2] = (0, 0, 255)
    out = h264_roundtrip(board, 0, "medium").astype(int)
    assert np.abs(out[..., 0] - out[..., 2]).mean() < 60  # red and blue mixed, not kept apart


def test_h264_roundtrip_rejects_bad_input() -> None:
    img = np.zeros((32, 32, 3), np.uint8)
    for bad in (np.zeros((8, 8, 3), np.uint8), np.zeros((32, 32), np.uint8),
                img.astype(np.float32)):
        with pytest.raises(SynthesisInputError):
            h264_roundtrip(bad, 23)
    with pytest.raises(SynthesisInputError, match="CRF"):
        h264_roundtrip(img, 52)
    with pytest.raises(SynthesisInputError, match="preset"):
        h264_roundtrip(img, 23, "placebo-ish")


def test_a_plain_chain_is_the_identity_and_each_step_changes_the_image(
    faces: tuple[RealFace, ...],
) -> None:
    img = faces[1].rgb_u8
    assert np.array_equal(apply_capture(img, _PLAIN), img)
    steps = {
        "warp": {"warp": (0.4, -0.3, 1.01, 1.0)},
        "noise": {"noise_sigma": 3.0},
        "scale": {"face_scale": 0.5},
        "blur": {"blur_sigma": 1.0},
        "motion": {"motion_px": 5, "motion_deg": 30.0},
        "sharpen": {"sharpen": 1.0},
        "h264": {"codecs": (("h264", 30, "veryfast"),)},
        "jpeg": {"codecs": (("jpeg", 40, ""),)},
    }
    for name, change in steps.items():
        out = apply_capture(img, dataclasses.replace(_PLAIN, **change))
        assert out.shape == img.shape, name
        assert out.dtype == np.uint8, name
        assert 0.2 < np.abs(out.astype(int) - img).mean() < 25, name


def test_scale_step_encodes_the_face_at_its_own_size(faces: tuple[RealFace, ...]) -> None:
    """The codec runs on the face at its size in the "frame" (area-downscaled), and the result
    is upscaled bilinearly as the crop policy upscales a small face."""
    img = cv2.resize(faces[2].rgb_u8, (256, 256))
    p = dataclasses.replace(_PLAIN, face_scale=0.5, codecs=(("h264", 34, "veryfast"),))
    small = cv2.resize(img, (128, 128), interpolation=cv2.INTER_AREA)
    expected = cv2.resize(h264_roundtrip(small, 34, "veryfast"), (256, 256),
                          interpolation=cv2.INTER_LINEAR)
    assert np.array_equal(apply_capture(img, p), expected)


def test_refill_margin_replicates_the_inside_only() -> None:
    img = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    out = refill_margin(img, (5.0, 0.0, 39.0, 29.6))  # left 5 and bottom 10 columns/rows out
    assert np.array_equal(out[:30, 5:], img[:30, 5:])
    assert np.array_equal(out[:30, :5], np.repeat(img[:30, 5:6], 5, axis=1))
    assert np.array_equal(out[30:], np.repeat(out[29:30], 10, axis=0))
    assert refill_margin(img, (-3.0, -3.0, 50.0, 50.0)) is img  # all inside: untouched


def test_capture_pair_applies_one_draw_to_both_images(faces: tuple[RealFace, ...]) -> None:
    face = faces[3]
    valid = (-1.0, 10.0, 300.0, 300.0)  # the top 10 rows were padding
    for seed in range(6):
        rng = np.random.default_rng(seed)
        fake = self_blend(face.rgb_u8, face.landmarks_xy, rng)
        twin = np.random.default_rng(0)
        twin.bit_generator.state = rng.bit_generator.state
        p = sample_capture_params(twin)
        real, out = capture_pair(fake.target_rgb_u8, fake, rng, valid)
        assert out.target_rgb_u8 is real
        assert np.array_equal(real, apply_capture(fake.target_rgb_u8, p, valid))
        assert np.array_equal(out.image_rgb_u8, apply_capture(fake.image_rgb_u8, p, valid))
        assert np.array_equal(real[:10], np.repeat(real[10:11], 10, axis=0))
        # NOTE: codecs spread a difference a little beyond the blend (intra prediction, rate
        # control), but most of what lies well outside the mask stays equal
        outside = cv2.erode((out.mask_f32 < 1e-3).astype(np.uint8), np.ones((17, 17), np.uint8))
        assert outside.sum() > 1000, seed
        diff = np.abs(out.image_rgb_u8.astype(int) - real.astype(int)).max(axis=2)
        assert np.median(diff[outside > 0]) <= 1, seed
        inside = out.mask_f32 > 0.5 * out.mask_f32.max()
        assert diff[inside].mean() > diff[outside > 0].mean(), seed


def test_capture_draws_are_reproducible_and_varied() -> None:
    draws = [sample_capture_params(np.random.default_rng(s)) for s in range(200)]
    assert draws[0] == sample_capture_params(np.random.default_rng(0))
    scales = np.array([d.face_scale for d in draws])
    assert scales.min() >= 0.45
    assert scales.max() <= 1.0
    assert 0.4 < np.mean(scales < 1.0) < 0.8
    kinds = [c[0] for d in draws for c in d.codecs]
    assert {"h264", "jpeg"} <= set(kinds)
    assert all(18 <= c[1] <= 36 for d in draws for c in d.codecs if c[0] == "h264")
    assert any(len(d.codecs) == 2 for d in draws)
    assert any(not d.codecs for d in draws)


def test_capture_pair_rejects_mismatched_pairs(faces: tuple[RealFace, ...]) -> None:
    face = faces[0]
    fake = self_blend(face.rgb_u8, face.landmarks_xy, np.random.default_rng(0))
    with pytest.raises(SynthesisInputError):
        capture_pair(face.rgb_u8[:100], fake, np.random.default_rng(0))
