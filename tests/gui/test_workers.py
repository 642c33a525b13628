"""Background jobs: one final signal, clear failure messages, cancel, throttled progress."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

from engine import api
from engine.errors import NotMediaError
from engine.jobs import Progress
from forensic_gui.job_tracker import JobTracker
from forensic_gui.settings import Settings
from forensic_gui.tasks import AnalysisRequest, StoreAccess
from forensic_gui.widgets.job_progress import JobProgressPanel
from forensic_gui.workers import (
    AnalysisJob,
    AnalyzerHolder,
    FrameLoader,
    HashJob,
    ImportJob,
    Job,
    describe_error,
)
from tests.gui.fakes import FakeAnalyzer, FakeAnalyzerFactory

TIMEOUT_MS = 15000


class FinalSignals:
    """Counts a job's final signals."""

    def __init__(self, job) -> None:
        self.succeeded: list[object] = []
        self.failed: list[str] = []
        self.cancelled = 0
        job.succeeded.connect(self.succeeded.append)
        job.failed.connect(self.failed.append)
        job.cancelled.connect(self._on_cancelled)

    def _on_cancelled(self) -> None:
        self.cancelled += 1

    @property
    def total(self) -> int:
        return len(self.succeeded) + len(self.failed) + self.cancelled


def test_hash_job_succeeds_once_with_the_digest(qtbot, tiny_video):
    job = HashJob(str(tiny_video))
    seen = FinalSignals(job)
    with qtbot.waitSignal(job.succeeded, timeout=TIMEOUT_MS):
        job.start()
    qtbot.wait(50)
    assert seen.succeeded == [api.sha256_file(tiny_video)]
    assert seen.total == 1
    with pytest.raises(RuntimeError, match="already started"):
        job.start()


def test_failure_is_one_plain_message(qtbot, tmp_path):
    job = HashJob(str(tmp_path / "missing.mp4"))
    seen = FinalSignals(job)
    with qtbot.waitSignal(job.failed, timeout=TIMEOUT_MS):
        job.start()
    qtbot.wait(50)
    (message,) = seen.failed
    assert seen.total == 1
    assert "missing.mp4" in message
    assert "Traceback" not in message


def test_describe_error_is_specific():
    assert "not a video" in describe_error(NotMediaError("/x.mp4", "not a video"), "Import")
    missing = FileNotFoundError(2, "No such file", "/gone.mp4")
    assert "/gone.mp4 does not exist any more" in describe_error(missing, "Analysing")
    assert "unexpected internal error (ZeroDivisionError" in describe_error(
        ZeroDivisionError("x"), "Export")


def test_cancelled_import_adds_nothing(qtbot, store, tiny_video, tmp_path):
    case = store.create_case(number="C", title="t", analyst="a", actor="a")
    files = [Path(shutil.copy(tiny_video, tmp_path / f"{i}.mp4")) for i in range(5)]
    job = ImportJob(files, case.id, StoreAccess(store.db_path, "a"))
    seen = FinalSignals(job)
    with qtbot.waitSignal(job.cancelled, timeout=TIMEOUT_MS):
        job.start()
        job.cancel()
    qtbot.wait(50)
    assert seen.total == 1
    assert seen.cancelled == 1
    assert store.list_evidence(case.id) == ()


def test_analysis_progress_is_throttled(qtbot, store, tiny_video):
    case = store.create_case(number="C", title="t", analyst="a", actor="a")
    sha256 = api.sha256_file(tiny_video)
    item = store.add_evidence(case.id, tiny_video, sha256=sha256,
                              size_bytes=tiny_video.stat().st_size, media_info=None, actor="a")
    factory = FakeAnalyzerFactory(FakeAnalyzer(n_steps=300, step_s=0.001))
    holder = AnalyzerHolder(factory, Settings(analyst="a").analysis_options())
    job = AnalysisJob(AnalysisRequest(item.id, str(tiny_video), sha256, "tiny.mp4"), holder,
                      StoreAccess(store.db_path, "a"), key_frame_count=1, map_labels={})
    reports = []
    job.progressed.connect(reports.append)
    with qtbot.waitSignal(job.succeeded, timeout=TIMEOUT_MS) as blocker:
        job.start()
    qtbot.wait(50)
    # 300 fake steps over >= 0.3 s: about 10 a second pass, plus stage starts and ends.
    assert 3 <= len(reports) < 40
    outcome = blocker.args[0]
    assert outcome.check.ok
    assert outcome.analysis is not None
    assert len(store.key_frames(outcome.analysis.id)) == 1
    holder.close()
    assert factory.analyzer.closed


def test_frame_loader_ends_on_the_last_request(qtbot, tiny_video):
    loader = FrameLoader()
    shown: list[int] = []
    loader.frame_loaded.connect(lambda frame: shown.append(frame.frame_idx))
    for frame_idx in range(10):
        loader.request(str(tiny_video), frame_idx, ())
    qtbot.waitUntil(lambda: not loader.busy and shown and shown[-1] == 9, timeout=TIMEOUT_MS)
    assert len(shown) < 10  # stale requests were dropped, not decoded
    assert shown[0] == 0


def test_frame_loader_reports_unreadable_media(qtbot, tmp_path):
    loader = FrameLoader()
    bad = tmp_path / "bad.mp4"
    bad.write_text("no video here")
    with qtbot.waitSignal(loader.frame_failed, timeout=TIMEOUT_MS) as blocker:
        loader.request(str(bad), 0, ())
    assert "bad.mp4" in blocker.args[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_workers_run_below_the_gui_threads_priority(qtbot):
    """Background work must leave the CPU to the GUI thread (the 100 ms stall budget)."""
    from forensic_gui.workers import Job

    class NiceProbe(Job):
        def _work(self, progress, cancel):
            return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    gui_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    job = NiceProbe("probe")
    with qtbot.waitSignal(job.succeeded, timeout=TIMEOUT_MS) as blocker:
        job.start()
    assert blocker.args[0] >= max(gui_nice, 10)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == gui_nice


def test_preload_collects_garbage_on_the_gui_thread_only(qtbot, monkeypatch):
    """A collection in a worker frees Qt objects outside the GUI thread: CI crashed on it."""
    import gc

    from forensic_gui.gc_policy import freeze_loaded_objects
    from forensic_gui.workers import PreloadJob

    collect_threads: list[threading.Thread] = []
    real_collect = gc.collect

    def recording_collect(*args):
        collect_threads.append(threading.current_thread())
        return real_collect(*args)

    monkeypatch.setattr(gc, "collect", recording_collect)
    monkeypatch.setattr(gc, "freeze", lambda: None)  # keep the test process's heap as it was
    holder = AnalyzerHolder(FakeAnalyzerFactory(), api.AnalysisOptions())
    job = PreloadJob(holder)
    job.succeeded.connect(lambda _value: freeze_loaded_objects())  # as the controller wires it
    with qtbot.waitSignal(job.succeeded, timeout=TIMEOUT_MS):
        job.start()
    qtbot.waitUntil(lambda: bool(collect_threads), timeout=TIMEOUT_MS)
    assert collect_threads == [threading.main_thread()]


def test_a_folder_with_nothing_to_add_is_a_reason_not_silence(store, tiny_video, tmp_path):
    from engine.jobs import CancelToken, null_sink
    from forensic_gui.tasks import run_import

    case = store.create_case(number="C", title="t", analyst="a", actor="a")
    empty = tmp_path / "empty"
    empty.mkdir()
    hidden = tmp_path / "hidden_only"
    hidden.mkdir()
    shutil.copy(tiny_video, hidden / ".clip.mp4")
    full = tmp_path / "full"
    full.mkdir()
    shutil.copy(tiny_video, full / "clip.mp4")
    report = run_import([empty, hidden, full], case.id, access=StoreAccess(store.db_path, "a"),
                        progress=null_sink, cancel=CancelToken())
    assert [r.file_name for r in report.added] == ["clip.mp4"]
    assert [(f.path, f.message) for f in report.failures] == [
        (str(folder), "the folder holds no file to add (hidden files and folders are skipped)")
        for folder in (empty, hidden)]


def test_an_unreadable_or_linked_folder_in_a_drop_is_a_reason_not_silence(
        store, tiny_video, tmp_path, monkeypatch):
    """The import walks folders as forensic-analyze does: what it cannot walk, it names."""
    import os

    from engine.inputs import LINKED_FOLDER
    from engine.jobs import CancelToken, null_sink
    from forensic_gui.tasks import run_import

    case = store.create_case(number="C", title="t", analyst="a", actor="a")
    dropped = tmp_path / "dropped"
    (dropped / "locked").mkdir(parents=True)
    shutil.copy(tiny_video, dropped / "clip.mp4")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(tiny_video, elsewhere / "other.mp4")
    (dropped / "linked").symlink_to(elsewhere, target_is_directory=True)
    real_walk = os.walk

    def walk(top, onerror=None, **kw):
        # NOTE: as root every folder is readable, so the walk's error is made by hand.
        for root, dirs, files in real_walk(top, onerror=onerror, **kw):
            if root.endswith("locked"):
                onerror(PermissionError(13, "Permission denied", root))
                continue
            yield root, dirs, files

    monkeypatch.setattr("engine.inputs.os.walk", walk)
    report = run_import([dropped, dropped / "clip.mp4"], case.id,
                        access=StoreAccess(store.db_path, "a"),
                        progress=null_sink, cancel=CancelToken())
    assert [r.file_name for r in report.added] == ["clip.mp4"]  # named twice, added once
    assert sorted((f.path, f.message) for f in report.failures) == [
        (str(dropped / "linked"), LINKED_FOLDER),
        (str(dropped / "locked"), "Cannot read this folder: Permission denied")]


class _WaitsForCancel(Job):
    """Reports a little progress, then waits for Cancel (a job cancelled at a known point)."""

    def __init__(self) -> None:
        super().__init__("Waiting for cancel")
        self.waiting = threading.Event()

    def _work(self, progress, cancel):
        for step in range(3):
            progress(Progress("score", step, 6, f"step {step}"))
        self.waiting.set()
        while True:
            cancel.raise_if_cancelled()
            time.sleep(0.002)


def test_a_finished_job_reaches_every_listener_before_it_is_deleted(qtbot):
    """The tracker deletes a job from the slot of its final signal. Done at once, that raced the
    worker still inside emit(): listeners connected after the tracker's slot lost the signal in
    about a third of the jobs (the cause of a GUI test that timed out in about 1 full-suite run
    of 4). Each job here is cancelled once its worker waits; a listener connected after the
    tracker's must hear it every time."""
    panel = JobProgressPanel()
    qtbot.addWidget(panel)
    tracker = JobTracker(panel)
    for attempt in range(200):
        heard = _cancel_with_a_late_listener(qtbot, tracker)
        assert heard == 1, f"job {attempt} ended, but its late listener heard it {heard} times"


def _cancel_with_a_late_listener(qtbot, tracker: JobTracker) -> int:
    """Start a job, listen to ``cancelled`` after the tracker does, cancel it: times heard."""
    job = _WaitsForCancel()
    tracker.start(job)
    heard: list[None] = []
    job.cancelled.connect(lambda: heard.append(None))
    assert job.waiting.wait(5)
    job.cancel()
    qtbot.waitUntil(lambda: not tracker.running and job.wait(0), timeout=TIMEOUT_MS)
    qtbot.wait(1)  # one more turn of the event loop: anything still posted arrives now
    return len(heard)
