"""Box geometry shared by face detection and tracking: IoU, non-maximum suppression, tiling.

Pure numpy, no MediaPipe, so tracking and tests can use it without loading any model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["containment", "iou_matrix", "nms", "tile_origins"]

BoxXYXY = tuple[float, float, float, float]


def iou_matrix(boxes_a: Sequence[BoxXYXY], boxes_b: Sequence[BoxXYXY]) -> np.ndarray:
    """(len(a), len(b)) float64 intersection-over-union of two lists of xyxy boxes."""
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    inter = _intersection(a, b)
    union = _area(a)[:, None] + _area(b)[None, :] - inter
    return np.where(union > 0.0, inter / np.where(union > 0.0, union, 1.0), 0.0)


def containment(boxes_a: Sequence[BoxXYXY], boxes_b: Sequence[BoxXYXY]) -> np.ndarray:
    """(len(a), len(b)) share of each box of ``a``'s area that lies inside each box of ``b``."""
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    inter = _intersection(a, b)
    area_a = _area(a)
    return np.where(
        area_a[:, None] > 0.0, inter / np.where(area_a > 0.0, area_a, 1.0)[:, None], 0.0
    )


def _intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ix0 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy0 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix1 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy1 = np.minimum(a[:, None, 3], b[None, :, 3])
    return np.clip(ix1 - ix0, 0.0, None) * np.clip(iy1 - iy0, 0.0, None)


def _area(boxes: np.ndarray) -> np.ndarray:
    return np.clip(boxes[:, 2] - boxes[:, 0], 0.0, None) * np.clip(
        boxes[:, 3] - boxes[:, 1], 0.0, None
    )


def nms(boxes: Sequence[BoxXYXY], scores: Sequence[float], iou_threshold: float) -> list[int]:
    """Indices of the boxes kept by greedy non-maximum suppression, highest score first."""
    if len(boxes) == 0:
        return []
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])
    ious = iou_matrix(boxes, boxes)
    keep: list[int] = []
    for i in order:
        if all(ious[i, k] <= iou_threshold for k in keep):
            keep.append(i)
    return keep


def tile_origins(length_px: int, tile_px: int, overlap: float = 0.25) -> list[int]:
    """Start offsets of overlapping tiles of side ``tile_px`` that cover ``length_px``.

    One tile (offset 0) when the length is at most 1.25 tiles: tiling then adds little over the
    whole-frame pass. Otherwise tiles overlap by at least ``overlap`` of a tile, so a face
    smaller than the overlap lies whole inside some tile.
    """
    # NOTE: 1.25 keeps frames up to 800 px untiled with the default 640 px tile; 1280x720 gets
    # 3 x 1 tiles, 1920x1080 4 x 2.
    if length_px <= tile_px * 1.25:
        return [0]
    step = tile_px * (1.0 - overlap)
    n_tiles = math.ceil((length_px - tile_px) / step) + 1
    return [round(v) for v in np.linspace(0, length_px - tile_px, n_tiles)]
