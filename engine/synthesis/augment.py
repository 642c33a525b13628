"""Training-time augmentations that are not part of making a fake.

- ``blur_jpeg``: Wang et al. (CVPR 2020, METHODS.md section 5): Gaussian blur with
  sigma ~ U[0, 3] with probability p, then JPEG with quality ~ U{30..100} with probability p.
  The blur is scipy's ``gaussian_filter`` per channel, as in the authors' code.
- ``pair_postaug``: SBI's post-augmentation (METHODS.md section 1), drawn ONCE and applied to
  the real crop and its self-blended twin alike, so the pair differs only by the blend: RGB
  shift +-20 (p=0.3), HSV shift +-0.3 in OpenCV uint8 units (p=0.3), brightness/contrast
  +-0.3 (p=0.3), JPEG quality U{40..100} (p=0.5), horizontal flip (p=0.5). The reference flips
  before blending; flipping the finished pair is equivalent, and the fake's mask and X-ray
  flip with it because they travel inside the ``BlendResult``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from scipy.ndimage import gaussian_filter

from engine.errors import SynthesisInputError
from engine.synthesis import color
from engine.synthesis.result import BlendResult

__all__ = ["blur_jpeg", "pair_postaug"]


def blur_jpeg(
    rgb_u8: np.ndarray,
    rng: np.random.Generator,
    p_blur: float = 0.5,
    sigma: tuple[float, float] = (0.0, 3.0),
    p_jpeg: float = 0.5,
    quality: tuple[int, int] = (30, 100),
) -> np.ndarray:
    """Randomly blur, then randomly JPEG-compress an RGB uint8 image of any size.

    Args:
        rgb_u8: (H, W, 3) image.
        rng: source of every random draw.
        p_blur: probability of the blur.
        sigma: blur sigma range in pixels, drawn uniformly.
        p_jpeg: probability of the JPEG round trip.
        quality: inclusive JPEG quality range, drawn uniformly.
    """
    _check_image(rgb_u8)
    out = rgb_u8
    if rng.random() < p_blur:
        s = float(rng.uniform(*sigma))
        blurred = gaussian_filter(out.astype(np.float32), sigma=(s, s, 0))
        out = np.clip(np.rint(blurred), 0, 255).astype(np.uint8)
    if rng.random() < p_jpeg:
        out = color.jpeg_roundtrip(out, int(rng.integers(quality[0], quality[1] + 1)))
    return out.copy() if out is rgb_u8 else out


def pair_postaug(
    real_rgb_u8: np.ndarray, fake: BlendResult, rng: np.random.Generator
) -> tuple[np.ndarray, BlendResult]:
    """Apply one draw of SBI's post-augmentation to a real crop and its fake twin.

    Args:
        real_rgb_u8: (S, S, 3) the real crop (normally ``fake.target_rgb_u8``).
        fake: the synthesised twin; its image is augmented, its mask and X-ray flipped when
            the images are.
        rng: source of every random draw.

    Returns:
        ``(real_aug_rgb_u8, fake_aug)``; ``fake_aug.target_rgb_u8`` is ``real_aug_rgb_u8``.
    """
    _check_image(real_rgb_u8)
    if real_rgb_u8.shape != fake.image_rgb_u8.shape:
        raise SynthesisInputError(
            f"real and fake crops differ in shape: {real_rgb_u8.shape} vs {fake.image_rgb_u8.shape}"
        )
    ops = _sample_postaug_ops(rng)
    flip = bool(rng.random() < 0.5)
    real, fake_img = real_rgb_u8, fake.image_rgb_u8
    for op in ops:
        real, fake_img = op(real), op(fake_img)
    mask, xray = fake.mask_f32, fake.xray_f32
    if flip:
        real, fake_img, mask, xray = (a[:, ::-1] for a in (real, fake_img, mask, xray))
    real = np.ascontiguousarray(real)
    return real, dataclasses.replace(
        fake,
        image_rgb_u8=np.ascontiguousarray(fake_img),
        mask_f32=np.ascontiguousarray(mask),
        xray_f32=np.ascontiguousarray(xray),
        target_rgb_u8=real,
    )


def _sample_postaug_ops(rng: np.random.Generator) -> list[Callable[[np.ndarray], np.ndarray]]:
    """The photometric steps of one post-augmentation draw, as deterministic functions."""
    ops: list[Callable[[np.ndarray], np.ndarray]] = []
    if rng.random() < 0.3:
        r, g, b = (float(v) for v in rng.uniform(-20.0, 20.0, size=3))
        ops.append(lambda im: color.rgb_shift(im, (r, g, b)))
    if rng.random() < 0.3:
        h, s, v = (float(x) for x in rng.uniform(-0.3, 0.3, size=3))
        ops.append(lambda im: color.shift_hsv(im, h, s, v))
    if rng.random() < 0.3:
        brightness, contrast = (float(x) for x in rng.uniform(-0.3, 0.3, size=2))
        ops.append(lambda im: color.brightness_contrast(im, brightness, contrast))
    if rng.random() < 0.5:
        quality = int(rng.integers(40, 101))
        ops.append(lambda im: color.jpeg_roundtrip(im, quality))
    return ops


def _check_image(rgb_u8: np.ndarray) -> None:
    if not isinstance(rgb_u8, np.ndarray) or rgb_u8.dtype != np.uint8:
        raise SynthesisInputError("the image must be a uint8 numpy array")
    if rgb_u8.ndim != 3 or rgb_u8.shape[2] != 3:
        raise SynthesisInputError(f"the image must be (H, W, 3); got shape {rgb_u8.shape}")
