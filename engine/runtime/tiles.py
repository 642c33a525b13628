"""Score a picture, or a region of it, with a native-tile detector: tiles, never resizing.

The generated-image detector (``gen_nprnet``, ``input_mode = "native_tiles"``) looks for pixel
traces that any resampling weakens, so it sees the picture at its own resolution:

- **Tiles.** The region is covered by a grid of ``tile_px`` squares (evenly spaced, overlapping
  where the size is not a multiple). A region narrower than a tile gets tiles of its own width
  or height (the ONNX graph takes any size): an 8000 x 300 panorama is a row of 128 px tiles,
  a 60 x 90 picture one 60 x 90 tile. A region under ``min_side_px`` is not scored (``None``:
  too small to hold a trace); nothing is ever upscaled.
- **Bounded work.** When the grid has more than ``max_tiles`` tiles, an evenly spaced subset
  is scored (``phase`` shifts it, so consecutive video frames look at different places). A
  50 MP photo therefore costs what ``max_tiles`` tiles cost, and no tensor holds the photo.
- **Pooling.** The region's logit is the mean of the top ``top_fraction`` of the tile logits
  (at least one). Why not the mean of all: traces vanish in flat, dark, clipped or blurred
  tiles, which then vote "real" and dilute the evidence, and a partly generated picture has
  traces in some tiles only. Why not the maximum: with 64 tiles, the one most unusual tile of
  a real photo is a false alarm. The calibration of the card is fitted on this pooled logit.
- **Map.** The explanation is the calibrated probability of each tile, painted over the region
  (:func:`tile_map`), and each tile's class activation map (``TileScore.cams``).

torch-free (numpy + the runtime): the packaged app runs it on ONNX Runtime.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.fusion.calibration import apply as apply_calibration
from engine.fusion.calibration import sigmoid

__all__ = [
    "TilePolicy",
    "TileScore",
    "crop_square_of",
    "face_region",
    "normalise_tiles",
    "plan_tiles",
    "pool_logits",
    "score_region",
    "tile_map",
]

# NOTE: tiles per runtime call. ONNX Runtime's arena keeps the largest batch's activations:
# two 256 px tile detectors held 755 MB after batches of 16 and 280 MB after batches of 4,
# at the same speed a tile (8-11 ms); in the app a 12 MP photo raises peak RSS by 218-226 MB
# with 4 against 312-313 MB with 16 (bench/bench_tile_memory.py; docs/PERFORMANCE.md).
_BATCH = 4


@dataclass(frozen=True)
class TilePolicy:
    """How a native-tile detector covers a picture (recorded in the model card).

    Attributes:
        tile_px: tile side (the detector's ``input_size``).
        top_fraction: share of the highest tile logits that are averaged.
        max_tiles_image: tiles per still image at most.
        max_tiles_frame: tiles per sampled video frame at most.
        max_tiles_face: tiles per face region of a still image at most.
        max_tiles_face_frame: tiles per face region of a video frame at most.
        min_side_px: regions with a shorter side are not scored.
        fixed_size: the network's graph takes ``tile_px`` squares only (``gan_effl0``'s
            ONNX export): a tile narrower than that (a picture smaller than one tile) is
            upscaled to it, the one resampling this mode allows. ``False``: any tile size.
        score_faces: also score each face's region. ``False``: the detector scores whole
            pictures only (``gan_effl0``: its face regions rank other people's generated faces
            no better than chance on the dev bench, its whole pictures do; docs/MODELS_GEN.md).
        score_picture: score the whole picture. ``False``: face regions only
            (``gen_probe_face_effl0``: a decoder-made face inside a picture that is not, the
            trace of a face swap; docs/MODELS_GEN.md, run 12).
    """

    # NOTE: budgets from bench/bench_gen.py (docs/MODELS_GEN.md; 6-9 ms a tile on 2 threads):
    # a 12 MP photo well inside 1.5 s and a 32-frame video inside 2 s extra on 2 busy cores; a
    # video's 32 frames together hold 96 picture tiles at shifting places, so each needs few.
    tile_px: int = 128
    top_fraction: float = 0.25
    max_tiles_image: int = 64
    max_tiles_frame: int = 3
    max_tiles_face: int = 4
    max_tiles_face_frame: int = 2
    min_side_px: int = 32
    fixed_size: bool = False
    score_faces: bool = True
    score_picture: bool = True

    def __post_init__(self) -> None:
        if not (self.score_faces or self.score_picture):
            raise ValueError("a tile policy must score the picture, its faces or both")
        if not 0.0 < self.top_fraction <= 1.0:
            raise ValueError("top_fraction must lie in (0, 1]")
        budgets = (self.max_tiles_image, self.max_tiles_frame, self.max_tiles_face,
                   self.max_tiles_face_frame)
        if min(budgets) < 1:
            raise ValueError("every tile budget must be >= 1")
        if not 1 <= self.min_side_px <= self.tile_px:
            raise ValueError("min_side_px must lie in [1, tile_px]")


@dataclass(frozen=True, eq=False)
class TileScore:
    """A region's score.

    Attributes:
        p_fake_raw: sigmoid of the pooled logit.
        p_fake: calibrated probability (the detector's card).
        tile_logits: (K,) float64 raw logit of each tile.
        tile_p_fake: (K,) float64 calibrated probability of each tile.
        tiles_xyxy: (K, 4) int64 tile boxes in picture pixels.
        region_xyxy: the scored region (x0, y0, x1, y1) in picture pixels.
        cams: (K, h, w) float32 raw class activation map of each tile, or ``None``.
    """

    p_fake_raw: float
    p_fake: float
    tile_logits: np.ndarray
    tile_p_fake: np.ndarray
    tiles_xyxy: np.ndarray
    region_xyxy: tuple[int, int, int, int]
    cams: np.ndarray | None = None


def _starts(length: int, tile: int) -> list[int]:
    n = max(1, math.ceil(length / tile))
    if n == 1:
        return [0]
    return [round(k * (length - tile) / (n - 1)) for k in range(n)]


def plan_tiles(
    region_xyxy: tuple[int, int, int, int], tile_px: int, max_tiles: int, *, phase: int = 0
) -> np.ndarray:
    """Tile boxes (K, 4) covering the region, ``K <= max_tiles`` (see the module docstring)."""
    x0, y0, x1, y1 = region_xyxy
    tw, th = min(tile_px, x1 - x0), min(tile_px, y1 - y0)
    boxes = [(x0 + x, y0 + y, x0 + x + tw, y0 + y + th)
             for y in _starts(y1 - y0, th) for x in _starts(x1 - x0, tw)]
    if len(boxes) > max_tiles:
        step = len(boxes) / max_tiles
        offset = (phase % max(1, int(step))) if step >= 2 else 0
        boxes = [boxes[min(len(boxes) - 1, int(k * step) + offset)] for k in range(max_tiles)]
    return np.array(boxes, dtype=np.int64)


def pool_logits(logits: np.ndarray, top_fraction: float) -> float:
    """Mean of the ``ceil(top_fraction * K)`` highest logits."""
    z = np.sort(np.asarray(logits, dtype=np.float64).ravel())[::-1]
    k = max(1, math.ceil(top_fraction * len(z)))
    return float(z[:k].mean())


def normalise_tiles(tiles_u8: np.ndarray, cfg: Any) -> np.ndarray:
    """(N, h, w, 3) uint8 tiles -> (N, 3, h, w) float32 with the cfg's mean/std, not resized."""
    from engine.runtime.cfg import preprocess

    if cfg.input_mode != "native_tiles":
        raise ValueError(f"{cfg.name} takes face crops, not native tiles")
    return preprocess(np.ascontiguousarray(tiles_u8), cfg)


def score_region(
    detector: Any, rgb_u8: np.ndarray, region_xyxy: tuple[int, int, int, int] | None = None, *,
    policy: TilePolicy, max_tiles: int, phase: int = 0, want_cams: bool = False,
) -> TileScore | None:
    """Score ``region_xyxy`` of an (H, W, 3) uint8 picture (``None``: the whole picture).

    Args:
        detector: a :class:`~engine.runtime.loaded.LoadedDetector` with
            ``input_mode == "native_tiles"`` (its ``runtime`` and ``calibration`` are used).
        rgb_u8: the picture, never copied whole.
        region_xyxy: integer box inside the picture.
        policy: the tile policy.
        max_tiles: tile budget of this region.
        phase: shifts which tiles a capped grid keeps.
        want_cams: also return each tile's class activation map.

    Returns:
        The score, or ``None`` when the region's shorter side is under ``policy.min_side_px``.

    Raises:
        ValueError: not an (H, W, 3) uint8 picture, or a box outside it.
    """
    img = np.asarray(rgb_u8)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 picture; got {img.shape} {img.dtype}")
    h, w = img.shape[:2]
    region = (0, 0, w, h) if region_xyxy is None else tuple(int(v) for v in region_xyxy)
    x0, y0, x1, y1 = region
    if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
        raise ValueError(f"region {region} is not inside a {w}x{h} picture")
    if min(x1 - x0, y1 - y0) < policy.min_side_px:
        return None
    boxes = plan_tiles(region, policy.tile_px, max_tiles, phase=phase)  # type: ignore[arg-type]
    logits, cams = [], []
    for start in range(0, len(boxes), _BATCH):
        chunk = boxes[start : start + _BATCH]
        tiles = np.stack([img[by0:by1, bx0:bx1] for bx0, by0, bx1, by1 in chunk])
        if policy.fixed_size and tiles.shape[1:3] != (policy.tile_px, policy.tile_px):
            tiles = _to_tile_size(tiles, policy.tile_px)
        z, cam = detector.runtime.run(normalise_tiles(tiles, detector.cfg))
        logits.append(np.asarray(z, dtype=np.float64).reshape(-1))
        if want_cams and cam is not None:
            cams.append(np.asarray(cam, dtype=np.float32))
    tile_logits = np.concatenate(logits)
    pooled = pool_logits(tile_logits, policy.top_fraction)
    calibration = getattr(detector, "calibration", None)
    p_raw = float(sigmoid(np.array([pooled]))[0])
    return TileScore(
        p_fake_raw=p_raw,
        p_fake=float(apply_calibration(np.array([p_raw]), calibration)[0]),
        tile_logits=tile_logits,
        tile_p_fake=np.asarray(apply_calibration(sigmoid(tile_logits), calibration)),
        tiles_xyxy=boxes, region_xyxy=region,  # type: ignore[arg-type]
        cams=np.concatenate(cams) if cams else None)


def _to_tile_size(tiles_u8: np.ndarray, tile_px: int) -> np.ndarray:
    """(N, h, w, 3) tiles smaller than a tile, resized (bilinear) to (N, tile_px, tile_px, 3)
    for a fixed-size graph (``TilePolicy.fixed_size``)."""
    import cv2

    return np.stack([cv2.resize(t, (tile_px, tile_px), interpolation=cv2.INTER_LINEAR)
                     for t in tiles_u8])


def face_region(
    square_xyxy: tuple[float, float, float, float], frame_hw: tuple[int, int], tile_px: int
) -> tuple[int, int, int, int]:
    """The picture region of a face's square crop box (``engine.faces.crop.crop_square_xyxy``,
    the box the policy crop shows) at native resolution, kept inside the picture.

    A box smaller than a tile is widened to one tile around its centre, so a small face is
    scored with the context a tile holds instead of being upscaled; a box partly outside the
    picture is moved or cut to fit it (the policy crop pads there; tiles hold real pixels only).
    """
    fx0, fy0, fx1, fy1 = (float(v) for v in square_xyxy)
    h, w = frame_hw
    cx, cy = (fx0 + fx1) / 2.0, (fy0 + fy1) / 2.0
    side = max(fx1 - fx0, fy1 - fy0, float(tile_px))
    x0 = round(min(max(cx - side / 2.0, 0.0), max(0.0, w - side)))
    y0 = round(min(max(cy - side / 2.0, 0.0), max(0.0, h - side)))
    return x0, y0, min(w, x0 + round(side)), min(h, y0 + round(side))


def crop_square_of(crop_to_frame: np.ndarray, crop_size: int) -> tuple[float, float, float, float]:
    """The square box (frame pixels) a policy crop shows, from its crop-to-frame affine."""
    a = np.asarray(crop_to_frame, dtype=np.float64)
    (x0, x1), (y0, y1) = a @ np.array([[0.0, 0.0, 1.0], [crop_size, crop_size, 1.0]]).T
    return float(x0), float(y0), float(x1), float(y1)


def tile_map(score: TileScore, shape_hw: tuple[int, int], cell_px: int = 16) -> np.ndarray:
    """(ceil(H/cell), ceil(W/cell)) float32 map: each cell holds the mean calibrated p_fake of
    the tiles covering it, 0 where no tile was scored. ``shape_hw`` is the picture's size."""
    gh, gw = -(-shape_hw[0] // cell_px), -(-shape_hw[1] // cell_px)
    acc = np.zeros((gh, gw), dtype=np.float64)
    count = np.zeros((gh, gw), dtype=np.float64)
    for (x0, y0, x1, y1), p in zip(score.tiles_xyxy, score.tile_p_fake, strict=True):
        sy, sx = slice(y0 // cell_px, -(-y1 // cell_px)), slice(x0 // cell_px, -(-x1 // cell_px))
        acc[sy, sx] += p
        count[sy, sx] += 1.0
    return (acc / np.maximum(count, 1.0)).astype(np.float32)
