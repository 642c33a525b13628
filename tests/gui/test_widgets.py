"""Widgets on their own: frame view overlays, timeline spans, forms, key frames, demo case."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtWidgets import QLabel, QMessageBox, QSlider, QTableWidget, QToolButton

from engine import api
from engine.jobs import CancelToken
from engine.types import EvidenceKind
from forensic_gui.cases.records import AnalystVerdict
from forensic_gui.demo import DEMO_SAMPLES, DemoSampleMissingError, demo_paths
from forensic_gui.dialogs.new_case_dialog import NewCaseDialog
from forensic_gui.keyframes import map_detectors, pick_key_frames, render_key_frames
from forensic_gui.resources import icon, resources_dir
from forensic_gui.tasks import load_frame
from forensic_gui.widgets.evidence_list import (
    FINDING_HEADER_TIP,
    EvidenceListWidget,
    format_size,
)
from forensic_gui.widgets.findings_panel import FindingsPanel
from forensic_gui.widgets.frame_view import FramePanel, face_tooltip, short_label
from forensic_gui.widgets.timeline import FUSED_CURVE, TimelineWidget
from forensic_gui.widgets.verdict_form import VerdictForm
from tests.gui.fakes import SBI, XRAY, canned_result


@pytest.fixture(scope="module")
def result(tiny_video):
    return canned_result(str(tiny_video), api.sha256_file(tiny_video))


def test_frame_panel_overlay_toggle_and_opacity(qtbot, tiny_video, result):
    panel = FramePanel()
    qtbot.addWidget(panel)
    panel.set_overlay_labels({XRAY: "Face X-ray: blending boundary"})
    frame = load_frame(str(tiny_video), 10, result.frames[10].faces, cancel=CancelToken())
    panel.show_frame(frame)
    assert panel.current_frame_idx == 10
    assert panel.view.box_count == 1
    assert panel.overlay_choices() == (XRAY,)
    assert panel.active_overlay is None
    assert not panel.view.overlay_visible
    # The heatmap differs from the frame only around the face.
    ((name, heat_rgb),) = frame.overlays
    changed = np.any(heat_rgb != frame.rgb_u8, axis=2)
    assert name == XRAY
    assert changed.any()
    assert not changed[:, :5].any()
    panel.set_active_overlay(XRAY)
    assert panel.view.overlay_visible
    panel.findChild(QSlider).setValue(20)
    assert panel.overlay_opacity == pytest.approx(0.2)
    assert panel.view._overlay_item.opacity() == pytest.approx(0.2)
    panel.set_active_overlay(None)
    assert not panel.view.overlay_visible
    with pytest.raises(KeyError):
        panel.set_active_overlay(SBI)
    panel.show_message("gone")
    assert panel.current_frame_idx is None
    assert panel.view.box_count == 0



def test_face_label_tooltip_gives_the_faces_grade_and_its_reason(result):
    # The label shows a likelihood; the tooltip must say which bound set the face's grade, at
    # the face's own level (a frame of a video), as the findings panel does for the file.
    face = result.frames[10].faces[0]
    finding = api.fuse_for(result, face.scores, "face")
    tip = face_tooltip(result, face.scores, finding)
    first, reason = tip.split("\n", 1)
    assert first == f"this face alone: {finding.statement}"
    why = api.explain_for(result, face.scores, "face")[finding.kind]
    assert reason == f"Why, for {EvidenceKind(why.kind).phrase}: {why.text()}"
    assert why.grade is finding.grade
    assert f"{why.score:.3f}" in reason
    # Without an analysis (a bare frame) only the statement; nothing applied: say so.
    assert face_tooltip(None, face.scores, finding) == first
    none = api.fuse_for(result, (), "face")
    assert face_tooltip(result, (), none) == "no detector applied to this face"


def test_window_fits_a_laptop_screen_with_long_detector_names(qtbot, window, tiny_video, result):
    """Long detector names elide or wrap: the window stays usable at 1280 x 800."""
    long_names = {SBI: "Self-Blended Images (SBI), a long display name for face swaps",
                  XRAY: "Face X-ray blending boundary detector with an even longer name"}
    window.frame_panel.set_overlay_labels({k: f"{v}: heatmap" for k, v in long_names.items()})
    window.frame_panel.show_frame(load_frame(str(tiny_video), 10, result.frames[10].faces,
                                             cancel=CancelToken()))
    window.timeline.set_result(result, long_names)
    window.findings.set_result(result, long_names)
    qtbot.wait(50)  # lets the layouts take in the new texts
    assert window.minimumSizeHint().width() <= 1000  # was over 1600 with the real names
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.width() == 1280)
    assert window.case_list.width() >= 170
    assert window.frame_panel.findChild(QSlider).width() >= 80
    for name in ("detector_scores", "kind_findings"):
        table = window.findings.findChild(QTableWidget, name)
        if not table.isVisible():
            continue
        columns_px = sum(table.columnWidth(c) for c in range(table.columnCount()))
        assert columns_px <= table.viewport().width()  # the last column is not cut off

def test_short_labels_tell_the_shipped_heatmaps_apart():
    """Elided from the right, the shipped names read "Self-...", "Multi...", "Face X..."."""
    assert short_label("Self-Blended Images (SBI): grad-cam") == "SBI"
    assert short_label("Multi-attentional (MAT): attention") == "MAT"
    assert short_label("Face X-ray (blending boundary): blending boundary") == "Face X-ray"
    assert short_label("GAN-generated image (CNNDetection): probability of each tile") == (
        "GAN-generated image")
    assert short_label("Generated image (linear probe on ImageNet features): probability of "
                       "each tile") == "Generated image"
    assert short_label("sbi_effl0") == "sbi_effl0"


def test_narrow_heatmap_buttons_show_short_names(qtbot, tiny_video, result):
    panel = FramePanel()
    qtbot.addWidget(panel)
    panel.set_overlay_labels({XRAY: "Face X-ray (blending boundary): blending boundary"})
    panel.show_frame(load_frame(str(tiny_video), 10, result.frames[10].faces,
                                cancel=CancelToken()))
    (button,) = [b for b in panel.findChildren(QToolButton) if b.property("detector") == XRAY]
    panel.resize(2000, 600)
    panel.show()
    qtbot.waitUntil(lambda: button.text() == "Face X-ray (blending boundary): blending boundary")
    short_px = button.sizeHint().width() - button.fontMetrics().horizontalAdvance(
        button.text()) + button.fontMetrics().horizontalAdvance("Face X-ray") + 4
    button.resize(short_px, button.height())
    assert button.text() == "Face X-ray"
    button.resize(short_px - 20, button.height())
    assert button.text().startswith("Fa")
    assert button.text().endswith("…")
    assert "blending boundary" in button.toolTip()  # the full name stays one hover away


def test_timeline_shows_no_axes_for_a_still(qtbot, result):
    """A still has no timeline; the axes of the video shown before it must not linger."""
    timeline = TimelineWidget()
    qtbot.addWidget(timeline)
    timeline.set_result(result, {SBI: "SBI"})
    assert timeline.axes_visible()
    still = replace(result, media=replace(result.media, kind="image"))
    timeline.set_result(still, {SBI: "SBI"})
    assert not timeline.axes_visible()
    assert timeline.curve_names() == ()
    timeline.set_result(result, {SBI: "SBI"})
    assert timeline.axes_visible()


def test_timeline_spans_threshold_and_seek(qtbot, result):
    timeline = TimelineWidget()
    qtbot.addWidget(timeline)
    timeline.set_result(result, {SBI: "SBI"})
    assert timeline.curve_names() == (SBI, XRAY, FUSED_CURVE)
    (span,) = timeline.elevated_spans()
    assert span == pytest.approx((0.9375, 1.9375))  # frames 8..15 at 8 fps, half a gap either side
    with qtbot.waitSignal(timeline.seek_requested) as blocker:
        timeline.seek_to_time(0.76)
    assert blocker.args == [6]
    assert timeline.current_frame_idx == 6
    assert timeline.threshold_lines() == {SBI: 0.5, XRAY: 0.5}
    timeline.clear("nothing")
    assert timeline.curve_names() == ()
    assert timeline.elevated_spans() == []
    assert timeline.threshold_lines() == {}


def test_timeline_steps_frame_by_frame_and_between_flagged_frames(qtbot, result):
    timeline = TimelineWidget()
    qtbot.addWidget(timeline)
    assert not timeline.step(1)  # nothing shown: nothing to step through
    assert not timeline.step_to_flagged(forward=True)
    timeline.set_result(result, {SBI: "SBI"})
    frames = sorted(f.frame_idx for f in result.frames)
    assert timeline.current_frame_idx == frames[0]
    with qtbot.waitSignal(timeline.seek_requested) as blocker:
        assert timeline.step(1)
    assert blocker.args == [frames[1]]
    assert timeline.step(-5)  # clamped at the first frame
    assert timeline.current_frame_idx == frames[0]
    assert not timeline.step(-1)
    assert timeline.flagged_frame_indices() == list(range(8, 16))  # the shaded span
    assert timeline.step_to_flagged(forward=True)
    assert timeline.current_frame_idx == 8
    assert not timeline.step_to_flagged(forward=False)
    assert timeline.step_to_end(last=True)
    assert timeline.current_frame_idx == frames[-1]
    assert timeline.step_to_flagged(forward=False)
    assert timeline.current_frame_idx == 14
    timeline.clear("nothing")
    assert timeline.flagged_frame_indices() == []
    assert not timeline.step_to_end(last=False)


def test_timeline_draws_each_detectors_own_threshold_from_the_analysis(qtbot, result):
    """Thresholds come from real media per detector; an analysis keeps those it recorded."""
    import dataclasses

    provenance = result.provenance
    moved = tuple(dataclasses.replace(d, threshold=0.84) if d.name == XRAY else d
                  for d in provenance.detectors)
    timeline = TimelineWidget()
    qtbot.addWidget(timeline)
    timeline.set_result(result, {SBI: "SBI"})
    assert timeline.threshold_lines() == {SBI: 0.5, XRAY: 0.5}
    timeline.set_result(dataclasses.replace(
        result, provenance=dataclasses.replace(provenance, detectors=moved)), {SBI: "SBI"})
    assert timeline.threshold_lines() == pytest.approx({SBI: 0.5, XRAY: 0.84})
    timeline.select_track(None)  # a redraw of the same curves keeps them
    assert timeline.threshold_lines() == pytest.approx({SBI: 0.5, XRAY: 0.84})


def test_findings_panel_shows_each_detector_and_provenance(qtbot, result):
    panel = FindingsPanel()
    qtbot.addWidget(panel)
    panel.set_result(result, {SBI: "Self-Blended Images"})
    rows = panel.detector_rows()
    assert rows[0][:4] == ("Self-Blended Images", "0.500", "0.500", "yes")
    assert rows[0][4] == "above its threshold"
    assert "weak support for a face swap or blend" in panel.grade_text
    assert "a" * 16 in panel.provenance_text()  # weights hash prefix
    assert "test rule (per kind)" in panel.provenance_text()
    # Each kind's own grade, the grade's error rates and the cautions are shown with it.
    kinds = panel.kind_rows()
    assert [r[0] for r in kinds] == ["Face swap / blend", "Frame-to-frame", "Fully generated"]
    assert kinds[0][1] == "weak support"
    assert kinds[0][3] == "real videos 2/40 (5.0%; 0.6%–17%)"  # share and exact 95% interval
    assert [r[1] for r in kinds[1:]] == ["not applicable", "not applicable"]
    assert "real videos 2/40 (5.0%; 95% CI 0.6%–17%)" in panel.rates_text
    assert "face-swap videos 20/40 (50%; 34%–66%)" in panel.rates_text
    assert "Also consistent with retouching" in panel.rates_text  # a face-swap grade
    assert "composite of face parts" not in panel.rates_text  # said with "no support" only
    assert "Very short clip (test)" in panel.cautions_text
    assert "Validation and error rates" in panel.provenance_text()
    # Why each kind got its grade: the bounds of real videos and what held the grade.
    assert "Why these grades" in panel.reasons_text
    # NOTE: the test rule is the uncalibrated one: its bounds are the fixed bands, said so.
    assert ("fixed bounds (not set from real media): weak 0.500, moderate 0.750, strong 0.900"
            in panel.reasons_text)
    assert "Not moderate support" in panel.reasons_text
    assert "None of the detectors that look for a fully generated" in panel.reasons_text


def test_detector_name_tooltip_gives_its_card_limits(qtbot, result):
    """Hovering a detector's name gives what its model card says (benign edits included)."""
    panel = FindingsPanel()
    qtbot.addWidget(panel)
    panel.set_detector_notes({SBI: "Benign edits can trigger it: after a mild beauty filter."})
    panel.set_result(result, {SBI: "Self-Blended Images"})
    table = panel.findChild(QTableWidget, "detector_scores")
    names = {table.item(r, 0).text(): table.item(r, 0).toolTip()
             for r in range(table.rowCount())}
    assert names["Self-Blended Images"] == (f"<p><b>Self-Blended Images ({SBI})</b></p><p>Benign "
                                            "edits can trigger it: after a mild beauty filter.</p>")
    assert names[XRAY] == XRAY  # no note, no label: the id alone


def test_findings_panel_says_no_support_is_not_authenticity(qtbot, result):
    """"No support" comes with the fakes of the media's type that read it too."""
    low = tuple(replace(s, p_fake=0.1, p_fake_raw=0.1) for s in result.scores)
    quiet = replace(result, scores=low, finding=api.fuse_for(result, low, "media"))
    panel = FindingsPanel()
    qtbot.addWidget(panel)
    panel.set_result(quiet, {})
    assert "no support" in panel.grade_text
    assert "No support is not evidence that the file is authentic" in panel.rates_text
    assert "face-swap videos 20/40 (50%; 34%–66%)" in panel.rates_text
    assert "retouching" not in panel.rates_text
    assert "also largely miss a composite of face parts" in panel.rates_text
    assert "under 0.500" in panel.reasons_text
    # the heading is not drawn in the green that marks a verified hash: it clears nothing
    heading = panel.findChild(QLabel, "fused_grade").styleSheet()
    assert "color: #202124" in heading
    assert "#188038" not in heading


def test_findings_panel_says_why_a_detector_did_not_apply(qtbot, tiny_video):
    panel = FindingsPanel()
    qtbot.addWidget(panel)
    panel.set_result(canned_result(str(tiny_video), "0" * 64, no_face=True), {})
    assert "not applicable (no face was found)" in panel.grade_text
    assert [r[3:] for r in panel.detector_rows()] == [("no", "no face"), ("no", "no face")]


def test_evidence_list_header_says_what_the_bracketed_number_is(qtbot):
    # "no support for manipulation (0.785)" reads as a contradiction unless the analyst is told
    # the number is the kind's likelihood and that a grade also needs real media's bound.
    widget = EvidenceListWidget()
    qtbot.addWidget(widget)
    table = widget.findChild(QTableWidget, "evidence_table")
    column = [table.horizontalHeaderItem(i).text()
              for i in range(table.columnCount())].index("Machine finding")
    tip = table.horizontalHeaderItem(column).toolTip()
    assert tip == FINDING_HEADER_TIP
    assert "p_fake" in tip
    assert "real media" in tip
    assert "Why these grades" in tip


def test_verdict_form_needs_choice_analyst_and_rationale(qtbot):
    form = VerdictForm("Ann")
    qtbot.addWidget(form)
    assert form.draft() is None  # no evidence
    form.set_evidence(7, ())
    assert form.draft() is None  # no verdict chosen
    form.fill(AnalystVerdict.INCONCLUSIVE, "  ")
    assert form.draft() is None  # blank rationale
    form.fill(AnalystVerdict.INCONCLUSIVE, "Too blurry to tell.")
    draft = form.draft()
    assert draft is not None
    assert draft.evidence_id == 7
    assert draft.analyst == "Ann"
    assert draft.verdict is AnalystVerdict.INCONCLUSIVE


def test_new_case_dialog_requires_number_title_analyst(qtbot):
    dialog = NewCaseDialog(suggested_number="C-1", analyst="Ann")
    qtbot.addWidget(dialog)
    ok = dialog._buttons.button(dialog._buttons.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.case_title.setText("Interview clip")
    assert ok.isEnabled()
    assert dialog.fields().title == "Interview clip"


def test_key_frames_are_pngs_of_the_highest_frames(qapp, tiny_video, result):
    # NOTE: qapp: painting the strips needs a QGuiApplication; alone, this test aborted.
    assert map_detectors(result) == (XRAY,)
    assert [f.frame_idx for f in pick_key_frames(result, 2)] == [8, 9]
    images = render_key_frames(result, 2, map_labels={XRAY: "Face X-ray"},
                               cancel=CancelToken())
    assert [k.frame_idx for k in images] == [8, 9]
    assert all(k.image_bytes.startswith(b"\x89PNG") for k in images)
    assert "Panels: frame with face boxes; Face X-ray." in images[0].caption
    # The report's one probability format (forensic_gui.probability_text), three decimals.
    finding = result.frames[8].finding
    assert f"p_fake {finding.p_fake:.3f}, {finding.statement}." in images[0].caption


def test_demo_paths_come_from_one_place(tmp_path, tiny_video):
    with pytest.raises(DemoSampleMissingError, match=r"demo_real\.mp4"):
        demo_paths(tmp_path)
    for sample in DEMO_SAMPLES:
        shutil.copy(tiny_video, tmp_path / sample.file_name)
    assert [p.name for p in demo_paths(tmp_path)] == [s.file_name for s in DEMO_SAMPLES]


def test_demo_case_missing_sample_is_a_clear_message(qtbot, window, tmp_path):
    window.controller.create_demo_case(tmp_path)
    (box,) = window.findChildren(QMessageBox)
    assert box.windowTitle() == "Demo sample missing"
    assert "Missing file" in box.text()
    assert window.store.list_cases() == ()


def test_demo_case_is_imported_and_analysed(qtbot, window, tmp_path, tiny_video):
    sample = tmp_path / "sample"
    sample.mkdir()
    for i, s in enumerate(DEMO_SAMPLES):
        shutil.copy(tiny_video, sample / s.file_name)
        with (sample / s.file_name).open("ab") as f:
            f.write(bytes([i]))  # different bytes: the two files are not duplicates
    window.controller.create_demo_case(sample)
    qtbot.waitUntil(lambda: len(window.evidence_list.rows) == 2, timeout=15000)
    qtbot.waitUntil(lambda: all(r.finding_text != "not analysed"
                                for r in window.evidence_list.rows), timeout=15000)
    (case,) = window.store.list_cases()
    assert case.number == "DEMO-1"


def test_every_icon_is_bundled():
    for name in ("app", "new_case", "add_files", "add_folder", "analyze", "verify", "export",
                 "demo"):
        assert not icon(name).isNull()
    assert (resources_dir() / "icons").is_dir()
    assert format_size(1536) == "1.5 KB"
    assert format_size(12) == "12 B"


def test_timeline_has_no_curves_for_a_still_image(qtbot, result):
    timeline = TimelineWidget()
    qtbot.addWidget(timeline)
    still = replace(result, media=replace(result.media, kind="image"))
    timeline.set_result(still, {})
    assert timeline.curve_names() == ()


def test_detectors_that_cannot_load_are_reported_at_start(qtbot, store):
    from engine.errors import WeightsIntegrityError
    from forensic_gui.controller import EngineServices
    from forensic_gui.main_window import MainWindow
    from forensic_gui.settings import Settings

    def broken_factory(_options):
        raise WeightsIntegrityError("weights file sbi_effl0.onnx is missing from resources/models")

    window = MainWindow(store, Settings(analyst="T"),
                        services=EngineServices(broken_factory, lambda: []))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: bool(window.findChildren(QMessageBox)), timeout=15000)
    (box,) = window.findChildren(QMessageBox)
    assert box.windowTitle() == "Detectors not loaded"
    assert "sbi_effl0.onnx is missing" in box.text()
    window.close()
