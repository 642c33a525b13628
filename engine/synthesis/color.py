"""Deterministic photometric operations on uint8 RGB images, with explicit parameters.

They reproduce the uint8 arithmetic of the albumentations transforms the SBI reference code
uses (look-up tables, values truncated to uint8 as ``astype`` does), so parameter ranges mean
what they mean there. Sampling lives with the callers; these functions draw no random numbers.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.errors import SynthesisInputError

__all__ = [
    "brightness_contrast",
    "downscale_upscale",
    "jpeg_roundtrip",
    "rgb_shift",
    "sharpen",
    "shift_hsv",
]

_LEVELS = np.arange(256, dtype=np.float32)


def rgb_shift(rgb_u8: np.ndarray, shift_rgb: tuple[float, float, float]) -> np.ndarray:
    """Add a per-channel offset (in uint8 levels), clipped to [0, 255]."""
    out = np.empty_like(rgb_u8)
    for c, shift in enumerate(shift_rgb):
        lut = np.clip(_LEVELS + shift, 0, 255).astype(np.uint8)
        out[..., c] = cv2.LUT(rgb_u8[..., c], lut)
    return out


def shift_hsv(rgb_u8: np.ndarray, hue: float, sat: float, val: float) -> np.ndarray:
    """Shift hue / saturation / value in OpenCV's uint8 HSV units.

    Hue is in [0, 180) (2 degrees a unit) and wraps; saturation and value are in [0, 255] and
    clip. The image always makes the RGB -> HSV -> RGB round trip, as in the reference.
    """
    hsv = cv2.cvtColor(rgb_u8, cv2.COLOR_RGB2HSV)
    h, s, v = cv2.split(hsv)
    levels = np.arange(256, dtype=np.int16)
    if hue != 0:
        h = cv2.LUT(h, np.mod(levels + hue, 180).astype(np.uint8))
    if sat != 0:
        s = cv2.LUT(s, np.clip(levels + sat, 0, 255).astype(np.uint8))
    if val != 0:
        v = cv2.LUT(v, np.clip(levels + val, 0, 255).astype(np.uint8))
    return cv2.cvtColor(cv2.merge((h, s, v)), cv2.COLOR_HSV2RGB)


def brightness_contrast(rgb_u8: np.ndarray, brightness: float, contrast: float) -> np.ndarray:
    """``out = in * (1 + contrast) + brightness * 255`` (albumentations, brightness_by_max)."""
    lut = _LEVELS * np.float32(1.0 + contrast) + np.float32(brightness * 255.0)
    return cv2.LUT(rgb_u8, np.clip(lut, 0, 255).astype(np.uint8))


def downscale_upscale(rgb_u8: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour down-scale by ``factor``, then bilinear back to the input size."""
    h, w = rgb_u8.shape[:2]
    small = cv2.resize(
        rgb_u8,
        (max(1, int(w / factor)), max(1, int(h / factor))),
        interpolation=cv2.INTER_NEAREST,
    )
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def sharpen(rgb_u8: np.ndarray, alpha: float, lightness: float) -> np.ndarray:
    """3x3 sharpening blended with identity by ``alpha``; ``lightness`` sets the centre weight."""
    identity = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32)
    effect = np.array([[-1, -1, -1], [-1, 8 + lightness, -1], [-1, -1, -1]], dtype=np.float32)
    kernel = (1 - alpha) * identity + alpha * effect
    return cv2.filter2D(rgb_u8, -1, kernel)


def jpeg_roundtrip(rgb_u8: np.ndarray, quality: int) -> np.ndarray:
    """Encode as JPEG at ``quality`` (1-100) and decode again."""
    ok, buf = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb_u8, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    )
    if not ok:
        raise SynthesisInputError(f"OpenCV could not JPEG-encode an image of shape {rgb_u8.shape}")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
