"""The frame view: the current frame, face boxes with track ids, and one heatmap at a time.

A heatmap (Face X-ray blending boundary, MAT attention, Grad-CAM) is a second pixmap above the
frame whose opacity follows the slider, so moving the slider costs no decoding or colour
mapping. Only one heatmap shows at a time: two blended maps cannot be told apart. The pixels
come ready made in a ``FrameImage`` from a worker; this widget only displays them. A forensic
filter (``FilterChooser``) shares that layer: choosing one clears the heatmap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from PySide6.QtCore import QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QPen, QPixmap, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine import api
from engine.types import DetectorScore, EvidenceKind, FaceScore, Finding, MediaResult
from forensic_gui.imaging import qimage_from_rgb, track_colour
from forensic_gui.probability_text import fmt_p
from forensic_gui.tasks import FrameImage
from forensic_gui.widgets.filter_chooser import FilterChooser

__all__ = ["FramePanel", "FrameView", "face_tooltip", "short_label"]

_ZOOM_STEP = 1.25
_OPACITY_MIN_PX = 90
_OVERLAY_BUTTON_MIN_PX = 60
_OVERLAY_BUTTON_SHORT_MAX_PX = 150


def short_label(label: str) -> str:
    """The distinguishing part of a heatmap button's text, for when the full text does not fit.

    ``"Self-Blended Images (SBI): grad-cam"`` -> ``"SBI"`` (an acronym in brackets),
    ``"Face X-ray (blending boundary): blending boundary"`` -> ``"Face X-ray"`` (the name before
    the brackets or the colon). Elided from the right, the five shipped names read "Self-...",
    "Multi..." and "Face X...", and the analyst could not tell the buttons apart.
    """
    name = label.split(": ", 1)[0]
    bracketed = re.search(r"\(([^()]*)\)\s*$", name)
    if bracketed and re.fullmatch(r"[A-Z][A-Z0-9-]{1,7}", bracketed.group(1)):
        return bracketed.group(1)
    return name.split(" (", 1)[0].strip() or label


class _ElidingToolButton(QToolButton):
    """A checkable tool button that shortens its text when the row is too narrow for it.

    Heatmap buttons are named after their detector ("GAN-generated image (CNNDetection):
    grad-cam"); at full width three of them made the whole window wider than a laptop screen.
    The size hint keeps the full text, so the button takes it when there is room; with less, it
    shows ``short_text`` (e.g. "SBI"), elided only when even that does not fit.
    """

    def __init__(self, full_text: str, parent: QWidget | None = None, *,
                 short_text: str | None = None) -> None:
        super().__init__(parent)
        self._full_text = full_text
        self._short_text = short_text or full_text
        self.setText(full_text)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        metrics = self.fontMetrics()
        extra = metrics.horizontalAdvance(self._full_text) - metrics.horizontalAdvance(self.text())
        return QSize(hint.width() + extra, hint.height())

    def minimumSizeHint(self) -> QSize:
        # Room for the short text (up to _OVERLAY_BUTTON_SHORT_MAX_PX), so a narrow row
        # shortens the long names first instead of eliding every button alike.
        metrics = self.fontMetrics()
        full_px = self.sizeHint().width()
        padding_px = full_px - metrics.horizontalAdvance(self._full_text)
        short_px = min(metrics.horizontalAdvance(self._short_text) + padding_px + 2,
                       _OVERLAY_BUTTON_SHORT_MAX_PX)
        return QSize(min(max(_OVERLAY_BUTTON_MIN_PX, short_px), full_px),
                     super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        metrics = self.fontMetrics()
        full_px = self.sizeHint().width()
        room_px = max(0, self.width() - (full_px - metrics.horizontalAdvance(self._full_text)))
        if self.width() >= full_px:
            text = self._full_text
        elif metrics.horizontalAdvance(self._short_text) <= room_px:
            text = self._short_text
        else:
            text = metrics.elidedText(self._short_text, Qt.TextElideMode.ElideRight, room_px)
        if text != self.text():
            self.setText(text)


class FrameView(QGraphicsView):
    """Zoomable view of one frame with an optional heatmap layer and face boxes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QBrush(QColor("#202124")))
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self._frame_item = QGraphicsPixmapItem()
        self._overlay_item = QGraphicsPixmapItem()
        self._overlay_item.setZValue(1.0)
        self._overlay_item.setVisible(False)
        for item in (self._frame_item, self._overlay_item):
            item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
            self.scene().addItem(item)
        self._message_item = self.scene().addSimpleText("")
        self._message_item.setBrush(QBrush(QColor("#e8eaed")))
        self._box_items: list[QGraphicsRectItem] = []
        self._fit_to_window = True
        self._result: MediaResult | None = None

    def set_result(self, result: MediaResult | None) -> None:
        """The analysis whose faces are shown: their labels are fused with its own rule."""
        self._result = result

    def show_image(self, pixmap: QPixmap, faces: tuple[FaceScore, ...]) -> None:
        """Show a frame and its faces' boxes; keeps the zoom unless the view is in fit mode."""
        self._message_item.setText("")
        self._frame_item.setPixmap(pixmap)
        self._frame_item.setVisible(True)
        self.scene().setSceneRect(QRectF(pixmap.rect()))
        self._set_boxes(faces)
        if self._fit_to_window:
            self.fit()

    def show_message(self, text: str) -> None:
        """Clear the view and show ``text`` instead of a frame."""
        self._frame_item.setVisible(False)
        self._overlay_item.setVisible(False)
        self._set_boxes(())
        self._message_item.setText(text)
        self.scene().setSceneRect(self._message_item.boundingRect().adjusted(-20, -20, 20, 20))
        self.resetTransform()

    def set_overlay(self, pixmap: QPixmap | None, opacity: float, scale: float = 1.0) -> None:
        """Show ``pixmap`` (``scale`` frame px per pixmap px) at ``opacity``, or hide it."""
        if pixmap is None:
            self._overlay_item.setVisible(False)
            return
        self._overlay_item.setScale(scale)
        self._overlay_item.setPixmap(pixmap)
        self._overlay_item.setOpacity(opacity)
        self._overlay_item.setVisible(self._frame_item.isVisible())

    def set_overlay_opacity(self, opacity: float) -> None:
        """Fade the heatmap layer; 0 shows the plain frame."""
        self._overlay_item.setOpacity(opacity)

    def set_boxes_visible(self, visible: bool) -> None:
        """Show or hide the face boxes and labels."""
        for item in self._box_items:
            item.setVisible(visible)

    @property
    def overlay_visible(self) -> bool:
        """Whether a heatmap is drawn over the frame."""
        return self._overlay_item.isVisible()

    @property
    def box_count(self) -> int:
        """How many face boxes are drawn (for tests and the status bar)."""
        return len(self._box_items)

    def zoom_by(self, factor: float) -> None:
        """Zoom around the view centre; leaves fit mode."""
        self._fit_to_window = False
        self.scale(factor, factor)

    def fit(self) -> None:
        """Fit the whole frame in the window and keep fitting when the window resizes."""
        self._fit_to_window = True
        if self._frame_item.isVisible() and not self._frame_item.pixmap().isNull():
            self.fitInView(self._frame_item, Qt.AspectRatioMode.KeepAspectRatio)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(_ZOOM_STEP**steps)
        event.accept()

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        if self._fit_to_window:
            self.fit()

    def _set_boxes(self, faces: tuple[FaceScore, ...]) -> None:
        for item in self._box_items:
            self.scene().removeItem(item)
        self._box_items = []
        for face in faces:
            self._box_items.append(self._box_item(face))

    def _box_item(self, face: FaceScore) -> QGraphicsRectItem:
        x0, y0, x1, y1 = face.bbox_xyxy
        colour = track_colour(face.track_id)
        pen = QPen(colour, 2.0)
        pen.setCosmetic(True)  # the same line width at every zoom
        box = QGraphicsRectItem(QRectF(x0, y0, x1 - x0, y1 - y0))
        box.setPen(pen)
        box.setZValue(2.0)
        finding = (api.fuse_scores(face.scores) if self._result is None
                   else api.fuse_for(self._result, face.scores, "face"))
        p_fake = finding.p_fake
        p_text = "" if p_fake is None else f": {fmt_p(p_fake)}"
        label = QGraphicsSimpleTextItem(f"face #{face.track_id}{p_text}", box)
        label.setToolTip(face_tooltip(self._result, face.scores, finding))
        label.setBrush(QBrush(colour))
        label.setFlag(QGraphicsSimpleTextItem.GraphicsItemFlag.ItemIgnoresTransformations)
        label.setPos(x0, y1)  # under the box: text grows down from its anchor at every zoom
        self.scene().addItem(box)
        return box


def face_tooltip(result: MediaResult | None, scores: tuple[DetectorScore, ...],
                 finding: Finding) -> str:
    """What the face's label says on hover: its own finding and, under fusion v2, why its kind
    got that grade at the face's level (``engine.api.explain_for``). The label shows the
    likelihood alone, which can be high while the grade is 'no support'; the reason says which
    bound held it down, as the findings panel does for the file."""
    if finding.p_fake is None:
        return "no detector applied to this face"
    text = f"this face alone: {finding.statement}"
    reasons = {} if result is None else api.explain_for(result, scores, "face", finding)
    reason = reasons.get(finding.kind) if finding.kind is not None else None
    if reason is None:
        return text
    return f"{text}\nWhy, for {EvidenceKind(reason.kind).phrase}: {reason.text()}"


class FramePanel(QWidget):
    """The frame view with its controls: heatmap toggles, opacity, boxes, zoom."""

    overlay_changed = Signal(object)  # the detector id shown, or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = FrameView(self)
        self._caption = QLabel("No frame", self)
        # NOTE: Ignored: the caption may be cut rather than widen the window.
        self._caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._caption.setMinimumWidth(120)
        self._overlay_labels: dict[str, str] = {}
        self._overlay_pixmaps: dict[str, QPixmap] = {}
        self._overlay_rgb: dict[str, object] = {}
        self._active_overlay: str | None = None
        self._frame: FrameImage | None = None
        self._overlay_buttons = QButtonGroup(self)
        self._overlay_buttons.setExclusive(False)
        self._overlay_buttons.buttonToggled.connect(self._on_overlay_buttons_toggled)
        self._overlay_row = QHBoxLayout()
        self._no_overlay = QLabel("none on this frame", self)
        self._no_overlay.setStyleSheet("color: #5f6368;")
        self._opacity = QSlider(Qt.Orientation.Horizontal, self)
        self._opacity.setRange(0, 100)
        self._opacity.setValue(50)
        self._opacity.setMinimumWidth(_OPACITY_MIN_PX)
        self._opacity.setMaximumWidth(160)
        self._opacity.setEnabled(False)  # until a frame has a heatmap
        self._opacity.setToolTip("Heatmap opacity")
        self._opacity.valueChanged.connect(self._on_opacity_value_changed)
        self._note = QLabel("", self)
        self._note.setWordWrap(True)
        self._note.setStyleSheet("color: #9aa0a6;")
        self.filters = FilterChooser(self)
        self.filters.filter_changed.connect(self._on_filters_filter_changed)
        self._build_layout()
        self.show_message("Select an evidence item to see its frames.")

    def _build_layout(self) -> None:
        """Frame caption, boxes and zoom on one row; heatmap choice and opacity on the next."""
        controls = QHBoxLayout()
        controls.addWidget(self._caption, 1)
        # NOTE: on this row, not the crowded heatmap row: the window must fit 1280 px.
        controls.addWidget(self.filters.box)
        self._boxes_button = self._tool_button("Boxes", "Show face boxes and track ids", True)
        self._boxes_button.toggled.connect(self.view.set_boxes_visible)
        controls.addWidget(self._boxes_button)
        for text, tip, slot in (("−", "Zoom out", lambda: self.view.zoom_by(1 / _ZOOM_STEP)),
                                ("+", "Zoom in", lambda: self.view.zoom_by(_ZOOM_STEP)),
                                ("Fit", "Fit the frame in the window", self.view.fit)):
            button = self._tool_button(text, tip, False)
            button.clicked.connect(slot)
            controls.addWidget(button)
        heatmaps = QHBoxLayout()
        heatmaps.addWidget(QLabel("Heatmap:", self))
        heatmaps.addWidget(self._no_overlay)
        heatmaps.addLayout(self._overlay_row)
        heatmaps.addStretch(1)
        heatmaps.addWidget(QLabel("Opacity", self))
        heatmaps.addWidget(self._opacity)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addLayout(heatmaps)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.filters.guidance)
        layout.addWidget(self._note)

    def _tool_button(self, text: str, tip: str, checkable: bool) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setCheckable(checkable)
        button.setChecked(checkable)
        return button

    @property
    def current_frame_idx(self) -> int | None:
        """Index of the frame shown, ``None`` when none is."""
        return None if self._frame is None else self._frame.frame_idx

    @property
    def active_overlay(self) -> str | None:
        """Detector id of the heatmap shown, ``None`` for the plain frame."""
        return self._active_overlay

    @property
    def overlay_opacity(self) -> float:
        """Heatmap opacity in [0, 1]."""
        return self._opacity.value() / 100.0

    def overlay_choices(self) -> tuple[str, ...]:
        """Detector ids whose heatmap can be shown on the current frame."""
        return tuple(button.property("detector") for button in self._overlay_buttons.buttons())

    def set_overlay_labels(self, labels: Mapping[str, str]) -> None:
        """Button text per detector id, e.g. ``{"xray_hrnet18": "Blending boundary"}``."""
        self._overlay_labels = dict(labels)

    def set_note(self, text: str) -> None:
        """A line under the view (why no heatmap is available, which track is selected)."""
        self._note.setText(text)

    def note_text(self) -> str:
        """The line under the view (empty when there is nothing to say)."""
        return self._note.text()

    def show_frame(self, frame: FrameImage) -> None:
        """Display a frame decoded by a worker, keeping the chosen heatmap if it has one."""
        self._frame = frame
        self._overlay_pixmaps = {}
        self._overlay_rgb = dict(frame.overlays)
        self._rebuild_overlay_buttons(tuple(self._overlay_rgb))
        self.view.show_image(QPixmap.fromImage(qimage_from_rgb(frame.rgb_u8)), frame.faces)
        self.view.set_boxes_visible(self._boxes_button.isChecked())
        self._caption.setText(f"Frame {frame.frame_idx}   t = {frame.t_sec:.2f} s   "
                              f"{len(frame.faces)} face(s)")
        if self.filters.show_filtered(frame, self.view, self.overlay_opacity):
            self._opacity.setEnabled(True)
            return
        self.set_active_overlay(self._active_overlay if self._active_overlay in
                                self._overlay_rgb else None)

    def show_message(self, text: str) -> None:
        """Show a message instead of a frame (no evidence selected, frame unreadable)."""
        self._frame = None
        self._overlay_rgb = {}
        self._overlay_pixmaps = {}
        self._rebuild_overlay_buttons(())
        self._caption.setText("No frame")
        self.view.show_message(text)

    def set_active_overlay(self, detector: str | None) -> None:
        """Show ``detector``'s heatmap, or none.

        Raises:
            KeyError: the current frame has no heatmap for ``detector``.
        """
        if detector is not None and detector not in self._overlay_rgb:
            raise KeyError(f"no heatmap of {detector!r} on this frame")
        if detector is not None:
            self.filters.choose(None, quiet=True)  # a heatmap takes the layer from the filter
        self._active_overlay = detector
        for button in self._overlay_buttons.buttons():
            button.blockSignals(True)
            button.setChecked(button.property("detector") == detector)
            button.blockSignals(False)
        self.view.set_overlay(self._pixmap_for(detector), self.overlay_opacity)
        self.overlay_changed.emit(detector)

    def _pixmap_for(self, detector: str | None) -> QPixmap | None:
        if detector is None:
            return None
        if detector not in self._overlay_pixmaps:
            rgb_u8 = self._overlay_rgb[detector]
            self._overlay_pixmaps[detector] = QPixmap.fromImage(qimage_from_rgb(rgb_u8))  # type: ignore[arg-type]
        return self._overlay_pixmaps[detector]

    def _rebuild_overlay_buttons(self, detectors: tuple[str, ...]) -> None:
        if detectors == self.overlay_choices():
            return
        for button in self._overlay_buttons.buttons():
            self._overlay_buttons.removeButton(button)
            self._overlay_row.removeWidget(button)
            button.deleteLater()
        for name in detectors:
            label = self._overlay_labels.get(name, name)
            button = _ElidingToolButton(label, self, short_text=short_label(label))
            button.setToolTip(f"Show the heatmap: {label} ({name})" if label != name else
                              f"Show the heatmap of {name}")
            button.setCheckable(True)
            button.setProperty("detector", name)
            self._overlay_buttons.addButton(button)
            self._overlay_row.addWidget(button)
        self._no_overlay.setVisible(not detectors)
        self._opacity.setEnabled(bool(detectors))

    @Slot(object, bool)
    def _on_overlay_buttons_toggled(self, button: QToolButton, checked: bool) -> None:
        detector = button.property("detector")
        self.set_active_overlay(detector if checked else None)

    @Slot(object)
    def _on_filters_filter_changed(self, name: str | None) -> None:
        if name is not None and self._active_overlay is not None:
            self.set_active_overlay(None)
        elif name is None:
            self.view.set_overlay(None, 0.0)

    @Slot(int)
    def _on_opacity_value_changed(self, value: int) -> None:
        self.view.set_overlay_opacity(value / 100.0)
