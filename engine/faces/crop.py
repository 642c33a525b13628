"""The ONE crop policy, used by training and inference alike.

A face crop is the landmark bounding box, grown by ``margin`` on every side, made square around
its centre, and resampled to ``size`` x ``size``. Pixels outside the source image are filled by
edge replication so tight crops (UTKFace, CelebA) and faces at the frame border give the same
kind of crop as faces with natural margins. The affine that maps crop pixels back to frame
pixels is returned, so maps predicted on the crop can be drawn on the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CropPolicy", "crop_face", "crop_square_xyxy", "map_to_frame"]


@dataclass(frozen=True)
class CropPolicy:
    """How a face is cut out.

    Attributes:
        margin: fraction of the landmark box's longer side added on each side.
        size: side of the square output crop, in pixels.
    """

    # NOTE: 0.25 keeps the whole face oval plus a band of background/hair around it: the
    # blending boundary (the evidence SBI and Face X-ray look for) lies on the face oval, so it
    # must sit well inside the crop; SBI's reference code uses a similar ~1.3x box.
    margin: float = 0.25
    size: int = 256


def crop_square_xyxy(
    landmarks_xy: np.ndarray, margin: float
) -> tuple[float, float, float, float]:
    """Square box around the landmarks, grown by ``margin`` of the longer side on each side."""
    x0, y0 = landmarks_xy.min(axis=0)
    x1, y1 = landmarks_xy.max(axis=0)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    half = max(x1 - x0, y1 - y0) * (0.5 + margin)
    return (float(cx - half), float(cy - half), float(cx + half), float(cy + half))


def crop_face(
    rgb_u8: np.ndarray, landmarks_xy: np.ndarray, policy: CropPolicy
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut the face described by ``landmarks_xy`` out of ``rgb_u8``.

    Args:
        rgb_u8: (H, W, 3) uint8 image.
        landmarks_xy: (K, 2) landmarks in image pixels.
        policy: the crop policy.

    Returns:
        ``(crop_rgb_u8, landmarks_crop_xy, crop_to_frame)``: the (S, S, 3) crop, the landmarks
        in crop pixels (float32), and the (2, 3) affine from crop to image pixels.
    """
    import cv2

    x0, y0, x1, y1 = crop_square_xyxy(landmarks_xy, policy.margin)
    scale = policy.size / (x1 - x0)
    frame_to_crop = np.array([[scale, 0.0, -x0 * scale], [0.0, scale, -y0 * scale]])
    crop = cv2.warpAffine(
        rgb_u8,
        frame_to_crop,
        (policy.size, policy.size),
        flags=cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    landmarks_crop = (landmarks_xy * scale + frame_to_crop[:, 2]).astype(np.float32)
    crop_to_frame = np.array([[1.0 / scale, 0.0, x0], [0.0, 1.0 / scale, y0]])
    return crop, landmarks_crop, crop_to_frame


def map_to_frame(
    map_f32: np.ndarray, crop_to_frame: np.ndarray, crop_size: int, frame_hw: tuple[int, int]
) -> np.ndarray:
    """Warp a crop-aligned map (any resolution) onto the frame; zero outside the crop."""
    import cv2

    resized = cv2.resize(map_f32.astype(np.float32), (crop_size, crop_size))
    h, w = frame_hw
    return cv2.warpAffine(
        resized, crop_to_frame, (w, h), flags=cv2.INTER_LINEAR, borderValue=0.0
    )
