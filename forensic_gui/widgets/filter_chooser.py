"""The frame view's forensic-filter chooser and the reading guidance shown with a filter.

The chooser lists the engine's filters (``engine.api.list_filters``); the guidance label,
placed under the frame by :class:`forensic_gui.widgets.frame_view.FramePanel`, shows what was
computed and the filter's "how to read this / what not to conclude" text while a filter is on.
Choosing a filter makes the frame be asked for again with it (``filter_changed``); the worker
computes the map, and :meth:`FilterChooser.show_filtered` lays it over the frame, scaled up
from its coarser grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from engine import api
from forensic_gui.imaging import qimage_from_rgb
from forensic_gui.tasks import FrameImage

__all__ = ["FilterChooser"]


class _OverlayView(Protocol):
    def set_overlay(self, pixmap: QPixmap | None, opacity: float, scale: float = 1.0) -> None:
        """Show ``pixmap`` over the frame, ``scale`` frame pixels per pixmap pixel."""
        ...


class FilterChooser(QObject):
    """A combo box of filters (first entry: none) and the guidance label that goes with it."""

    filter_changed = Signal(object)  # the filter name, or None

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.box = QComboBox(parent)
        self.box.setObjectName("filter_chooser")
        self.box.setToolTip("Classic forensic filters: read the text under the view")
        self.box.addItem("Filter: none", None)
        # NOTE: the box may shrink below its longest entry (the popup still shows them whole),
        # so the window keeps fitting a 1280-pixel screen.
        self.box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.box.setMinimumContentsLength(6)
        self.box.currentIndexChanged.connect(self._on_box_current_index_changed)
        self.guidance = QLabel("", parent)
        self.guidance.setObjectName("filter_guidance")
        self.guidance.setWordWrap(True)
        self.guidance.setVisible(False)
        self._texts: dict[str, str] = {}
        self.set_filters(api.list_filters())

    @property
    def active(self) -> str | None:
        """The filter chosen, ``None`` for none."""
        name: str | None = self.box.currentData()
        return name

    def set_filters(self, filters: Sequence[api.FilterInfo]) -> None:
        """Offer ``filters`` (their summaries as tooltips, their guidance kept for display)."""
        self._texts = {f.name: f.guidance for f in filters}
        for info in filters:
            self.box.addItem(info.title, info.name)
            self.box.setItemData(self.box.count() - 1, info.summary, Qt.ItemDataRole.ToolTipRole)

    def choose(self, name: str | None, *, quiet: bool = False) -> None:
        """Select ``name`` (or none); ``quiet`` sends no ``filter_changed``."""
        self.box.blockSignals(quiet)
        self.box.setCurrentIndex(max(0, self.box.findData(name)))
        self.box.blockSignals(False)
        if quiet:
            self._show_guidance(None, "")

    def show_filtered(self, frame: FrameImage, view: _OverlayView, opacity: float) -> bool:
        """Lay ``frame``'s map of the chosen filter over ``view``; ``False`` if it has none."""
        filtered = frame.filtered
        if filtered is None or filtered.name != self.active:
            return False
        pixmap = QPixmap.fromImage(qimage_from_rgb(filtered.rgb_u8))
        view.set_overlay(pixmap, opacity, float(filtered.cell_px))
        guidance = self._texts.get(filtered.name, "")
        self._show_guidance(filtered.name, f"{filtered.caption}\n{guidance}")
        return True

    def _show_guidance(self, name: str | None, text: str) -> None:
        self.guidance.setVisible(name is not None)
        self.guidance.setText(text)

    @Slot(int)
    def _on_box_current_index_changed(self, _index: int) -> None:
        name = self.active
        self._show_guidance(name, "Computing the filter…" if name else "")
        self.filter_changed.emit(name)
