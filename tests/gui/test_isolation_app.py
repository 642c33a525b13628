"""The app with analyses in worker processes: a crash or hang is one item's error, not the app's.

The analyzer is the real ``engine.api.Analyzer`` with its pool; the face finder crashes or
hangs on chosen files (tests/engine/pool_fakes.py), inside the worker, where MediaPipe or
FFmpeg would. The app must show "Analysis failed" with what happened, keep running, and analyse
the next item; Cancel must end a hung analysis within about a second. The app is also started
on another program's SQLite file and on a text file named as the case database: it must refuse
both with one message and leave them byte for byte unchanged.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from engine import api
from forensic_gui.dialogs.new_case_dialog import NewCaseFields
from forensic_gui.main_window import MainWindow
from tests.engine.analysis_fakes import named_fake_detector
from tests.engine.pool_fakes import MisbehavingFaceFinder, write_trigger_image
from tests.gui.readonly_db import start_app_with_db
from tests.gui.test_workflow import import_files, messages
from tests.gui.windows import window_with_analyzer

TIMEOUT_MS = 60000


def _analyzer(options: api.AnalysisOptions) -> api.Analyzer:
    return api.Analyzer(options, isolation=api.IsolationSettings(time_budget_s=60.0,
                                                                 cancel_grace_s=0.5),
                        detector_factory=named_fake_detector,
                        face_detector=MisbehavingFaceFinder())


@pytest.fixture
def pooled_window(qtbot, tmp_path: Path) -> Iterator[MainWindow]:
    with window_with_analyzer(qtbot, tmp_path / "cases.sqlite3", _analyzer, n_frames=4,
                              case=NewCaseFields("I-1", "Isolation", "Tester", "")) as window:
        yield window


def _analyse(qtbot, window: MainWindow, evidence_id: int) -> None:
    window.evidence_list.select_ids([evidence_id])
    window.analyze_selected()
    qtbot.waitUntil(lambda: not window.controller.analysis_running, timeout=TIMEOUT_MS)


@pytest.mark.slow
def test_a_crashing_file_fails_alone_and_the_app_goes_on(qtbot, pooled_window: MainWindow,
                                                        tmp_path: Path) -> None:
    window = pooled_window
    crasher = write_trigger_image(tmp_path, "segfault")
    photo = tmp_path / "photo.png"
    Image.new("RGB", (200, 150), (90, 120, 150)).save(photo)
    import_files(qtbot, window, [crasher, photo])
    ids = {Path(r.original_path).name: r.evidence_id for r in window.evidence_list.rows}
    _analyse(qtbot, window, ids["segfault.png"])
    failed = [m for m in messages(window) if m[0] == "Analysis failed"]
    assert len(failed) == 1
    assert "crashed on this file (signal 11, SIGSEGV)" in failed[0][1]
    _analyse(qtbot, window, ids["photo.png"])
    assert window.store.latest_analysis(ids["photo.png"]).result.status == "ok"
    assert window.store.latest_analysis(ids["segfault.png"]) is None


@pytest.mark.slow
def test_cancel_ends_a_hung_analysis(qtbot, pooled_window: MainWindow, tmp_path: Path) -> None:
    window = pooled_window
    import_files(qtbot, window, [write_trigger_image(tmp_path, "hang")])
    window.evidence_list.select_ids([window.evidence_list.rows[0].evidence_id])
    window.analyze_selected()
    qtbot.wait(2000)  # well inside the hang
    started = time.monotonic()
    window.controller.cancel_analysis()
    qtbot.waitUntil(lambda: not window.controller.analysis_running, timeout=TIMEOUT_MS)
    assert time.monotonic() - started < 3.0
    assert [m for m in messages(window) if m[0] == "Analysis failed"] == []


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["foreign_sqlite", "text_file"])
def test_the_app_refuses_a_file_that_is_not_a_case_database(tmp_path: Path, kind: str) -> None:
    db = tmp_path / "contacts.sqlite3"
    if kind == "foreign_sqlite":
        connection = sqlite3.connect(db)
        connection.execute("CREATE TABLE contacts (name TEXT)")
        connection.commit()
        connection.close()
    else:
        db.write_text("not a database\n" * 50, encoding="utf-8")
    before, files_before = _digest(db), sorted(p.name for p in tmp_path.iterdir())
    started = start_app_with_db(db, tmp_path)
    assert started.returncode == 2, started.stderr[-2000:]
    assert len(started.dialogs) == 1
    assert "is not a case database" in started.dialogs[0][1]
    assert "Traceback" not in started.stderr
    assert _digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == [
        n for n in files_before if n != "home"]
