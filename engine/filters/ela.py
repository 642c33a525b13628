"""Error level analysis (ELA): how much each part of a JPEG changes when it is saved again.

Saving a JPEG again at a fixed quality changes the parts that have not yet "settled" at that
quality more than the rest (Krawetz 2007). In an unedited photo, areas of similar texture change
by similar amounts; a pasted region, or one edited after the last save, can change by more or
less than its surroundings. The map is the absolute difference after one re-save at quality
:data:`ELA_QUALITY` (the largest of the R, G, B differences), on a fixed scale
(:data:`FULL_SCALE` grey levels = brightest), so two images' maps can be compared.
"""

from __future__ import annotations

import numpy as np

from engine.filters.base import FilterInfo, FilterResult, cell_size, check_rgb, tiled_map
from engine.jobs import CancelToken

__all__ = ["ELA_QUALITY", "FULL_SCALE", "INFO", "error_level"]

# NOTE: quality 90 is the usual ELA setting (Forensically, FotoForensics): low enough that an
# unsaved region changes visibly, high enough that a settled one barely does.
ELA_QUALITY = 90
# NOTE: a difference of 12 grey levels (largest of R, G, B) shows at full brightness; a settled
# area of a quality-90 photo differs by 0-3, detail saved only once at a high quality by 5-20.
FULL_SCALE = 12.0

INFO = FilterInfo(
    name="ela",
    title="Error level (ELA)",
    summary=f"how much each area changes when the image is saved again as JPEG (quality "
            f"{ELA_QUALITY})",
    guidance=(
        "How to read it: bright areas changed a lot when the image was saved again as JPEG, "
        "dark areas hardly at all. In an unedited JPEG, areas with similar texture and edges "
        "look similarly bright (edges and fine detail brighter, smooth areas dark). Look for a "
        "region, such as a face, that is clearly brighter or darker than comparable detail "
        "elsewhere, or whose outline shows where the picture has no edge.\n"
        "What not to conclude: brightness follows texture and edges, so a detailed face is "
        "brighter than a smooth wall without any edit. A file saved many times looks evenly "
        "dark; resized, recoloured or screenshot images, PNGs and video frames make ELA "
        "unreliable. A difference is a reason to look closer, never proof of manipulation."
    ),
)


def _re_save_difference(tile_rgb: np.ndarray) -> np.ndarray:
    import cv2

    bgr = np.ascontiguousarray(tile_rgb[:, :, ::-1])
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, ELA_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    diff = np.abs(decoded.astype(np.int16) - bgr.astype(np.int16)).max(axis=2)
    return diff.astype(np.float32)


def error_level(rgb_u8: np.ndarray, *, jpeg_quality: int | None = None,
                cancel: CancelToken | None = None) -> FilterResult:
    """The ELA map of ``rgb_u8`` (``jpeg_quality`` is not used: ELA re-saves at a fixed one)."""
    check_rgb(rgb_u8)
    image_hw = (int(rgb_u8.shape[0]), int(rgb_u8.shape[1]))
    cell_px = cell_size(image_hw)
    diff = tiled_map(rgb_u8, cell_px, _re_save_difference, cancel=cancel)
    heat = np.clip(diff / FULL_SCALE, 0.0, 1.0).astype(np.float32)
    caption = (f"ELA: re-saved at quality {ELA_QUALITY}; full brightness = {FULL_SCALE:.0f} "
               "grey levels of difference")
    return FilterResult("ela", heat, cell_px, image_hw, caption)
