"""How a video frame is shown: the display matrix (or the old ``rotate`` tag) as a pixel operation.

Phones store portrait video as landscape pixels plus a 3x3 display matrix (MP4 'tkhd', or
Matroska/other side data); front cameras sometimes add a mirror. FFmpeg hands the matrix to us
as side data on every decoded frame. It maps a stored pixel ``(x, y)`` to the shown position
``(a*x + c*y, b*x + d*y)`` (16.16 fixed point ``a, b, c, d`` = matrix[0], [1], [3], [4]).
Only the eight right-angle rotations and mirrors are real-world cases; a matrix with any other
angle is snapped to the nearest right angle and a warning is logged.
"""

from __future__ import annotations

import logging
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["UPRIGHT", "Orientation", "orientation_from_matrix", "orientation_from_tag"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Orientation:
    """Mirror (left-right, first) then turn clockwise by ``rotation_deg`` to show a frame."""

    rotation_deg: int = 0
    mirrored: bool = False

    def apply(self, rgb_u8: np.ndarray) -> np.ndarray:
        """The frame as it is shown: (H, W, 3) in, upright C-contiguous (H', W', 3) out."""
        if not self.mirrored and self.rotation_deg == 0:
            return rgb_u8
        out = rgb_u8[:, ::-1] if self.mirrored else rgb_u8
        out = np.rot90(out, k=-(self.rotation_deg // 90))  # np.rot90 turns counterclockwise
        return np.ascontiguousarray(out)

    def shown_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of a stored ``width`` x ``height`` frame once shown."""
        return (height, width) if self.rotation_deg in (90, 270) else (width, height)


UPRIGHT = Orientation()

# Signs of (a, b, c, d) -> what they mean; x right, y down (so a clockwise turn by 90 degrees
# maps the x axis (1, 0) onto (0, 1)).
_BY_SIGNS: dict[tuple[int, int, int, int], Orientation] = {
    (1, 0, 0, 1): Orientation(0, False),
    (0, 1, -1, 0): Orientation(90, False),
    (-1, 0, 0, -1): Orientation(180, False),
    (0, -1, 1, 0): Orientation(270, False),
    (-1, 0, 0, 1): Orientation(0, True),
    (0, -1, -1, 0): Orientation(90, True),
    (1, 0, 0, -1): Orientation(180, True),
    (0, 1, 1, 0): Orientation(270, True),
}


def orientation_from_matrix(path: str, matrix_bytes: bytes) -> Orientation:
    """The orientation a 36-byte display matrix (nine native-endian int32) describes."""
    if len(matrix_bytes) < 36:
        logger.warning("%s: display matrix of %d bytes ignored", path, len(matrix_bytes))
        return UPRIGHT
    m = struct.unpack("=9i", matrix_bytes[:36])
    a, b, c, d = (v / 65536.0 for v in (m[0], m[1], m[3], m[4]))
    scale = math.hypot(a, b)
    if scale == 0 or not math.isfinite(scale):
        logger.warning("%s: degenerate display matrix %s ignored", path, m)
        return UPRIGHT
    det_sign = 1 if a * d - b * c >= 0 else -1
    angle = math.degrees(math.atan2(b, a))  # where the x axis goes; mirror: x is negated first
    if det_sign < 0:
        angle = math.degrees(math.atan2(-b, -a))
    snapped = round(angle / 90.0) * 90
    if abs(angle - snapped) > 1.0:
        logger.warning("%s: display rotation %.1f° is not a right angle; using %d°",
                       path, angle, snapped % 360)
    return _rotation_then_mirror(snapped % 360, det_sign < 0)


def _rotation_then_mirror(rotation_deg: int, mirrored: bool) -> Orientation:
    rad = math.radians(rotation_deg)
    cos, sin = round(math.cos(rad)), round(math.sin(rad))
    flip = -1 if mirrored else 1
    signs = (flip * cos, flip * sin, -sin, cos)  # matrix of "mirror x, then turn"
    return _BY_SIGNS[signs]


def orientation_from_tag(path: str, metadata: Mapping[str, str]) -> Orientation:
    """The legacy ``rotate`` stream tag (clockwise degrees), for files without a matrix."""
    text = metadata.get("rotate")
    if text is None:
        return UPRIGHT
    try:
        degrees = float(text)
    except ValueError:
        logger.warning("%s: unreadable rotate tag %r ignored", path, text)
        return UPRIGHT
    if not math.isfinite(degrees):
        return UPRIGHT
    snapped = round(degrees / 90.0) * 90 % 360
    if abs((degrees - snapped + 180) % 360 - 180) > 1.0:
        logger.warning(
            "%s: rotate tag %.1f° is not a right angle; using %d°", path, degrees, snapped
        )
    return Orientation(snapped, False)
