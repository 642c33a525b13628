"""Comparing a video with reference footage from the main window: the dialog's confirmation, the
stored comparison, the findings panel's note and the messages when it cannot be made."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from engine.fusion.reference import ReferenceNull
from forensic_gui.dialogs.reference_dialog import ReferenceCandidate, ReferenceDialog
from forensic_gui.main_window import MainWindow
from tests.gui.fakes import FAKE_DETECTORS, write_tiny_video

TIMEOUT_MS = 15000


@pytest.fixture
def fake_null(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ReferenceNull:
    """A made-up null for the fake detectors, where the engine looks for the shipped one."""
    samples = [{"kind:face_swap": d / 10, "sbi_effl0": d / 10, "xray_hrnet18": d / 10}
               for d in range(-5, 6)]
    null = ReferenceNull("test null", "made up", "none", 6, 8, tuple(samples),
                         {d.name: d.weights_sha256 for d in FAKE_DETECTORS})
    path = tmp_path / "null.json"
    path.write_text(json.dumps(null.to_dict()), encoding="utf-8")
    monkeypatch.setattr("engine.fusion.reference.null_file", lambda: path)
    return null


def _import_and_analyse(qtbot, window: MainWindow, paths: list[Path]) -> list[int]:
    with qtbot.waitSignal(window.controller.evidence_changed, timeout=TIMEOUT_MS):
        window.import_paths(paths)
    ids = [row.evidence_id for row in window.evidence_list.rows]
    window.evidence_list.select_ids(ids)
    window.analyze_selected()
    qtbot.waitUntil(lambda: all(window.store.latest_analysis(i) is not None for i in ids),
                    timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.controller.analysis_running, timeout=TIMEOUT_MS)
    return ids


class _Choosing(ReferenceDialog):
    """The dialog as an analyst fills it: the first candidate, confirmed, OK."""

    def exec(self) -> int:
        self.choices.setCurrentRow(0)
        self.confirm.setChecked(True)
        return int(ReferenceDialog.DialogCode.Accepted.value)


def test_a_video_set_against_a_reference_is_stored_shown_and_audited(
        qtbot, window: MainWindow, case_id: int, tiny_video: Path, tmp_path: Path,
        fake_null: ReferenceNull, monkeypatch: pytest.MonkeyPatch) -> None:
    genuine = write_tiny_video(tmp_path / "genuine.mp4", scale=2)
    suspect_id, reference_id = _import_and_analyse(qtbot, window, [tiny_video, genuine])
    window.evidence_list.select_ids([suspect_id])
    qtbot.waitUntil(lambda: window.commands.compare.isEnabled(), timeout=TIMEOUT_MS)
    monkeypatch.setattr("forensic_gui.main_window.ReferenceDialog", _Choosing)
    with qtbot.waitSignal(window.controller.reference_compared, timeout=TIMEOUT_MS) as blocker:
        window.compare_selected()
    assert blocker.args == [suspect_id]
    (record,) = window.store.reference_comparisons(case_id)
    assert (record.suspect_evidence_id, record.reference_evidence_id) == (suspect_id,
                                                                           reference_id)
    assert record.created_by == "Tester"
    qtbot.waitUntil(lambda: "Compared with reference footage" in window.findings.reference_text,
                    timeout=TIMEOUT_MS)
    assert "genuine.mp4" in window.findings.reference_text
    assert window.store.audit_entries(case_id)[-1].action == "reference.compared"
    window.evidence_list.select_ids([reference_id])  # the reference itself has no comparison
    qtbot.waitUntil(lambda: window.findings.reference_text == "", timeout=TIMEOUT_MS)

    # A row damaged under the app is said in the status bar; the item is still shown.
    with closing(sqlite3.connect(window.store.db_path, isolation_level=None)) as raw:
        raw.execute("DROP TRIGGER reference_comparisons_no_update")
        raw.execute("UPDATE reference_comparisons SET comparison_json = '[1]'")
    window.evidence_list.select_ids([suspect_id])
    qtbot.waitUntil(lambda: "Reference comparisons not shown" in
                    window.statusBar().currentMessage(), timeout=TIMEOUT_MS)
    assert window.findings.reference_text == ""
    assert window.findings.grade_text.startswith("Finding:")


def test_without_another_analysed_video_the_window_says_what_to_do(
        qtbot, window: MainWindow, case_id: int, tiny_video: Path,
        fake_null: ReferenceNull) -> None:
    (only,) = _import_and_analyse(qtbot, window, [tiny_video])
    window.evidence_list.select_ids([only])
    window.compare_selected()
    boxes = [(b.text(), b.informativeText()) for b in window.findChildren(QMessageBox)]
    assert ("No other analysed video in this case.",
            "Add genuine footage of the same source to the case, analyse it, then compare.") \
        in boxes
    assert window.store.reference_comparisons(case_id) == ()


def test_ok_waits_for_a_choice_and_the_analysts_confirmation(qtbot) -> None:
    dialog = ReferenceDialog("suspect.mp4", [ReferenceCandidate(7, 3, "genuine.mp4")])
    qtbot.addWidget(dialog)
    ok = dialog._buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.choices.setCurrentRow(0)
    assert not ok.isEnabled()  # chosen, not yet vouched for
    dialog.confirm.setChecked(True)
    assert ok.isEnabled()
    assert dialog.chosen() == ReferenceCandidate(7, 3, "genuine.mp4")


def test_the_note_shows_each_comparisons_cautions(fake_null: ReferenceNull) -> None:
    import dataclasses
    from datetime import UTC, datetime

    from engine.fusion.reference import ReferenceComparison
    from forensic_gui.cases.records import ReferenceComparisonRecord
    from forensic_gui.widgets.reference_note import reference_html

    comparison = ReferenceComparison("a" * 64, "b" * 64, 16, 16, (), fake_null, None, None,
                                     "No kind of evidence could be set against genuine footage.",
                                     ("The two files differ in ways <two halves> do not.",))
    record = ReferenceComparisonRecord(1, 1, 2, 3, 4, 5, "s.mp4", "g.mp4",
                                       datetime(2026, 12, 7, tzinfo=UTC), "Tester",
                                       comparison.statement, comparison)
    text = reference_html([record])
    assert "differ in ways &lt;two halves&gt; do not" in text
    assert reference_html([dataclasses.replace(record, comparison=dataclasses.replace(
        comparison, cautions=()))]).count("#b06000") == 0
    assert reference_html([]) == ""


def test_the_action_is_offered_for_one_selected_video_only(
        qtbot, window: MainWindow, case_id: int, tiny_video: Path, tmp_path: Path) -> None:
    from PIL import Image

    still = tmp_path / "still.png"
    Image.new("RGB", (64, 48), (90, 60, 40)).save(still)
    with qtbot.waitSignal(window.controller.evidence_changed, timeout=TIMEOUT_MS):
        window.import_paths([tiny_video, still])
    by_name = {row.file_name: row.evidence_id for row in window.evidence_list.rows}
    window.evidence_list.select_ids([by_name["tiny.mp4"]])
    qtbot.waitUntil(lambda: window.commands.compare.isEnabled(), timeout=TIMEOUT_MS)
    window.evidence_list.select_ids([by_name["still.png"]])
    qtbot.waitUntil(lambda: not window.commands.compare.isEnabled(), timeout=TIMEOUT_MS)
    window.evidence_list.select_ids(list(by_name.values()))
    qtbot.waitUntil(lambda: not window.commands.compare.isEnabled(), timeout=TIMEOUT_MS)
