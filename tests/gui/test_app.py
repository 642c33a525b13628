"""Application start: --db, first start, and plain messages for a bad settings file."""

from __future__ import annotations

from pathlib import Path

import pytest

from forensic_gui import app as app_module
from forensic_gui.app import StartupError, main, open_window, parse_args
from forensic_gui.controller import EngineServices
from tests.gui.fakes import FAKE_DETECTORS, FakeAnalyzerFactory


def services() -> EngineServices:
    return EngineServices(analyzer_factory=FakeAnalyzerFactory(),
                          list_detectors=lambda: list(FAKE_DETECTORS))


def start(qtbot, argv: list[str]):
    started = open_window(parse_args(argv), services=services())
    qtbot.addWidget(started.window)
    return started


def test_first_start_creates_the_database_and_offers_the_demo(qtbot, tmp_path):
    db = tmp_path / "new" / "cases.sqlite3"
    argv = ["--db", str(db), "--settings", str(tmp_path / "none.toml")]
    started = start(qtbot, argv)
    assert db.is_file()
    assert started.window.welcome.isVisible()
    from PySide6.QtWidgets import QApplication

    from forensic_gui.gc_policy import GuiThreadCollector

    # the app collects garbage on the GUI thread only (forensic_gui.gc_policy)
    assert QApplication.instance().findChild(GuiThreadCollector) is not None
    started.window.close()
    started.store.close()
    again = start(qtbot, argv)
    assert not again.window.welcome.isVisible()  # only on the first start
    again.window.close()
    again.store.close()


def test_db_path_from_settings(qtbot, tmp_path):
    db = tmp_path / "from_settings.sqlite3"
    settings = tmp_path / "s.toml"
    settings.write_text(f'db_path = "{db}"\nanalyst = "Ann"\n', encoding="utf-8")
    started = start(qtbot, ["--settings", str(settings)])
    assert started.store.db_path == db
    assert started.window.verdict_form.draft() is None
    started.window.close()
    started.store.close()


def test_bad_settings_is_a_startup_error(tmp_path):
    settings = tmp_path / "s.toml"
    settings.write_text("colour = 'red'\n", encoding="utf-8")
    with pytest.raises(StartupError, match="unknown key"):
        open_window(parse_args(["--settings", str(settings), "--db", str(tmp_path / "c")]),
                    services=services())


def test_unusable_database_is_a_startup_error(tmp_path):
    not_a_db = tmp_path / "cases.sqlite3"
    not_a_db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StartupError, match="--db PATH"):
        open_window(parse_args(["--db", str(not_a_db), "--settings", str(tmp_path / "x")]),
                    services=services())


def test_main_shows_one_message_and_exits_2(qapp, tmp_path, monkeypatch):
    shown: list[str] = []
    levels: list[str] = []
    monkeypatch.setattr(app_module, "_configure_logging", levels.append)
    monkeypatch.setattr(app_module.QMessageBox, "critical",
                        lambda _parent, _title, text: shown.append(text))
    settings = tmp_path / "s.toml"
    settings.write_text("n_frames = 'x'\n", encoding="utf-8")
    assert main(["--settings", str(settings), "--db", str(tmp_path / "c.sqlite3")]) == 2
    (text,) = shown
    assert "n_frames must be a whole number" in text
    assert "Traceback" not in text
    assert not Path(tmp_path / "c.sqlite3").exists()
    assert levels == ["INFO"]


def test_the_window_starts_without_heavy_engine_imports(tmp_path):
    """A fresh interpreter builds the window with no torch, ONNX Runtime, MediaPipe or cv2."""
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from forensic_gui.app import open_window, parse_args\n"
        "from forensic_gui.controller import EngineServices\n"
        "app = QApplication([])\n"
        "services = EngineServices(analyzer_factory=lambda o: None, list_detectors=list)\n"
        f"started = open_window(parse_args(['--db', r'{tmp_path / 'c.sqlite3'}', '--settings', "
        f"r'{tmp_path / 's.toml'}']), services=services)\n"
        "heavy = ('torch', 'onnxruntime', 'mediapipe', 'cv2', 'reportlab')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
