"""Garbage collection on the GUI thread only: the timer collects what is due, nothing else
collects automatically while it runs, and stopping gives collection back."""

from __future__ import annotations

import gc
import threading

import pytest

from forensic_gui.gc_policy import GuiThreadCollector, freeze_loaded_objects


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_the_collector_owns_collection_while_it_runs(qtbot) -> None:
    gc.enable()  # the GUI tests' own fixture turned it off; the collector must do it itself
    collector = GuiThreadCollector(interval_ms=20)
    collector.start()
    try:
        assert not gc.isenabled()
        threshold0 = gc.get_threshold()[0]
        freed_at: list[threading.Thread] = []
        gc.callbacks.append(lambda phase, info: freed_at.append(threading.current_thread())
                            if phase == "stop" else None)

        def make_garbage() -> None:  # a worker allocating past the threshold collects nothing
            for _ in range(threshold0 * 3):
                _Cycle()

        worker = threading.Thread(target=make_garbage)
        worker.start()
        worker.join()
        assert freed_at == []
        qtbot.waitUntil(lambda: bool(freed_at), timeout=5000)
        assert set(freed_at) == {threading.main_thread()}
    finally:
        gc.callbacks.pop()
        collector.stop()
    assert gc.isenabled()
    gc.disable()  # back to the fixture's state


def test_nothing_is_collected_before_it_is_due() -> None:
    collector = GuiThreadCollector()
    gc.collect()
    assert collector.collect_due() == 0


@pytest.mark.parametrize("what", ["start", "freeze"])
def test_collection_refuses_to_be_set_up_outside_the_gui_thread(what: str) -> None:
    call = GuiThreadCollector().start if what == "start" else freeze_loaded_objects
    errors: list[BaseException] = []

    def from_worker() -> None:
        try:
            call()
        except RuntimeError as exc:
            errors.append(exc)

    worker = threading.Thread(target=from_worker)
    worker.start()
    worker.join()
    assert len(errors) == 1
    assert "GUI thread" in str(errors[0])


def test_opening_the_window_installs_one_collector_for_the_application(qapp) -> None:
    from forensic_gui import gc_policy

    first = gc_policy.install(qapp)
    assert gc_policy.install(qapp) is first
    assert len(qapp.findChildren(GuiThreadCollector)) == 1
    assert not gc.isenabled()
