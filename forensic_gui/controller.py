"""What the main window's actions do: start jobs, write small records, announce results.

The controller owns the background jobs and the GUI thread's store calls (cases, verdicts, single
hash checks); the main window owns the widgets. Imports and analyses are written by their jobs
(see :mod:`forensic_gui.tasks`), so their results arrive here already stored and are only
announced, with signals the window redraws from. Every failure becomes a message that says what
happened and what to do; nothing is swallowed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QWidget

from engine import api
from forensic_gui.cases.errors import CaseStoreError
from forensic_gui.cases.records import CaseRecord
from forensic_gui.cases.repository import CaseStore
from forensic_gui.demo import (
    DEMO_CASE_NAME,
    DEMO_CASE_NOTES,
    DEMO_CASE_NUMBER,
    DemoSampleMissingError,
    demo_paths,
)
from forensic_gui.dialogs.messages import show_error, show_info, show_warning
from forensic_gui.dialogs.new_case_dialog import NewCaseFields
from forensic_gui.gc_policy import freeze_loaded_objects
from forensic_gui.job_tracker import JobTracker
from forensic_gui.settings import Settings, default_trust_list_path
from forensic_gui.stall_monitor import StallMonitor
from forensic_gui.tasks import (
    AnalysisOutcome,
    AnalysisRequest,
    AnalyzerLike,
    ImportReport,
    ReaderLike,
    StoreAccess,
)
from forensic_gui.trust_list import install_trust_list
from forensic_gui.widgets.verdict_form import VerdictDraft
from forensic_gui.workers import (
    AnalysisJob,
    AnalyzerHolder,
    ExportJob,
    HashJob,
    ImportJob,
    PreloadJob,
)

if TYPE_CHECKING:  # reportlab is imported only when a report is written
    from forensic_gui.cases.report_pdf import ReportSummary

__all__ = ["CaseController", "EngineServices"]

logger = logging.getLogger(__name__)

# NOTE: 20 "file: reason" lines still fit a message box on a 1280x800 screen.
_MAX_LISTED = 20
# NOTE: long enough for the window to draw a result (timeline, findings, frame: ~0.1 s).
_RESULT_DISPLAY_GRACE_MS = 500


@dataclass(frozen=True)
class EngineServices:
    """The engine entry points the window needs that load models or read the model catalog.

    The application uses :meth:`default`. Tests pass a fake analyzer factory (a test seam, not
    a runtime fallback), so GUI tests never load torch or ONNX models.
    """

    analyzer_factory: Callable[[api.AnalysisOptions], AnalyzerLike]
    list_detectors: Callable[[], list[api.DetectorInfo]]
    # NOTE: the default reads in a worker process (started on first use), as the app does.
    reader_factory: Callable[[], ReaderLike] = api.MediaReader

    @classmethod
    def default(cls) -> EngineServices:
        """The real engine: analyses and reads in worker processes."""
        return cls(analyzer_factory=api.Analyzer, list_detectors=api.list_detectors,
                   reader_factory=api.MediaReader)


class CaseController(QObject):
    """Runs the case actions (import, analyse, verify, verdict, export) for the main window."""

    cases_changed = Signal(object)  # case id to select, or None
    evidence_changed = Signal(int)  # case id whose evidence table must be rebuilt (import)
    integrity_checked = Signal(int, object)  # evidence id, EvidenceCheck
    analysis_recorded = Signal(int, object)  # evidence id, AnalysisRecord (result with maps)
    verdict_recorded = Signal(int)  # evidence id
    reference_compared = Signal(int)  # evidence id of the suspect
    analysis_running_changed = Signal(bool)
    report_exported = Signal(object)  # ReportSummary
    stall_measured = Signal(float)  # longest GUI stall (ms) of the analyses that just ended

    def __init__(self, store: CaseStore, settings: Settings, services: EngineServices,
                 tracker: JobTracker, window: QWidget) -> None:
        super().__init__(window)
        self.store = store
        self.settings = settings
        self._tracker = tracker
        self._window = window
        infos = services.list_detectors()
        self.detector_labels = {d.name: d.display_name for d in infos}
        self.map_labels = {d.name: f"{d.display_name}: {d.map_kind}" for d in infos if d.map_kind}
        # What each model card says the detector looks at and where it fails (benign edits that
        # trigger it included), for the findings panel's tooltips as the report prints it.
        self.detector_notes = {d.name: d.card_summary for d in infos if d.card_summary}
        self._analyzer_factory = services.analyzer_factory
        self._holder = AnalyzerHolder(services.analyzer_factory, settings.analysis_options())
        self.reader = services.reader_factory()
        self._access = StoreAccess(store.db_path, settings.analyst)
        self._queue: deque[AnalysisRequest] = deque()
        self._analysis_job: AnalysisJob | None = None
        self.stall_monitor = StallMonitor(self)
        self.last_max_stall_ms: float | None = None

    @property
    def analysis_running(self) -> bool:
        """Whether an analysis job is running."""
        return self._analysis_job is not None

    @property
    def actor(self) -> str:
        """The analyst recorded in the audit log for every action of this session."""
        return self.settings.analyst

    # -- cases ---------------------------------------------------------------------------

    def create_case(self, fields: NewCaseFields) -> CaseRecord | None:
        """Create a case; on an error (duplicate number, empty field) say why, return ``None``."""
        try:
            case = self.store.create_case(number=fields.number, title=fields.title,
                                          analyst=fields.analyst, notes=fields.notes,
                                          actor=self.actor)
        except CaseStoreError as exc:
            show_error(self._window, "Case not created", str(exc))
            return None
        self.cases_changed.emit(case.id)
        return case

    # -- import --------------------------------------------------------------------------

    def import_paths(self, case_id: int, paths: Sequence[Path], *,
                     analyze_after: bool = False) -> ImportJob:
        """Probe, hash and add files and folders to a case, in a worker."""
        job = ImportJob(list(paths), case_id, self._access, reader=self.reader)
        job.succeeded.connect(self._on_import_job_succeeded)
        job.failed.connect(self._on_job_failed_message("Import failed"))
        if analyze_after:
            job.succeeded.connect(lambda report: self.analyze([r.id for r in report.added]))
        self._tracker.start(job)
        return job

    @Slot(object)
    def _on_import_job_succeeded(self, report: ImportReport) -> None:
        self.evidence_changed.emit(report.case_id)
        if report.failures:
            # NOTE: printable: a name with bytes that are not UTF-8 shows them as \xNN
            lines = [api.printable_path(f"{Path(f.path).name}: {f.message}")
                     for f in report.failures]
            n_more = len(lines) - _MAX_LISTED
            more = [f"… and {n_more} more: see Show Details"] if n_more > 0 else []
            # Every refused file keeps its reason: the full list (with folders) is the details.
            details = "\n".join(api.printable_path(f"{f.path}: {f.message}")
                                for f in report.failures)
            show_warning(self._window, "Some files were not added",
                         f"Added {len(report.added)} file(s); {len(lines)} not added:",
                         "\n".join(lines[:_MAX_LISTED] + more), details if more else "")

    # -- analysis ------------------------------------------------------------------------

    def analyze(self, evidence_ids: Sequence[int]) -> None:
        """Queue evidence items for analysis; they run one after another."""
        if not evidence_ids:
            return
        for evidence_id in evidence_ids:
            item = self.store.get_evidence(evidence_id)
            self._queue.append(AnalysisRequest(item.id, item.open_path, item.sha256,
                                               item.file_name))
        if self._analysis_job is None:
            self._start_next_analysis()

    def preload_analyzer(self) -> None:
        """Load the detectors in a worker now (see ``PreloadJob``); a failure is shown at once."""
        job = PreloadJob(self._holder)
        job.succeeded.connect(self._on_detectors_loaded)
        job.failed.connect(self._on_job_failed_message("Detectors not loaded"))
        self._tracker.start(job, cancellable=False)

    @Slot(object)
    def _on_detectors_loaded(self, _value: object) -> None:
        freeze_loaded_objects()  # here, on the GUI thread: see its docstring

    def cancel_analysis(self) -> None:
        """Cancel the running analysis and drop the queued ones."""
        self._queue.clear()
        if self._analysis_job is not None:
            self._analysis_job.cancel()

    def _start_next_analysis(self) -> None:
        if not self._queue:
            if self._analysis_job is None:
                self.analysis_running_changed.emit(False)
            return
        request = self._queue.popleft()
        job = AnalysisJob(request, self._holder, self._access,
                          key_frame_count=self.settings.key_frames, map_labels=self.map_labels,
                          reader=self.reader)
        job.succeeded.connect(self._on_analysis_job_succeeded)
        job.failed.connect(self._on_analysis_job_failed)
        job.cancelled.connect(self._on_analysis_job_cancelled)
        self._analysis_job = job
        if not self.stall_monitor.running:  # one measurement covers a whole queue of analyses
            self.stall_monitor.start()
        self._tracker.start(job)
        self.analysis_running_changed.emit(True)

    def _finish_analysis(self) -> None:
        self._analysis_job = None
        self._start_next_analysis()
        if self._analysis_job is None:
            # NOTE: the window draws the last result over the next event-loop turns; the
            # measurement goes on until that is done, so it counts the whole display.
            QTimer.singleShot(_RESULT_DISPLAY_GRACE_MS, self._stop_stall_monitor)

    def _stop_stall_monitor(self) -> None:
        if self._analysis_job is not None or not self.stall_monitor.running:
            return  # another analysis started meanwhile: it goes on measuring
        self.last_max_stall_ms = self.stall_monitor.stop()
        logger.info("longest GUI stall during the analyses: %.1f ms", self.last_max_stall_ms)
        self.stall_measured.emit(self.last_max_stall_ms)

    @Slot(object)
    def _on_analysis_job_succeeded(self, outcome: AnalysisOutcome) -> None:
        try:
            self._report_outcome(outcome)
        finally:
            self._finish_analysis()

    @Slot(str)
    def _on_analysis_job_failed(self, message: str) -> None:
        show_error(self._window, "Analysis failed", message)
        self._finish_analysis()

    @Slot()
    def _on_analysis_job_cancelled(self) -> None:
        self._queue.clear()
        self._finish_analysis()

    def _report_outcome(self, outcome: AnalysisOutcome) -> None:
        """Announce an outcome the worker already stored (no database work here)."""
        request, check, result = outcome.request, outcome.check, outcome.result
        self.integrity_checked.emit(request.evidence_id, check)
        if not check.ok or result is None:
            show_error(self._window, "EVIDENCE INTEGRITY FAILURE - analysis refused",
                       f"{request.file_name} is not the file that was acquired.",
                       _integrity_text(check.expected, check.actual, check.problem))
            return
        if outcome.analysis is None:
            show_error(self._window, "Analysis failed",
                       f"{request.file_name} could not be analysed: {result.error}")
            return
        self.analysis_recorded.emit(request.evidence_id, outcome.analysis)
        if result.status == "no_face":
            pictured = [s.detector for s in result.picture_scores if s.p_fake is not None]
            if pictured:
                # NOTE: the whole-picture (generated-image) detectors graded it, and the list
                # and the findings say "no face" beside that finding: no box to click away,
                # which a batch of pictures without faces would stack one per file.
                logger.info("%s: no face; scored by the whole-picture detectors %s",
                            request.file_name, ", ".join(pictured))
                return
            show_warning(self._window, "No face found",
                         f"No usable face was found in {request.file_name}.",
                         "The face detectors do not apply to it; the result is recorded as "
                         "'not applicable'. Check that a face is visible and large enough.")

    # -- integrity, verdicts, export -----------------------------------------------------

    def verify(self, evidence_id: int) -> HashJob:
        """Re-hash one evidence file in a worker and record the check."""
        item = self.store.get_evidence(evidence_id)
        job = HashJob(item.open_path)
        job.succeeded.connect(lambda digest: self._on_hash_done(evidence_id, digest, None))
        job.failed.connect(lambda message: self._on_hash_done(evidence_id, None, message))
        self._tracker.start(job)
        return job

    def _on_hash_done(self, evidence_id: int, digest: str | None, problem: str | None) -> None:
        try:
            check = self.store.record_evidence_check(evidence_id, actual_sha256=digest,
                                                     actor=self.actor, problem=problem)
        except CaseStoreError as exc:
            show_error(self._window, "Check not recorded", str(exc))
            return
        self.integrity_checked.emit(evidence_id, check)
        name = Path(check.path).name
        if check.ok:
            show_info(self._window, "Evidence verified",
                      f"{name} still has its acquisition SHA-256.", check.expected)
        else:
            show_error(self._window, "EVIDENCE INTEGRITY FAILURE",
                       f"{name} is not the file that was acquired.",
                       _integrity_text(check.expected, check.actual, check.problem))

    def save_verdict(self, draft: VerdictDraft) -> bool:
        """Store the analyst's verdict; say why if it cannot be stored."""
        try:
            self.store.record_verdict(draft.evidence_id, analyst=draft.analyst,
                                      verdict=draft.verdict, rationale=draft.rationale,
                                      actor=self.actor)
        except CaseStoreError as exc:
            show_error(self._window, "Verdict not saved", str(exc))
            return False
        self.verdict_recorded.emit(draft.evidence_id)
        return True

    def compare_with_reference(self, suspect_evidence_id: int, suspect_analysis_id: int,
                               reference_analysis_id: int) -> bool:
        """Set a stored analysis against a reference's and store it; say why if it cannot be."""
        try:
            self.store.record_reference_comparison(suspect_analysis_id, reference_analysis_id,
                                                   actor=self.actor)
        except CaseStoreError as exc:
            show_error(self._window, "Comparison not made", str(exc))
            return False
        self.reference_compared.emit(suspect_evidence_id)
        return True

    def export_report(self, case_id: int, out_path: Path) -> ExportJob:
        """Write the case's PDF report in a worker."""
        job = ExportJob(case_id, out_path, self._access,
                        n_items=len(self.store.list_evidence(case_id)))
        job.succeeded.connect(self._on_export_job_succeeded)
        job.failed.connect(self._on_job_failed_message("Report not written"))
        self._tracker.start(job)
        return job

    @Slot(object)
    def _on_export_job_succeeded(self, summary: ReportSummary) -> None:
        self.report_exported.emit(summary)
        bad = [Path(c.path).name for c in summary.evidence_checks if not c.ok]
        if bad or not summary.chain.ok:
            show_warning(self._window, "Report written - with integrity problems",
                         f"The report {summary.path} was written, and it documents problems:",
                         "\n".join([f"{name}: does not match its acquisition SHA-256"
                                    for name in bad] + list(summary.chain.problems)))
        else:
            show_info(self._window, "Report written",
                      f"{summary.path} ({summary.n_pages} pages).",
                      f"Report SHA-256: {summary.sha256}")

    def create_demo_case(self, sample_dir: Path | None = None) -> None:
        """Create the demo case from the bundled sample, import it and analyse it.

        Args:
            sample_dir: where the sample is; ``resources/sample`` when ``None``.
        """
        try:
            paths = demo_paths(sample_dir)
        except DemoSampleMissingError as exc:
            show_error(self._window, "Demo sample missing", str(exc))
            return
        for case in self.store.list_cases():
            if case.number == DEMO_CASE_NUMBER:
                show_info(self._window, "Demo case exists",
                          f"The demo case {DEMO_CASE_NUMBER} is already in this database.")
                self.cases_changed.emit(case.id)
                return
        created = self.create_case(NewCaseFields(DEMO_CASE_NUMBER, DEMO_CASE_NAME,
                                                 self.settings.analyst, DEMO_CASE_NOTES))
        if created is not None:
            self.import_paths(created.id, paths, analyze_after=True)

    def _on_job_failed_message(self, title: str) -> Callable[[str], None]:
        return lambda message: show_error(self._window, title, message)

    def import_trust_list(self, source: Path) -> api.TrustList | None:
        """Check a PEM bundle of C2PA trust anchors and install it for the next analyses.

        It is copied to the per-user config dir (the original may move), and the analyzer is
        rebuilt with it; refused while analyses run, or when settings.toml names its own list.
        """
        refusal = None
        if self.settings.c2pa_trust_list is not None:
            refusal = (f"settings.toml names the trust list {self.settings.c2pa_trust_list}: "
                       "replace that file, or remove the setting to import one here.")
        elif self.analysis_running or self._queue:
            refusal = "Analyses are running: import the trust list when they are done."
        if refusal is not None:
            show_warning(self._window, "Trust list not imported", refusal)
            return None
        try:
            trust = api.load_trust_list(source)
            target = install_trust_list(source, default_trust_list_path())
        except (api.TrustListError, OSError) as exc:
            show_error(self._window, "Trust list not imported", str(exc))
            return None
        self._holder.close()
        options = dataclasses.replace(self.settings.analysis_options(), c2pa_trust_list=str(target))
        self._holder = AnalyzerHolder(self._analyzer_factory, options)
        logger.info("C2PA trust list %s imported (%d anchors)", target, len(trust.subjects))
        return trust

    def shutdown(self, timeout_s: float) -> bool:
        """Cancel every job, wait for the workers, and release the models."""
        self._queue.clear()
        stopped = self._tracker.shutdown(timeout_s)
        if stopped:
            self._holder.close()
            self.reader.close()
        return stopped


def _integrity_text(expected: str, actual: str | None, problem: str | None) -> str:
    found = actual if actual is not None else f"nothing ({problem})"
    return (f"Expected SHA-256 (at acquisition): {expected}\nFound now: {found}\n\nThe check is "
            "recorded in the audit log. Do not rely on this file; secure the original and "
            "acquire it again.")
