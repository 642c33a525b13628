"""Machine findings of one analysis: the finding, each kind's grade, cautions, each
detector's own score, provenance and the grades' error rates.

The finding names the kind of manipulation with the strongest support; every kind's own grade
is listed under it with how often real media and fakes reached that grade in validation, and
every detector's calibrated ``p_fake`` and threshold is shown too, never hidden behind the
finding (METHODS: the finding is shown with each detector's score and the analyst's verdict,
never instead of them). Cautions (media outside what the detectors know) are shown in words.
A detector that did not apply says why. The panel is titled as an automated finding so it
cannot be mistaken for the analyst's verdict beside it.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.api import GradeExplanation, explain_grades
from engine.evaluation.fit_thresholds import THRESHOLD_MEANING
from engine.types import DetectorProvenance, EvidenceKind, Grade, MediaResult
from forensic_gui.cases.records import ReferenceComparisonRecord
from forensic_gui.error_rates import (
    benign_alternative,
    grade_rate_sentence,
    rate_rows,
    real_rows_of_type,
    unseen_manipulation,
    validation_note,
)
from forensic_gui.probability_text import fmt_p
from forensic_gui.widgets.reference_note import reference_html

__all__ = ["GRADE_COLOURS", "FindingsPanel"]

# NOTE: "no support" is drawn in the ordinary text colour, not green: green reads as "cleared",
# and on the dev bench most fakes read no support too (the rates under the grade say how many).
# Green is kept for what was checked and holds (an intact hash, valid Content Credentials).
GRADE_COLOURS = {
    Grade.NOT_APPLICABLE: "#5f6368",
    Grade.NO_SUPPORT: "#202124",
    Grade.WEAK: "#b06000",
    Grade.MODERATE: "#d93025",
    Grade.STRONG: "#a50e0e",
}
_COLUMNS = ("Detector", "p_fake", "Threshold", "Applies", "Note")
_KIND_COLUMNS = ("Kind of manipulation", "Grade", "p_fake", "Real media at this grade")
_KIND_WORDS = {
    EvidenceKind.FACE_SWAP.value: "Face swap / blend",
    EvidenceKind.TEMPORAL.value: "Frame-to-frame",
    EvidenceKind.GENERATED.value: "Fully generated",
}
_NOTE_MAX_PX = 150
# NOTE: the provenance text keeps a few lines visible when the page above it is long (the panel
# scrolls instead of squeezing it away).
_PROVENANCE_MIN_PX = 140


class FindingsPanel(QWidget):
    """What the detectors said about one file, and exactly which models said it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._notes: dict[str, str] = {}
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
        self._rates = QLabel("", self)
        self._rates.setObjectName("grade_rates")
        self._rates.setWordWrap(True)
        self._rates.setStyleSheet("color: #3c4043;")
        self._kinds = QTableWidget(0, len(_KIND_COLUMNS), self)
        self._kinds.setObjectName("kind_findings")
        self._kinds.setHorizontalHeaderLabels(_KIND_COLUMNS)
        self._kinds.verticalHeader().setVisible(False)
        self._kinds.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        _fit_columns(self._kinds)
        self._why = QLabel("", self)
        self._why.setObjectName("grade_reasons")
        self._why.setWordWrap(True)
        self._why.setTextFormat(Qt.TextFormat.RichText)
        self._why.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._why.setStyleSheet("color: #3c4043;")
        self._cautions = QLabel("", self)
        self._cautions.setObjectName("cautions")
        self._cautions.setWordWrap(True)
        self._cautions.setTextFormat(Qt.TextFormat.RichText)
        self._cautions.setStyleSheet("background: #fef7e0; color: #3c4043; padding: 4px; "
                                     "border-radius: 3px;")
        self._reference = QLabel("", self)
        self._reference.setObjectName("reference_comparisons")
        self._reference.setWordWrap(True)
        self._reference.setTextFormat(Qt.TextFormat.RichText)
        self._reference.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._reference.setStyleSheet("background: #e8f0fe; color: #202124; padding: 4px; "
                                      "border-radius: 3px;")
        self._table = QTableWidget(0, len(_COLUMNS), self)
        self._table.setObjectName("detector_scores")
        self._table.setHorizontalHeaderLabels(_COLUMNS)
        self._table.verticalHeader().setVisible(False)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        _fit_columns(self._table)
        self._table.horizontalHeaderItem(1).setToolTip("Calibrated probability of manipulation")
        self._table.horizontalHeaderItem(2).setToolTip(THRESHOLD_MEANING)
        self._provenance = QTextBrowser(self)
        self._provenance.setObjectName("provenance")
        self._provenance.setMinimumHeight(_PROVENANCE_MIN_PX)
        # NOTE: everything scrolls as one page: a long caution list, the error-rate sentence
        # with its intervals and the per-kind table can need more height than the window gives
        # the panel, and a squeezed layout would cut text off without a sign.
        content = _ResizeNotifier(self._on_content_resized)
        scroll = QScrollArea(self)
        scroll.setObjectName("findings_scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self._banner)
        layout.addWidget(self._grade)
        layout.addWidget(self._rates)
        layout.addWidget(self._reference)
        layout.addWidget(self._cautions)
        layout.addWidget(self._kinds)
        layout.addWidget(self._why)
        layout.addWidget(self._table)
        layout.addWidget(self._provenance, 1)
        self.clear("No analysis yet.")

    @property
    def grade_text(self) -> str:
        """The fused grade line as shown (plain text)."""
        return self._grade.text()

    @property
    def cautions_text(self) -> str:
        """The cautions as shown (plain text), ``""`` when none."""
        return self._cautions.text() if not self._cautions.isHidden() else ""

    @property
    def rates_text(self) -> str:
        """The error-rate sentence under the grade."""
        return self._rates.text()

    @property
    def reasons_text(self) -> str:
        """Why each kind got its grade, as shown (rich text), ``""`` when hidden."""
        return self._why.text() if not self._why.isHidden() else ""

    @property
    def reference_text(self) -> str:
        """The item's reference comparisons as shown (rich text), ``""`` when none."""
        return self._reference.text() if not self._reference.isHidden() else ""

    def set_comparisons(self, records: Sequence[ReferenceComparisonRecord]) -> None:
        """Show the shown item's comparisons with reference footage (none: hidden)."""
        text = reference_html(records)
        self._reference.setText(text)
        self._reference.setVisible(bool(text))

    def kind_rows(self) -> list[tuple[str, ...]]:
        """The per-kind table's cells, row by row (for tests and screenshots)."""
        return [tuple(self._kinds.item(r, c).text() for c in range(self._kinds.columnCount()))
                for r in range(self._kinds.rowCount())]

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
        self._rates.setText("")
        self._rates.setVisible(False)
        self._cautions.setVisible(False)
        self._kinds.setRowCount(0)
        self._kinds.setVisible(False)
        self._why.setVisible(False)
        self._reference.setVisible(False)
        self._table.setRowCount(0)
        self._table.setVisible(False)
        self._provenance.clear()

    def set_integrity_alarm(self, text: str | None) -> None:
        """Show a red banner (hash mismatch) above the findings, or hide it with ``None``."""
        self._banner.setVisible(bool(text))
        self._banner.setText(text or "")
        self._banner.setStyleSheet("background: #d93025; color: white; font-weight: bold; "
                                   "padding: 6px; border-radius: 3px;")

    def set_detector_notes(self, notes: Mapping[str, str]) -> None:
        """Per detector id, its model card's summary and limits, shown when hovering its name
        in the detectors table (the report prints the same text)."""
        self._notes = dict(notes)

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
            self._grade.setText(f"Finding: not applicable ({reason}).")
            self._rates.setVisible(False)
        else:
            n_detectors = len(finding.applicable_detectors)
            self._grade.setText(f"Finding: {finding.statement} (p_fake "
                                f"{fmt_p(finding.p_fake)}, from {n_detectors} detector(s))")
            rates = grade_rate_sentence(result.provenance, finding.grade, finding.kind,
                                        result.media.kind if result.media is not None else None)
            alternative = benign_alternative(finding.kind, finding.grade)
            unseen = unseen_manipulation(finding)
            self._rates.setText(" ".join(filter(None, (
                rates, f"Also consistent with {alternative}" if alternative else "", unseen))))
            self._rates.setVisible(True)
        self._grade.setStyleSheet(f"color: {colour}; font-size: 14px; font-weight: bold;")
        self._show_cautions(result)
        self._fill_kinds(result)
        self._fill_table(result, labels)
        self._provenance.setHtml(_provenance_html(result, analysed_at, analysed_by))

    def _show_cautions(self, result: MediaResult) -> None:
        items = "".join(f"<li>{html.escape(c.message)}</li>" for c in result.cautions)
        self._cautions.setText(f"<b>Cautions</b> (lower confidence; they change no score):"
                               f"<ul style='margin: 0'>{items}</ul>" if items else "")
        self._cautions.setVisible(bool(items))

    def _fill_kinds(self, result: MediaResult) -> None:
        kinds = result.finding.kinds if result.finding is not None else ()
        self._kinds.setRowCount(len(kinds))
        self._kinds.setVisible(bool(kinds))
        reasons = explain_grades(result)
        self._show_reasons(reasons)
        media_kind = result.media.kind if result.media is not None else None
        for r, kind in enumerate(kinds):
            # NOTE: only real media of the file's own type: a rate on photos says nothing of a
            # video.
            real = "" if kind.grade.level < 1 else "; ".join(
                f"{row.words} {row.cell(kind.grade)}" for row in
                real_rows_of_type(rate_rows(result.provenance, kind.kind), media_kind))
            cells = (_KIND_WORDS.get(kind.kind, kind.kind), kind.grade.words,
                     "—" if kind.p_fake is None else fmt_p(kind.p_fake),
                     real or ("—" if kind.grade.level < 1 else "not measured"))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                why = reasons.get(kind.kind)
                item.setToolTip((why.text() if why is not None and c == 1 else kind.statement)
                                if c < 2 else text)
                if c == 1:
                    item.setForeground(QBrush(QColor(GRADE_COLOURS[kind.grade])))
                self._kinds.setItem(r, c, item)
        last = len(_KIND_COLUMNS) - 1
        self._kinds.resizeColumnToContents(last)
        self._kinds.setColumnWidth(last, min(self._kinds.columnWidth(last), _NOTE_MAX_PX))
        self._kinds.resizeRowsToContents()
        rows_px = sum(self._kinds.rowHeight(r) for r in range(self._kinds.rowCount()))
        self._kinds.setFixedHeight(self._kinds.horizontalHeader().height() + rows_px
                                   + 2 * self._kinds.frameWidth() + 2)

    def _show_reasons(self, reasons: Mapping[str, GradeExplanation]) -> None:
        """Each kind's bounds and what held its grade (``engine.fusion.explain``)."""
        items = "".join(
            f"<li><b>{html.escape(_KIND_WORDS.get(kind, kind))}</b>: "
            f"{html.escape(why.text())}</li>" for kind, why in reasons.items())
        self._why.setText(
            "<b>Why these grades</b> (a grade needs its score to be rare among real media of "
            "this type and more likely among fakes):<ul style='margin: 0'>" + items + "</ul>"
            if items else "")
        self._why.setVisible(bool(items))

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
                     "—" if threshold is None else fmt_p(threshold), applies, note)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(_detector_tip(cells[0], score.detector,
                                              self._notes.get(score.detector, ""))
                                if c == 0 else text)
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

    def _on_content_resized(self) -> None:
        if self._table.rowCount():
            self._fit_table_height()  # the detector column's width, hence its wrapping, changed


class _ResizeNotifier(QWidget):
    """The scrolled page of the panel; tells the panel when its width (hence wrapping) changed."""

    def __init__(self, on_resize: Callable[[], None]) -> None:
        super().__init__()
        self._on_resize = on_resize

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._on_resize()


def _fit_columns(table: QTableWidget) -> None:
    """The first column takes the width left over (elided; its tooltip has it all), so the
    short columns and the last one are never pushed out of sight; a scroll bar shows only when
    the panel is narrower than the short columns themselves."""
    header = table.horizontalHeader()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    header.setSectionResizeMode(table.columnCount() - 1, QHeaderView.ResizeMode.Interactive)
    header.setMinimumSectionSize(40)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    # NOTE: a header's centred label is clipped at both ends when its column is narrow
    # ("d of manipulat"); left-aligned and elided it reads from its start.
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    table.setWordWrap(True)  # long names wrap; rows follow the width


def _detector_tip(label: str, detector: str, note: str = "") -> str:
    name = detector if label == detector else f"{label} ({detector})"
    # NOTE: rich text, so Qt wraps the card's paragraph instead of one screen-wide line.
    return f"<p><b>{html.escape(name)}</b></p><p>{html.escape(note)}</p>" if note else name


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
                     f"{esc(track.finding.statement)}, "
                     f"p_fake {fmt_p(track.finding.p_fake)}")
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
    lines.append(_rates_html(result))
    lines.append("<b>Detectors</b>:<ul>" + "".join(_detector_li(d) for d in prov.detectors)
                 + "</ul>")
    return "<br>".join(lines)


def _rates_html(result: MediaResult) -> str:
    """The validation table of the finding's rule: each grade's share of real media and fakes."""
    esc = html.escape
    rows = rate_rows(result.provenance)
    head = f"<b>Validation and error rates</b>: {esc(validation_note(result.provenance))}"
    if not rows:
        return head
    cells = "".join(
        f"<tr><td>{esc(r.words)}</td>" + "".join(f"<td>{esc(r.cell(g))}</td>" for g in
                                                  (Grade.WEAK, Grade.MODERATE, Grade.STRONG))
        + "</tr>" for r in rows)
    return (head + "<table border='1' cellspacing='0' cellpadding='2'><tr><th>items</th>"
            "<th>weak or above</th><th>moderate or above</th><th>strong</th></tr>"
            + cells + "</table>")


def _detector_li(d: DetectorProvenance) -> str:
    esc = html.escape
    kind = f", looks for {esc(EvidenceKind(d.looks_for).phrase)}" if d.looks_for else ""
    return (f"<li>{esc(d.name)} v{esc(d.version)}{kind}, threshold {fmt_p(d.threshold)}, "
            f"calibration {esc(d.calibration)}, weights SHA-256 "
            f"<tt>{esc(d.weights_sha256[:16])}…</tt></li>")
