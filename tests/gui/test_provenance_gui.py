"""The provenance panel, the frame view's forensic filters, and the trust-list import."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from engine import api
from engine.jobs import CancelToken
from forensic_gui import controller as controller_module
from forensic_gui.main_window import MainWindow
from forensic_gui.settings import Settings, load_settings
from forensic_gui.tasks import load_frame
from forensic_gui.widgets.frame_view import FramePanel
from forensic_gui.widgets.provenance_panel import ProvenancePanel
from tests.gui.fakes import FakeAnalyzer, FakeAnalyzerFactory
from tests.gui.test_workflow import TIMEOUT_MS, analyze_selected, import_files
from tests.provenance_media import (
    jpeg_bytes,
    make_pki,
    sign_jpeg,
    tamper_pixels,
    textured_rgb,
    write,
)


class ProvenanceAnalyzer(FakeAnalyzer):
    """The fake analyzer, plus the real media provenance of the file."""

    def analyze(self, path: str, **kwargs: object):  # type: ignore[no-untyped-def, override]
        result = super().analyze(path, **kwargs)  # type: ignore[arg-type]
        record = api.inspect_provenance(path, sha256=result.sha256)
        return dataclasses.replace(result, file_provenance=record)


def test_panel_shows_state_declaration_and_inconsistencies(qtbot, tmp_path: Path) -> None:
    panel = ProvenancePanel()
    qtbot.addWidget(panel)
    signed = sign_jpeg(jpeg_bytes(textured_rgb(120, 160)), make_pki())
    record = api.inspect_provenance(write(tmp_path / "t.jpg", tamper_pixels(signed)))
    panel.set_record(record)
    assert panel.banner_text == ("Content Credentials FAIL validation - DECLARES GENERATIVE-AI "
                                 "CONTENT")
    details = panel.details_text
    assert "assertion.dataHash.mismatch" in details
    assert "[LOOK AT THIS FIRST] Content Credentials fail validation" in details
    assert "none ship with this application" in details
    plain = api.inspect_provenance(write(tmp_path / "p.jpg", jpeg_bytes(textured_rgb(64, 64))))
    panel.set_record(plain)
    assert panel.banner_text == "No Content Credentials: provenance unknown"
    panel.set_record(None)
    assert "made before media provenance was read" in panel.details_text


def test_filter_overlay_and_guidance_in_the_frame_view(qtbot, tiny_video: Path) -> None:
    panel = FramePanel()
    qtbot.addWidget(panel)
    panel.show()
    frame = load_frame(str(tiny_video), 3, (), cancel=CancelToken(), view_filter=("ela", None))
    assert frame.filtered is not None
    assert frame.filtered.rgb_u8.shape[2] == 3
    with qtbot.waitSignal(panel.filters.filter_changed) as changed:
        panel.filters.choose("ela")
    assert changed.args == ["ela"]
    panel.show_frame(frame)
    assert panel.view.overlay_visible
    assert "What not to conclude" in panel.filters.guidance.text()
    assert frame.filtered.caption in panel.filters.guidance.text()
    panel.filters.choose(None)
    assert not panel.view.overlay_visible
    assert not panel.filters.guidance.isVisible()


def test_window_shows_provenance_and_refilters_the_frame(qtbot, store, tiny_video: Path,
                                                          tmp_path: Path) -> None:
    factory = FakeAnalyzerFactory(ProvenanceAnalyzer())
    services = controller_module.EngineServices(analyzer_factory=factory,
                                                list_detectors=lambda: [])
    window = MainWindow(store, Settings(analyst="Tester", key_frames=0), services=services)
    qtbot.addWidget(window)
    window.show()
    case = window.controller.create_case(
        controller_module.NewCaseFields("P-1", "Provenance", "Tester", ""))
    assert case is not None
    import_files(qtbot, window, [tiny_video])
    window.evidence_list.select_ids([store.list_evidence(case.id)[0].id])
    analyze_selected(qtbot, window)
    qtbot.waitUntil(lambda: window.provenance.banner_text != "", timeout=TIMEOUT_MS)
    assert window.provenance.banner_text == "No Content Credentials: provenance unknown"
    assert "Container" in window.provenance.details_text
    loaded: list[object] = []
    window.frame_loader.frame_loaded.connect(loaded.append)
    window.frame_panel.filters.choose("noise")
    # NOTE: a frame asked for before the choice may still arrive first, without the filter.
    qtbot.waitUntil(lambda: any(getattr(f, "filtered", None) is not None for f in loaded),
                    timeout=TIMEOUT_MS)
    filtered = next(f.filtered for f in loaded if f.filtered is not None)  # type: ignore[attr-defined]
    assert filtered.name == "noise"
    qtbot.waitUntil(lambda: "What not to conclude" in window.frame_panel.filters.guidance.text(),
                    timeout=TIMEOUT_MS)
    assert window.frame_panel.view.overlay_visible
    window.close()


def test_trust_list_import_installs_it_for_the_next_analyses(
    qtbot, window: MainWindow, analyzer_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "config" / "c2pa_trust_anchors.pem"
    monkeypatch.setattr(controller_module, "default_trust_list_path", lambda: target)
    source = write(tmp_path / "roots.pem", make_pki().root_pem)
    trust = window.controller.import_trust_list(source)
    assert trust is not None
    assert target.read_bytes() == source.read_bytes()
    window.controller._holder.get()  # the next analysis builds the analyzer with the list
    assert analyzer_factory.options[-1].c2pa_trust_list == str(target)
    assert window.controller.import_trust_list(write(tmp_path / "bad.pem", b"junk")) is None
    titles = [box.windowTitle() for box in window.findChildren(QMessageBox)]
    assert "Trust list not imported" in titles
    assert window.trust_action.text() == "Import C2PA trust list…"


def test_settings_name_a_trust_list(tmp_path: Path) -> None:
    path = write(tmp_path / "settings.toml", b'c2pa_trust_list = "/cases/roots.pem"\n')
    settings = load_settings(path)
    assert settings.c2pa_trust_list == Path("/cases/roots.pem")
    assert settings.analysis_options().c2pa_trust_list == "/cases/roots.pem"
    assert Settings(analyst="a").c2pa_trust_list is None
