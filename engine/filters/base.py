"""What a forensic filter is and returns, and the tiling that bounds its memory.

A filter maps an (H, W, 3) uint8 RGB image to an (h, w) float32 map in [0, 1] at a reduced
resolution: each map cell covers ``cell_px`` x ``cell_px`` image pixels (the last row and
column may cover fewer). The work runs tile by tile, so a 50-megapixel photo needs a few tens
of MB beyond the image itself, and the map has at most :data:`MAX_MAP_SIDE` cells on its long
side, which is all a screen or a report can show. Tiles start on multiples of 16 pixels from
the image origin, so JPEG-based filters see the image's own 8x8 (and 16x16 chroma) grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from engine.jobs import CancelToken

__all__ = [
    "MAX_MAP_SIDE", "FilterInfo", "FilterResult", "block_mean", "cell_size", "check_rgb",
    "tiled_map", "tiles",
]

# NOTE: 1024 cells on the long side: finer than the frame view shows a frame at full window
# size, and a (1024, 1024) float32 map is 4 MB.
MAX_MAP_SIDE = 1024
# NOTE: 1024-pixel tiles: a (1024, 1024, 3) float32 tile and its re-encoded copy take 25 MB.
_TILE_TARGET_PX = 1024
_GRID_PX = 16


@dataclass(frozen=True)
class FilterInfo:
    """A filter as the GUI lists it and the report describes it.

    Attributes:
        name: id (``"ela"``, ``"noise"``, ``"jpeg_ghost"``).
        title: button or menu text.
        summary: one line on what it shows.
        guidance: how to read it and what not to conclude (shown beside it and in reports).
    """

    name: str
    title: str
    summary: str
    guidance: str


@dataclass(frozen=True, eq=False)
class FilterResult:
    """One filter's output on one image.

    Attributes:
        name: the filter id.
        map_f32: (h, w) float32 in [0, 1]; brighter means "more of what the filter measures".
        cell_px: image pixels per map cell along each axis.
        image_hw: (H, W) of the image it was computed on.
        caption: what was computed, with its parameters ("re-saved at quality 90").
    """

    name: str
    map_f32: np.ndarray
    cell_px: int
    image_hw: tuple[int, int]
    caption: str


def cell_size(image_hw: tuple[int, int], multiple: int = 1) -> int:
    """Image pixels per map cell: the least multiple of ``multiple`` that keeps the map small."""
    per_cell = max(1, math.ceil(max(image_hw) / MAX_MAP_SIDE))
    return math.ceil(per_cell / multiple) * multiple


def tiles(image_hw: tuple[int, int], cell_px: int) -> Iterator[tuple[slice, slice]]:
    """Row and column slices of tiles that start on the 16-pixel grid and on cell boundaries."""
    step = math.lcm(_GRID_PX, cell_px)
    size = max(step, _TILE_TARGET_PX // step * step)
    height, width = image_hw
    for top in range(0, height, size):
        for left in range(0, width, size):
            yield slice(top, min(top + size, height)), slice(left, min(left + size, width))


def block_mean(values: np.ndarray, cell_px: int) -> np.ndarray:
    """(h, w) means of ``cell_px`` blocks of a 2-D array, edge blocks over what they cover."""
    if cell_px == 1:
        return values.astype(np.float32)
    h, w = values.shape
    pad_h, pad_w = -h % cell_px, -w % cell_px
    padded = np.pad(values, ((0, pad_h), (0, pad_w)), mode="edge") if pad_h or pad_w else values
    out = padded.reshape(padded.shape[0] // cell_px, cell_px, padded.shape[1] // cell_px, cell_px)
    return out.mean(axis=(1, 3)).astype(np.float32)


def tiled_map(rgb_u8: np.ndarray, cell_px: int,
              per_tile: Callable[[np.ndarray], np.ndarray], halo_px: int = 0,
              cancel: CancelToken | None = None) -> np.ndarray:
    """Run ``per_tile`` (tile -> (th, tw) float values) on every tile; block means assembled.

    With ``halo_px``, each tile is handed over with that many extra pixels on every side (where
    the image has them), so neighbourhood filters see no seams; the halo is cut off again.

    Raises:
        JobCancelled: ``cancel`` was set (checked before every tile).
    """
    height, width = rgb_u8.shape[:2]
    out = np.zeros((math.ceil(height / cell_px), math.ceil(width / cell_px)), np.float32)
    for rows, cols in tiles((height, width), cell_px):
        if cancel is not None:
            cancel.raise_if_cancelled()
        top, left = max(0, rows.start - halo_px), max(0, cols.start - halo_px)
        bottom, right = min(height, rows.stop + halo_px), min(width, cols.stop + halo_px)
        values = per_tile(rgb_u8[top:bottom, left:right])
        values = values[rows.start - top : rows.stop - top, cols.start - left : cols.stop - left]
        cells = block_mean(values, cell_px)
        r0, c0 = rows.start // cell_px, cols.start // cell_px
        out[r0 : r0 + cells.shape[0], c0 : c0 + cells.shape[1]] = cells
    return out


def check_rgb(rgb_u8: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``rgb_u8`` is a non-empty (H, W, 3) uint8 image."""
    if rgb_u8.ndim != 3 or rgb_u8.shape[2] != 3 or rgb_u8.dtype != np.uint8 or 0 in rgb_u8.shape:
        raise ValueError(f"expected a (H, W, 3) uint8 image, got {rgb_u8.shape} {rgb_u8.dtype}")
