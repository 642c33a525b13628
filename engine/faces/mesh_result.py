"""What a Face Mesh search returns, and the geometry that maps it between image copies.

Split from :mod:`engine.faces.mesh` (which runs the graphs) so the result type and its
coordinate transforms can be read and tested without MediaPipe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from engine.faces.blazeface import FaceBox
from engine.faces.boxes import nms
from engine.types import FaceDetection

__all__ = [
    "MAX_SEARCH_SIDE_PX",
    "MeshResult",
    "affine_box",
    "bbox_of",
    "detection",
    "left_to_right",
    "merge_strips",
    "side_of",
    "strip_origins",
    "transform",
]

# NOTE: MediaPipe's graphs resample their input with OpenCV's remap, which asserts that both
# sides are below SHRT_MAX (32767) and *aborts the process* otherwise (the assertion is thrown
# on a graph thread): a 36000x1300 panorama (46.8 MP, under the 50 MP limit), or a 24000 px wide
# image once the no-face retry pads it by 30% on each side. An image longer than this is
# searched in overlapping strips of at most this length, at full resolution (a downscaled copy
# lost faces of 100 px), and the retry's padding is capped to stay below it. With the 50 MP
# limit, the other side of such an image is at most 3052 px, so both sides of a strip are safe.
MAX_SEARCH_SIDE_PX = 16384


@dataclass(frozen=True)
class MeshResult:
    """Everything :meth:`FaceMeshDetector.analyze` found in one image.

    Attributes:
        faces: faces with landmarks and a detector score, sorted left to right: the
            ``max_faces`` largest of the faces found.
        boxes_without_landmarks: detector boxes where Face Mesh found no landmarks, even on a
            crop around the box (profile faces, heavy blur, false detections).
        unconfirmed: mesh faces that no detector box confirmed (``det_score`` 0); not in
            ``faces``.
        retry: ``""`` when found on the image as given, ``"contrast"`` after contrast
            equalisation of a dark image, ``"padded"`` after adding a border (tight crops).
        not_kept: faces found beyond ``max_faces`` (the smaller ones), sorted left to right;
            not in ``faces``. Found plus not kept is every face found.
        n_strips: how many strips the image was searched in (1: whole; more for images longer
            than ``MAX_SEARCH_SIDE_PX``).
    """

    faces: tuple[FaceDetection, ...]
    boxes_without_landmarks: tuple[FaceBox, ...] = ()
    unconfirmed: tuple[FaceDetection, ...] = ()
    retry: str = ""
    not_kept: tuple[FaceDetection, ...] = ()
    n_strips: int = 1


def bbox_of(landmarks_xy: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0 = landmarks_xy.min(axis=0)
    x1, y1 = landmarks_xy.max(axis=0)
    return (float(x0), float(y0), float(x1), float(y1))


def affine_box(
    bbox_xyxy: tuple[float, float, float, float], scale: float, offset_xy: np.ndarray
) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = bbox_xyxy
    ox, oy = float(offset_xy[0]), float(offset_xy[1])
    return (x0 * scale + ox, y0 * scale + oy, x1 * scale + ox, y1 * scale + oy)


def detection(landmarks_xy: np.ndarray, det_score: float, frame_idx: int) -> FaceDetection:
    score = det_score if math.isfinite(det_score) else 0.0
    return FaceDetection(
        frame_idx=frame_idx,
        bbox_xyxy=bbox_of(landmarks_xy),
        landmarks_xy=landmarks_xy.astype(np.float32, copy=False),
        det_score=float(min(max(score, 0.0), 1.0)),
    )


def side_of(bbox_xyxy: tuple[float, float, float, float]) -> float:
    return max(bbox_xyxy[2] - bbox_xyxy[0], bbox_xyxy[3] - bbox_xyxy[1])


def left_to_right(detections: list[FaceDetection]) -> tuple[FaceDetection, ...]:
    return tuple(sorted(detections, key=lambda d: d.bbox_xyxy[0]))


def strip_origins(length_px: int, overlap_px: int) -> list[int]:
    """Starts of strips of at most ``MAX_SEARCH_SIDE_PX`` that cover ``length_px``.

    Neighbouring strips overlap by at least ``overlap_px``, so anything no longer than that
    lies whole inside some strip. One strip (``[0]``) when the length fits.
    """
    if length_px <= MAX_SEARCH_SIDE_PX:
        return [0]
    step = MAX_SEARCH_SIDE_PX - overlap_px
    n_strips = math.ceil((length_px - MAX_SEARCH_SIDE_PX) / step) + 1
    return [round(v) for v in np.linspace(0, length_px - MAX_SEARCH_SIDE_PX, n_strips)]


def merge_strips(
    parts: list[MeshResult], *, dedupe_iou: float, max_faces: int
) -> MeshResult:
    """One result from the results of overlapping strips (already in whole-image pixels).

    A face in an overlap is found twice: duplicates are dropped as within one search (the
    higher detector score wins), then the ``max_faces`` largest are kept, as for one image.
    """
    found = [d for part in parts for d in (*part.faces, *part.not_kept)]
    keep = nms([d.bbox_xyxy for d in found], [d.det_score for d in found], dedupe_iou)
    unique = sorted((found[k] for k in keep), key=lambda d: (-side_of(d.bbox_xyxy), -d.det_score))
    boxes = [b for part in parts for b in part.boxes_without_landmarks]
    box_keep = nms([b.bbox_xyxy for b in boxes], [b.det_score for b in boxes], dedupe_iou)
    return MeshResult(
        faces=left_to_right(unique[:max_faces]),
        boxes_without_landmarks=tuple(boxes[k] for k in sorted(box_keep)),
        unconfirmed=tuple(d for part in parts for d in part.unconfirmed),
        retry=next((p.retry for p in parts if p.retry), ""),
        not_kept=left_to_right(unique[max_faces:]),
        n_strips=len(parts),
    )


def transform(
    result: MeshResult, scale_xy: tuple[float, float], offset_xy: tuple[float, float]
) -> MeshResult:
    """``result`` with every coordinate ``p`` mapped to ``p * scale + offset``.

    Undoes the retry's padding (scale 1, offset -pad) or a strip's offset.
    """
    scale = np.array(scale_xy, dtype=np.float32)
    offset = np.array(offset_xy, dtype=np.float32)

    def move(d: FaceDetection) -> FaceDetection:
        return detection(d.landmarks_xy * scale + offset, d.det_score, d.frame_idx)

    def move_box(b: FaceBox) -> FaceBox:
        x0, y0, x1, y1 = b.bbox_xyxy
        return FaceBox((x0 * float(scale[0]) + float(offset[0]),
                        y0 * float(scale[1]) + float(offset[1]),
                        x1 * float(scale[0]) + float(offset[0]),
                        y1 * float(scale[1]) + float(offset[1])), b.det_score)

    return replace(
        result,
        faces=tuple(move(d) for d in result.faces),
        boxes_without_landmarks=tuple(move_box(b) for b in result.boxes_without_landmarks),
        unconfirmed=tuple(move(d) for d in result.unconfirmed),
        not_kept=tuple(move(d) for d in result.not_kept),
    )
