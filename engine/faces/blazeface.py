"""BlazeFace face boxes (MediaPipe face detection), tuned to find small faces in big frames.

Two models ship in the mediapipe 0.10.21 wheel: the short-range one (128 px input, faces that
fill much of the image: close-ups, tight dataset crops) and the full-range one (192 px input,
faces down to about 1/20 of the image side). Both run on the whole image; on frames much larger
than ``tile_px`` the full-range model also runs on overlapping tiles, which finds the small
background faces of film and crowd shots that a whole-frame pass shrinks below its reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.closing import Closing
from engine.faces.boxes import containment, nms, tile_origins
from engine.faces.crop import warp_bounded

__all__ = ["BlazeFace", "FaceBox", "equalise", "is_dark", "square_crop"]

# NOTE: boxes of the two models and of the tiles overlap on the same face; 0.4 IoU merges them
# while two faces side by side (IoU about 0) stay apart.
_NMS_IOU = 0.4


@dataclass(frozen=True)
class FaceBox:
    """A BlazeFace detection: ``bbox_xyxy`` in frame pixels and its ``det_score`` in [0, 1]."""

    bbox_xyxy: tuple[float, float, float, float]
    det_score: float


class BlazeFace(Closing):
    """Both BlazeFace models, plus tiling for big frames.

    Args:
        min_detection_confidence: detector threshold in [0, 1].
        tile_px: tile side for the full-range detector on frames much larger than a tile;
            ``None`` disables tiling.
    """

    def __init__(self, *, min_detection_confidence: float, tile_px: int | None) -> None:
        import mediapipe as mp

        fd: Any = mp.solutions.face_detection.FaceDetection  # type: ignore[attr-defined]
        self._full_range = fd(model_selection=1, min_detection_confidence=min_detection_confidence)
        self._short_range = fd(model_selection=0, min_detection_confidence=min_detection_confidence)
        self._tile_px = tile_px

    def find(self, rgb_u8: np.ndarray, *, tiled: bool = True) -> list[FaceBox]:
        """Face boxes of both models (and of the tiles when ``tiled``), deduplicated."""
        boxes = _run(self._full_range, rgb_u8, (0, 0))
        # NOTE: the short-range model only adds the close-ups and tight crops the full-range
        # one misses. When the full-range model found faces, a close-up it missed is still
        # caught: Face Mesh runs its own short-range detector on the frame, and a mesh face
        # without a box is confirmed on a crop by both models (FaceMeshDetector._confirm).
        # Skipping it then saves a third of the face stage on photos (docs/PERFORMANCE.md).
        if not boxes:
            boxes = _run(self._short_range, rgb_u8, (0, 0))
        if tiled and self._tile_px is not None:
            boxes += self._find_in_tiles(rgb_u8, boxes, self._tile_px)
        keep = nms([b.bbox_xyxy for b in boxes], [b.det_score for b in boxes], _NMS_IOU)
        return [boxes[k] for k in keep]

    def find_untiled(self, rgb_u8: np.ndarray) -> list[FaceBox]:
        """Boxes of both models on the whole image only, not deduplicated (for small crops)."""
        return _run(self._full_range, rgb_u8, (0, 0)) + _run(self._short_range, rgb_u8, (0, 0))

    def _find_in_tiles(
        self, rgb_u8: np.ndarray, frame_boxes: list[FaceBox], tile: int
    ) -> list[FaceBox]:
        """Small faces: full-range detector on overlapping tiles of a big frame.

        A tile that cuts a large face often reports its lower half (nose and mouth) as a face,
        so only small boxes are kept, and none lying mostly inside a whole-frame box; boxes
        cut by an inner tile edge are dropped too (a neighbouring tile holds them whole).
        """
        h, w = rgb_u8.shape[:2]
        xs, ys = tile_origins(w, tile), tile_origins(h, tile)
        if len(xs) * len(ys) == 1:
            return []
        tw, th = min(tile, w), min(tile, h)
        found: list[FaceBox] = []
        for y0 in ys:
            for x0 in xs:
                window = np.ascontiguousarray(rgb_u8[y0 : y0 + th, x0 : x0 + tw])
                boxes = _run(self._full_range, window, (x0, y0))
                found += [b for b in boxes if _inside_tile(b, (x0, y0, tw, th), (w, h))]
        # NOTE: half a tile: larger faces are at least 1/4 of a 720p frame's side, which the
        # whole-frame pass finds; the tiles are there for the smaller ones.
        found = [b for b in found if _side(b.bbox_xyxy) <= tile / 2]
        if frame_boxes and found:
            inside = containment([b.bbox_xyxy for b in found], [b.bbox_xyxy for b in frame_boxes])
            found = [b for b, c in zip(found, inside.max(axis=1), strict=True) if c < 0.5]
        return found

    def close(self) -> None:
        """Release the MediaPipe graphs."""
        self._full_range.close()
        self._short_range.close()


def square_crop(
    rgb_u8: np.ndarray, bbox_xyxy: tuple[float, float, float, float], scale: float, side_px: int
) -> tuple[np.ndarray, np.ndarray]:
    """A square of ``scale`` box sides around a box, resampled to ``side_px``, black outside.

    Returns:
        ``(crop, frame_to_crop)``: the (side_px, side_px, 3) crop and the (2, 3) affine from
        frame pixels to crop pixels.
    """
    import cv2

    x0, y0, x1, y1 = bbox_xyxy
    half = max(x1 - x0, y1 - y0, 1.0) * scale / 2.0
    zoom = side_px / (2.0 * half)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    frame_to_crop = np.array([[zoom, 0.0, (half - cx) * zoom], [0.0, zoom, (half - cy) * zoom]])
    crop = warp_bounded(
        rgb_u8,
        frame_to_crop,
        (side_px, side_px),
        border_mode=cv2.BORDER_CONSTANT,
        border_value=(0, 0, 0),
    )
    return crop, frame_to_crop


def is_dark(rgb_u8: np.ndarray) -> bool:
    """Whether the mean brightness is below 80 of 255 (measured on a subsample)."""
    # NOTE: the detectors miss faces in dim footage (DFDC rooms with mean ~35) that contrast
    # equalisation makes findable; bright images never take the retry.
    return float(rgb_u8[::8, ::8].mean()) < 80.0


def equalise(rgb_u8: np.ndarray) -> np.ndarray:
    """Contrast-limited histogram equalisation of the luma; geometry is unchanged."""
    import cv2

    ycc = cv2.cvtColor(rgb_u8, cv2.COLOR_RGB2YCrCb)
    ycc[..., 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(ycc[..., 0])
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)


def _run(graph: Any, rgb_u8: np.ndarray, origin_xy: tuple[int, int]) -> list[FaceBox]:
    h, w = rgb_u8.shape[:2]
    result = graph.process(rgb_u8)
    boxes = []
    for det in result.detections or []:
        rel = det.location_data.relative_bounding_box
        x0 = origin_xy[0] + rel.xmin * w
        y0 = origin_xy[1] + rel.ymin * h
        bbox = (x0, y0, x0 + rel.width * w, y0 + rel.height * h)
        boxes.append(FaceBox(bbox_xyxy=bbox, det_score=float(det.score[0])))
    return boxes


def _inside_tile(
    box: FaceBox, tile_xywh: tuple[int, int, int, int], frame_wh: tuple[int, int]
) -> bool:
    """False for a box cut by a tile edge inside the frame: a neighbour tile holds it whole."""
    x, y, tw, th = tile_xywh
    x0, y0, x1, y1 = box.bbox_xyxy
    margin = 2.0
    cut_left = x > 0 and x0 <= x + margin
    cut_top = y > 0 and y0 <= y + margin
    cut_right = x + tw < frame_wh[0] and x1 >= x + tw - margin
    cut_bottom = y + th < frame_wh[1] and y1 >= y + th - margin
    return not (cut_left or cut_top or cut_right or cut_bottom)


def _side(bbox_xyxy: tuple[float, float, float, float]) -> float:
    return max(bbox_xyxy[2] - bbox_xyxy[0], bbox_xyxy[3] - bbox_xyxy[1])
