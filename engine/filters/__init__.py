"""Classic forensic filters: error level analysis, noise residual and JPEG ghosts.

Each filter turns an (H, W, 3) uint8 RGB image into an (h, w) float32 map in [0, 1] at a
bounded resolution (see ``engine.filters.base``), and carries its own "how to read this / what
not to conclude" text next to its code (``INFO.guidance``), which the app shows beside the
overlay and the report prints. The filters are looked up by name here; nothing dispatches on a
name elsewhere. They are display aids for an analyst, not detectors: none gives a score.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.filters import ela, ghost, noise
from engine.filters.base import FilterInfo, FilterResult
from engine.jobs import CancelToken

__all__ = ["FilterInfo", "FilterResult", "apply_filter", "list_filters", "render_filter"]

_Filter = Callable[..., FilterResult]
_FILTERS: dict[str, tuple[FilterInfo, _Filter]] = {
    ela.INFO.name: (ela.INFO, ela.error_level),
    noise.INFO.name: (noise.INFO, noise.noise_residual),
    ghost.INFO.name: (ghost.INFO, ghost.jpeg_ghost),
}


def list_filters() -> list[FilterInfo]:
    """Every filter, in the order the app offers them."""
    return [info for info, _ in _FILTERS.values()]


def apply_filter(name: str, rgb_u8: np.ndarray, *, jpeg_quality: int | None = None,
                 cancel: CancelToken | None = None) -> FilterResult:
    """Run filter ``name`` on ``rgb_u8`` (``jpeg_quality``: the image's own, if a JPEG).

    Raises:
        JobCancelled: ``cancel`` was set (checked between tiles).
        KeyError: unknown filter name (the message lists the known ones).
        ValueError: ``rgb_u8`` is not a (H, W, 3) uint8 image.
    """
    if name not in _FILTERS:
        raise KeyError(f"unknown filter {name!r}; known: {', '.join(_FILTERS)}")
    return _FILTERS[name][1](rgb_u8, jpeg_quality=jpeg_quality, cancel=cancel)


def render_filter(result: FilterResult) -> np.ndarray:
    """The map as an (h, w, 3) uint8 RGB image (inferno colour map, dark = low)."""
    import cv2

    heat_u8 = np.round(np.clip(result.map_f32, 0.0, 1.0) * 255.0).astype(np.uint8)
    rgb: np.ndarray = cv2.cvtColor(cv2.applyColorMap(heat_u8, cv2.COLORMAP_INFERNO),
                                   cv2.COLOR_BGR2RGB)
    return rgb
