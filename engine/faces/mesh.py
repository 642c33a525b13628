"""MediaPipe face detection + Face Mesh: every face in an image with its 478 landmarks.

MediaPipe 0.10.21 ships the BlazeFace detectors and the Face Mesh model inside the wheel, so this
runs offline. Face Mesh alone is not enough: its built-in detector is the *short-range* BlazeFace
(128 px input), so it misses faces that are small in a big frame and reports only some faces of
a group photo. We therefore:

1. find face boxes with the full-range BlazeFace (192 px input) on the whole frame and, for big
   frames, on overlapping tiles (small faces), plus the short-range BlazeFace on the whole frame
   (it is better on close-ups and tight dataset crops, where the full-range model fails);
2. run Face Mesh once on the whole frame (the fast path: one call finds every face it can) and
   accept each mesh face that overlaps a detector box;
3. for each box no mesh face covered, run Face Mesh on a padded square crop around the box and
   map the landmarks back;
4. drop duplicates (landmark-box IoU) and keep the higher detector score.

Boxes where even the crop found no landmarks, and mesh faces that no detector confirms, are
returned separately by :meth:`FaceMeshDetector.analyze` so callers can count and report them.
When nothing at all is found, the image is padded once and analysed again: tight crops (UTKFace,
CelebA) have no margin around the face, which both detectors need.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import numpy as np

from engine.faces.boxes import containment, iou_matrix, nms, tile_origins
from engine.types import FaceDetection

__all__ = ["N_LANDMARKS", "FaceBox", "FaceMeshDetector", "MeshResult"]

log = logging.getLogger(__name__)

N_LANDMARKS = 478  # 468 mesh points + 10 iris points (refine_landmarks=True)

# NOTE: Face Mesh runs on a square crop of this side around a box it did not find on the frame;
# its own detector and the 192 px landmark model see the face at about half the crop side.
_CROP_SIDE_PX = 256
_MATCH_IOU = 0.3  # landmark box vs BlazeFace box: the two boxes differ (forehead), 0.3 is safe


@dataclass(frozen=True)
class FaceBox:
    """A BlazeFace detection: ``bbox_xyxy`` in frame pixels and its ``det_score`` in [0, 1]."""

    bbox_xyxy: tuple[float, float, float, float]
    det_score: float


@dataclass(frozen=True)
class MeshResult:
    """Everything :meth:`FaceMeshDetector.analyze` found in one image.

    Attributes:
        faces: faces with landmarks and a detector score, sorted left to right.
        boxes_without_landmarks: detector boxes where Face Mesh found no landmarks, even on a
            crop around the box (profile faces, heavy blur, false detections).
        unconfirmed: mesh faces that no detector box confirmed (``det_score`` 0); not in
            ``faces``.
        padded: whether the result comes from the padded retry.
    """

    faces: tuple[FaceDetection, ...]
    boxes_without_landmarks: tuple[FaceBox, ...] = ()
    unconfirmed: tuple[FaceDetection, ...] = ()
    padded: bool = False


class FaceMeshDetector:
    """Finds faces, their detector score and their Face Mesh landmarks in RGB images.

    One instance holds four MediaPipe graphs and is not thread-safe; calls are serialised with a
    lock so a shared instance can still be used from several threads.

    Args:
        max_faces: the most faces reported per image (highest detector scores kept).
        min_detection_confidence: detector threshold in [0, 1].
        static_image_mode: ``True`` detects on every call (stills, sparse frame samples);
            ``False`` lets the whole-frame Face Mesh track between consecutive video frames.
        pad_retry: on no face, retry on a copy padded by this fraction of the longer side
            (0 disables the retry).
        tile_px: tile side for the full-range detector on frames much larger than a tile;
            ``None`` disables tiling.
        crop_scale: side of the Face Mesh crop around a box, in box sides.
        dedupe_iou: landmark-box IoU above which two faces are the same face.
    """

    def __init__(
        self,
        *,
        max_faces: int = 8,
        min_detection_confidence: float = 0.5,
        static_image_mode: bool = True,
        pad_retry: float = 0.3,
        tile_px: int | None = 640,
        crop_scale: float = 2.0,
        dedupe_iou: float = 0.5,
    ) -> None:
        import mediapipe as mp

        solutions: Any = mp.solutions
        conf = min_detection_confidence
        fd = solutions.face_detection.FaceDetection
        self._full_range = fd(model_selection=1, min_detection_confidence=conf)
        self._short_range = fd(model_selection=0, min_detection_confidence=conf)
        mesh = solutions.face_mesh.FaceMesh
        self._mesh = mesh(
            static_image_mode=static_image_mode,
            max_num_faces=max_faces,
            refine_landmarks=True,
            min_detection_confidence=conf,
        )
        self._crop_mesh = mesh(
            static_image_mode=True,
            max_num_faces=3,  # a crop can hold a neighbour; we keep the face on the box
            refine_landmarks=True,
            min_detection_confidence=conf,
        )
        self._max_faces = max_faces
        self._pad_retry = pad_retry
        self._tile_px = tile_px
        self._crop_scale = crop_scale
        self._dedupe_iou = dedupe_iou
        self._lock = threading.Lock()

    def detect(self, rgb_u8: np.ndarray, frame_idx: int = 0) -> list[FaceDetection]:
        """Faces in ``rgb_u8`` ((H, W, 3) uint8 RGB), sorted left to right. Empty if none."""
        return list(self.analyze(rgb_u8, frame_idx).faces)

    def analyze(self, rgb_u8: np.ndarray, frame_idx: int = 0) -> MeshResult:
        """Faces in ``rgb_u8`` plus the boxes and mesh faces that could not be paired."""
        _check_image(rgb_u8)
        rgb_u8 = np.ascontiguousarray(rgb_u8)
        with self._lock:
            result = self._analyze(rgb_u8, frame_idx, tiled=True)
            if result.faces or self._pad_retry <= 0:
                return result
            import cv2

            pad = round(self._pad_retry * max(rgb_u8.shape[:2]))
            padded = cv2.copyMakeBorder(rgb_u8, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
            retry = _shift(self._analyze(padded, frame_idx, tiled=False), -pad)
        # NOTE: without a face either way, keep the unpadded result: its boxes are the ones
        # found on the image as given.
        return retry if retry.faces else result

    def detect_boxes(self, rgb_u8: np.ndarray, *, tiled: bool = True) -> list[FaceBox]:
        """BlazeFace boxes (full-range, tiled on big frames, plus short-range), deduplicated."""
        _check_image(rgb_u8)
        with self._lock:
            return self._detect_boxes(np.ascontiguousarray(rgb_u8), tiled=tiled)

    def _analyze(self, rgb_u8: np.ndarray, frame_idx: int, *, tiled: bool) -> MeshResult:
        boxes = self._detect_boxes(rgb_u8, tiled=tiled)
        mesh_faces = _run_mesh(self._mesh, rgb_u8)
        faces: list[tuple[np.ndarray, float]] = []
        unmatched_boxes = list(range(len(boxes)))
        unconfirmed: list[np.ndarray] = []
        if mesh_faces and boxes:
            ious = iou_matrix([_bbox(lm) for lm in mesh_faces], [b.bbox_xyxy for b in boxes])
            for i, lm in enumerate(mesh_faces):
                j = int(np.argmax(ious[i]))
                if ious[i, j] >= _MATCH_IOU:
                    faces.append((lm, boxes[j].det_score))
                    if j in unmatched_boxes:
                        unmatched_boxes.remove(j)
                else:
                    unconfirmed.append(lm)
        else:
            unconfirmed = mesh_faces
        missing: list[FaceBox] = []
        for j in unmatched_boxes:
            lm = self._mesh_on_crop(rgb_u8, boxes[j].bbox_xyxy)
            if lm is None:
                missing.append(boxes[j])
            else:
                faces.append((lm, boxes[j].det_score))
        confirmed, still_unconfirmed = self._confirm(rgb_u8, unconfirmed)
        faces.extend(confirmed)
        return MeshResult(
            faces=self._finish(faces, frame_idx),
            boxes_without_landmarks=tuple(missing),
            unconfirmed=tuple(_detection(lm, 0.0, frame_idx) for lm in still_unconfirmed),
        )

    def _finish(
        self, faces: list[tuple[np.ndarray, float]], frame_idx: int
    ) -> tuple[FaceDetection, ...]:
        if not faces:
            return ()
        keep = nms([_bbox(lm) for lm, _ in faces], [s for _, s in faces], self._dedupe_iou)
        keep = keep[: self._max_faces]
        detections = [_detection(faces[k][0], faces[k][1], frame_idx) for k in keep]
        return tuple(sorted(detections, key=lambda d: d.bbox_xyxy[0]))

    def _detect_boxes(self, rgb_u8: np.ndarray, *, tiled: bool) -> list[FaceBox]:
        boxes = _run_detector(self._full_range, rgb_u8, (0, 0))
        boxes += _run_detector(self._short_range, rgb_u8, (0, 0))
        if tiled and self._tile_px is not None:
            boxes += self._detect_in_tiles(rgb_u8, boxes)
        keep = nms([b.bbox_xyxy for b in boxes], [b.det_score for b in boxes], 0.4)
        return [boxes[k] for k in keep]

    def _detect_in_tiles(self, rgb_u8: np.ndarray, frame_boxes: list[FaceBox]) -> list[FaceBox]:
        """Small faces: full-range detector on overlapping tiles of a big frame.

        A tile that cuts a large face often reports its lower half (nose and mouth) as a face,
        so only small boxes are kept, and none lying mostly inside a whole-frame box; boxes
        cut by an inner tile edge are dropped too (a neighbouring tile holds them whole).
        """
        h, w = rgb_u8.shape[:2]
        tile = self._tile_px
        assert tile is not None
        xs, ys = tile_origins(w, tile), tile_origins(h, tile)
        if len(xs) * len(ys) == 1:
            return []
        tw, th = min(tile, w), min(tile, h)
        found: list[FaceBox] = []
        for y0 in ys:
            for x0 in xs:
                window = np.ascontiguousarray(rgb_u8[y0 : y0 + th, x0 : x0 + tw])
                boxes = _run_detector(self._full_range, window, (x0, y0))
                found += [b for b in boxes if _inside_tile(b, (x0, y0, tw, th), (w, h))]
        # NOTE: half a tile: larger faces are at least 1/6 of a 720p frame's side, which the
        # whole-frame pass finds; the tiles are there for the smaller ones.
        found = [b for b in found if _side(b.bbox_xyxy) <= tile / 2]
        if frame_boxes and found:
            inside = containment([b.bbox_xyxy for b in found], [b.bbox_xyxy for b in frame_boxes])
            found = [b for b, c in zip(found, inside.max(axis=1), strict=True) if c < 0.5]
        return found

    def _square_crop(
        self, rgb_u8: np.ndarray, bbox_xyxy: tuple[float, float, float, float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """A padded square crop around a box, resized; returns (crop, frame_to_crop 2x3)."""
        import cv2

        x0, y0, x1, y1 = bbox_xyxy
        half = max(x1 - x0, y1 - y0) * self._crop_scale / 2.0
        scale = _CROP_SIDE_PX / (2.0 * half)
        cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        frame_to_crop = np.array(
            [[scale, 0.0, (half - cx) * scale], [0.0, scale, (half - cy) * scale]]
        )
        crop = cv2.warpAffine(
            rgb_u8,
            frame_to_crop,
            (_CROP_SIDE_PX, _CROP_SIDE_PX),
            flags=cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0),
        )
        return crop, frame_to_crop

    def _mesh_on_crop(
        self, rgb_u8: np.ndarray, bbox_xyxy: tuple[float, float, float, float]
    ) -> np.ndarray | None:
        """Face Mesh on a crop around ``bbox_xyxy``; the landmarks of the face on the box."""
        crop, frame_to_crop = self._square_crop(rgb_u8, bbox_xyxy)
        candidates = _run_mesh(self._crop_mesh, crop)
        if not candidates:
            return None
        scale, offset = frame_to_crop[0, 0], frame_to_crop[:, 2]
        in_frame = [((lm - offset) / scale).astype(np.float32) for lm in candidates]
        ious = iou_matrix([_bbox(lm) for lm in in_frame], [bbox_xyxy])[:, 0]
        best = int(np.argmax(ious))
        return in_frame[best] if ious[best] >= _MATCH_IOU else None

    def _confirm(
        self, rgb_u8: np.ndarray, mesh_faces: list[np.ndarray]
    ) -> tuple[list[tuple[np.ndarray, float]], list[np.ndarray]]:
        """Ask both detectors about a crop around each mesh face no frame-level box matched."""
        confirmed: list[tuple[np.ndarray, float]] = []
        rejected: list[np.ndarray] = []
        for lm in mesh_faces:
            box = _bbox(lm)
            crop, frame_to_crop = self._square_crop(rgb_u8, box)
            scale, offset = frame_to_crop[0, 0], frame_to_crop[:, 2]
            found = _run_detector(self._full_range, crop, (0, 0))
            found += _run_detector(self._short_range, crop, (0, 0))
            scores = [
                b.det_score
                for b in found
                if iou_matrix([box], [_affine_box(b.bbox_xyxy, 1.0 / scale, -offset / scale)])[0, 0]
                >= _MATCH_IOU
            ]
            if scores:
                confirmed.append((lm, max(scores)))
            else:
                rejected.append(lm)
        return confirmed, rejected

    def close(self) -> None:
        """Release the MediaPipe graphs."""
        for graph in (self._full_range, self._short_range, self._mesh, self._crop_mesh):
            graph.close()

    def __enter__(self) -> FaceMeshDetector:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _check_image(rgb_u8: np.ndarray) -> None:
    if rgb_u8.dtype != np.uint8 or rgb_u8.ndim != 3 or rgb_u8.shape[2] != 3:
        raise ValueError(
            f"expected an (H, W, 3) uint8 RGB image, got shape {rgb_u8.shape} {rgb_u8.dtype}"
        )


def _run_mesh(graph: Any, rgb_u8: np.ndarray) -> list[np.ndarray]:
    h, w = rgb_u8.shape[:2]
    result = graph.process(rgb_u8)
    if not result.multi_face_landmarks:
        return []
    return [
        np.array([(p.x * w, p.y * h) for p in face.landmark], dtype=np.float32)
        for face in result.multi_face_landmarks
    ]


def _run_detector(graph: Any, rgb_u8: np.ndarray, origin_xy: tuple[int, int]) -> list[FaceBox]:
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


def _bbox(landmarks_xy: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0 = landmarks_xy.min(axis=0)
    x1, y1 = landmarks_xy.max(axis=0)
    return (float(x0), float(y0), float(x1), float(y1))


def _affine_box(
    bbox_xyxy: tuple[float, float, float, float], scale: float, offset_xy: np.ndarray
) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = bbox_xyxy
    ox, oy = float(offset_xy[0]), float(offset_xy[1])
    return (x0 * scale + ox, y0 * scale + oy, x1 * scale + ox, y1 * scale + oy)


def _detection(landmarks_xy: np.ndarray, det_score: float, frame_idx: int) -> FaceDetection:
    score = det_score if math.isfinite(det_score) else 0.0
    return FaceDetection(
        frame_idx=frame_idx,
        bbox_xyxy=_bbox(landmarks_xy),
        landmarks_xy=landmarks_xy.astype(np.float32, copy=False),
        det_score=float(min(max(score, 0.0), 1.0)),
    )


def _shift(result: MeshResult, offset_px: int) -> MeshResult:
    """Move every coordinate of ``result`` by ``offset_px`` (undo the retry padding)."""
    delta = np.float32(offset_px)

    def move(d: FaceDetection) -> FaceDetection:
        return _detection(d.landmarks_xy + delta, d.det_score, d.frame_idx)

    boxes = tuple(
        FaceBox(_affine_box(b.bbox_xyxy, 1.0, np.array([delta, delta])), b.det_score)
        for b in result.boxes_without_landmarks
    )
    return MeshResult(
        faces=tuple(move(d) for d in result.faces),
        boxes_without_landmarks=boxes,
        unconfirmed=tuple(move(d) for d in result.unconfirmed),
        padded=True,
    )
