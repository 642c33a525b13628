"""Random smooth deformations of blending masks (and images), seeded for replay.

Two kinds: the elastic transform SBI applies to its mask (albumentations ``ElasticTransform``
with ``alpha_affine=0``: uniform noise in [-1, 1] per pixel, Gaussian-smoothed with ``sigma``
and scaled by ``alpha``, used as a per-pixel displacement), and the piecewise-affine grid jitter
Face X-ray's blended-image generator applies (imgaug ``PiecewiseAffine``: a 4x4 grid of control
points each moved by a normal offset of ``scale`` times the image size). For the grid we
interpolate the control-point offsets bilinearly between grid cells instead of triangulating;
both are piecewise-linear warps of the same control points.

Each field is drawn from its own ``np.random.Generator`` seeded by an integer stored with the
blend parameters, so a blend can be replayed exactly and a video can keep one deformation.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter

__all__ = ["elastic_displacement", "grid_displacement", "warp_with_displacement"]


def elastic_displacement(
    shape_hw: tuple[int, int], alpha: float, sigma: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(dx, dy) float32 fields: U(-1, 1) noise smoothed by ``sigma`` px, times ``alpha`` px."""
    rng = np.random.default_rng(seed)
    h, w = shape_hw
    dx = gaussian_filter(rng.random((h, w)) * 2 - 1, sigma) * alpha
    dy = gaussian_filter(rng.random((h, w)) * 2 - 1, sigma) * alpha
    return dx.astype(np.float32), dy.astype(np.float32)


def grid_displacement(
    shape_hw: tuple[int, int], scale: float, seed: int, n_grid: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """(dx, dy) float32 fields from an ``n_grid`` x ``n_grid`` control grid spanning the image
    (corners included); each point moves by N(0, scale * side) px, bilinear in between."""
    rng = np.random.default_rng(seed)
    h, w = shape_hw
    offsets_x = rng.normal(0.0, scale * w, size=(n_grid, n_grid)).astype(np.float32)
    offsets_y = rng.normal(0.0, scale * h, size=(n_grid, n_grid)).astype(np.float32)
    return _upsample_corners(offsets_x, (h, w)), _upsample_corners(offsets_y, (h, w))


def _upsample_corners(grid: np.ndarray, shape_hw: tuple[int, int]) -> np.ndarray:
    """Bilinear interpolation of a grid whose outer points sit ON the image corners."""
    h, w = shape_hw
    n_rows, n_cols = grid.shape
    ys = np.linspace(0.0, n_rows - 1.0, h, dtype=np.float32)
    xs = np.linspace(0.0, n_cols - 1.0, w, dtype=np.float32)
    map_x, map_y = np.meshgrid(xs, ys)
    return cv2.remap(grid, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def warp_with_displacement(
    image: np.ndarray,
    dx: np.ndarray,
    dy: np.ndarray,
    *,
    interpolation: int,
    border_mode: int = cv2.BORDER_REFLECT_101,
) -> np.ndarray:
    """Sample ``image`` at (x + dx, y + dy) for every output pixel (x, y)."""
    h, w = image.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(image, xs + dx, ys + dy, interpolation=interpolation, borderMode=border_mode)
