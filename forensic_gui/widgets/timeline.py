"""The analysis timeline: each detector's calibrated score and the fused score over time.

One ``PlotDataItem`` per detector and a thicker one for the finding (the p_fake of the kind of
manipulation with the strongest support in that frame); a dashed ``InfiniteLine`` at the
detectors' decision threshold (0.50); shaded ``LinearRegionItem`` spans where the frame's own
finding supports manipulation (light for weak support, darker for moderate or strong). The
shading comes from each frame's graded finding, whose thresholds depend on the kind and are set
from real media (docs/FINDINGS.md), so a curve above the dashed line is not by itself a span.
A click or a drag of the cursor line picks the nearest analysed frame and asks the frame view to
show it; so do the keys the main window binds to ``step``, ``step_to_end`` and
``step_to_flagged`` (the next or previous analysed frame, the first or last, the next or
previous frame inside a shaded span). With several faces, a selector switches between "all
faces" (each frame's max over faces, the video rule) and one face track.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine import api
from engine.types import DetectorScore, Finding, FrameResult, Grade, MediaResult
from forensic_gui.cases.flagged_spans import flagged_spans

__all__ = ["FUSED_CURVE", "STEP_KEYS_HINT", "STEP_KEYS_TIP", "TimelineWidget"]

FUSED_CURVE = "fused"
# NOTE: the keys are bound by the main window (forensic_gui.main_window), over the frame view
# and the timeline together; the legend names them and its tooltip says what they do.
STEP_KEYS_HINT = "keys: \u2190 \u2192 PgUp PgDn Home End"
STEP_KEYS_TIP = ("With the frame or the plot clicked: \u2190 \u2192 step through the analysed "
                 "frames, PgUp PgDn jump to the previous or next frame in a shaded span (a "
                 "frame whose own finding supports manipulation), Home End go to the first or "
                 "last analysed frame.")
# NOTE: each detector's threshold (DetectorCfg.threshold, recorded in the analysis's provenance)
# is its own, taken from real media (engine.evaluation.fit_thresholds), so each gets its own
# dashed line in its colour; the shaded spans come from the frames' own graded findings.
_THRESHOLD_LEGEND = "- - - each detector's threshold, in its colour"
_POOL_SIZE = 7  # detector curves made up front (five shipped detectors, room for two more)
_PALETTE = ("#1a73e8", "#e37400", "#9334e6", "#188038", "#d01884", "#12b5cb", "#795548")
_SPAN_BRUSH = {Grade.WEAK: (251, 188, 4, 55), Grade.MODERATE: (217, 48, 37, 55),
               Grade.STRONG: (217, 48, 37, 90)}


def _unbreakable(text_html: str) -> str:
    """Spaces and hyphens that do not break: the legend wraps between entries only."""
    return text_html.replace(" ", "&nbsp;").replace("-", "&#8209;")


class TimelineWidget(QWidget):
    """Score curves over time for one analysis, with a cursor that seeks the frame view."""

    seek_requested = Signal(int)  # frame_idx of an analysed frame
    track_changed = Signal(object)  # track id, or None for all faces

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plot = pg.PlotWidget(self, background="w")
        self._plot.setObjectName("timeline_plot")
        self._item = self._plot.getPlotItem()
        self._setup_axes()
        self._cursor = pg.InfiniteLine(pos=0.0, angle=90, movable=True,
                                       pen=pg.mkPen("#202124", width=2),
                                       hoverPen=pg.mkPen("#1a73e8", width=3))
        self._cursor.setZValue(20)
        self._item.addItem(self._cursor)
        self._cursor.sigDragged.connect(self._on_cursor_dragged)
        self._cursor.sigPositionChangeFinished.connect(self._on_cursor_position_change_finished)
        self._plot.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)
        self._tracks = QComboBox(self)
        self._tracks.setObjectName("track_selector")
        self._tracks.currentIndexChanged.connect(self._on_tracks_current_index_changed)
        self._summary = QLabel("", self)
        self._summary.setWordWrap(True)  # wraps rather than widening the window
        # NOTE: a QLabel legend, not pyqtgraph's LegendItem: laying out the item legend cost
        # about 60 ms per analysis shown, most of the GUI thread's budget.
        self._legend = QLabel("", self)
        self._legend.setObjectName("timeline_legend")
        self._legend.setWordWrap(True)
        # NOTE: on the legend only: a tooltip on the plot would pop up over the curves while
        # the analyst reads them.
        self._legend.setToolTip(STEP_KEYS_TIP)
        self._build_layout()
        self._result: MediaResult | None = None
        self._labels: dict[str, str] = {}
        self._frames: list[FrameResult] = []
        self._t_sec = np.zeros(0)
        self._curves: dict[str, pg.PlotDataItem] = {}
        # NOTE: curve items are made once, here, and reused for every result: creating and
        # adding six pyqtgraph items when the first result arrived cost 25-40 ms on the GUI
        # thread while the next analysis kept both cores busy (the 100 ms stall budget).
        self._pool = [self._new_curve_item() for _ in range(_POOL_SIZE)]
        self._fused_curve = self._new_curve_item()
        self._fused_curve.setZValue(10)
        self._threshold_pool = [self._new_threshold_line() for _ in range(_POOL_SIZE)]
        self._threshold_lines: dict[str, pg.InfiniteLine] = {}
        self._legend_entries: list[str] = []
        self._regions: list[pg.LinearRegionItem] = []
        self._flagged: list[bool] = []  # per analysed frame: inside a shaded span (_add_regions)
        self._current_frame_idx: int | None = None
        self.clear("No analysis to show. Select an evidence item and run Analyze.")

    def _setup_axes(self) -> None:
        self._item.setLabel("bottom", "time", units="s")
        self._item.setLabel("left", "calibrated p_fake")
        self._item.showGrid(x=True, y=True, alpha=0.25)
        self._item.setMouseEnabled(x=True, y=False)
        self._item.setYRange(0.0, 1.0, padding=0.02)

    def _show_axes(self, visible: bool) -> None:
        for side in ("bottom", "left"):
            self._item.showAxis(side, visible)

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self._summary, 1)
        top.addWidget(QLabel("Faces:", self))
        top.addWidget(self._tracks)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self._legend)
        layout.addWidget(self._plot, 1)

    # -- public --------------------------------------------------------------------------

    @property
    def current_frame_idx(self) -> int | None:
        """The analysed frame under the cursor."""
        return self._current_frame_idx

    @property
    def selected_track(self) -> int | None:
        """The face track shown, ``None`` for all faces (max per frame)."""
        data = self._tracks.currentData()
        return None if data is None or data < 0 else int(data)

    def axes_visible(self) -> bool:
        """Whether the time and p_fake axes are drawn (only with an analysis of a video)."""
        return bool(self._item.getAxis("bottom").isVisible())

    def curve_names(self) -> tuple[str, ...]:
        """Detector ids with a curve, then :data:`FUSED_CURVE`."""
        return tuple(self._curves)

    def threshold_lines(self) -> dict[str, float]:
        """Detector id -> the height of its dashed threshold line, for the curves shown."""
        return {name: float(line.value()) for name, line in self._threshold_lines.items()}

    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(t_sec, p_fake)`` of a curve; ``NaN`` where the detector did not apply."""
        x, y = self._curves[name].getData()
        return np.asarray(x), np.asarray(y)

    def elevated_spans(self) -> list[tuple[float, float]]:
        """The shaded ``(t_start, t_end)`` spans, in seconds."""
        return [tuple(float(v) for v in region.getRegion()) for region in self._regions]  # type: ignore[misc]

    def step(self, offset: int) -> bool:
        """Show the analysed frame ``offset`` places after the current one (before it when
        negative), stopping at the first and last; False when the cursor cannot move."""
        position = self._position()
        if position is None:
            return False
        return self._go_to(min(max(position + offset, 0), len(self._frames) - 1))

    def step_to_end(self, last: bool) -> bool:
        """Show the first analysed frame, or the last one; False when there is none."""
        if not self._frames:
            return False
        return self._go_to(len(self._frames) - 1 if last else 0)

    def step_to_flagged(self, forward: bool) -> bool:
        """Show the next analysed frame (the previous one when not ``forward``) whose own
        finding supports manipulation, for the faces shown (the shaded spans); False when there
        is none that way."""
        position = self._position()
        if position is None:
            return False
        order = range(position + 1, len(self._frames)) if forward else range(position - 1, -1, -1)
        for i in order:
            if self._flagged[i]:
                return self._go_to(i)
        return False

    def flagged_frame_indices(self) -> list[int]:
        """The ``frame_idx`` of every analysed frame inside a shaded span."""
        return [f.frame_idx for f, flagged in zip(self._frames, self._flagged, strict=True)
                if flagged]

    def clear(self, message: str) -> None:
        """Remove every curve and show ``message`` as the plot title."""
        self._result = None
        self._frames = []
        self._flagged = []
        self._t_sec = np.zeros(0)
        self._current_frame_idx = None
        self._clear_items()
        self._cursor.setVisible(False)
        # NOTE: no axes without a curve: a still image showed the time axis of the video
        # shown before it, as if it had a timeline.
        self._show_axes(False)
        self._item.setTitle(message, color="#5f6368", size="10pt")
        self._summary.setText("")
        self._fill_track_selector(())

    def set_result(self, result: MediaResult, labels: Mapping[str, str]) -> None:
        """Draw an analysis; ``labels`` maps detector ids to the names in the legend."""
        if result.media is not None and result.media.kind == "image":
            self.clear("Still image: there is no timeline. The findings and the frame view "
                       "show its faces.")
            return
        self._result = result
        self._labels = dict(labels)
        self._show_axes(True)
        self._frames = sorted(result.frames, key=lambda f: f.frame_idx)
        self._t_sec = np.array([f.t_sec for f in self._frames], dtype=np.float64)
        self._fill_track_selector(tuple(t.track_id for t in result.tracks))
        self._redraw()
        if self._frames:
            self.set_current_frame(self._frames[0].frame_idx)

    def select_track(self, track_id: int | None) -> None:
        """Show one face track's curves, or all faces with ``None``.

        Raises:
            KeyError: no such track in the analysis.
        """
        index = self._tracks.findData(-1 if track_id is None else track_id)
        if index < 0:
            raise KeyError(f"no face track {track_id} in this analysis")
        self._tracks.setCurrentIndex(index)

    def set_current_frame(self, frame_idx: int) -> None:
        """Move the cursor to an analysed frame without emitting ``seek_requested``."""
        for frame in self._frames:
            if frame.frame_idx == frame_idx:
                self._current_frame_idx = frame_idx
                self._cursor.blockSignals(True)
                self._cursor.setValue(frame.t_sec)
                self._cursor.blockSignals(False)
                return

    def seek_to_time(self, t_sec: float) -> None:
        """Move the cursor to the analysed frame nearest ``t_sec`` and ask to show it."""
        frame = self._nearest_frame(t_sec)
        if frame is None:
            return
        self.set_current_frame(frame.frame_idx)
        self.seek_requested.emit(frame.frame_idx)

    # -- drawing -------------------------------------------------------------------------

    def _position(self) -> int | None:
        """Where the cursor is in the analysed frames (the first when none is current)."""
        if not self._frames:
            return None
        for i, frame in enumerate(self._frames):
            if frame.frame_idx == self._current_frame_idx:
                return i
        return 0

    def _go_to(self, position: int) -> bool:
        frame_idx = self._frames[position].frame_idx
        if frame_idx == self._current_frame_idx:
            return False
        self.set_current_frame(frame_idx)
        self.seek_requested.emit(frame_idx)
        return True

    def _clear_items(self) -> None:
        self._clear_curves()
        self._clear_regions()

    def _clear_curves(self) -> None:
        for item in self._curves.values():
            item.setData([], [])
            item.setVisible(False)
        self._curves = {}
        self._legend_entries = []
        self._legend.setText("")
        for line in self._threshold_pool:
            line.setVisible(False)
        self._threshold_lines = {}

    def _clear_regions(self) -> None:
        for item in self._regions:
            self._item.removeItem(item)
        self._regions = []

    def _redraw(self) -> None:
        self._clear_regions()
        self._flagged = [False] * len(self._frames)
        self._cursor.setVisible(bool(self._frames))
        if self._result is None or not self._frames:
            self._clear_curves()
            self._item.setTitle("The analysis has no analysed frames.", color="#5f6368")
            return
        track = self.selected_track
        per_detector, findings = self._series(track)
        fused = np.array([np.nan if f is None or f.p_fake is None else f.p_fake
                          for f in findings])
        # NOTE: a detector that applied on no frame gets no curve (all-NaN data has no bounds).
        series = {name: p for name, p in {**per_detector, FUSED_CURVE: fused}.items()
                  if np.isfinite(p).any()}
        if not series:
            self._clear_curves()
            self._item.setTitle("No detector produced a score on any analysed frame.",
                                color="#5f6368", size="10pt")
            return
        self._draw_curves(series, list(per_detector))
        self._add_regions(findings)
        who = "all faces (max per frame)" if track is None else f"face #{track}"
        self._item.setTitle(f"Scores over time: {who}", color="#202124", size="10pt")
        span = float(self._t_sec[-1] - self._t_sec[0]) if len(self._t_sec) > 1 else 1.0
        self._item.setXRange(self._t_sec[0] - 0.02 * span, self._t_sec[-1] + 0.02 * span)
        # NOTE: a frame is graded against real media's single frames, whose scores spread more
        # than whole files' (docs/FINDINGS.md): a file can be graded while no frame is.
        self._summary.setText(f"{len(self._frames)} analysed frames; {len(self._regions)} "
                              "span(s) where the frame's finding supports manipulation (single "
                              "frames face a stricter bar than the file's grade)")

    def _draw_curves(self, series: dict[str, np.ndarray], detector_order: list[str]) -> None:
        if list(series) == list(self._curves):
            # NOTE: updating items in place costs a fraction of re-creating them (symbols,
            # legend), which keeps the GUI thread under its 100 ms budget after an analysis.
            for name, p_fake in series.items():
                self._curves[name].setData(self._t_sec, p_fake)
            self._place_threshold_lines()
            return
        self._clear_curves()
        for i, name in enumerate(detector_order):  # colours follow the detector order
            if name in series:
                pen = pg.mkPen(_PALETTE[i % len(_PALETTE)], width=1.5)
                # NOTE: no point symbols on the detector curves: pyqtgraph builds them on the
                # GUI thread (~15 ms a curve), which pushed showing a result over the 100 ms
                # budget; the fused curve keeps its dots to mark the analysed frames.
                self._add_curve(name, self._labels.get(name, name), series[name], pen,
                                symbol_size=None)
        if FUSED_CURVE in series:
            self._add_curve(FUSED_CURVE, "finding", series[FUSED_CURVE],
                            pg.mkPen("#202124", width=3), symbol_size=7)
        # NOTE: the dashed line is named in the legend, not by a label in the plot: the fused
        # curve runs near 0.50 exactly when it matters, so an in-plot label hid it or was hidden.
        self._place_threshold_lines()
        threshold = ('<span style="color:#5f6368">'
                     f"{_unbreakable(_THRESHOLD_LEGEND)}"
                     "&nbsp;&nbsp; "
                     f"{_unbreakable('shaded: frames graded weak or above')}"
                     "&nbsp;&nbsp; "
                     f"{_unbreakable(STEP_KEYS_HINT)}"
                     "</span>")
        self._legend.setText("&nbsp;&nbsp; ".join([*self._legend_entries, threshold]))

    def _add_curve(self, name: str, label: str, p_fake: np.ndarray, pen: object,
                   symbol_size: int | None) -> None:
        colour = pen.color().name()  # type: ignore[attr-defined]
        curve = self._pooled_curve(name == FUSED_CURVE, len(self._curves))
        if symbol_size is not None:
            curve.setSymbol("o")
            curve.setSymbolSize(symbol_size)
            curve.setSymbolPen(pen)
            curve.setSymbolBrush(colour)
        curve.setPen(pen)
        curve.setData(self._t_sec, p_fake, connect="finite")
        curve.setVisible(True)
        self._curves[name] = curve
        weight = "bold" if name == FUSED_CURVE else "normal"
        self._legend_entries.append(f'<span style="color:{colour}; font-weight:{weight}">'
                                    f"&#9632;&nbsp;{_unbreakable(html.escape(label))}"
                                    "</span>")

    def _place_threshold_lines(self) -> None:
        """One dashed line per detector curve at that detector's threshold, in its colour.

        The thresholds are the analysis's own (its provenance): an old analysis keeps the lines
        it was graded against."""
        thresholds = _thresholds(self._result)
        self._threshold_lines = {}
        names = [n for n in self._curves if n != FUSED_CURVE and n in thresholds]
        while len(self._threshold_pool) < len(names):
            self._threshold_pool.append(self._new_threshold_line())
        for line in self._threshold_pool[len(names):]:
            line.setVisible(False)
        for line, name in zip(self._threshold_pool, names, strict=False):
            colour = self._curves[name].opts["pen"].color()
            line.setPen(pg.mkPen(colour, width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
            line.setValue(thresholds[name])
            line.setVisible(True)
            self._threshold_lines[name] = line

    def _new_threshold_line(self) -> pg.InfiniteLine:
        line = pg.InfiniteLine(pos=0.5, angle=0, movable=False)
        line.setVisible(False)
        self._item.addItem(line)
        return line

    def _pooled_curve(self, fused: bool, index: int) -> pg.PlotDataItem:
        """A curve item kept in the plot between results (see ``_new_pool``)."""
        if fused:
            return self._fused_curve
        while index >= len(self._pool):
            self._pool.append(self._new_curve_item())
        return self._pool[index]

    def _new_curve_item(self) -> pg.PlotDataItem:
        item = pg.PlotDataItem([], [], connect="finite")
        item.setVisible(False)
        self._item.addItem(item)
        return item

    def _series(self, track: int | None) -> tuple[dict[str, np.ndarray], list[Finding | None]]:
        names = self._detector_names()
        per_detector = {name: np.full(len(self._frames), np.nan) for name in names}
        findings: list[Finding | None] = []
        for i, frame in enumerate(self._frames):
            scores, finding = self._frame_scores(frame, track)
            findings.append(finding)
            for score in scores:
                if score.p_fake is not None and score.detector in per_detector:
                    per_detector[score.detector][i] = score.p_fake
        return per_detector, findings

    def _frame_scores(self, frame: FrameResult, track: int | None
                      ) -> tuple[tuple[DetectorScore, ...], Finding | None]:
        if track is None:
            return frame.scores, frame.finding
        assert self._result is not None
        for face in frame.faces:
            if face.track_id == track:
                return face.scores, api.fuse_for(self._result, face.scores, "face")
        return (), None  # the track is not in this frame: a gap in its curves

    def _detector_names(self) -> list[str]:
        assert self._result is not None
        if self._result.provenance is not None and self._result.provenance.detectors:
            return [d.name for d in self._result.provenance.detectors]
        names: dict[str, None] = {}
        for frame in self._frames:
            for score in frame.scores:
                names.setdefault(score.detector, None)
        return list(names)

    def _add_regions(self, findings: list[Finding | None]) -> None:
        grades = [None if f is None else f.grade for f in findings]
        for span in flagged_spans([float(t) for t in self._t_sec], grades):
            self._flagged[span.first:span.last + 1] = [True] * (span.last + 1 - span.first)
            region = pg.LinearRegionItem(values=(span.t_start, span.t_end), movable=False,
                                         brush=pg.mkBrush(*_SPAN_BRUSH[span.grade]),
                                         pen=pg.mkPen(None))
            region.setZValue(-10)
            self._item.addItem(region)
            self._regions.append(region)

    def _fill_track_selector(self, track_ids: tuple[int, ...]) -> None:
        self._tracks.blockSignals(True)
        self._tracks.clear()
        self._tracks.addItem("All faces (max per frame)", -1)
        for track_id in track_ids:
            self._tracks.addItem(f"Face #{track_id}", track_id)
        self._tracks.setEnabled(len(track_ids) > 1)
        self._tracks.blockSignals(False)

    def _nearest_frame(self, t_sec: float) -> FrameResult | None:
        if not self._frames:
            return None
        return self._frames[int(np.argmin(np.abs(self._t_sec - t_sec)))]

    # -- slots ---------------------------------------------------------------------------

    @Slot(int)
    def _on_tracks_current_index_changed(self, _index: int) -> None:
        if self._result is not None:
            self._redraw()
            if self._current_frame_idx is not None:
                self.set_current_frame(self._current_frame_idx)
        self.track_changed.emit(self.selected_track)

    @Slot(object)
    def _on_cursor_dragged(self, line: pg.InfiniteLine) -> None:
        frame = self._nearest_frame(float(line.value()))
        if frame is not None and frame.frame_idx != self._current_frame_idx:
            self._current_frame_idx = frame.frame_idx
            self.seek_requested.emit(frame.frame_idx)

    @Slot(object)
    def _on_cursor_position_change_finished(self, line: pg.InfiniteLine) -> None:
        self.seek_to_time(float(line.value()))

    @Slot(object)
    def _on_scene_mouse_clicked(self, event: object) -> None:
        button = event.button()  # type: ignore[attr-defined]
        scene_pos = event.scenePos()  # type: ignore[attr-defined]
        view_box = self._item.getViewBox()
        if button != pg.QtCore.Qt.MouseButton.LeftButton or \
                not view_box.sceneBoundingRect().contains(scene_pos):
            return
        self.seek_to_time(float(view_box.mapSceneToView(scene_pos).x()))


def _thresholds(result: MediaResult | None) -> dict[str, float]:
    """Detector id -> the threshold the analysis recorded for it."""
    if result is None or result.provenance is None:
        return {}
    return {d.name: float(d.threshold) for d in result.provenance.detectors}
