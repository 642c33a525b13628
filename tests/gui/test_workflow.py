"""End to end through the main window with the fake analyzer: from import to PDF report."""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QMessageBox, QPushButton, QTableWidget

from engine import api
from forensic_gui.cases.records import AnalystVerdict
from forensic_gui.cases.repository import CaseStore
from forensic_gui.controller import EngineServices
from forensic_gui.main_window import MainWindow
from forensic_gui.settings import Settings
from forensic_gui.widgets.timeline import FUSED_CURVE
from forensic_gui.workers import AnalysisJob
from tests.gui.diagnostics import describe_stuck_job
from tests.gui.fakes import (
    FAKE_DETECTORS,
    SBI,
    VIDEO_FPS,
    XRAY,
    FakeAnalyzer,
    FakeAnalyzerFactory,
)

TIMEOUT_MS = 15000
logger = logging.getLogger(__name__)


def messages(window: MainWindow) -> list[tuple[str, str, str]]:
    """(title, text, informative text) of every message box the window opened."""
    return [(b.windowTitle(), b.text(), b.informativeText())
            for b in window.findChildren(QMessageBox)]


def import_files(qtbot, window: MainWindow, paths: list[Path]) -> None:
    with qtbot.waitSignal(window.controller.evidence_changed, timeout=TIMEOUT_MS):
        window.import_paths(paths)


def analyze_selected(qtbot, window: MainWindow) -> tuple:
    with qtbot.waitSignal(window.controller.analysis_recorded, timeout=TIMEOUT_MS) as blocker:
        window.analyze_selected()
    qtbot.waitUntil(lambda: not window.controller.analysis_running, timeout=TIMEOUT_MS)
    # The findings follow the timeline in a later event-loop turn (MainWindow._show_findings).
    qtbot.waitUntil(lambda: window.findings.grade_text != "Not analysed yet.", timeout=TIMEOUT_MS)
    return tuple(blocker.args)


def click_plot_at_frame(qtbot, window: MainWindow, frame_idx: int):
    """Click the timeline's plot at the time of ``frame_idx`` (the canned video's frames are
    1 / VIDEO_FPS apart) and wait for the frame view to show it; the plot widget is returned."""
    plot = window.timeline.findChild(object, "timeline_plot")
    view_box = plot.getPlotItem().getViewBox()
    scene_pos = view_box.mapViewToScene(QPointF(frame_idx / VIDEO_FPS, 0.5))
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton,
                     pos=plot.mapFromScene(scene_pos))
    qtbot.waitUntil(lambda: window.frame_panel.current_frame_idx == frame_idx,
                    timeout=TIMEOUT_MS)
    return plot


# NOTE: one long test on purpose: each step needs the state the previous one left (the issue's
# "import -> analyze -> timeline -> seek -> verdict -> PDF" path through one window).
def test_import_analyze_seek_verdict_export(qtbot, window, case_id, tiny_video, tmp_path,
                                            analyzer_factory, record_property):
    import_files(qtbot, window, [tiny_video])
    (row,) = window.evidence_list.rows
    assert row.file_name == "tiny.mp4"
    assert row.sha256 == api.sha256_file(tiny_video)
    window.evidence_list.select_ids([row.evidence_id])

    evidence_id, analysis = analyze_selected(qtbot, window)
    analysis_id = analysis.id
    assert evidence_id == row.evidence_id
    assert analyzer_factory.options[0].want_maps is True
    stored = window.store.latest_analysis(evidence_id)
    assert stored is not None
    assert stored.id == analysis_id
    assert len(window.store.key_frames(analysis_id)) == 2  # settings.key_frames
    qtbot.waitUntil(lambda: not window.controller.stall_monitor.running, timeout=TIMEOUT_MS)
    stall_ms = window.controller.last_max_stall_ms
    record_property("max_gui_stall_ms", stall_ms)  # in the JUnit XML for CI trends
    logger.info("longest GUI stall during the analysis: %.1f ms", stall_ms)
    assert window.controller.stall_monitor.n_ticks > 0
    assert window.controller.last_max_stall_ms < 250  # target 100 ms; margin for a busy CI box

    # The timeline draws one curve per detector plus the fused one, with the canned numbers.
    assert window.timeline.curve_names() == (SBI, XRAY, FUSED_CURVE)
    t_sec, p_sbi = window.timeline.curve_data(SBI)
    np.testing.assert_allclose(t_sec, np.arange(16) / VIDEO_FPS)
    np.testing.assert_allclose(p_sbi[:8], 0.15)
    np.testing.assert_allclose(p_sbi[8:], 0.85)
    (span,) = window.timeline.elevated_spans()
    assert span[0] < 8 / VIDEO_FPS < span[1]
    assert span[1] >= 15 / VIDEO_FPS
    assert "moderate support" in window.findings.grade_text or \
        "weak support" in window.findings.grade_text
    assert [r[0] for r in window.findings.detector_rows()] == ["Self-Blended Images", "Face X-ray"]
    name_tip = window.findings.findChild(QTableWidget, "detector_scores").item(0, 0).toolTip()
    assert name_tip.endswith("<p>test detector</p>")  # the card's summary, from the catalog
    # The evidence list, read back from the store, names the kind the finding supports.
    assert "support for a face swap or blend" in window.evidence_list.rows[0].finding_text

    # A click on the plot seeks the frame view to the nearest analysed frame.
    click_plot_at_frame(qtbot, window, 12)
    assert window.timeline.current_frame_idx == 12
    assert window.frame_panel.view.box_count == 1
    assert window.frame_panel.overlay_choices() == (XRAY,)
    window.frame_panel.set_active_overlay(XRAY)
    assert window.frame_panel.view.overlay_visible

    # The analyst's verdict is saved through the store.
    window.verdict_form.fill(AnalystVerdict.MANIPULATED, "Blending edge along the jaw.")
    save = next(b for b in window.verdict_form.findChildren(QPushButton)
                if b.text() == "Save verdict")
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    (verdict,) = window.store.verdicts(evidence_id)
    assert verdict.verdict is AnalystVerdict.MANIPULATED
    assert verdict.analyst == "Tester"
    assert window.evidence_list.row_for(evidence_id).verdict_text == "manipulated (Tester)"

    # The PDF report is written by a worker from the database.
    out_pdf = tmp_path / "report.pdf"
    with qtbot.waitSignal(window.controller.report_exported, timeout=60000) as blocker:
        window.controller.export_report(case_id, out_pdf)
    assert blocker.args[0].path == out_pdf
    assert out_pdf.read_bytes().startswith(b"%PDF")
    actions = [e.action for e in window.store.audit_entries(case_id)]
    assert "analysis.recorded" in actions
    assert "report.exported" in actions
    assert window.store.verify_audit_chain().ok


def test_the_keyboard_steps_through_the_analysed_and_the_flagged_frames(
        qtbot, window, case_id, tiny_video):
    """Left/Right, Home/End and PgUp/PgDn over the frame view and the timeline; a text field
    elsewhere keeps its own keys. The canned analysis flags frames 8-15 (its shaded span)."""
    from PySide6.QtWidgets import QPlainTextEdit

    import_files(qtbot, window, [tiny_video])
    window.evidence_list.select_ids([window.evidence_list.rows[0].evidence_id])
    analyze_selected(qtbot, window)
    # the result is shown over a few event-loop turns, the frame last; the stall measurement
    # ends after that
    qtbot.waitUntil(lambda: not window.controller.stall_monitor.running, timeout=TIMEOUT_MS)
    plot = click_plot_at_frame(qtbot, window, 3)
    assert window.timeline.flagged_frame_indices() == list(range(8, 16))
    plot.setFocus()
    qtbot.waitUntil(plot.hasFocus, timeout=TIMEOUT_MS)

    def press(key: Qt.Key, frame_idx: int) -> None:
        qtbot.keyClick(plot, key)
        assert window.timeline.current_frame_idx == frame_idx
        qtbot.waitUntil(lambda: window.frame_panel.current_frame_idx == frame_idx,
                        timeout=TIMEOUT_MS)

    press(Qt.Key.Key_Right, 4)
    press(Qt.Key.Key_Left, 3)
    press(Qt.Key.Key_PageDown, 8)
    press(Qt.Key.Key_PageDown, 9)
    press(Qt.Key.Key_End, 15)
    press(Qt.Key.Key_Right, 15)  # the last frame stays
    press(Qt.Key.Key_Home, 0)
    qtbot.keyClick(plot, Qt.Key.Key_PageUp)  # nothing flagged before frame 0: said, not moved
    assert window.timeline.current_frame_idx == 0
    assert "No earlier analysed frame in a shaded span" in window.statusBar().currentMessage()
    frame_view = window.frame_panel.view  # the same keys with the frame itself in focus
    frame_view.setFocus()
    qtbot.waitUntil(frame_view.hasFocus, timeout=TIMEOUT_MS)
    qtbot.keyClick(frame_view, Qt.Key.Key_Right)
    assert window.timeline.current_frame_idx == 1
    qtbot.waitUntil(lambda: window.frame_panel.current_frame_idx == 1, timeout=TIMEOUT_MS)

    rationale = window.verdict_form.findChild(QPlainTextEdit)
    rationale.setFocus()
    qtbot.waitUntil(rationale.hasFocus, timeout=TIMEOUT_MS)
    qtbot.keyClicks(rationale, "jaw")
    qtbot.keyClick(rationale, Qt.Key.Key_Left)
    qtbot.keyClick(rationale, Qt.Key.Key_End)
    assert window.timeline.current_frame_idx == 1
    assert rationale.toPlainText() == "jaw"


def test_cancel_leaves_no_partial_analysis(qtbot, window, case_id, tiny_video, analyzer_factory):
    gate = threading.Event()
    analyzer_factory.analyzer = FakeAnalyzer(n_steps=6, gate=gate)
    import_files(qtbot, window, [tiny_video])
    evidence_id = window.evidence_list.rows[0].evidence_id
    window.evidence_list.select_ids([evidence_id])
    window.analyze_selected()
    # NOTE: pick the analysis: on a loaded machine the analyzer's preload or the frame view's
    # load of the imported item may still be running beside it.
    (job,) = [j for j in window.tracker.running if isinstance(j, AnalysisJob)]
    fired = {"succeeded": 0, "failed": 0, "cancelled": 0}
    job.succeeded.connect(lambda _v: fired.__setitem__("succeeded", fired["succeeded"] + 1))
    job.failed.connect(lambda _m: fired.__setitem__("failed", fired["failed"] + 1))
    job.cancelled.connect(lambda: fired.__setitem__("cancelled", fired["cancelled"] + 1))
    qtbot.waitUntil(lambda: bool(analyzer_factory.analyzer.calls), timeout=TIMEOUT_MS)

    cancel = window.job_panel.findChild(QPushButton, f"cancel_{job.job_id}")
    # NOTE: a click lands only on a laid-out, shown button; on a loaded machine the row's
    # layout can still be pending here (one CI-like run missed the click and timed out).
    qtbot.waitUntil(lambda: cancel.isVisible() and cancel.isEnabled()
                    and not cancel.rect().isEmpty(), timeout=TIMEOUT_MS)
    # NOTE: click() emits the button's own clicked signal: a synthetic mouse event can still
    # miss a button whose geometry a loaded machine has not settled (a clean-clone CI run with
    # a training job beside it did), and the wiring from the button on is what is tested here.
    with qtbot.waitSignal(job.cancelled, timeout=TIMEOUT_MS, raising=False) as blocker:
        cancel.click()
    # NOTE: this wait timed out in about 1 of 4 full-suite runs: the tracker deleted the job
    # while its worker was still inside emit(), and this listener, connected after the
    # tracker's, lost the signal (fixed by Job.release; test_workers has the test of it). Should
    # it time out again, the message says where the cancel stopped and where every thread stood.
    assert blocker.signal_triggered, describe_stuck_job(
        job, window.tracker.running, fired=fired, messages=messages(window),
        analyzer_calls=analyzer_factory.analyzer.calls)
    qtbot.wait(100)  # any stray second final signal would arrive now
    assert fired == {"succeeded": 0, "failed": 0, "cancelled": 1}
    assert window.store.latest_analysis(evidence_id) is None
    assert "analysis.recorded" not in [e.action for e in window.store.audit_entries(case_id)]
    assert not window.controller.analysis_running
    qtbot.waitUntil(lambda: window.job_panel.job_ids == (), timeout=TIMEOUT_MS)
    assert messages(window) == []


def test_hash_mismatch_is_caught_and_recorded(qtbot, window, case_id, tiny_video, tmp_path,
                                              analyzer_factory):
    evidence = shutil.copy(tiny_video, tmp_path / "copy.mp4")
    import_files(qtbot, window, [Path(evidence)])
    evidence_id = window.evidence_list.rows[0].evidence_id
    with Path(evidence).open("ab") as f:
        f.write(b"tampered")
    window.evidence_list.select_ids([evidence_id])
    with qtbot.waitSignal(window.controller.analysis_running_changed, timeout=TIMEOUT_MS,
                          check_params_cb=lambda running: not running):
        window.analyze_selected()

    assert analyzer_factory.analyzer.calls == []  # refused before the detectors ran
    assert window.store.latest_analysis(evidence_id) is None
    row = window.evidence_list.row_for(evidence_id)
    assert row.integrity_ok is False
    assert row.integrity_text == "HASH MISMATCH"
    assert "EVIDENCE INTEGRITY FAILURE" in window.findings.banner_text
    ((title, text, informative),) = messages(window)
    assert "INTEGRITY" in title
    assert "copy.mp4" in text
    assert row.sha256 in informative
    assert "evidence.hash_mismatch" in [e.action for e in window.store.audit_entries(case_id)]


def test_missing_evidence_file_is_an_integrity_failure(qtbot, window, case_id, tiny_video,
                                                       tmp_path):
    evidence = Path(shutil.copy(tiny_video, tmp_path / "gone.mp4"))
    import_files(qtbot, window, [evidence])
    evidence_id = window.evidence_list.rows[0].evidence_id
    evidence.unlink()
    window.evidence_list.select_ids([evidence_id])
    with qtbot.waitSignal(window.controller.analysis_running_changed, timeout=TIMEOUT_MS,
                          check_params_cb=lambda running: not running):
        window.analyze_selected()
    row = window.evidence_list.row_for(evidence_id)
    assert row.integrity_ok is False
    assert row.integrity_text == "FILE MISSING OR UNREADABLE"
    ((title, _text, informative),) = messages(window)
    assert "INTEGRITY" in title
    assert "cannot read the file" in informative


def test_bad_media_is_reported_and_not_added(qtbot, window, case_id, tiny_video, tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video\n" * 20)
    import_files(qtbot, window, [bad, tiny_video])
    assert [r.file_name for r in window.evidence_list.rows] == ["tiny.mp4"]
    ((title, text, informative),) = messages(window)
    assert title == "Some files were not added"
    assert "Added 1 file(s); 1 not added" in text
    assert "notes.mp4" in informative
    assert "Traceback" not in informative


def test_no_face_result_is_recorded_with_a_clear_message(qtbot, window, case_id, tiny_video,
                                                         analyzer_factory):
    analyzer_factory.analyzer = FakeAnalyzer(no_face=True)
    import_files(qtbot, window, [tiny_video])
    window.evidence_list.select_ids([window.evidence_list.rows[0].evidence_id])
    _evidence_id, analysis = analyze_selected(qtbot, window)
    assert analysis.result.status == "no_face"
    ((title, _text, informative),) = messages(window)
    assert title == "No face found"
    assert "not applicable" in informative
    assert "not applicable" in window.findings.grade_text
    assert window.evidence_list.rows[0].finding_text == "no face found"
    assert window.timeline.curve_names() == ()


class _WholePictureOnly(FakeAnalyzer):
    """No face, but a whole-picture detector scored the picture (a generated scene)."""

    def analyze(self, path, **kwargs):  # type: ignore[no-untyped-def]
        from dataclasses import replace

        from engine.types import DetectorScore

        result = super().analyze(path, **kwargs)
        scored = (DetectorScore(SBI, 0.93, 0.93), DetectorScore(XRAY, None, reason="no face"))
        return replace(result, scores=scored, picture_scores=(scored[0],),
                       finding=api.fuse_scores(scored, provenance=result.provenance,
                                               level="video"))


def test_a_faceless_picture_scored_whole_is_listed_with_its_finding_and_no_box(
        qtbot, window, case_id, tiny_video, analyzer_factory):
    """A batch of pictures without faces must not stack one box per file when the
    whole-picture detectors graded them; the list and the panel say "no face"."""
    analyzer_factory.analyzer = _WholePictureOnly(no_face=True)
    import_files(qtbot, window, [tiny_video])
    window.evidence_list.select_ids([window.evidence_list.rows[0].evidence_id])
    _evidence_id, analysis = analyze_selected(qtbot, window)
    assert analysis.result.status == "no_face"
    assert messages(window) == []
    text = window.evidence_list.rows[0].finding_text
    assert text.endswith("; no face)")
    assert "support" in text


def test_drop_of_a_folder_imports_its_files(qtbot, window, case_id, tiny_video, tmp_path):
    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    folder = tmp_path / "batch"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(tiny_video, folder / "a.mp4")
    shutil.copy(tiny_video, folder / "sub" / "b.mp4")
    with (folder / "sub" / "b.mp4").open("ab") as f:
        f.write(b"\0")  # other bytes, so it is not a duplicate of a.mp4
    (folder / ".hidden.mp4").write_bytes(b"ignored")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    table = window.evidence_list.findChild(object, "evidence_table")
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    # NOTE: a QPoint: QDragEnterEvent takes a QPointF only from PySide6 6.12 on.
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(table.viewport(), enter)  # Qt delivers no drop without an enter
    assert enter.isAccepted()
    with qtbot.waitSignal(window.controller.evidence_changed, timeout=TIMEOUT_MS):
        QApplication.sendEvent(table.viewport(), drop)
    assert [r.file_name for r in window.evidence_list.rows] == ["a.mp4", "b.mp4"]


def test_two_faces_give_a_track_selector(qtbot, window, case_id, tmp_path, analyzer_factory):
    from tests.gui.fakes import canned_result, write_tiny_video

    analyzer_factory.analyzer = FakeAnalyzer(n_faces=2)
    video = write_tiny_video(tmp_path / "two.mp4", n_faces=2)
    import_files(qtbot, window, [video])
    window.evidence_list.select_ids([window.evidence_list.rows[0].evidence_id])
    analyze_selected(qtbot, window)
    # The most suspicious frame is shown first, with both faces boxed.
    qtbot.waitUntil(lambda: window.frame_panel.view.box_count == 2, timeout=TIMEOUT_MS)
    assert window.frame_panel.current_frame_idx == 8
    window.timeline.select_track(1)
    assert window.timeline.selected_track == 1
    _t, p_track1 = window.timeline.curve_data(SBI)
    np.testing.assert_allclose(p_track1[8:], 0.87)  # track 1 is 0.02 above track 0
    # The note says which face, and that face's own finding over the video (its track).
    result = canned_result(str(video), api.sha256_file(video), n_faces=2)  # what it stored
    (track1,) = [t for t in result.tracks if t.track_id == 1]
    note = window.frame_panel.note_text()
    assert note.startswith("Timeline shows face #1 only: ")
    assert track1.finding.statement in note
    assert f"{track1.finding.p_fake:.3f}" in note
    window.timeline.select_track(None)
    assert window.frame_panel.note_text() == ""
    np.testing.assert_allclose(window.timeline.curve_data(SBI)[1][8:], 0.87)  # max over faces


def test_fake_analyzer_factory_is_used_once(qtbot, window, case_id, tiny_video,
                                            analyzer_factory: FakeAnalyzerFactory):
    import_files(qtbot, window, [tiny_video])
    window.evidence_list.select_ids([window.evidence_list.rows[0].evidence_id])
    analyze_selected(qtbot, window)
    analyze_selected(qtbot, window)
    assert len(analyzer_factory.options) == 1  # models load once, reused across analyses
    assert len(analyzer_factory.analyzer.calls) == 2


def test_verify_hash_records_the_check(qtbot, window, case_id, tiny_video):
    import_files(qtbot, window, [tiny_video])
    evidence_id = window.evidence_list.rows[0].evidence_id
    window.evidence_list.select_ids([evidence_id])
    with qtbot.waitSignal(window.controller.integrity_checked, timeout=TIMEOUT_MS):
        window.verify_selected()
    row = window.evidence_list.row_for(evidence_id)
    assert row.integrity_ok is True
    assert row.integrity_text.startswith("verified ")
    ((title, _text, _informative),) = messages(window)
    assert title == "Evidence verified"
    assert "evidence.verified" in [e.action for e in window.store.audit_entries(case_id)]


def test_export_to_an_unwritable_place_says_why(qtbot, window, case_id, tmp_path):
    out = tmp_path / "no such folder" / "report.pdf"
    window.controller.export_report(case_id, out)
    # NOTE: wait for the message, not the job's signal: a fast failure can be emitted before a
    # signal spy connects (the job starts inside export_report).
    qtbot.waitUntil(lambda: bool(messages(window)), timeout=60000)
    ((title, text, _informative),) = messages(window)
    assert "Exporting the report report.pdf failed" in text + _informative
    assert title == "Report not written"
    assert "Traceback" not in text
    assert not out.exists()


def test_closing_the_window_cancels_running_jobs(qtbot, window, case_id, tiny_video,
                                                 analyzer_factory):
    gate = threading.Event()  # never opened: the analysis runs until it is cancelled
    analyzer_factory.analyzer = FakeAnalyzer(gate=gate)
    import_files(qtbot, window, [tiny_video])
    evidence_id = window.evidence_list.rows[0].evidence_id
    window.evidence_list.select_ids([evidence_id])
    window.analyze_selected()
    qtbot.waitUntil(lambda: bool(analyzer_factory.analyzer.calls), timeout=TIMEOUT_MS)
    (job,) = window.tracker.running
    window.close()
    assert job.wait(0)  # closeEvent waited for the worker
    assert analyzer_factory.analyzer.closed
    assert window.store.latest_analysis(evidence_id) is None


def test_a_reopened_case_still_shows_its_heatmaps(qtbot, window, case_id, tiny_video,
                                                  analyzer_factory):
    """The maps are stored with the analysis, so a later session can overlay them."""
    import_files(qtbot, window, [tiny_video])
    (row,) = window.evidence_list.rows
    window.evidence_list.select_ids([row.evidence_id])
    analyze_selected(qtbot, window)
    services = EngineServices(analyzer_factory=analyzer_factory,
                              list_detectors=lambda: list(FAKE_DETECTORS))
    with CaseStore.open(window.store.db_path) as second_store:
        later = MainWindow(second_store, Settings(analyst="Tester"), services=services)
        qtbot.addWidget(later)
        later.show()
        later.case_list.select_case(case_id)
        later.evidence_list.select_ids([row.evidence_id])
        qtbot.waitUntil(lambda: later.frame_panel.overlay_choices() == (XRAY,),
                        timeout=TIMEOUT_MS)
        later.frame_panel.set_active_overlay(XRAY)
        assert later.frame_panel.view.overlay_visible
        assert later.frame_panel.note_text() == ""
        later.close()


def test_showing_a_result_draws_the_timeline_before_the_findings_are_filled(
        qtbot, window, case_id, tiny_video, analyzer_factory):
    """The steps of showing a result must not share one pass of posted events with the repaint
    the step before asked for: a zero-delay single shot is a posted event in Qt 6, and drawing
    the timeline and the findings panel in one block was the demo case's 121-197 ms stall
    (docs/PERFORMANCE.md). So after the timeline is set, delivering every posted event (the
    repaint included, but no timer) must leave the findings panel as it was."""
    from PySide6.QtCore import QCoreApplication

    import_files(qtbot, window, [tiny_video])
    (row,) = window.evidence_list.rows
    window.evidence_list.select_ids([row.evidence_id])
    analyze_selected(qtbot, window)
    window.evidence_list.select_ids([])
    qtbot.waitUntil(lambda: window.findings.grade_text == "Select an evidence item.",
                    timeout=TIMEOUT_MS)
    window._show_evidence(row.evidence_id)  # what a selection does
    assert window.timeline.curve_names()  # the first step: the timeline
    for _ in range(3):
        QCoreApplication.sendPostedEvents()
    assert window.findings.grade_text == "Select an evidence item."
    qtbot.waitUntil(lambda: window.findings.grade_text not in ("Select an evidence item.", ""),
                    timeout=TIMEOUT_MS)
