"""What every synthesis routine returns, the X-ray target, and the input checks they share.

A synthesised fake is only useful for training together with (a) its blending mask M, which
tells where the two sources meet, (b) the Face X-ray target B = 4 M (1 - M), and (c) the real
image it was blended into, which is its correctly paired real twin (in SBI the target may itself
be colour-jittered, so the untouched input is NOT always the twin). Keeping the parameters that
produced the fake lets callers replay or drift them (temporal clips).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import SynthesisInputError

__all__ = ["BlendResult", "check_face_inputs", "real_xray", "xray_from_mask"]

MIN_LANDMARKS = 468  # the Face Mesh points; the 10 iris points are optional


@dataclass(frozen=True)
class BlendResult:
    """One synthesised fake face crop.

    Attributes:
        image_rgb_u8: (S, S, 3) the blended image (label fake).
        mask_f32: (S, S) the final blending mask M in [0, 1]: the weight of the source face.
        xray_f32: (S, S) the Face X-ray target B = 4 M (1 - M) in [0, 1].
        target_rgb_u8: (S, S, 3) the image the source was blended into (label real). Outside
            the mask the fake equals it exactly; pair the fake with it.
        params: the sampled parameters (``SbiParams`` or ``BiParams``); pass them back in to
            reproduce the blend.
    """

    image_rgb_u8: np.ndarray
    mask_f32: np.ndarray
    xray_f32: np.ndarray
    target_rgb_u8: np.ndarray
    params: Any


def xray_from_mask(mask_f32: np.ndarray) -> np.ndarray:
    """Face X-ray target B = 4 M (1 - M): 1 where M = 0.5, 0 where M is 0 or 1."""
    m = np.clip(mask_f32.astype(np.float32), 0.0, 1.0)
    return (4.0 * m * (1.0 - m)).astype(np.float32)


def real_xray(shape_hw: tuple[int, ...]) -> np.ndarray:
    """The X-ray target of a real face: all zeros (no blending anywhere).

    Args:
        shape_hw: (H, W) of the map, or an image shape (H, W, C) whose first two axes are used.
    """
    if len(shape_hw) < 2:
        raise SynthesisInputError(f"X-ray shape needs (H, W); got {tuple(shape_hw)}")
    return np.zeros(tuple(shape_hw[:2]), dtype=np.float32)


def check_face_inputs(rgb_u8: np.ndarray, landmarks_xy: np.ndarray, what: str = "face") -> None:
    """Raise ``SynthesisInputError`` unless ``rgb_u8`` is (H, W, 3) uint8 and the landmarks are
    (>= 468, 2) finite crop-pixel coordinates."""
    if not isinstance(rgb_u8, np.ndarray) or rgb_u8.dtype != np.uint8:
        raise SynthesisInputError(f"{what} image must be a uint8 numpy array")
    if rgb_u8.ndim != 3 or rgb_u8.shape[2] != 3 or min(rgb_u8.shape[:2]) < 16:
        raise SynthesisInputError(
            f"{what} image must be (H, W, 3) with H, W >= 16; got shape {rgb_u8.shape}"
        )
    lm = np.asarray(landmarks_xy)
    if lm.ndim != 2 or lm.shape[1] != 2 or lm.shape[0] < MIN_LANDMARKS:
        raise SynthesisInputError(
            f"{what} landmarks must be (478, 2) Face Mesh points; got shape {lm.shape}"
        )
    if not np.all(np.isfinite(lm)):
        raise SynthesisInputError(f"{what} landmarks contain NaN or infinite values")
