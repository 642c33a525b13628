"""numpy frames to Qt images, and face boxes drawn the same way on screen and in key frames.

Only :class:`QImage` and :class:`QPainter` on a ``QImage`` are used here; both are safe in a
worker thread (a ``QPixmap`` is not), so key frames can be rendered off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

from engine.types import FaceScore

__all__ = ["BOX_COLOUR", "draw_face_boxes", "png_bytes", "qimage_from_rgb", "track_colour"]

BOX_COLOUR = QColor(0, 220, 255)
# NOTE: a few well separated hues so two tracks never share a colour on screen.
_TRACK_COLOURS = ("#00dcff", "#ffd400", "#ff4fd8", "#7cff4f", "#ff8a3d", "#b18cff")


def track_colour(track_id: int) -> QColor:
    """The colour of a face track, the same in the frame view, the timeline and key frames."""
    return QColor(_TRACK_COLOURS[track_id % len(_TRACK_COLOURS)])


def qimage_from_rgb(rgb_u8: np.ndarray) -> QImage:
    """A QImage that owns a copy of an (H, W, 3) uint8 RGB array.

    Raises:
        ValueError: the array is not (H, W, 3) uint8.
    """
    if rgb_u8.ndim != 3 or rgb_u8.shape[2] != 3 or rgb_u8.dtype != np.uint8:
        raise ValueError(f"expected (H, W, 3) uint8 RGB, got {rgb_u8.shape} {rgb_u8.dtype}")
    contiguous = np.ascontiguousarray(rgb_u8)
    height, width = contiguous.shape[:2]
    view = QImage(contiguous.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return view.copy()  # the view borrows numpy's buffer; the copy owns its pixels


def draw_face_boxes(image: QImage, faces: Sequence[FaceScore], *, scale: float = 1.0) -> None:
    """Draw each face's box and ``#track_id`` label onto ``image`` in place.

    Args:
        image: the frame, possibly resized by ``scale`` from frame pixels.
        faces: the faces found in that frame.
        scale: image pixels per frame pixel.
    """
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        line_px = max(2.0, image.height() / 240.0)
        font = QFont()
        font.setPixelSize(max(10, int(image.height() / 24)))
        font.setBold(True)
        painter.setFont(font)
        for face in faces:
            x0, y0, x1, y1 = (v * scale for v in face.bbox_xyxy)
            painter.setPen(QPen(track_colour(face.track_id), line_px))
            painter.drawRect(QRectF(x0, y0, x1 - x0, y1 - y0))
            painter.drawText(QRectF(x0, max(0.0, y0 - font.pixelSize() * 1.3), 200.0,
                                    font.pixelSize() * 1.3),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                             f"#{face.track_id}")
    finally:
        painter.end()


def png_bytes(image: QImage) -> bytes:
    """The image encoded as a complete PNG file.

    Raises:
        OSError: Qt could not encode the image.
    """
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError("could not encode a key frame as PNG")
    buffer.close()
    return bytes(data.data())
