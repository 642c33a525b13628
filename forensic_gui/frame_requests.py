"""Frame-view requests that carry the forensic filter the analyst chose.

Every frame the main window shows goes through :class:`FrameRequests`: it adds the filter
chosen in the frame view (and the file's JPEG quality from its stored provenance, which JPEG
ghosts need) to the loader's request, and asks for the current frame again when the choice
changes or the timeline asks for another analysed frame (:meth:`seek`). Keeping this here keeps
the main window to wiring.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Slot

from engine.types import FaceScore, MediaResult
from forensic_gui.widgets.frame_view import FramePanel
from forensic_gui.workers import FrameLoader

__all__ = ["FrameRequests"]


class FrameRequests(QObject):
    """Requests frames from ``loader`` for ``panel``, with the panel's chosen filter."""

    def __init__(self, loader: FrameLoader, panel: FramePanel) -> None:
        super().__init__(panel)
        self._loader = loader
        self._panel = panel
        self._path: str | None = None
        self._result: MediaResult | None = None
        panel.filters.filter_changed.connect(self._on_filters_filter_changed)

    def request(self, path: str, frame_idx: int, faces: Sequence[FaceScore],
                result: MediaResult | None) -> None:
        """Ask for ``frame_idx`` of ``path`` (``result``: the item's analysis, if any)."""
        self._path, self._result = path, result
        name = self._panel.filters.active
        prov = result.file_provenance if result is not None else None
        quality = prov.jpeg.quality_estimate if prov is not None and prov.jpeg else None
        # NOTE: the frame's whole-picture maps (generated-image detector) come from the result.
        frame = next((f for f in (result.frames if result is not None else ())
                      if f.frame_idx == frame_idx), None)
        self._loader.request(path, frame_idx, faces, None if name is None else (name, quality),
                             picture_maps=None if frame is None else frame.picture_maps)

    @Slot(int)
    def seek(self, frame_idx: int) -> None:
        """Show analysed frame ``frame_idx`` of the item last requested (others are ignored)."""
        frames = self._result.frames if self._result is not None else ()
        for frame in frames:
            if frame.frame_idx == frame_idx and self._path is not None:
                self.request(self._path, frame_idx, frame.faces, self._result)
                return

    @Slot(object)
    def _on_filters_filter_changed(self, name: str | None) -> None:
        frame_idx = self._panel.current_frame_idx
        if name is None or self._path is None or frame_idx is None:
            return
        frames = self._result.frames if self._result is not None else ()
        faces = next((f.faces for f in frames if f.frame_idx == frame_idx), ())
        self.request(self._path, frame_idx, faces, self._result)
