"""The EXIF thumbnail compared with the main image: same picture, or a different one?

Cameras write a small preview into EXIF when they save the photo. Editors that change the
pixels and keep the EXIF block without regenerating the preview leave the *original* picture
in the thumbnail: a classic sign that the main image was changed after capture (or that the
EXIF block came from another photo). A thumbnail that matches says nothing either way.

Both are compared in grey at the thumbnail's size. Thumbnails often have black bars (a 3:2
photo in a 160x120 preview), so the main image is fitted into the thumbnail box the way a
camera does and only the covered area is compared. The verdict uses the mean absolute
difference over the whole picture and the largest one over a 4x4 grid of cells (so a changed
face in one corner is not averaged away).
"""

from __future__ import annotations

import io

import numpy as np

from engine.provenance.model import ThumbnailCheck

__all__ = ["compare_thumbnail"]

# NOTE: measured on 16 video frames and portraits with a letterboxed 160x120 thumbnail saved
# at q 75: the same picture gave a mean difference of at most 2.9 and a worst cell of at most
# 4.3 grey levels; the picture with 1/16 of it inverted gave a worst cell of 16-57. Cameras
# resample and sharpen previews differently from Pillow, hence thresholds well above 4.3.
_GLOBAL_DIFFERS = 10.0
_CELL_DIFFERS = 14.0
_GRID = 4
_MAX_MAIN_PIXELS = 60_000_000
_MAX_THUMB_PIXELS = 1_000_000


def _grey(img: object) -> np.ndarray:
    return np.asarray(img.convert("L"), dtype=np.float32)  # type: ignore[attr-defined]


def _fit_box(main_wh: tuple[int, int], box_wh: tuple[int, int]) -> tuple[int, int]:
    """The size of the main image fitted inside the thumbnail box, aspect kept."""
    scale = min(box_wh[0] / main_wh[0], box_wh[1] / main_wh[1])
    return max(1, round(main_wh[0] * scale)), max(1, round(main_wh[1] * scale))


def _main_small(data: bytes, size_wh: tuple[int, int]) -> np.ndarray | None:
    """The main image in grey at ``size_wh`` (JPEG decoded at reduced scale: cheap)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        if img.width * img.height > _MAX_MAIN_PIXELS:
            return None
        img.draft("L", (size_wh[0] * 2, size_wh[1] * 2))
        small = img.convert("L").resize(size_wh, Image.Resampling.BOX)
    return _grey(small)


def _cell_max(diff: np.ndarray) -> float:
    h, w = diff.shape
    worst = 0.0
    for i in range(_GRID):
        for j in range(_GRID):
            rows = slice(i * h // _GRID, (i + 1) * h // _GRID)
            cell = diff[rows, j * w // _GRID : (j + 1) * w // _GRID]
            if cell.size:
                worst = max(worst, float(cell.mean()))
    return worst


def compare_thumbnail(data: bytes, thumbnail_jpeg: bytes) -> ThumbnailCheck:
    """Compare the image in ``data`` with its EXIF thumbnail; never raises on broken input."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(thumbnail_jpeg)) as thumb_img:
            tw, th = thumb_img.size
            if tw * th > _MAX_THUMB_PIXELS or min(tw, th) < 8:
                return ThumbnailCheck("not compared", tw, th, None,
                                      f"the thumbnail is {tw}x{th}: not a usable preview")
            thumb = _grey(thumb_img)
        with Image.open(io.BytesIO(data)) as main_img:
            main_wh = main_img.size
        fit_w, fit_h = _fit_box(main_wh, (tw, th))
        main = _main_small(data, (fit_w, fit_h))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return ThumbnailCheck("not compared", 0, 0, None, f"cannot decode it: {exc}")
    if main is None:
        return ThumbnailCheck("not compared", tw, th, None, "the main image is too large")
    top, left = (th - fit_h) // 2, (tw - fit_w) // 2
    covered = thumb[top : top + fit_h, left : left + fit_w]
    diff = np.abs(covered - main)
    global_mad, cell_mad = float(diff.mean()), _cell_max(diff)
    differs = global_mad > _GLOBAL_DIFFERS or cell_mad > _CELL_DIFFERS
    detail = (f"compared in grey at {fit_w}x{fit_h}: mean difference {global_mad:.1f}, worst "
              f"of a {_GRID}x{_GRID} grid {cell_mad:.1f} grey levels (0-255)")
    return ThumbnailCheck("differs" if differs else "same", tw, th, round(global_mad, 2), detail)
