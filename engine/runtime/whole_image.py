"""Score a whole image (not a face crop) with a frame detector, without resizing it.

The GAN-image detector (Wang et al. 2020, ``gan_effl0``) looks for generator traces that any
resampling weakens, so its paper tests at the native resolution. Our exported graphs have a
fixed input size, so the image is cut into tiles of that size that cover it (evenly spaced,
overlapping where the size is not a multiple; at most ``max_tiles_per_axis`` per axis, spread
over the image when it is larger). Only an image smaller than one tile is upscaled, to one
tile. The network is global-average-pool + linear, so its logit on a big image is, up to border
effects, the mean of its logits on the tiles: the image logit is the mean tile logit, then the
detector's calibration applies. The map is the tiles' maps placed back and averaged.
torch-free (numpy, cv2): the packaged app runs it on the ONNX runtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.fusion.calibration import apply as apply_calibration
from engine.fusion.calibration import logit

__all__ = ["WholeImageScore", "image_tiles", "score_whole_image"]


@dataclass(frozen=True, eq=False)
class WholeImageScore:
    """A whole image's score.

    Attributes:
        p_fake_raw: uncalibrated probability (sigmoid of the mean tile logit).
        p_fake: calibrated probability.
        tile_p_fake: (K,) calibrated probability of each tile.
        tiles_xyxy: (K, 4) tile boxes in image pixels (after the upscale of a small image).
        scale: the upscale applied to the image (1.0 when none).
        map: (H, W) float32 map in [0, 1] over the (possibly upscaled) image, or ``None``.
    """

    p_fake_raw: float
    p_fake: float
    tile_p_fake: np.ndarray
    tiles_xyxy: np.ndarray
    scale: float
    map: np.ndarray | None


def _starts(length: int, tile: int, max_tiles: int) -> list[int]:
    n = min(max(1, -(-length // tile)), max_tiles)
    if n == 1:
        return [(length - tile) // 2]
    return [round(k * (length - tile) / (n - 1)) for k in range(n)]


def image_tiles(
    rgb_u8: np.ndarray, tile_px: int, *, max_tiles_per_axis: int = 8
) -> tuple[np.ndarray, np.ndarray, float]:
    """Cut an (H, W, 3) uint8 image into ``tile_px`` tiles.

    Returns:
        ``(tiles (K, tile, tile, 3), boxes_xyxy (K, 4) int, scale)``; ``scale`` > 1 when the
        image was smaller than a tile and was upscaled (bilinear) to fit one.

    Raises:
        ValueError: not an (H, W, 3) uint8 image.
    """
    import cv2

    img = np.asarray(rgb_u8)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 image; got {img.shape} {img.dtype}")
    scale = max(1.0, tile_px / min(img.shape[:2]))
    if scale > 1.0:
        width = max(tile_px, round(img.shape[1] * scale))
        height = max(tile_px, round(img.shape[0] * scale))
        img = cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR)
    tiles, boxes = [], []
    for y in _starts(img.shape[0], tile_px, max_tiles_per_axis):
        for x in _starts(img.shape[1], tile_px, max_tiles_per_axis):
            tiles.append(img[y : y + tile_px, x : x + tile_px])
            boxes.append((x, y, x + tile_px, y + tile_px))
    return np.stack(tiles), np.array(boxes, dtype=np.int64), scale


def _place_maps(maps: np.ndarray, boxes: np.ndarray, shape_hw: tuple[int, int]) -> np.ndarray:
    import cv2

    acc = np.zeros(shape_hw, dtype=np.float32)
    count = np.zeros(shape_hw, dtype=np.float32)
    for tile_map, (x0, y0, x1, y1) in zip(maps, boxes, strict=True):
        acc[y0:y1, x0:x1] += cv2.resize(tile_map.astype(np.float32), (x1 - x0, y1 - y0))
        count[y0:y1, x0:x1] += 1.0
    out = acc / np.maximum(count, 1.0)
    peak = float(out.max())
    return out / peak if peak > 0.0 else out


def score_whole_image(
    detector: Any, rgb_u8: np.ndarray, *, want_map: bool = False, max_tiles_per_axis: int = 8
) -> WholeImageScore:
    """Score an image with a loaded frame detector (``engine.runtime.load_detector``).

    Args:
        detector: a :class:`~engine.runtime.loaded.LoadedDetector` with ``clip_len == 1``
            whose ``face_margin`` equals the crop policy margin (so tiles are not resized).
        rgb_u8: (H, W, 3) uint8 image.
        want_map: also return the image map.
        max_tiles_per_axis: tiles per axis at most.

    Raises:
        ValueError: a clip detector, or a bad image.
    """
    cfg = detector.cfg
    if cfg.clip_len != 1:
        raise ValueError(f"{cfg.name} scores clips, not images")
    tiles, boxes, scale = image_tiles(rgb_u8, cfg.input_size,
                                      max_tiles_per_axis=max_tiles_per_axis)
    out = detector.predict(tiles, want_maps=want_map)
    z = float(np.mean(logit(out.p_fake_raw)))
    p_raw = 0.5 * (1.0 + np.tanh(0.5 * z))
    p_cal = float(apply_calibration(np.array([p_raw]), detector.calibration)[0])
    image_map = None
    if want_map and out.maps is not None:
        height = int(boxes[:, 3].max())
        width = int(boxes[:, 2].max())
        image_map = _place_maps(out.maps, boxes, (height, width))
    return WholeImageScore(float(p_raw), p_cal, np.asarray(out.p_fake), boxes, scale, image_map)
