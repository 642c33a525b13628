"""The main window: cases, evidence, frame view, timeline, machine findings, analyst verdict.

The window owns the widgets and what they show; :class:`CaseController` owns the actions and
the store writes. Layout, left to right: the case list; the evidence table above the frame view
and the timeline; on the right the machine findings above the analyst's verdict form, each in
its own frame so the two are never read as one. Running jobs show in a panel at the bottom.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.types import MediaResult
from forensic_gui.cases.errors import CaseStoreError
from forensic_gui.cases.maps_blob import has_maps
from forensic_gui.cases.records import (
    AnalysisRecord,
    EvidenceCheck,
    EvidenceRecord,
    ReferenceComparisonRecord,
)
from forensic_gui.cases.repository import CaseStore
from forensic_gui.controller import CaseController, EngineServices
from forensic_gui.dialogs.messages import show_info
from forensic_gui.dialogs.new_case_dialog import NewCaseDialog
from forensic_gui.dialogs.reference_dialog import ReferenceDialog, reference_candidates
from forensic_gui.evidence_rows import build_evidence_rows, with_check, with_result, with_verdicts
from forensic_gui.frame_requests import FrameRequests
from forensic_gui.job_tracker import JobTracker
from forensic_gui.keyframes import most_suspicious_frame
from forensic_gui.probability_text import fmt_p
from forensic_gui.resources import icon
from forensic_gui.settings import Settings
from forensic_gui.tasks import FrameImage
from forensic_gui.trust_list import add_provenance_menu
from forensic_gui.widgets.case_list import CaseListWidget
from forensic_gui.widgets.evidence_list import EvidenceListWidget, EvidenceRow
from forensic_gui.widgets.findings_panel import FindingsPanel
from forensic_gui.widgets.frame_view import FramePanel
from forensic_gui.widgets.job_progress import JobProgressPanel
from forensic_gui.widgets.provenance_panel import ProvenancePanel, side_tabs
from forensic_gui.widgets.timeline import TimelineWidget
from forensic_gui.widgets.verdict_form import VerdictDraft, VerdictForm
from forensic_gui.widgets.welcome_banner import WelcomeBanner
from forensic_gui.window_actions import ActionSlots, build_actions
from forensic_gui.workers import FrameLoader

__all__ = ["MainWindow"]

logger = logging.getLogger(__name__)

_SHUTDOWN_TIMEOUT_S = 10.0
_CASE_LIST_MIN_PX = 170
# NOTE: each step of showing a result starts on a 1 ms timer, not a zero-delay one. Qt 6 delivers
# a zero-delay single shot as a posted event, in the same pass as the repaint the step before it
# asked for, so the timeline's and the findings panel's drawing ran as one block of the GUI
# thread (121-197 ms on the demo case; docs/PERFORMANCE.md); a timer fires after that repaint.
_NEXT_STEP_MS = 1
_NO_MAPS_NOTE = ("This analysis has no stored heatmaps (it was run without them, or by an older "
                 "version): run Analyze again to see them. Its key frames in the report show them.")


@dataclass(frozen=True)
class _Shown:
    """The evidence item the display is showing, and its analysis (``None``: not analysed)."""

    item: EvidenceRecord
    result: MediaResult | None


def track_note(result: MediaResult | None, track_id: int) -> str:
    """The frame panel's note while the timeline shows one face: which face, and that face's
    own finding over the video (its track), so isolating the one face of a group that was
    swapped gives its grade where the analyst is looking."""
    track = None if result is None else next(
        (t for t in result.tracks if t.track_id == track_id), None)
    if track is None:
        return f"Timeline shows face #{track_id} only."
    return (f"Timeline shows face #{track_id} only: {track.finding.statement} "
            f"(p_fake {fmt_p(track.finding.p_fake)}, {len(track.frame_indices)} frames).")


class MainWindow(QMainWindow):
    """The application window (see the module docstring)."""

    def __init__(self, store: CaseStore, settings: Settings, *, services: EngineServices,
                 first_start: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Forensic Face Analyzer")
        self.setWindowIcon(icon("app"))
        self.store = store
        self.case_list = CaseListWidget(self)
        self.evidence_list = EvidenceListWidget(self)
        self.frame_panel = FramePanel(self)
        self.timeline = TimelineWidget(self)
        self.findings = FindingsPanel(self)
        self.provenance = ProvenancePanel(self)
        self.verdict_form = VerdictForm(settings.analyst, self)
        self.job_panel = JobProgressPanel(self)
        self.welcome = WelcomeBanner(str(store.db_path), self)
        self.welcome.setVisible(first_start)
        self.tracker = JobTracker(self.job_panel, self)
        self.controller = CaseController(store, settings, services, self.tracker, self)
        self.frame_loader = FrameLoader(self, reader=self.controller.reader)
        self.frames = FrameRequests(self.frame_loader, self.frame_panel)
        self.frame_panel.set_overlay_labels(self.controller.map_labels)
        self.findings.set_detector_notes(self.controller.detector_notes)
        # NOTE: the newest analysis recorded in this session, per evidence id: showing an item
        # right after its analysis then needs no second read (and maps decode) of what was just
        # written, which kept the GUI thread over its 100 ms budget.
        self._recorded: dict[int, AnalysisRecord] = {}
        self._shown: _Shown | None = None
        self._build_actions()
        self._build_layout()
        self._connect()
        self._reload_cases(None)
        self._update_actions()
        self.resize(1440, 900)
        QTimer.singleShot(0, self.controller.preload_analyzer)

    # -- construction --------------------------------------------------------------------

    def _build_actions(self) -> None:
        self.commands = build_actions(self, ActionSlots(
            new_case=self.new_case, add_files=self.add_files, add_folder=self.add_folder,
            analyze=self.analyze_selected, verify=self.verify_selected,
            compare=self.compare_selected, export=self.export_report,
            demo=self.create_demo_case, quit=self.close))
        self.trust_action = add_provenance_menu(self, self.controller)

    def _build_layout(self) -> None:
        viewer = QSplitter(Qt.Orientation.Vertical)
        viewer.addWidget(self.frame_panel)
        viewer.addWidget(self.timeline)
        viewer.setSizes([520, 300])
        self._bind_frame_keys(viewer)
        side = QSplitter(Qt.Orientation.Vertical)
        self.side_tabs = side_tabs(self.findings, self.provenance, self)
        side.addWidget(self.side_tabs)
        side.addWidget(self.verdict_form)
        side.setSizes([540, 340])
        work = QSplitter(Qt.Orientation.Horizontal)
        work.addWidget(viewer)
        work.addWidget(side)
        work.setSizes([800, 520])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.evidence_list)
        right.addWidget(work)
        right.setSizes([170, 700])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(self.case_list)
        main.addWidget(right)
        # NOTE: the case list keeps its width when the window resizes; the work area gives.
        self.case_list.setMinimumWidth(_CASE_LIST_MIN_PX)
        main.setCollapsible(0, False)
        main.setStretchFactor(0, 0)
        main.setStretchFactor(1, 1)
        main.setSizes([_CASE_LIST_MIN_PX + 20, 1220])
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.welcome)
        layout.addWidget(main, 1)
        layout.addWidget(self.job_panel)
        self.setCentralWidget(central)
        self.statusBar().showMessage(f"Case database: {self.store.db_path}")
        if not self.controller.detector_labels:
            warning = QLabel("No detector is installed: analyses find faces but give no scores.")
            warning.setStyleSheet("color: #d93025; font-weight: bold;")
            self.statusBar().addPermanentWidget(warning)

    def _bind_frame_keys(self, viewer: QWidget) -> None:
        """Frame-by-frame review from the keyboard, while the frame view or the timeline has
        the focus (a text field elsewhere keeps its arrow keys): the keys of
        ``timeline.STEP_KEYS_TIP``."""
        timeline = self.timeline
        bindings: tuple[tuple[Qt.Key, Callable[[], bool]], ...] = (
            (Qt.Key.Key_Right, lambda: timeline.step(1)),
            (Qt.Key.Key_Left, lambda: timeline.step(-1)),
            (Qt.Key.Key_Home, lambda: timeline.step_to_end(last=False)),
            (Qt.Key.Key_End, lambda: timeline.step_to_end(last=True)),
            (Qt.Key.Key_PageDown, lambda: self._step_to_flagged(forward=True)),
            (Qt.Key.Key_PageUp, lambda: self._step_to_flagged(forward=False)),
        )
        for key, move in bindings:  # each shortcut is owned by the viewer, its parent
            shortcut = QShortcut(QKeySequence(key), viewer)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(move)

    def _step_to_flagged(self, *, forward: bool) -> bool:
        moved = self.timeline.step_to_flagged(forward)
        if not moved:
            self.statusBar().showMessage(
                f"No {'later' if forward else 'earlier'} analysed frame in a shaded span "
                "(a frame whose own finding supports manipulation).", 5000)
        return moved

    def _connect(self) -> None:
        c = self.controller
        self.case_list.case_selected.connect(self._on_case_list_case_selected)
        self.case_list.new_case_requested.connect(self.new_case)
        self.evidence_list.evidence_selected.connect(self._on_evidence_list_evidence_selected)
        self.evidence_list.paths_dropped.connect(self.import_paths)
        self.timeline.seek_requested.connect(self.frames.seek)
        self.timeline.track_changed.connect(self._on_timeline_track_changed)
        self.verdict_form.verdict_submitted.connect(self._on_verdict_form_verdict_submitted)
        self.frame_loader.frame_loaded.connect(self._on_frame_loader_frame_loaded)
        self.frame_loader.frame_failed.connect(self.frame_panel.show_message)
        self.welcome.demo_requested.connect(self.create_demo_case)
        c.cases_changed.connect(self._reload_cases)
        c.evidence_changed.connect(self._on_controller_evidence_changed)
        c.integrity_checked.connect(self._on_controller_integrity_checked)
        c.analysis_recorded.connect(self._on_controller_analysis_recorded)
        c.verdict_recorded.connect(self._on_controller_verdict_recorded)
        c.reference_compared.connect(self._on_controller_reference_compared)
        c.stall_measured.connect(self._on_controller_stall_measured)
        self.tracker.jobs_changed.connect(self._update_actions)

    # -- actions -------------------------------------------------------------------------

    @property
    def current_case_id(self) -> int | None:
        """The case shown."""
        return self.case_list.current_case_id()

    def create_demo_case(self) -> None:
        """Create, import and analyse the demo case from the bundled sample."""
        self.welcome.setVisible(False)
        self.controller.create_demo_case()

    def new_case(self) -> None:
        """Ask for the new case's fields and create it."""
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
        dialog = NewCaseDialog(suggested_number=f"CASE-{stamp}",
                               analyst=self.controller.settings.analyst, parent=self)
        if dialog.exec() == NewCaseDialog.DialogCode.Accepted:
            self.controller.create_case(dialog.fields())

    def add_files(self) -> None:
        """Choose files to add to the current case."""
        names, _ = QFileDialog.getOpenFileNames(self, "Add evidence files")
        self.import_paths([Path(n) for n in names])

    def add_folder(self) -> None:
        """Choose a folder whose files (recursively) are added to the current case."""
        name = QFileDialog.getExistingDirectory(self, "Add a folder of evidence")
        self.import_paths([Path(name)] if name else [])

    def import_paths(self, paths: list[Path]) -> None:
        """Import files and folders into the current case (in a worker)."""
        case_id = self.current_case_id
        if paths and case_id is not None:
            self.controller.import_paths(case_id, paths)

    def analyze_selected(self) -> None:
        """Analyse the selected evidence items, one after another."""
        self.controller.analyze(self.evidence_list.selected_ids())

    def verify_selected(self) -> None:
        """Re-check the SHA-256 of each selected evidence item."""
        for evidence_id in self.evidence_list.selected_ids():
            self.controller.verify(evidence_id)

    def compare_selected(self) -> None:
        """Ask which of the case's videos is genuine footage of the selected video's source,
        then set the selected video against it (``CaseStore.record_reference_comparison``)."""
        ids, case_id = self.evidence_list.selected_ids(), self.current_case_id
        if len(ids) != 1 or case_id is None:
            return
        item = self.store.get_evidence(ids[0])
        suspect = self.store.latest_analysis_summaries(case_id).get(item.id)
        if suspect is None or suspect.status != "ok":
            show_info(self, "Compare with reference", f"{item.file_name} has no analysis with "
                      "scored faces: analyse it first.")
            return
        candidates = reference_candidates(self.store, case_id, item.id)
        if not candidates:
            show_info(self, "Compare with reference", "No other analysed video in this case.",
                      "Add genuine footage of the same source to the case, analyse it, then "
                      "compare.")
            return
        dialog = ReferenceDialog(item.file_name, candidates, parent=self)
        chosen = dialog.chosen() if dialog.exec() == ReferenceDialog.DialogCode.Accepted else None
        if chosen is not None:
            self.controller.compare_with_reference(item.id, suspect.analysis_id,
                                                   chosen.analysis_id)

    def export_report(self) -> None:
        """Choose where to write the PDF report of the current case, then write it."""
        case_id = self.current_case_id
        if case_id is None:
            return
        case = self.store.get_case(case_id)
        suggested = str(Path.home() / f"{case.number}_report.pdf")
        name, _ = QFileDialog.getSaveFileName(self, "Export case report", suggested, "PDF (*.pdf)")
        if name:
            self.controller.export_report(case_id, Path(name))

    @Slot()
    def _update_actions(self) -> None:
        a = self.commands
        has_case = self.current_case_id is not None
        selected = bool(self.evidence_list.selected_ids())
        for action in (a.add_files, a.add_folder, a.export):
            action.setEnabled(has_case)
        a.analyze.setEnabled(selected)
        a.verify.setEnabled(selected)
        ids = self.evidence_list.selected_ids()
        a.compare.setEnabled(len(ids) == 1 and self.evidence_list.row_for(ids[0]).kind == "video")
        self.evidence_list.setEnabled(has_case)

    # -- showing a case and an evidence item ---------------------------------------------

    @Slot(object)
    def _reload_cases(self, select_id: int | None) -> None:
        cases = self.store.list_cases()
        if cases:
            self.welcome.setVisible(False)  # the offer is for an empty database
        self.case_list.set_cases(cases, select_id=select_id)

    @Slot(object)
    def _on_case_list_case_selected(self, case_id: int | None) -> None:
        rows = [] if case_id is None else build_evidence_rows(self.store, case_id)
        self.evidence_list.set_rows(rows)
        self._show_evidence(None)
        self._update_actions()

    @Slot(int)
    def _on_controller_evidence_changed(self, case_id: int) -> None:
        if case_id != self.current_case_id:
            return
        self.evidence_list.set_rows(build_evidence_rows(self.store, case_id))
        if self._shown is not None:
            self._show_integrity_alarm(self._shown.item.id)

    @Slot(object)
    def _on_evidence_list_evidence_selected(self, evidence_id: int | None) -> None:
        self._show_evidence(evidence_id)
        self._update_actions()

    def _show_evidence(self, evidence_id: int | None,
                       analysis: AnalysisRecord | None = None) -> None:
        """Show an item; ``analysis`` is its newest analysis if the caller has it at hand."""
        if evidence_id is None:
            self._shown = None
            several = len(self.evidence_list.selected_ids()) > 1
            text = "Several items selected." if several else "Select an evidence item."
            self.timeline.clear(text)
            self.findings.clear(text)
            self.provenance.clear(text)
            self.findings.set_integrity_alarm(None)
            self.frame_panel.show_message(text)
            self.frame_panel.set_note("")
            self.verdict_form.set_evidence(None, ())
            return
        item = self.store.get_evidence(evidence_id)
        if analysis is None:
            analysis = self._recorded.get(evidence_id) or self.store.latest_analysis(evidence_id)
        self._show_integrity_alarm(evidence_id)
        self.verdict_form.set_evidence(evidence_id, self.store.verdicts(evidence_id))
        if analysis is None:
            self._shown = _Shown(item, None)
            self.timeline.clear("Not analysed yet: press Analyze.")
            self.findings.clear("Not analysed yet.")
            self.frame_panel.view.set_result(None)
            self.frame_panel.set_note("")
            self.provenance.clear("Not analysed yet: the metadata is read during the analysis.")
            self.frames.request(item.open_path, 0, (), None)
            return
        shown = self._shown = _Shown(item, analysis.result)
        self.frame_panel.view.set_result(analysis.result)
        self.timeline.set_result(analysis.result, self.controller.detector_labels)
        # NOTE: the findings, then the frame, follow in later event-loop turns, each drawn
        # before the next starts, so the GUI thread is never blocked for the whole of it (the
        # 100 ms stall budget); nothing is shown if another item was selected in between.
        QTimer.singleShot(_NEXT_STEP_MS, lambda: self._show_findings(shown, analysis))

    def _show_findings(self, shown: _Shown, analysis: AnalysisRecord) -> None:
        """The findings panel of the item being shown, then (next step) its frame."""
        if self._shown is not shown:
            return
        self.findings.set_result(analysis.result, self.controller.detector_labels,
                                 analysed_by=analysis.analysed_by,
                                 analysed_at=analysis.created_at_utc.strftime("%Y-%m-%d %H:%M UTC"))
        self.findings.set_comparisons(self._comparisons_of(shown.item))
        QTimer.singleShot(_NEXT_STEP_MS, lambda: self._show_details(shown, analysis))

    def _show_details(self, shown: _Shown, analysis: AnalysisRecord) -> None:
        """The provenance panel and the most suspicious frame of the item being shown."""
        if self._shown is not shown:
            return
        result, item = analysis.result, shown.item
        self.provenance.set_record(result.file_provenance)
        has_faces = any(frame.faces for frame in result.frames)
        self.frame_panel.set_note(_NO_MAPS_NOTE if has_faces and not has_maps(result) else "")
        start = most_suspicious_frame(result)
        if start is None:
            self.frames.request(item.open_path, 0, (), result)
        else:
            self.timeline.set_current_frame(start.frame_idx)
            self.frames.request(item.open_path, start.frame_idx, start.faces, result)

    def _show_integrity_alarm(self, evidence_id: int) -> None:
        row = self.evidence_list.row_for(evidence_id)
        alarm = None
        if row.integrity_ok is False:
            alarm = (f"EVIDENCE INTEGRITY FAILURE: {row.file_name}: {row.integrity_text}. "
                     "It no longer matches its acquisition SHA-256; analysis is refused.")
        self.findings.set_integrity_alarm(alarm)

    def _update_row(self, evidence_id: int, update: Callable[[EvidenceRow], EvidenceRow]) -> bool:
        """Apply ``update`` to the item's row if it is in the table; ``True`` if it was."""
        try:
            row = self.evidence_list.row_for(evidence_id)
        except KeyError:
            return False  # the item belongs to a case that is not open
        self.evidence_list.update_row(update(row))
        return True

    @Slot(int, object)
    def _on_controller_integrity_checked(self, evidence_id: int, check: EvidenceCheck) -> None:
        if self._update_row(evidence_id, lambda row: with_check(row, check)) and \
                self._shown is not None and self._shown.item.id == evidence_id:
            self._show_integrity_alarm(evidence_id)

    @Slot(int, object)
    def _on_controller_analysis_recorded(self, evidence_id: int,
                                         analysis: AnalysisRecord) -> None:
        self._recorded[evidence_id] = analysis
        if self._update_row(evidence_id, lambda row: with_result(row, analysis.result)):
            # NOTE: shown in the next event-loop turn, apart from the job's own bookkeeping, so
            # the GUI thread never does both in one go (the 100 ms stall budget).
            QTimer.singleShot(_NEXT_STEP_MS, lambda: self._show_recorded(evidence_id, analysis))

    def _show_recorded(self, evidence_id: int, analysis: AnalysisRecord) -> None:
        if self.evidence_list.selected_ids() == (evidence_id,):
            self._show_evidence(evidence_id, analysis)
        elif not self.evidence_list.selected_ids():
            self.evidence_list.select_ids([evidence_id])  # shows it through the selection

    @Slot(int)
    def _on_controller_verdict_recorded(self, evidence_id: int) -> None:
        history = self.store.verdicts(evidence_id)
        self._update_row(evidence_id, lambda row: with_verdicts(row, history))
        if self._shown is not None and self._shown.item.id == evidence_id:
            self.verdict_form.set_evidence(evidence_id, history)

    @Slot(int)
    def _on_controller_reference_compared(self, evidence_id: int) -> None:
        if self._shown is not None and self._shown.item.id == evidence_id:
            self.findings.set_comparisons(self._comparisons_of(self._shown.item))

    def _comparisons_of(self, item: EvidenceRecord) -> list[ReferenceComparisonRecord]:
        try:
            return list(self.store.reference_comparisons(item.case_id,
                                                         suspect_evidence_id=item.id))
        except CaseStoreError as exc:  # a damaged row: said once, the item is still shown
            logger.error("reference comparisons not shown: %s", exc)
            self.statusBar().showMessage(f"Reference comparisons not shown: {exc}", 30000)
            return []

    @Slot(float)
    def _on_controller_stall_measured(self, stall_ms: float) -> None:
        self.statusBar().showMessage(f"Analysis finished; the window was never blocked for "
                                     f"more than {stall_ms:.0f} ms.", 15000)

    @Slot(object)
    def _on_timeline_track_changed(self, track_id: int | None) -> None:
        result = None if self._shown is None else self._shown.result
        self.frame_panel.set_note("" if track_id is None else track_note(result, track_id))

    @Slot(object)
    def _on_frame_loader_frame_loaded(self, frame: FrameImage) -> None:
        if self._shown is not None:
            self.frame_panel.show_frame(frame)

    @Slot(object)
    def _on_verdict_form_verdict_submitted(self, draft: VerdictDraft) -> None:
        if self.controller.save_verdict(draft):
            self.verdict_form.mark_saved()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.frame_loader.shutdown(_SHUTDOWN_TIMEOUT_S)
        if not self.controller.shutdown(_SHUTDOWN_TIMEOUT_S):
            logger.error("background jobs were still running at exit")
        event.accept()

