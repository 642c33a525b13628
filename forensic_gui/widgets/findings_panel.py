"""Machine findings of one analysis: each detector's own score, the fused grade, provenance.

Every detector's calibrated ``p_fake`` and threshold is shown next to the fused grade, never
hidden behind it (METHODS: the finding is shown with each detector's score and the analyst's
verdict, never instead of them). A detector that did not apply says why. The panel is titled
as an automated finding so it cannot be mistaken for the analyst's verdict beside it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.types import DetectorProvenance, Grade, MediaResult
from forensic_gui.probability_text import fmt_p

__all__ = ["GRADE_COLOURS", "FindingsPanel"]

GRADE_COLOURS = {
    Grade.NOT_APPLICABLE: "#5f6368",
    Grade.NO_SUPPORT: "#188038",
    Grade.WEAK: "#b06000",
    Grade.MODERATE: "#d93025",
    Grade.STRONG: "#a50e0e",
}
_COLUMNS = ("Detector", "p_fake", "Threshold", "Applies", "Note")
_NOTE_MAX_PX = 150


class FindingsPanel(QWidget):
    """What the detectors said about one file, and exactly which models said it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("Machine findings (automated; not a verdict)", self)
        title.setStyleSheet("font-weight: bold;")
        title.setWordWrap(True)
        self._grade = QLabel("", self)
        self._grade.setObjectName("fused_grade")
        self._grade.setWordWrap(True)
        self._grade.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._banner = QLabel("", self)
        self._banner.setObjectName("integrity_banner")
        self._banner.setWordWrap(True)
        self._banner.setVisible(False)
        self._table = QTableWidget(0, len(_COLUMNS), self)
        self._table.setHorizontalHeaderLabels(_COLUMNS)
        self._table.verticalHeader().setVisible(False)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # NOTE: the detector name takes the width left over (elided; its tooltip has it all),
        # so the short columns and the note are never pushed out of sight; a scroll bar shows
        # only when the panel is narrower than the short columns themselves.
        header = self._table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(len(_COLUMNS) - 1, QHeaderView.ResizeMode.Interactive)
        header.setMinimumSectionSize(40)
        self._table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self._table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._table.setWordWrap(True)  # long detector names wrap; rows follow the width
        self._table.horizontalHeaderItem(1).setToolTip("Calibrated probability of manipulation")
        self._provenance = QTextBrowser(self)
        self._provenance.setObjectName("provenance")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self._banner)
        layout.addWidget(self._grade)
        layout.addWidget(self._table)
        layout.addWidget(self._provenance, 1)
        self.clear("No analysis yet.")

    @property
    def grade_text(self) -> str:
        """The fused grade line as shown (plain text)."""
        return self._grade.text()

    @property
    def banner_text(self) -> str:
        """The integrity warning shown above the findings, ``""`` when none."""
        return self._banner.text() if self._banner.isVisible() else ""

    def detector_rows(self) -> list[tuple[str, ...]]:
        """The table's cells, row by row (for tests and screenshots)."""
        return [tuple(self._table.item(r, c).text() for c in range(self._table.columnCount()))
                for r in range(self._table.rowCount())]

    def provenance_text(self) -> str:
        """The provenance section as plain text."""
        return self._provenance.toPlainText()

    def clear(self, message: str) -> None:
        """Show ``message`` instead of findings (no analysis, analysis failed)."""
        self._grade.setText(message)
        self._grade.setStyleSheet("color: #5f6368;")
        self._table.setRowCount(0)
        self._table.setVisible(False)
        self._provenance.clear()

    def set_integrity_alarm(self, text: str | None) -> None:
        """Show a red banner (hash mismatch) above the findings, or hide it with ``None``."""
        self._banner.setVisible(bool(text))
        self._banner.setText(text or "")
        self._banner.setStyleSheet("background: #d93025; color: white; font-weight: bold; "
                                   "padding: 6px; border-radius: 3px;")

    def set_result(self, result: MediaResult, labels: Mapping[str, str], *,
                   analysed_at: str = "", analysed_by: str = "") -> None:
        """Show an analysis; ``labels`` maps detector ids to display names."""
        if result.status == "error":
            self.clear(f"The analysis failed: {result.error}")
            return
        finding = result.finding
        colour = GRADE_COLOURS[finding.grade] if finding else GRADE_COLOURS[Grade.NOT_APPLICABLE]
        if finding is None or finding.p_fake is None:
            reason = "no face was found" if result.status == "no_face" else "no detector applied"
            self._grade.setText(f"Fused finding: not applicable ({reason}).")
        else:
            n_detectors = len(finding.applicable_detectors)
            self._grade.setText(f"Fused finding: {finding.grade.value} (fused p_fake "
                                f"{fmt_p(finding.p_fake)}, from {n_detectors} detector(s))")
        self._grade.setStyleSheet(f"color: {colour}; font-size: 14px; font-weight: bold;")
        self._fill_table(result, labels)
        self._provenance.setHtml(_provenance_html(result, analysed_at, analysed_by))

    def _fill_table(self, result: MediaResult, labels: Mapping[str, str]) -> None:
        thresholds = _thresholds(result)
        self._table.setRowCount(len(result.scores))
        self._table.setVisible(bool(result.scores))
        for r, score in enumerate(result.scores):
            threshold = thresholds.get(score.detector)
            if score.p_fake is None:
                p_text, applies, note = "—", "no", score.reason or "did not apply"
            else:
                p_text, applies = fmt_p(score.p_fake), "yes"
                note = "" if threshold is None else (
                    "above its threshold" if score.p_fake >= threshold else "below its threshold")
            cells = (labels.get(score.detector, score.detector), p_text,
                     "—" if threshold is None else f"{threshold:.2f}", applies, note)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(_detector_tip(cells[0], score.detector) if c == 0 else text)
                if c == 1 and score.p_fake is not None and threshold is not None \
                        and score.p_fake >= threshold:
                    item.setForeground(QBrush(QColor(GRADE_COLOURS[Grade.MODERATE])))
                self._table.setItem(r, c, item)
        self._table.resizeColumnToContents(len(_COLUMNS) - 1)
        note_px = min(self._table.columnWidth(len(_COLUMNS) - 1), _NOTE_MAX_PX)
        self._table.setColumnWidth(len(_COLUMNS) - 1, note_px)  # longer notes elide
        self._fit_table_height()

    def _fit_table_height(self) -> None:
        """Rows as high as their wrapped text, the table as high as its rows (no scrolling)."""
        self._table.resizeRowsToContents()
        rows_px = sum(self._table.rowHeight(r) for r in range(self._table.rowCount()))
        self._table.setFixedHeight(self._table.horizontalHeader().height() + rows_px
                                   + 2 * self._table.frameWidth() + 2)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._table.rowCount():
            self._fit_table_height()  # the detector column's width, hence its wrapping, changed


def _detector_tip(label: str, detector: str) -> str:
    return detector if label == detector else f"{label} ({detector})"


def _thresholds(result: MediaResult) -> dict[str, float]:
    if result.provenance is None:
        return {}
    return {d.name: d.threshold for d in result.provenance.detectors}


def _provenance_html(result: MediaResult, analysed_at: str, analysed_by: str) -> str:
    esc = html.escape
    lines = [f"<b>File</b>: {esc(result.path)}<br><b>SHA-256</b>: <tt>{esc(result.sha256 or '—')}"
             "</tt>"]
    if analysed_at or analysed_by:
        lines.append(f"<b>Analysed</b>: {esc(analysed_at)} by {esc(analysed_by)}")
    for track in result.tracks:
        lines.append(f"<b>Face #{track.track_id}</b> ({len(track.frame_indices)} frames): "
                     f"{esc(track.finding.grade.value)}, "
                     f"fused p_fake {fmt_p(track.finding.p_fake)}")
    prov = result.provenance
    if prov is None:
        lines.append("No provenance was recorded.")
        return "<br>".join(lines)
    timings = ", ".join(f"{esc(stage)} {seconds:.1f} s" for stage, seconds in prov.timings_s)
    lines += [
        f"<b>Engine</b> {esc(prov.engine_version)}, runtime {esc(prov.runtime)} on "
        f"{esc(prov.device)}",
        f"<b>Sampling</b>: {esc(prov.sampling)} ({len(prov.sampled_frame_indices)} frames)",
        f"<b>Aggregation</b>: {esc(prov.aggregation_rule)}",
    ]
    if result.finding is not None:
        lines.append(f"<b>Fusion</b>: {esc(result.finding.rule)}")
    lines.append(f"<b>Timings</b>: {timings or '—'}")
    lines.append("<b>Detectors</b>:<ul>" + "".join(_detector_li(d) for d in prov.detectors)
                 + "</ul>")
    return "<br>".join(lines)


def _detector_li(d: DetectorProvenance) -> str:
    esc = html.escape
    return (f"<li>{esc(d.name)} v{esc(d.version)}, threshold {d.threshold:.2f}, calibration "
            f"{esc(d.calibration)}, weights SHA-256 <tt>{esc(d.weights_sha256[:16])}…</tt></li>")
