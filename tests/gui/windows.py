"""A main window on a new case database with a given analyzer factory and the fake detectors'
list: the start of the GUI tests that run the real analyzer (worker process, faces, media)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from engine import api
from forensic_gui.cases.repository import CaseStore
from forensic_gui.controller import EngineServices
from forensic_gui.dialogs.new_case_dialog import NewCaseFields
from forensic_gui.main_window import MainWindow
from forensic_gui.settings import Settings
from tests.gui.fakes import FAKE_DETECTORS


@contextmanager
def window_with_analyzer(
    qtbot,  # type: ignore[no-untyped-def]
    db_path: Path,
    analyzer_factory: Callable[[api.AnalysisOptions], api.Analyzer],
    *,
    n_frames: int,
    case: NewCaseFields,
) -> Iterator[MainWindow]:
    """The window shown, with ``case`` created and selected; closed afterwards."""
    services = EngineServices(analyzer_factory=analyzer_factory,
                              list_detectors=lambda: list(FAKE_DETECTORS))
    settings = Settings(analyst="Tester", key_frames=1, n_frames=n_frames, runtime="onnx",
                        detectors=tuple(d.name for d in FAKE_DETECTORS))
    with CaseStore.open(db_path) as store:
        window = MainWindow(store, settings, services=services)
        qtbot.addWidget(window)
        window.show()
        assert window.controller.create_case(case)
        yield window
        window.close()
