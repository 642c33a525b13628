"""Initial blending masks: filled hulls of Face Mesh landmarks.

The SBI reference code gets its mask from Face X-ray's ``random_get_hull``, which picks one of
four shapes built on the 68 dlib points (DeepFaceLab-style masks): ``dfl_full`` (jaw+mouth,
nose ridge, eyes-to-brows hulls), ``components`` (eight part hulls), ``extended`` (components
with the brows pushed half their eye distance up the forehead) and ``facehull`` (convex hull of
all points). SBI feeds 81 points (68 + 13 forehead points) so ``facehull`` covers the forehead,
and in 25% of cases only the 68 (hull stops at the brows). With the 468-point mesh the
81-point hull is the face-oval hull, and the 68 points are the mesh points nearest to the dlib
ones, so the same four shapes and the same "reduced set" switch carry over unchanged. The
oval and the reduced set come from ``engine.faces.landmark_sets``.

**Part shapes** (``"parts:<part>+<part>..."``, :data:`PART_SHAPES`) are not the reference's:
the hull of one or more of the eyes (each with its brow), the nose and the mouth, grown by a
tenth of the eye distance. A photo composite made by hand replaces one part of a face with
another person's (an eye, the mouth), and detectors that only ever saw blends ending at the face
outline are nearly blind to it (``engine.evaluation.part_composites``). Training draws them
only with ``part_prob`` (``engine.training.datasets.PairRecipe``); the four reference shapes
and their draws are unchanged.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.errors import SynthesisInputError
from engine.faces.landmark_sets import FACE_NO_FOREHEAD, FACE_OVAL

__all__ = ["FACE_OVAL", "HULL_SHAPES", "LM68_FROM_MESH", "PARTS", "PART_SHAPES", "hull_mask",
           "landmarks_68", "part_shape"]

# NOTE: mesh index closest to each dlib-68 point, in dlib order (jaw 0-16 from the image left,
# brows 17-26, nose 27-35, eyes 36-47, outer lips 48-59, inner lips 60-67).
LM68_FROM_MESH: tuple[int, ...] = (
    127, 234, 93, 132, 58, 136, 150, 176, 152, 400, 379, 365, 288, 361, 323, 454, 356,
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
    168, 197, 5, 4, 75, 97, 2, 326, 305,
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,
    78, 82, 13, 312, 308, 317, 14, 87,
)  # fmt: skip

HULL_SHAPES: tuple[str, ...] = ("dfl_full", "extended", "components", "facehull")

# NOTE: dlib-68 indices of each replaceable part (eye = its brow and its eye; in image order).
PARTS: dict[str, tuple[int, ...]] = {
    "left_eye": (*range(17, 22), *range(36, 42)),
    "right_eye": (*range(22, 27), *range(42, 48)),
    "nose": tuple(range(27, 36)),
    "mouth": tuple(range(48, 60)),
}
_PART_PREFIX = "parts:"
_PART_GROW = 0.1  # of the distance between the eye centres, on every side of each part hull


def part_shape(parts: tuple[str, ...] | list[str]) -> str:
    """The hull-shape name of a set of :data:`PARTS` (order-free: one name per set)."""
    unknown = [p for p in parts if p not in PARTS]
    if not parts or unknown:
        raise SynthesisInputError(f"parts must be a non-empty subset of {tuple(PARTS)}; "
                                  f"got {tuple(parts)}")
    return _PART_PREFIX + "+".join(p for p in PARTS if p in parts)


# Every non-empty set of parts (15), in a fixed order: what a hand-made composite replaces.
PART_SHAPES: tuple[str, ...] = tuple(
    part_shape([p for bit, p in enumerate(PARTS) if code >> bit & 1])
    for code in range(1, 2 ** len(PARTS)))


def landmarks_68(landmarks_xy: np.ndarray) -> np.ndarray:
    """The dlib-68 equivalent points (68, 2) of a Face Mesh landmark array."""
    return np.asarray(landmarks_xy)[list(LM68_FROM_MESH)]


def hull_mask(
    landmarks_xy: np.ndarray, shape_hw: tuple[int, int], hull_shape: str, reduced: bool
) -> np.ndarray:
    """Filled hull mask (H, W) float32 in [0, 1].

    Args:
        landmarks_xy: (478, 2) Face Mesh landmarks in pixels of the (H, W) image.
        shape_hw: (H, W) of the mask.
        hull_shape: one of ``HULL_SHAPES`` or ``PART_SHAPES``.
        reduced: use the reduced set (jaw + brows, ``FACE_NO_FOREHEAD``: the dlib-68 hull)
            instead of the face oval. Only ``facehull`` reads it, as in the reference, where
            the other shapes only use the first 68 points.
    """
    if hull_shape in PART_SHAPES:
        return _part_mask(landmarks_68(landmarks_xy), shape_hw, hull_shape)
    if hull_shape not in HULL_SHAPES:
        raise SynthesisInputError(f"unknown hull shape {hull_shape!r}; valid: {HULL_SHAPES} "
                                  f"or {PART_SHAPES}")
    mask = np.zeros(tuple(shape_hw), dtype=np.float32)
    # NOTE: the reference casts landmarks to int32 before drawing; so do we.
    lm68 = landmarks_68(landmarks_xy).astype(np.int32)
    if hull_shape == "facehull":
        index_set = FACE_NO_FOREHEAD if reduced else FACE_OVAL
        points = np.asarray(landmarks_xy)[list(index_set)].astype(np.int32)
        cv2.fillConvexPoly(mask, cv2.convexHull(points), 1.0, lineType=cv2.LINE_AA)
        return mask
    parts = _PART_BUILDERS[hull_shape](lm68)
    for part in parts:
        cv2.fillConvexPoly(mask, cv2.convexHull(np.concatenate(part)), 1.0)
    return mask


def _part_mask(lm68: np.ndarray, shape_hw: tuple[int, int], hull_shape: str) -> np.ndarray:
    """The union of the named parts' hulls, each grown by ``_PART_GROW`` of the eye distance."""
    eye_distance = float(np.linalg.norm(lm68[36:42].mean(0) - lm68[42:48].mean(0)))
    grow = max(1, round(_PART_GROW * eye_distance))
    mask = np.zeros(tuple(shape_hw), dtype=np.uint8)
    for name in hull_shape[len(_PART_PREFIX):].split("+"):
        cv2.fillConvexPoly(mask, cv2.convexHull(lm68[list(PARTS[name])].astype(np.int32)), 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    return cv2.dilate(mask, kernel).astype(np.float32)


def _dfl_full_parts(lm: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    nose_ridge = (lm[27:31], lm[33:34])
    jaw = (lm[0:17], lm[48:68], lm[0:1], lm[8:9], lm[16:17])
    eyes = (lm[17:27], lm[0:1], lm[27:28], lm[16:17], lm[33:34])
    return [jaw, nose_ridge, eyes]


def _components_parts(lm: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    r_jaw = (lm[0:9], lm[17:18])
    l_jaw = (lm[8:17], lm[26:27])
    r_cheek = (lm[17:20], lm[8:9])
    l_cheek = (lm[24:27], lm[8:9])
    nose_ridge = (lm[19:25], lm[8:9])
    r_eye = (lm[17:22], lm[27:28], lm[31:36], lm[8:9])
    l_eye = (lm[22:27], lm[27:28], lm[31:36], lm[8:9])
    nose = (lm[27:31], lm[31:36])
    return [r_jaw, l_jaw, r_cheek, l_cheek, nose_ridge, r_eye, l_eye, nose]


def _extended_parts(lm: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    lm = lm.copy()
    # Mid points between the face side and the outer eye corners, then halfway to the eye.
    ml_pnt = (lm[36] + lm[0]) // 2
    mr_pnt = (lm[16] + lm[45]) // 2
    ql_pnt = (lm[36] + ml_pnt) // 2
    qr_pnt = (lm[45] + mr_pnt) // 2
    bot_l = np.array((ql_pnt, lm[36], lm[37], lm[38], lm[39]))
    bot_r = np.array((lm[42], lm[43], lm[44], lm[45], qr_pnt))
    top_l = lm[17:22].copy()
    top_r = lm[22:27].copy()
    # Push each brow point up by half its distance to the eye below it (towards the forehead).
    lm[17:22] = top_l + ((top_l - bot_l) // 2)
    lm[22:27] = top_r + ((top_r - bot_r) // 2)
    return _components_parts(lm)


_PART_BUILDERS = {
    "dfl_full": _dfl_full_parts,
    "components": _components_parts,
    "extended": _extended_parts,
}
