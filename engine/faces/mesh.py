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
When nothing at all is found, a dark image is retried with its contrast equalised (dim indoor
footage), and then the image is padded and analysed again: tight crops (UTKFace, CelebA) have
no margin around the face, which both detectors need. The landmarks always refer to the image
as given.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

import numpy as np

from engine.closing import Closing
from engine.faces.blazeface import BlazeFace, FaceBox, equalise, is_dark, square_crop
from engine.faces.boxes import containment, iou_matrix, nms
from engine.faces.mesh_result import (
    MAX_SEARCH_SIDE_PX,
    MeshResult,
    affine_box,
    bbox_of,
    detection,
    left_to_right,
    merge_strips,
    side_of,
    strip_origins,
    transform,
)
from engine.types import FaceDetection

__all__ = ["MAX_SEARCH_SIDE_PX", "N_LANDMARKS", "FaceBox", "FaceMeshDetector", "MeshResult"]

log = logging.getLogger(__name__)

N_LANDMARKS = 478  # 468 mesh points + 10 iris points (refine_landmarks=True)

# NOTE: Face Mesh runs on a square crop of this side around a box it did not find on the frame;
# its own detector and the 192 px landmark model see the face at about half the crop side.
_CROP_SIDE_PX = 256
_MATCH_IOU = 0.3  # landmark box vs BlazeFace box: the two boxes differ (forehead), 0.3 is safe


class FaceMeshDetector(Closing):
    """Finds faces, their detector score and their Face Mesh landmarks in RGB images.

    One instance holds four MediaPipe graphs and is not thread-safe; calls are serialised with a
    lock so a shared instance can still be used from several threads.

    Args:
        max_faces: the most faces reported per image. The largest are kept (longest side of
            the landmark box): small faces are the least reliable to score, and the largest
            are the ones a picture is about; the others are listed in ``MeshResult.not_kept``.
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
        self._boxes = BlazeFace(min_detection_confidence=conf, tile_px=tile_px)
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
        self._crop_scale = crop_scale
        self._dedupe_iou = dedupe_iou
        self._lock = threading.Lock()

    def detect(self, rgb_u8: np.ndarray, frame_idx: int = 0) -> list[FaceDetection]:
        """Faces in ``rgb_u8`` ((H, W, 3) uint8 RGB), sorted left to right. Empty if none."""
        return list(self.analyze(rgb_u8, frame_idx).faces)

    def analyze(self, rgb_u8: np.ndarray, frame_idx: int = 0) -> MeshResult:
        """Faces in ``rgb_u8`` plus the boxes and mesh faces that could not be paired.

        When no face is found, a dark image is retried with its contrast equalised, and then
        the image is retried with a black border (tight crops); the first retry that finds a
        face wins and says so in ``MeshResult.retry``. Without a face either way, the result on
        the image as given is returned.
        """
        _check_image(rgb_u8)
        h, w = rgb_u8.shape[:2]
        along_x = w >= h
        # NOTE: a face is about as wide as tall and fits in the short side, so strips that
        # overlap by the short side (at most 3052 px, see MAX_SEARCH_SIDE_PX) miss none.
        starts = strip_origins(max(h, w), min(h, w, MAX_SEARCH_SIDE_PX // 2))
        if len(starts) == 1:
            return self._analyze_any(np.ascontiguousarray(rgb_u8), frame_idx)
        log.info("frame %d is %dx%d: searched in %d strips", frame_idx, w, h, len(starts))
        parts = []
        for start in starts:
            end = start + MAX_SEARCH_SIDE_PX
            strip = rgb_u8[:, start:end] if along_x else rgb_u8[start:end]
            found = self._analyze_any(np.ascontiguousarray(strip), frame_idx)
            offset = (start, 0) if along_x else (0, start)
            parts.append(transform(found, (1.0, 1.0), offset))
        return merge_strips(parts, dedupe_iou=self._dedupe_iou, max_faces=self._max_faces)

    def _analyze_any(self, rgb_u8: np.ndarray, frame_idx: int) -> MeshResult:
        """:meth:`analyze` on an image both of whose sides MediaPipe can take."""
        with self._lock:
            result = self._analyze(rgb_u8, frame_idx, tiled=True)
            if result.faces:
                return result
            if is_dark(rgb_u8):
                retry = self._analyze(equalise(rgb_u8), frame_idx, tiled=True)
                if retry.faces:
                    log.debug("frame %d: faces found after contrast equalisation", frame_idx)
                    return replace(retry, retry="contrast")
            if self._pad_retry > 0:
                import cv2

                longest = max(rgb_u8.shape[:2])
                pad = min(round(self._pad_retry * longest), (MAX_SEARCH_SIDE_PX - longest) // 2)
                if pad > 0:
                    padded = cv2.copyMakeBorder(rgb_u8, pad, pad, pad, pad, cv2.BORDER_CONSTANT)
                    retry = self._analyze(padded, frame_idx, tiled=False)
                    if retry.faces:
                        return replace(transform(retry, (1.0, 1.0), (-pad, -pad)),
                                       retry="padded")
        return result

    def detect_boxes(self, rgb_u8: np.ndarray, *, tiled: bool = True) -> list[FaceBox]:
        """BlazeFace boxes (full-range, tiled on big frames, plus short-range), deduplicated."""
        _check_image(rgb_u8)
        with self._lock:
            return self._boxes.find(np.ascontiguousarray(rgb_u8), tiled=tiled)

    def _analyze(self, rgb_u8: np.ndarray, frame_idx: int, *, tiled: bool) -> MeshResult:
        boxes = self._boxes.find(rgb_u8, tiled=tiled)
        faces, unmatched, unconfirmed = _pair(_run_mesh(self._mesh, rgb_u8), boxes)
        missing: list[FaceBox] = []
        for box in sorted(unmatched, key=lambda b: -b.det_score):
            if _explained(box, [lm for lm, _ in faces]):
                continue  # a second, offset box on a face that already has landmarks
            lm = self._mesh_on_crop(rgb_u8, box.bbox_xyxy)
            if lm is None:
                missing.append(box)
            else:
                faces.append((lm, box.det_score))
        confirmed, still_unconfirmed = self._confirm(rgb_u8, unconfirmed)
        faces.extend(confirmed)
        kept, not_kept = self._finish(faces, frame_idx)
        return MeshResult(
            faces=kept,
            boxes_without_landmarks=tuple(missing),
            unconfirmed=tuple(detection(lm, 0.0, frame_idx) for lm in still_unconfirmed),
            not_kept=not_kept,
        )

    def _finish(
        self, faces: list[tuple[np.ndarray, float]], frame_idx: int
    ) -> tuple[tuple[FaceDetection, ...], tuple[FaceDetection, ...]]:
        """Deduplicate (the higher detector score wins), then keep the ``max_faces`` largest.

        Returns ``(kept, not kept)``, each sorted left to right.
        """
        if not faces:
            return (), ()
        keep = nms([bbox_of(lm) for lm, _ in faces], [s for _, s in faces], self._dedupe_iou)
        detections = [detection(faces[k][0], faces[k][1], frame_idx) for k in keep]
        # NOTE: largest first (longer side of the landmark box), ties by detector score.
        by_size = sorted(detections, key=lambda d: (-side_of(d.bbox_xyxy), -d.det_score))
        kept, rest = by_size[: self._max_faces], by_size[self._max_faces :]
        return left_to_right(kept), left_to_right(rest)

    def _mesh_on_crop(
        self, rgb_u8: np.ndarray, bbox_xyxy: tuple[float, float, float, float]
    ) -> np.ndarray | None:
        """Face Mesh on a crop around ``bbox_xyxy``; the landmarks of the face on the box."""
        crop, frame_to_crop = square_crop(rgb_u8, bbox_xyxy, self._crop_scale, _CROP_SIDE_PX)
        candidates = _run_mesh(self._crop_mesh, crop)
        if not candidates:
            return None
        scale, offset = frame_to_crop[0, 0], frame_to_crop[:, 2]
        in_frame = [((lm - offset) / scale).astype(np.float32) for lm in candidates]
        ious = iou_matrix([bbox_of(lm) for lm in in_frame], [bbox_xyxy])[:, 0]
        best = int(np.argmax(ious))
        return in_frame[best] if ious[best] >= _MATCH_IOU else None

    def _confirm(
        self, rgb_u8: np.ndarray, mesh_faces: list[np.ndarray]
    ) -> tuple[list[tuple[np.ndarray, float]], list[np.ndarray]]:
        """Ask both detectors about a crop around each mesh face no frame-level box matched."""
        confirmed: list[tuple[np.ndarray, float]] = []
        rejected: list[np.ndarray] = []
        for lm in mesh_faces:
            box = bbox_of(lm)
            crop, frame_to_crop = square_crop(rgb_u8, box, self._crop_scale, _CROP_SIDE_PX)
            scale, offset = frame_to_crop[0, 0], frame_to_crop[:, 2]
            found = self._boxes.find_untiled(crop)
            scores = [
                b.det_score
                for b in found
                if iou_matrix([box], [affine_box(b.bbox_xyxy, 1.0 / scale, -offset / scale)])[0, 0]
                >= _MATCH_IOU
            ]
            if scores:
                confirmed.append((lm, max(scores)))
            else:
                rejected.append(lm)
        return confirmed, rejected

    def close(self) -> None:
        """Release the MediaPipe graphs."""
        self._boxes.close()
        self._mesh.close()
        self._crop_mesh.close()


def _check_image(rgb_u8: np.ndarray) -> None:
    if rgb_u8.dtype != np.uint8 or rgb_u8.ndim != 3 or rgb_u8.shape[2] != 3:
        raise ValueError(
            f"expected an (H, W, 3) uint8 RGB image, got shape {rgb_u8.shape} {rgb_u8.dtype}"
        )


def _pair(
    mesh_faces: list[np.ndarray], boxes: list[FaceBox]
) -> tuple[list[tuple[np.ndarray, float]], list[FaceBox], list[np.ndarray]]:
    """Pair whole-frame mesh faces with detector boxes by IoU.

    Returns ``(faces with scores, boxes without a mesh face, mesh faces without a box)``.
    """
    if not mesh_faces or not boxes:
        return [], list(boxes), list(mesh_faces)
    ious = iou_matrix([bbox_of(lm) for lm in mesh_faces], [b.bbox_xyxy for b in boxes])
    faces, unconfirmed, used = [], [], set()
    for i, lm in enumerate(mesh_faces):
        j = int(np.argmax(ious[i]))
        if ious[i, j] >= _MATCH_IOU:
            faces.append((lm, boxes[j].det_score))
            used.add(j)
        else:
            unconfirmed.append(lm)
    return faces, [b for j, b in enumerate(boxes) if j not in used], unconfirmed


def _explained(box: FaceBox, landmarks: list[np.ndarray]) -> bool:
    """Whether ``box`` overlaps a face that already has landmarks (so it is not another face)."""
    if not landmarks:
        return False
    face_boxes = [bbox_of(lm) for lm in landmarks]
    iou = iou_matrix([box.bbox_xyxy], face_boxes)[0]
    face_inside = containment(face_boxes, [box.bbox_xyxy])[:, 0]
    box_inside = containment([box.bbox_xyxy], face_boxes)[0]
    # NOTE: BlazeFace sometimes adds a larger box shifted down over the face and neck; its IoU
    # with the face is ~0.3 but most of the face lies inside it.
    return bool((iou >= 0.2).any() or (face_inside >= 0.5).any() or (box_inside >= 0.5).any())


def _run_mesh(graph: Any, rgb_u8: np.ndarray) -> list[np.ndarray]:
    h, w = rgb_u8.shape[:2]
    result = graph.process(rgb_u8)
    if not result.multi_face_landmarks:
        return []
    return [
        np.array([(p.x * w, p.y * h) for p in face.landmark], dtype=np.float32)
        for face in result.multi_face_landmarks
    ]
