"""Isolation and database ownership through the app (issue #18), judged case by case.

Shared by tests/gui/test_isolation_app.py (which checks the same, with pytest-qt) and
scripts/reliability_report.py. The database checks start the real application in a subprocess;
the crash check drives a main window whose analyzer is the real worker pool with a face finder
that segfaults inside the worker on one file (tests/engine/pool_fakes.py).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path
from typing import Any

from PIL import Image

from tests.engine.hostile_cli import Check
from tests.gui.readonly_db import start_app_with_db

__all__ = ["app_crash_check", "database_checks"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _foreign(path: Path, kind: str) -> Path:
    if kind == "another program's SQLite database":
        connection = sqlite3.connect(path)
        connection.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
        connection.execute("INSERT INTO contacts VALUES ('A. Witness', '555-0100')")
        connection.commit()
        connection.close()
    else:
        path.write_text("Shopping list\n" * 40, encoding="utf-8")
    return path


def database_checks(work: Path) -> list[Check]:
    """The app started with ``--db`` on a file that is not a case database."""
    checks = []
    for i, kind in enumerate(("another program's SQLite database", "a text file")):
        root = work / f"db_{i}"
        root.mkdir(parents=True, exist_ok=True)
        db = _foreign(root / "cases.sqlite3", kind)
        before = _digest(db)
        started = start_app_with_db(db, root)
        texts = [" ".join(text.split()) for _title, text in started.dialogs]
        unchanged = _digest(db) == before
        passed = (started.returncode == 2 and len(texts) == 1 and "not a case database" in
                  texts[0] and unchanged and "Traceback" not in started.stderr)
        checks.append(Check(f"app: --db is {kind}", "exit 2, one message, file unchanged",
                            f"exit {started.returncode}; unchanged: {unchanged}; message: "
                            f"{texts[0] if texts else 'none'}", passed, started.seconds))
    return checks


def _wait(predicate: object, timeout_s: float) -> bool:
    from tests.gui.reliability_app import wait_until

    return wait_until(predicate, timeout_s)  # type: ignore[arg-type]


def _crash_window(work: Path) -> object:
    """A main window whose analyzer pool crashes on ``segfault.png`` (needs a QApplication)."""
    from engine import api
    from forensic_gui.cases.repository import CaseStore
    from forensic_gui.controller import EngineServices
    from forensic_gui.dialogs.new_case_dialog import NewCaseFields
    from forensic_gui.main_window import MainWindow
    from forensic_gui.settings import Settings
    from tests.engine.analysis_fakes import named_fake_detector
    from tests.engine.pool_fakes import MisbehavingFaceFinder
    from tests.gui.fakes import FAKE_DETECTORS

    def analyzer(options: api.AnalysisOptions) -> api.Analyzer:
        return api.Analyzer(options, detector_factory=named_fake_detector,
                            face_detector=MisbehavingFaceFinder())

    services = EngineServices(analyzer_factory=analyzer,
                              list_detectors=lambda: list(FAKE_DETECTORS))
    settings = Settings(analyst="Reliability", key_frames=1, n_frames=4, runtime="onnx",
                        detectors=tuple(d.name for d in FAKE_DETECTORS))
    window = MainWindow(CaseStore.open(work / "cases.sqlite3"), settings, services=services)
    window.show()
    window.controller.create_case(NewCaseFields("C-1", "Crash", "Reliability", ""))
    return window


def app_crash_check(work: Path) -> Check:
    """A file that crashes the analysis worker: one 'Analysis failed', then the next file is ok.

    Needs a ``QApplication``.
    """
    from PySide6.QtWidgets import QMessageBox

    from tests.engine.pool_fakes import write_trigger_image

    work.mkdir(parents=True, exist_ok=True)
    crasher, photo = write_trigger_image(work, "segfault"), work / "after.png"
    Image.new("RGB", (200, 150), (90, 120, 150)).save(photo)
    start = time.perf_counter()
    window: Any = _crash_window(work)
    try:
        window.import_paths([crasher, photo])
        _wait(lambda: len(window.evidence_list.rows) == 2, 60.0)
        statuses = {}
        for row in list(window.evidence_list.rows):
            window.evidence_list.select_ids([row.evidence_id])
            window.analyze_selected()
            _wait(lambda: not window.controller.analysis_running, 120.0)
            latest = window.store.latest_analysis(row.evidence_id)
            statuses[row.file_name] = latest.result.status if latest is not None else "none"
        boxes = [(b.windowTitle(), b.text()) for b in window.findChildren(QMessageBox)]
    finally:
        window.close()
        window.store.close()
    failed = [text for title, text in boxes if title == "Analysis failed"]
    passed = (statuses == {"after.png": "ok", "segfault.png": "none"} and len(failed) == 1
              and "crashed on this file (signal 11, SIGSEGV)" in failed[0])
    return Check("app: a file that segfaults the analysis worker",
                 "one 'Analysis failed' with the signal; the app and the next analysis go on",
                 f"{' '.join(failed[0].split()) if failed else 'no message'}; stored "
                 f"analyses: {statuses}", passed, time.perf_counter() - start)
