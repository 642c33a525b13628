"""The app tells the analyst about tampering: a failed log verification and a swapped model.

The detection itself is tested in ``tests/cases/test_tamper.py``; here the same failures must
reach the analyst as a message box that names the problem, not a traceback or silence.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from forensic_gui.cases.repository import CaseStore
from forensic_gui.controller import EngineServices
from forensic_gui.main_window import MainWindow
from forensic_gui.settings import Settings
from tests.cases.test_tamper import make_swapped_models

TIMEOUT_MS = 20000


def _boxes(window: MainWindow) -> list[tuple[str, str, str]]:
    return [(b.windowTitle(), b.text(), b.informativeText())
            for b in window.findChildren(QMessageBox)]


def test_export_of_a_tampered_case_warns_with_the_problem(qtbot, window: MainWindow,
                                                          case_id: int, tiny_video: Path,
                                                          tmp_path: Path) -> None:
    store = window.store
    item = store.hash_and_add_evidence(case_id, tiny_video, actor="Tester")
    store.record_verdict(item.id, analyst="Tester", verdict="manipulated",
                         rationale="Seam at the jaw.", actor="Tester")
    with closing(sqlite3.connect(store.db_path, isolation_level=None)) as raw:
        raw.execute("DROP TRIGGER analyst_verdicts_no_update")
        raw.execute("UPDATE analyst_verdicts SET verdict = 'authentic'")
    with qtbot.waitSignal(window.controller.report_exported, timeout=TIMEOUT_MS) as blocker:
        window.controller.export_report(case_id, tmp_path / "report.pdf")
    assert not blocker.args[0].chain.ok
    qtbot.waitUntil(lambda: any(t.startswith("Report written - with integrity problems")
                                for t, _, _ in _boxes(window)), timeout=TIMEOUT_MS)
    (details,) = [info for t, _, info in _boxes(window) if t.startswith("Report written")]
    assert "Analyst verdict #1 was edited: it no longer matches audit entry #3 (verdict " \
        "changed)." in details


@pytest.mark.weights
def test_swapped_model_is_reported_when_the_detectors_load(qtbot, store: CaseStore,
                                                           tmp_path: Path, monkeypatch) -> None:
    swapped, expected, found = make_swapped_models(tmp_path / "models")
    monkeypatch.setenv("FORENSIC_MODELS_DIR", str(swapped.parent))
    # The real engine services; the window loads the detectors in a worker as soon as it opens.
    window = MainWindow(store, Settings(analyst="Tester"), services=EngineServices.default())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: any(t == "Detectors not loaded" for t, _, _ in _boxes(window)),
                    timeout=TIMEOUT_MS)
    (text,) = [text for t, text, _ in _boxes(window) if t == "Detectors not loaded"]
    assert text.startswith("Loading the detectors failed: onnx weights of 'gan_effl0' fail the "
                           f"integrity check: expected SHA-256 {expected}, found {found}")
    assert str(swapped) in text
    assert "Traceback" not in text
    window.close()
