"""Python's garbage collection runs on the GUI thread only.

A collection runs the finalizers of what it frees in whichever thread triggered it. Python
triggers one after enough allocations, so any worker thread (hashing, importing, waiting on
the analysis process) may do it, and a Qt object freed there (a closed dialog, a widget in a
reference cycle) is deleted outside the GUI thread: the process can crash. CI did, with exit
code 139, when the detectors' preload called ``gc.collect()`` in its worker.

So the application turns automatic collection off and collects from a timer on the GUI thread,
generation by generation with Python's own thresholds (the recipe of pyqtgraph's
``GarbageCollector``). Reference counting still frees everything that is not in a cycle at
once; only cyclic garbage waits for the next tick.
"""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject, QTimer

__all__ = ["GuiThreadCollector", "freeze_loaded_objects", "install"]

_INTERVAL_MS = 1000


class GuiThreadCollector(QObject):
    """Collects on the GUI thread while it runs (see the module docstring)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = _INTERVAL_MS) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)
        self._was_enabled = gc.isenabled()

    def start(self) -> None:
        """Turn automatic collection off and start collecting on the timer. GUI thread only."""
        _require_gui_thread("GuiThreadCollector.start")
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Stop the timer, collect once, and give collection back to Python as it was."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()

    def collect_due(self) -> int:
        """Collect the generations whose counts passed Python's thresholds; objects freed."""
        count = gc.get_count()
        threshold = gc.get_threshold()
        # NOTE: an older generation's count is the number of collections of the younger one,
        # so it can only be due when the younger one is; collecting it collects the younger.
        due = -1
        for generation in range(3):
            if count[generation] <= threshold[generation]:
                break
            due = generation
        return gc.collect(due) if due >= 0 else 0


def install(app: QObject) -> GuiThreadCollector:
    """Start the application's collector, once per application (a second call returns it).

    Called by ``forensic_gui.app.open_window``, so the app, its self-test and the scripts that
    drive it all collect the same way. GUI thread only."""
    collector = app.findChild(GuiThreadCollector)
    if collector is None:
        collector = GuiThreadCollector(app)
        collector.start()
    return collector


def freeze_loaded_objects() -> None:
    """Collect once, then move everything alive into the permanent generation. GUI thread only.

    A full garbage collection holds the GIL, so the window freezes while one runs; with the
    models loaded they took 90-140 ms. After this, later collections only walk new objects.
    """
    _require_gui_thread("freeze_loaded_objects")
    gc.collect()
    gc.freeze()


def _require_gui_thread(what: str) -> None:
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError(f"{what} must run on the GUI thread")
