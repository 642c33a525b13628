"""MediaPipe Face Mesh: every face in an image with its 478 landmarks.

MediaPipe 0.10.21 ships the BlazeFace detector and the Face Mesh model inside the wheel, so this
runs offline. Face Mesh runs its own short-range detector, which misses faces that fill the
whole image (tight dataset crops); we therefore retry once on a padded copy when nothing is
found, and map the landmarks back.
"""

from __future__ import annotations

import threading
from types import TracebackType

import numpy as np

from engine.types import FaceDetection

__all__ = ["N_LANDMARKS", "FaceMeshDetector"]

N_LANDMARKS = 478  # 468 mesh points + 10 iris points (refine_landmarks=True)


class FaceMeshDetector:
    """Finds faces and their Face Mesh landmarks in RGB images.

    One instance holds one MediaPipe graph and is not thread-safe; calls are serialised with a
    lock so a shared instance can still be used from several threads.

    Args:
        max_faces: the most faces reported per image.
        min_detection_confidence: detector threshold in [0, 1].
        static_image_mode: ``True`` detects on every call (stills, sparse frame samples);
            ``False`` lets MediaPipe track between consecutive frames of one video.
        pad_retry: on no face, retry on a copy padded by this fraction of the longer side.
    """

    def __init__(
        self,
        *,
        max_faces: int = 4,
        min_detection_confidence: float = 0.5,
        static_image_mode: bool = True,
        pad_retry: float = 0.3,
    ) -> None:
        import mediapipe as mp

        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=static_image_mode,
            max_num_faces=max_faces,
            refine_landmarks=True,
            min_detection_confidence=min_detection_confidence,
        )
        self._pad_retry = pad_retry
        self._lock = threading.Lock()

    def detect(self, rgb_u8: np.ndarray, frame_idx: int = 0) -> list[FaceDetection]:
        """Faces in ``rgb_u8`` ((H, W, 3) uint8 RGB), sorted left to right. Empty if none."""
        faces = self._run(rgb_u8)
        if not faces and self._pad_retry > 0:
            faces = self._run_padded(rgb_u8)
        detections = [
            FaceDetection(
                frame_idx=frame_idx,
                bbox_xyxy=_bbox(lm),
                landmarks_xy=lm,
                det_score=1.0,  # NOTE: the Face Mesh solution exposes no per-face score.
            )
            for lm in faces
        ]
        return sorted(detections, key=lambda d: d.bbox_xyxy[0])

    def _run(self, rgb_u8: np.ndarray) -> list[np.ndarray]:
        h, w = rgb_u8.shape[:2]
        with self._lock:
            result = self._mesh.process(np.ascontiguousarray(rgb_u8))
        if not result.multi_face_landmarks:
            return []
        out = []
        for face in result.multi_face_landmarks:
            xy = np.array([(p.x * w, p.y * h) for p in face.landmark], dtype=np.float32)
            out.append(xy)
        return out

    def _run_padded(self, rgb_u8: np.ndarray) -> list[np.ndarray]:
        import cv2

        pad = int(round(self._pad_retry * max(rgb_u8.shape[:2])))
        padded = cv2.copyMakeBorder(rgb_u8, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        return [lm - np.float32(pad) for lm in self._run(padded)]

    def close(self) -> None:
        """Release the MediaPipe graph."""
        self._mesh.close()

    def __enter__(self) -> FaceMeshDetector:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _bbox(landmarks_xy: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0 = landmarks_xy.min(axis=0)
    x1, y1 = landmarks_xy.max(axis=0)
    return (float(x0), float(y0), float(x1), float(y1))
