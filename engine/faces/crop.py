"""The ONE crop policy, used by training and inference alike.

A face crop is the landmark bounding box, grown by ``margin`` on every side, made square around
its centre, and resampled to ``size`` x ``size``. Pixels outside the source image are filled by
edge replication so tight crops (UTKFace, CelebA) and faces at the frame border give the same
kind of crop as faces with natural margins. The affine that maps crop pixels back to frame
pixels is returned, so maps predicted on the crop can be drawn on the frame.

Downscaling (a face larger than the crop) uses area averaging, upscaling bilinear interpolation:
a bilinear downscale by 2-4x (a 1080p face) aliases fine texture, which is exactly the kind of
high-frequency evidence the blending detectors learn, and it must look the same in training
(UTKFace, ~0.8x) and at inference (HD video, ~0.3x).

Affines are (2, 3) float64 arrays ``A`` acting on column vectors ``(x, y, 1)``, with OpenCV's
pixel-centre convention (pixel ``(i, j)`` has its centre at ``x=j, y=i``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CropPolicy",
    "apply_affine",
    "crop_face",
    "crop_square_xyxy",
    "invert_affine",
    "map_to_frame",
    "warp_bounded",
]

# NOTE: OpenCV's warpAffine/remap assert that the *source* has both sides below SHRT_MAX
# (32767) and fail on wider images (a 36000x1300 panorama is under the 50 MP limit). Every warp
# here therefore reads only the source rectangle its output samples, plus this many pixels of
# margin for bilinear interpolation; the output is identical to a warp of the whole image.
_WARP_MARGIN_PX = 2


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

    def __post_init__(self) -> None:
        if not (math.isfinite(self.margin) and self.margin >= 0.0):
            raise ValueError(f"margin must be a finite number >= 0, got {self.margin}")
        if self.size < 8:
            raise ValueError(f"size must be at least 8 pixels, got {self.size}")


def crop_square_xyxy(landmarks_xy: np.ndarray, margin: float) -> tuple[float, float, float, float]:
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

    Raises:
        ValueError: an image that is not (H, W, 3) uint8, or landmarks that are not a finite
            (K, 2) array spanning more than a pixel.
    """
    landmarks = _check_inputs(rgb_u8, landmarks_xy)
    x0, y0, x1, _y1 = crop_square_xyxy(landmarks, policy.margin)
    side = x1 - x0
    if policy.size < side:
        crop, crop_to_frame = _crop_area(rgb_u8, x0, y0, side, policy.size)
    else:
        crop, crop_to_frame = _crop_warp(rgb_u8, x0, y0, side, policy.size)
    landmarks_crop = apply_affine(invert_affine(crop_to_frame), landmarks).astype(np.float32)
    return crop, landmarks_crop, crop_to_frame


def _check_inputs(rgb_u8: np.ndarray, landmarks_xy: np.ndarray) -> np.ndarray:
    if rgb_u8.dtype != np.uint8 or rgb_u8.ndim != 3 or rgb_u8.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {rgb_u8.shape} {rgb_u8.dtype}")
    landmarks = np.asarray(landmarks_xy, dtype=np.float64)
    if landmarks.ndim != 2 or landmarks.shape[1] != 2 or len(landmarks) < 2:
        raise ValueError(f"expected (K, 2) landmarks with K >= 2, got {landmarks.shape}")
    if not np.isfinite(landmarks).all():
        raise ValueError("landmarks contain NaN or infinite values")
    if np.ptp(landmarks, axis=0).max() < 1.0:
        raise ValueError("landmarks span less than one pixel: no face to crop")
    return landmarks


def _crop_warp(
    rgb_u8: np.ndarray, x0: float, y0: float, side: float, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Upscale (or keep) with one bilinear warp; sub-pixel exact."""
    import cv2

    scale = size / side
    frame_to_crop = np.array([[scale, 0.0, -x0 * scale], [0.0, scale, -y0 * scale]])
    crop = warp_bounded(
        rgb_u8, frame_to_crop, (size, size), border_mode=cv2.BORDER_REPLICATE, border_value=0
    )
    return crop, invert_affine(frame_to_crop)


def warp_bounded(
    src: np.ndarray,
    src_to_dst: np.ndarray,
    dst_wh: tuple[int, int],
    *,
    border_mode: int,
    border_value: float | tuple[float, ...],
) -> np.ndarray:
    """``cv2.warpAffine`` (bilinear) that hands OpenCV only the source rectangle it samples.

    The output is the same as warping the whole ``src``: OpenCV computes sample positions from
    the affine's translation in fixed point, and shifting it by whole pixels shifts them
    exactly; the rectangle is cut at the image's own edges, so border pixels are replicated or
    filled as before. What changes is that the source handed to OpenCV stays small, so an image
    of any width can be cropped (see ``_WARP_MARGIN_PX``).
    """
    import cv2

    h, w = src.shape[:2]
    dst_w, dst_h = dst_wh
    corners = np.array([[0.0, 0.0], [dst_w - 1.0, 0.0], [0.0, dst_h - 1.0],
                        [dst_w - 1.0, dst_h - 1.0]])
    sampled = apply_affine(invert_affine(src_to_dst), corners)
    x0, y0 = np.floor(sampled.min(axis=0)).astype(int) - _WARP_MARGIN_PX
    x1, y1 = np.ceil(sampled.max(axis=0)).astype(int) + _WARP_MARGIN_PX + 1
    # NOTE: at least one row and column, the nearest, so a region wholly outside the image
    # still replicates the right edge pixels.
    x0, x1 = min(max(x0, 0), w - 1), max(min(x1, w), 1)
    y0, y1 = min(max(y0, 0), h - 1), max(min(y1, h), 1)
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
    shifted = np.asarray(src_to_dst, dtype=np.float64).copy()
    shifted[:, 2] += shifted[:, :2] @ np.array([x0, y0], dtype=np.float64)
    return cv2.warpAffine(
        np.ascontiguousarray(src[y0:y1, x0:x1]),
        shifted,
        (dst_w, dst_h),
        flags=cv2.INTER_LINEAR,
        borderMode=border_mode,
        borderValue=border_value,
    )


def _crop_area(
    rgb_u8: np.ndarray, x0: float, y0: float, side: float, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Downscale with area averaging: cut the whole-pixel square, then ``cv2.resize``.

    The square is snapped to whole pixels (at most half a source pixel of shift, well below one
    crop pixel) and the returned affine describes the snapped square exactly.
    """
    import cv2

    h, w = rgb_u8.shape[:2]
    side_px = max(1, round(side))
    left, top = round(x0), round(y0)
    src_x0, src_y0 = max(left, 0), max(top, 0)
    src_x1, src_y1 = min(left + side_px, w), min(top + side_px, h)
    if src_x1 <= src_x0 or src_y1 <= src_y0:  # the square lies wholly outside the image
        return _crop_warp(rgb_u8, x0, y0, side, size)
    region = cv2.copyMakeBorder(
        rgb_u8[src_y0:src_y1, src_x0:src_x1],
        src_y0 - top,
        top + side_px - src_y1,
        src_x0 - left,
        left + side_px - src_x1,
        cv2.BORDER_REPLICATE,
    )
    crop = cv2.resize(region, (size, size), interpolation=cv2.INTER_AREA)
    step = side_px / size  # source pixels per crop pixel
    # NOTE: cv2.resize maps crop pixel u to source x = (u + 0.5) * step - 0.5 inside the region.
    crop_to_frame = np.array(
        [[step, 0.0, left + 0.5 * step - 0.5], [0.0, step, top + 0.5 * step - 0.5]]
    )
    return crop, crop_to_frame


def invert_affine(affine_2x3: np.ndarray) -> np.ndarray:
    """The inverse of a (2, 3) affine, as a (2, 3) float64 array."""
    full = np.vstack([np.asarray(affine_2x3, dtype=np.float64), [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def apply_affine(affine_2x3: np.ndarray, points_xy: np.ndarray) -> np.ndarray:
    """Map (K, 2) points with a (2, 3) affine; returns (K, 2) float64."""
    a = np.asarray(affine_2x3, dtype=np.float64)
    pts = np.asarray(points_xy, dtype=np.float64)
    return pts @ a[:, :2].T + a[:, 2]


def map_to_frame(
    map_f32: np.ndarray, crop_to_frame: np.ndarray, crop_size: int, frame_hw: tuple[int, int]
) -> np.ndarray:
    """Warp a crop-aligned map (any resolution) onto the frame; zero outside the crop."""
    import cv2

    resized = cv2.resize(map_f32.astype(np.float32), (crop_size, crop_size))
    h, w = frame_hw
    return cv2.warpAffine(resized, crop_to_frame, (w, h), flags=cv2.INTER_LINEAR, borderValue=0.0)
