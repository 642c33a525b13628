"""Noise residual: the local strength of the fine grain left when the picture is taken away.

A camera's sensor noise runs fairly evenly across a photo of similar brightness; a region
pasted in from another picture, generated, or smoothed by a face filter often has noise of a
different strength. The residual is the grey image minus its 3x3 median (edges survive a
median, so they leak less into the residual than with a blur), and the map shows its local
RMS over 8x8 pixels, divided by the image's 99th percentile, so brightness is relative to this
image (a dark, grainy photo and a clean studio shot both use the whole scale).
"""

from __future__ import annotations

import numpy as np

from engine.filters.base import FilterInfo, FilterResult, cell_size, check_rgb, tiled_map
from engine.jobs import CancelToken

__all__ = ["INFO", "noise_residual"]

_WINDOW_PX = 8
# NOTE: the 99th percentile maps to full brightness: one hot pixel cannot darken the rest.
_NORMALISE_PERCENTILE = 99.0

INFO = FilterInfo(
    name="noise",
    title="Noise residual",
    summary="the local strength of fine-grain noise (image minus its median-filtered copy)",
    guidance=(
        "How to read it: bright areas hold strong fine-grain noise, dark areas little; "
        "brightness is relative within this image. Sensor noise is fairly even across areas "
        "of similar brightness and texture. Look for a region (a face, an object) whose noise "
        "is clearly smoother or grainier than its surroundings, especially with a sharp or "
        "face-shaped boundary.\n"
        "What not to conclude: noise rises in dark areas and on texture (hair, foliage) and "
        "falls where the picture is blurred, out of focus, over-exposed or heavily compressed; "
        "beauty filters and phone noise reduction smooth skin on purpose, so a smooth face is "
        "common in genuine phone photos. Uneven noise is a reason to look, not proof."
    ),
)


def _local_rms(tile_rgb: np.ndarray) -> np.ndarray:
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(tile_rgb), cv2.COLOR_RGB2GRAY)
    residual = grey.astype(np.float32) - cv2.medianBlur(grey, 3).astype(np.float32)
    energy = cv2.blur(residual * residual, (_WINDOW_PX, _WINDOW_PX))
    return np.sqrt(energy)


def noise_residual(rgb_u8: np.ndarray, *, jpeg_quality: int | None = None,
                   cancel: CancelToken | None = None) -> FilterResult:
    """The noise-residual map of ``rgb_u8`` (``jpeg_quality`` is not used)."""
    check_rgb(rgb_u8)
    image_hw = (int(rgb_u8.shape[0]), int(rgb_u8.shape[1]))
    cell_px = cell_size(image_hw)
    # NOTE: the halo covers the 3x3 median and the 8x8 window, so tiles join without seams.
    rms = tiled_map(rgb_u8, cell_px, _local_rms, halo_px=_WINDOW_PX, cancel=cancel)
    scale = float(np.percentile(rms, _NORMALISE_PERCENTILE))
    heat = np.clip(rms / scale, 0.0, 1.0) if scale > 0 else np.zeros_like(rms)
    caption = (f"Noise residual: local RMS over {_WINDOW_PX}x{_WINDOW_PX} px; full brightness = "
               f"{scale:.1f} grey levels (this image's 99th percentile)")
    return FilterResult("noise", heat.astype(np.float32), cell_px, image_hw, caption)
