"""Face retouching of a real face: what a beauty filter or a skin retouch does to a picture.

A filter app smooths the skin inside the face and leaves the hair, the background and the
clothes alone, with edge-preserving smoothing so that eyes and lips stay sharp. To a detector
trained on Self-Blended Images that is a processed face blended into its own picture: on the
dev bench's real faces a mild filter of this kind sent about half or more of the real items
over each face-swap detector's threshold (``python -m engine.evaluation.benign_edits``,
docs/benign_edits.md). A real face retouched this way is still a real face: training applies
:func:`retouch_face` to the real crop **before** the fake is made from it (``retouch_prob``),
so the pair's two members share the retouch and differ only by the blend. Run 18 of
docs/MODELS.md tried it on SBI's head: it cut SBI's false alarms on retouched real faces
(77% -> 29% of items) but ranked the dev bench's face swaps worse, so no shipped detector was
trained with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.synthesis.masks import hull_mask
from engine.synthesis.result import check_face_inputs

__all__ = ["RetouchParams", "retouch_face", "sample_retouch_params"]


@dataclass(frozen=True)
class RetouchParams:
    """One retouch: the bilateral filter, how far it is mixed in, and the mask's feather.

    Attributes:
        diameter: pixel neighbourhood of ``cv2.bilateralFilter`` (5, 7 or 9).
        sigma_colour: colour sigma (20-80: mild to a strong "skin smoothing").
        sigma_space: space sigma in pixels (3-9).
        strength: share of the smoothed face mixed in (0.5-1).
        feather: Gaussian sigma of the mask's edge, as a share of the crop side (0.01-0.05).
    """

    diameter: int
    sigma_colour: float
    sigma_space: float
    strength: float
    feather: float


def sample_retouch_params(rng: np.random.Generator) -> RetouchParams:
    """A random retouch within the ranges of :class:`RetouchParams`."""
    return RetouchParams(diameter=int(rng.choice([5, 7, 9])),
                         sigma_colour=float(rng.uniform(20.0, 80.0)),
                         sigma_space=float(rng.uniform(3.0, 9.0)),
                         strength=float(rng.uniform(0.5, 1.0)),
                         feather=float(rng.uniform(0.01, 0.05)))


def retouch_face(rgb_u8: np.ndarray, landmarks_xy: np.ndarray, rng: np.random.Generator,
                 params: RetouchParams | None = None) -> np.ndarray:
    """The crop with its face (the landmarks' face oval hull) smoothed, the rest untouched.

    Args:
        rgb_u8: (S, S, 3) uint8 real face crop.
        landmarks_xy: (478, 2) Face Mesh landmarks in crop pixels.
        rng: draws the parameters (unused when ``params`` is given).
        params: replay these instead of drawing new ones.

    Raises:
        SynthesisInputError: the crop or the landmarks are unusable.
    """
    check_face_inputs(rgb_u8, landmarks_xy)
    p = params if params is not None else sample_retouch_params(rng)
    h, w = rgb_u8.shape[:2]
    mask = hull_mask(landmarks_xy, (h, w), "facehull", reduced=False)
    mask = cv2.GaussianBlur(mask, (0, 0), max(p.feather * max(h, w), 0.5))
    smooth = cv2.bilateralFilter(np.ascontiguousarray(rgb_u8), p.diameter, p.sigma_colour,
                                 p.sigma_space)
    weight = (mask * np.float32(p.strength))[..., None]
    mixed = smooth.astype(np.float32) * weight + rgb_u8.astype(np.float32) * (1.0 - weight)
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
