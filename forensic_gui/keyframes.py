"""Key frames stored with an analysis: the frames with the highest fused score, with overlays.

The explanation maps are not stored (they are large), so the frames an analyst and the report
most need to see are rendered once, when the analysis finishes, in the analysis worker: each
key frame is one PNG strip, the frame with its face boxes first, then one panel per detector that
produced a map, each with that detector's heatmap blended in (the generated-image detector's
panel shows its tile probabilities over the whole frame, with its face regions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from engine import api
from engine.jobs import CancelToken
from engine.types import Frame, FrameResult, MediaResult
from forensic_gui.cases.records import KeyFrameImage
from forensic_gui.imaging import draw_face_boxes, png_bytes, qimage_from_rgb
from forensic_gui.probability_text import fmt_p

__all__ = [
    "KEY_FRAME_OPACITY",
    "map_detectors",
    "most_suspicious_frame",
    "pick_key_frames",
    "render_key_frames",
]

KEY_FRAME_OPACITY = 0.5
# NOTE: 360 px panels keep a 3-panel strip near 100-300 KB as PNG; the report prints it small.
_PANEL_HEIGHT_PX = 360
_GAP_PX = 6


def map_detectors(result: MediaResult) -> tuple[str, ...]:
    """Detectors that produced an explanation map for at least one face or whole picture (the
    generated-image detector's tile map), in result order."""
    seen: dict[str, None] = {}
    for frame in result.frames:
        for face in frame.faces:
            for name in face.maps:
                seen.setdefault(name, None)
        for name in frame.picture_maps:
            seen.setdefault(name, None)
    return tuple(seen)


def _scored(frame: FrameResult) -> bool:
    """A frame something was scored on: a face, or the whole picture."""
    return bool(frame.faces) or any(s.p_fake is not None for s in frame.picture_scores)


def pick_key_frames(result: MediaResult, count: int) -> list[FrameResult]:
    """Up to ``count`` frames with faces or a whole-picture score, highest fused ``p_fake``
    first, returned in time order."""
    scored = [f for f in result.frames if _scored(f) and f.finding.p_fake is not None]
    scored.sort(key=lambda f: (-(f.finding.p_fake or 0.0), f.frame_idx))
    return sorted(scored[:count], key=lambda f: f.frame_idx)


def most_suspicious_frame(result: MediaResult) -> FrameResult | None:
    """The analysed frame with faces or a whole-picture score and the highest fused score (the
    first one on a tie)."""
    candidates = [f for f in result.frames if _scored(f)]
    if not candidates:
        return None
    return max(candidates, key=lambda f: (f.finding.p_fake or 0.0, -f.frame_idx))


def render_key_frames(
    result: MediaResult,
    count: int,
    *,
    map_labels: Mapping[str, str],
    cancel: CancelToken,
    read_frame: Callable[[str, int], Frame] = api.read_frame,
) -> tuple[KeyFrameImage, ...]:
    """Render the key frames of an ``ok`` result (see the module docstring).

    Args:
        result: the analysis, with maps (analysed with ``want_maps=True``).
        count: how many key frames.
        map_labels: a caption label per detector id (``"Face X-ray (blending boundary)"``).
        cancel: checked between frames.
        read_frame: decodes a frame again (the app's reads in a worker process).

    Raises:
        JobCancelled: ``cancel`` was set.
        MediaError: a frame could not be decoded again.
    """
    detectors = map_detectors(result)
    images: list[KeyFrameImage] = []
    for frame_result in pick_key_frames(result, count):
        cancel.raise_if_cancelled()
        frame = read_frame(result.path, frame_result.frame_idx)
        panels = [frame.rgb_u8] + [
            api.overlay_maps(frame.rgb_u8, frame_result.faces, name, KEY_FRAME_OPACITY,
                             picture_map=frame_result.picture_maps.get(name))
            for name in detectors
        ]
        strip = _strip(panels, frame_result)
        images.append(KeyFrameImage(
            frame_idx=frame_result.frame_idx,
            caption=_caption(frame_result, detectors, map_labels),
            image_bytes=png_bytes(strip),
            t_sec=frame_result.t_sec,
        ))
    return tuple(images)


def _strip(panels: Sequence[np.ndarray], frame_result: FrameResult) -> QImage:
    height, width = panels[0].shape[:2]
    scale = min(1.0, _PANEL_HEIGHT_PX / height)
    panel_w, panel_h = round(width * scale), round(height * scale)
    strip = QImage(panel_w * len(panels) + _GAP_PX * (len(panels) - 1), panel_h,
                   QImage.Format.Format_RGB888)
    strip.fill(QColor("white"))
    painter = QPainter(strip)
    try:
        for i, rgb_u8 in enumerate(panels):
            panel = qimage_from_rgb(rgb_u8).scaled(
                panel_w, panel_h, Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation)
            draw_face_boxes(panel, frame_result.faces, scale=panel_w / width)
            painter.drawImage(QPointF(i * (panel_w + _GAP_PX), 0), panel)
    finally:
        painter.end()
    return strip


def _caption(frame_result: FrameResult, detectors: Sequence[str],
             map_labels: Mapping[str, str]) -> str:
    finding = frame_result.finding
    panels = ["frame with face boxes"] + [map_labels.get(d, d) for d in detectors]
    return (f"Frame {frame_result.frame_idx} (t = {frame_result.t_sec:.2f} s): p_fake "
            f"{fmt_p(finding.p_fake)}, {finding.statement}. Panels: {'; '.join(panels)}.")
