"""Fixtures for the GUI tests: a generated video, a fresh case database, the main window."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from forensic_gui.cases.repository import CaseStore
from forensic_gui.controller import EngineServices
from forensic_gui.dialogs.new_case_dialog import NewCaseFields
from forensic_gui.main_window import MainWindow
from forensic_gui.settings import Settings
from tests.gui.fakes import FAKE_DETECTORS, FakeAnalyzerFactory, write_tiny_video


@pytest.fixture(scope="session")
def tiny_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16 frames, 128x96, one drawn face (read-only for tests: copy it before changing it)."""
    return write_tiny_video(tmp_path_factory.mktemp("media") / "tiny.mp4")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    """A new case database in ``tmp_path``."""
    with CaseStore.open(tmp_path / "cases.sqlite3") as case_store:
        yield case_store


@pytest.fixture
def analyzer_factory() -> FakeAnalyzerFactory:
    """The fake analyzer factory the window gets (tests may swap its analyzer before use)."""
    return FakeAnalyzerFactory()


@pytest.fixture
def window(qtbot, store: CaseStore, analyzer_factory: FakeAnalyzerFactory) -> Iterator[MainWindow]:
    """The main window on a fresh database with the fake analyzer, shown offscreen."""
    services = EngineServices(analyzer_factory=analyzer_factory,
                              list_detectors=lambda: list(FAKE_DETECTORS))
    main_window = MainWindow(store, Settings(analyst="Tester", key_frames=2), services=services)
    qtbot.addWidget(main_window)
    main_window.show()
    yield main_window
    main_window.close()


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread() -> Iterator[None]:
    """As in the app (``forensic_gui.gc_policy``): no automatic collection while a GUI test
    runs worker threads, one collection on this thread after it. Left to Python, a worker
    thread ran a collection that freed an earlier test's Qt objects: a segmentation fault."""
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    gc.collect()
    if was_enabled:
        gc.enable()


@pytest.fixture
def case_id(window: MainWindow) -> int:
    """A case created through the controller and selected in the window."""
    case = window.controller.create_case(NewCaseFields("T-1", "Test case", "Tester", ""))
    assert case is not None
    assert window.current_case_id == case.id
    return case.id
