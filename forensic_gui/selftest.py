"""``forensic-gui --self-test OUT_DIR``: prove an installation works, with no one at the screen.

An installer is only trustworthy if the thing it installed can be shown to work on the target
machine: a missing MediaPipe graph, an Alembic script left out of a PyInstaller bundle or a model
file with a wrong hash only shows up when the real application runs. So this module starts the
real application (real engine, real :class:`MainWindow`) on a fresh case database in
``OUT_DIR`` and drives it the way an analyst would on the first start: it accepts the demo-case
offer of the welcome banner (the same code the button runs), waits for the bundled sample to be
imported and analysed by the shipped detectors through the controller and its worker jobs, then
exports the case report through the same export job and checks the PDF.

Failures are observed where the analyst would see them: every warning or error box the
application opens is also logged by :mod:`forensic_gui.dialogs.messages`, and the self-test fails
on the first one. The whole run is bounded by a timeout. One line per step goes to stdout (this
is a command-line report, like ``forensic-analyze``'s JSON lines), with the time since the
process started; cold start is measured from the kernel's process start time, so interpreter
start-up, the PyInstaller bootloader and all imports are included.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer

from engine.types import Grade
from forensic_gui.app import Started, StartupError, open_window, parse_args
from forensic_gui.cases.records import AnalysisRecord
from forensic_gui.controller import EngineServices
from forensic_gui.demo import DEMO_CASE_NUMBER, DEMO_SAMPLES, demo_paths
from forensic_gui.selftest_provenance import ProvenanceCheckError, check_provenance

__all__ = [
    "DB_FILE_NAME",
    "DEFAULT_TIMEOUT_S",
    "REPORT_FILE_NAME",
    "SelfTestError",
    "check_report",
    "process_age_s",
    "run_self_test",
]

logger = logging.getLogger(__name__)

DB_FILE_NAME = "self_test_cases.sqlite3"
REPORT_FILE_NAME = "self_test_report.pdf"
# NOTE: the demo analysis takes one to two minutes on a shared 2-core machine; ten minutes
# means "stuck", not "slow".
DEFAULT_TIMEOUT_S = 600.0
# NOTE: a report with a cover, two items with key frames and the audit log is several hundred
# kB; 20 kB is far below any real report and far above an empty or truncated PDF.
MIN_REPORT_BYTES = 20_000
_MESSAGES_LOGGER = "forensic_gui.dialogs.messages"
# Self-test started before the /proc clock could be read: the fallback anchor.
_MODULE_T0 = time.monotonic()


class SelfTestError(Exception):
    """A self-test step failed; the message says which and why."""


def process_age_s() -> float | None:
    """Seconds since this process was started by the kernel, ``None`` where /proc is missing.

    ``/proc/self/stat`` field 22 is the start time in clock ticks after boot and
    ``/proc/uptime`` the time since boot, both on the same clock (about 10 ms resolution).
    """
    try:
        stat = Path("/proc/self/stat").read_text(encoding="ascii")
        uptime_s = float(Path("/proc/uptime").read_text(encoding="ascii").split()[0])
    except (OSError, ValueError):
        return None
    # NOTE: the command name (field 2) may hold spaces and parentheses; fields after the last
    # ")" start at field 3, so field 22 is index 19.
    start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
    return max(0.0, uptime_s - start_ticks / os.sysconf("SC_CLK_TCK"))


def _stdout_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class _MessageWatch(logging.Handler):
    """Fails the self-test on the first warning or error box the application shows."""

    def __init__(self, on_message: Callable[[str], None]) -> None:
        super().__init__(level=logging.WARNING)
        self._on_message = on_message

    def emit(self, record: logging.LogRecord) -> None:
        self._on_message(f"the application showed {record.levelname.lower()}: "
                         f"{record.getMessage()}")


class _SelfTest(QObject):
    """The steps, driven by the application's own signals inside a local event loop."""

    def __init__(self, out_dir: Path, settings_path: Path, services: EngineServices | None,
                 write_line: Callable[[str], None]) -> None:
        super().__init__()
        self._out_dir = out_dir
        self._settings_path = settings_path
        self._services = services
        self._write = write_line
        age = process_age_s()
        self._clock_label = "process start" if age is not None else "self-test start"
        self._t0 = time.monotonic() - (age if age is not None else time.monotonic() - _MODULE_T0)
        self._loop = QEventLoop()
        self._step = "starting the main window"
        self._t_step = time.monotonic()
        self._failure: str | None = None
        self._started: Started | None = None
        self._saw_job = False
        self._case_id: int | None = None
        self._analyses: list[AnalysisRecord] = []

    # -- reporting -----------------------------------------------------------------------

    def _since_start(self) -> float:
        return time.monotonic() - self._t0

    def _done(self, name: str, detail: str, next_step: str) -> None:
        """Report a finished step and start timing ``next_step``."""
        now = time.monotonic()
        self._write(f"self-test: {name:<10} {detail} [{now - self._t_step:.2f} s step, "
                    f"{now - self._t0:.2f} s since {self._clock_label}]")
        self._step, self._t_step = next_step, now

    def fail(self, reason: str) -> None:
        """End the run with a failure (the first reason wins)."""
        if self._failure is None:
            self._failure = f"while {self._step}: {reason}"
            self._loop.exit(1)

    def _guard(self, slot: Callable[..., None]) -> Callable[..., None]:
        """Turn a check that raises in ``slot`` into a failure of the run."""
        def guarded(*args: object) -> None:
            try:
                slot(*args)
            except SelfTestError as exc:
                self.fail(str(exc))
            except Exception as exc:
                logger.exception("self-test step failed")
                self.fail(f"unexpected {type(exc).__name__}: {exc}")
        return guarded

    # -- the steps -----------------------------------------------------------------------

    def run(self, timeout_s: float) -> int:
        """Run every step; 0 when all passed, 1 on the first failure or the timeout."""
        watch = _MessageWatch(self.fail)
        logging.getLogger(_MESSAGES_LOGGER).addHandler(watch)
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.timeout.connect(lambda: self.fail(f"no progress within {timeout_s:.0f} s"))
        timer.start(round(timeout_s * 1000))
        try:
            self._start_window()
            if self._failure is None:
                self._loop.exec()
        except (StartupError, SelfTestError) as exc:
            self.fail(str(exc))
        finally:
            timer.stop()
            logging.getLogger(_MESSAGES_LOGGER).removeHandler(watch)
            self._close()
        if self._failure is not None:
            self._write(f"self-test: FAILED     {self._failure} "
                        f"[{self._since_start():.2f} s since {self._clock_label}]")
            return 1
        self._write(f"self-test: passed     every step [{self._since_start():.2f} s since "
                    f"{self._clock_label}]")
        return 0

    def _start_window(self) -> None:
        argv = ["--db", str(self._out_dir / DB_FILE_NAME), "--settings", str(self._settings_path)]
        self._started = started = open_window(parse_args(argv), services=self._services)
        window, controller = started.window, started.window.controller
        window.installEventFilter(self)
        window.tracker.jobs_changed.connect(self._guard(self._on_jobs_changed))
        controller.evidence_changed.connect(self._guard(self._on_evidence_changed))
        controller.analysis_running_changed.connect(self._guard(self._on_analysis_running))
        controller.analysis_recorded.connect(self._guard(self._on_analysis_recorded))
        controller.stall_measured.connect(self._guard(self._on_stall_measured))
        # NOTE: the controller's signal, not the export job's: the job starts inside
        # export_report, and a worker that finished before a later connect would be missed.
        controller.report_exported.connect(self._guard(self._on_exported))
        self._on_jobs_changed()  # the preload job may have been started already

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The first paint of the main window is "first window shown"."""
        if event.type() == QEvent.Type.Paint and self._step == "starting the main window":
            self._done("window", f"first window shown after {self._since_start():.2f} s since "
                       f"{self._clock_label}", "loading the detectors")
            QTimer.singleShot(0, self._guard(self._on_jobs_changed))
        return False

    def _on_jobs_changed(self) -> None:
        started = self._require_started()
        running = started.window.tracker.running
        self._saw_job = self._saw_job or bool(running)
        if self._step != "loading the detectors" or running or not self._saw_job:
            return
        labels = started.window.controller.detector_labels
        if not labels:
            raise SelfTestError("no detector is installed (resources/models has no model cards)")
        self._done("detectors", f"{len(labels)} loaded: {', '.join(sorted(labels))}",
                   "creating the demo case")
        welcome = started.window.welcome
        if not welcome.isVisible():
            raise SelfTestError("the first-start demo offer is not shown (database not fresh?)")
        welcome.demo_requested.emit()  # what the banner's "Create the demo case" button does

    def _on_evidence_changed(self, case_id: int) -> None:
        started = self._require_started()
        case = started.store.get_case(case_id)
        items = started.store.list_evidence(case_id)
        if case.number != DEMO_CASE_NUMBER or len(items) != len(DEMO_SAMPLES):
            raise SelfTestError(f"expected the demo case with {len(DEMO_SAMPLES)} files, got "
                                f"case {case.number} with {len(items)}")
        self._case_id = case_id
        self._done("demo case", f"{case.number} created, {len(items)} files imported "
                   f"({', '.join(i.file_name for i in items)})", "analysing the demo sample")

    def _on_analysis_running(self, running: bool) -> None:
        if running:
            self._t_step = time.monotonic()  # each file is timed on its own
            return
        if len(self._analyses) != len(DEMO_SAMPLES):
            raise SelfTestError(f"the analyses stopped after {len(self._analyses)} of "
                                f"{len(DEMO_SAMPLES)} files")
        # NOTE: the window measures its event-loop stalls until the last result is drawn
        # (``stall_measured``, half a second after this signal). The self-test's own checks
        # below run on the GUI thread, so they wait for that figure: started here, they were
        # counted as the application's stall (168-276 ms instead of 58-108 ms).
        self._step = "measuring the GUI's responsiveness"

    def _on_stall_measured(self, max_stall_ms: float) -> None:
        if self._step != "measuring the GUI's responsiveness":
            return
        self._done("display", f"every result drawn; longest GUI stall during the analyses "
                   f"{max_stall_ms:.0f} ms", "reading media provenance")
        try:
            detail = check_provenance(demo_paths(), self._out_dir)
        except ProvenanceCheckError as exc:
            raise SelfTestError(f"media provenance: {exc}") from exc
        self._done("provenance", detail, "exporting the PDF report")
        self._export()

    def _on_analysis_recorded(self, evidence_id: int, analysis: AnalysisRecord) -> None:
        started = self._require_started()
        name = started.store.get_evidence(evidence_id).file_name
        self._analyses.append(analysis)
        self._done("analysis", f"{name}: {_describe_analysis(analysis)}",
                   "analysing the demo sample")

    def _export(self) -> None:
        started = self._require_started()
        if self._case_id is None:
            raise SelfTestError("the demo case was never imported")
        started.window.controller.export_report(self._case_id, self._out_dir / REPORT_FILE_NAME)

    def _on_exported(self, summary: object) -> None:
        path = Path(getattr(summary, "path", ""))
        n_pages = int(getattr(summary, "n_pages", 0))
        check_report(path, expected_sha256=str(getattr(summary, "sha256", "")), n_pages=n_pages)
        self._done("report", f"{path} written and checked: {n_pages} pages, "
                   f"{path.stat().st_size / 1e3:.0f} kB", "closing the application")
        self._loop.exit(0)

    def _require_started(self) -> Started:
        if self._started is None:
            raise SelfTestError("the main window was not started")
        return self._started

    def _close(self) -> None:
        if self._started is None:
            return
        self._started.window.removeEventFilter(self)
        self._started.window.close()  # cancels and waits for running jobs (closeEvent)
        self._started.store.close()
        self._started = None


def _describe_analysis(analysis: AnalysisRecord) -> str:
    """One line about a stored analysis; raises when it is not a usable, scored result."""
    result = analysis.result
    if result.status != "ok" or result.finding is None:
        raise SelfTestError(f"analysis status {result.status!r} ({result.error or 'no face'})")
    if result.finding.grade is Grade.NOT_APPLICABLE or result.finding.p_fake is None:
        raise SelfTestError("no detector applied to the sample")
    scores = ", ".join(f"{s.detector} {s.p_fake:.2f}" if s.p_fake is not None else
                       f"{s.detector} n/a" for s in result.scores)
    return (f"{result.status}, {len(result.frames)} frames, {analysis.runtime} runtime, "
            f"fused p_fake {result.finding.p_fake:.2f} ({result.finding.grade.value}); {scores}")


def check_report(path: Path, *, expected_sha256: str, n_pages: int) -> None:
    """Check that ``path`` is a complete PDF with the hash the export recorded.

    Raises:
        SelfTestError: missing, too small, not a PDF, truncated, or another file's hash.
    """
    if not path.is_file():
        raise SelfTestError(f"the report {path} was not written")
    data = path.read_bytes()
    if len(data) < MIN_REPORT_BYTES:
        raise SelfTestError(f"the report {path} has only {len(data)} bytes")
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        raise SelfTestError(f"the report {path} is not a complete PDF file")
    if hashlib.sha256(data).hexdigest() != expected_sha256:
        raise SelfTestError(f"the report {path} does not have the SHA-256 the export logged")
    if n_pages < 1 + len(DEMO_SAMPLES):
        raise SelfTestError(f"the report has {n_pages} pages; expected a cover and one page "
                            "per item at least")


def run_self_test(out_dir: Path, *, settings_path: Path | None = None,
                  services: EngineServices | None = None,
                  timeout_s: float | None = None,
                  write_line: Callable[[str], None] = _stdout_line) -> int:
    """Run the self-test (see the module docstring); a ``QApplication`` must exist.

    Args:
        out_dir: receives the fresh case database and the PDF report; created if missing.
        settings_path: settings TOML to use; ``None`` runs with the defaults.
        services: the engine seam (tests pass a fake analyzer); ``None`` is the real engine.
        timeout_s: the whole run fails after this many seconds (``None``:
            :data:`DEFAULT_TIMEOUT_S`).
        write_line: receives one line per step (stdout by default).

    Returns:
        0 when every step passed, 1 otherwise (the last line says why).
    """
    db_path = out_dir / DB_FILE_NAME
    if db_path.exists() or (out_dir / REPORT_FILE_NAME).exists():
        write_line(f"self-test: FAILED     {out_dir} holds an earlier self-test's files; "
                   "give a new or empty folder")
        return 1
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        write_line(f"self-test: FAILED     cannot create {out_dir}: {exc.strerror or exc}")
        return 1
    settings = settings_path if settings_path is not None else out_dir / "no_settings.toml"
    limit_s = DEFAULT_TIMEOUT_S if timeout_s is None else timeout_s
    return _SelfTest(out_dir, settings, services, write_line).run(limit_s)
