"""Drive the real main window over the bad-input corpus: one batch import, then each analysis.

Shared by tests/gui/test_reliability_app.py (fast detectors) and scripts/reliability_report.py
(the real engine). It does what an analyst does: drops the corpus folder on a case, reads the
"not added" list, then selects and analyses every added item one at a time, reading each
message box (and clicking it away) and the frame shown. What is recorded per item is what the
analyst would see. Waiting uses a local event loop with a deadline, so a hang is reported as
one item that took too long instead of a stuck run; no qtbot, so the script can use it too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QTimer, Slot
from PySide6.QtWidgets import QMessageBox

from forensic_gui.main_window import MainWindow
from tests.engine.bad_media import Case
from tests.engine.reliability_cli import ItemOutcome, has_track_gap, reference_error, short

__all__ = ["NOT_ADDED_TITLE", "AppRun", "WindowRecorder", "judge_app_run", "run_corpus",
           "wait_until"]

NOT_ADDED_TITLE = "Some files were not added"
_CRASH_WORDS = ("unexpected internal error", "Traceback")
_SEEN = "message_box_read"


def wait_until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Run the event loop until ``predicate()`` holds (``True``) or ``timeout_s`` passes."""
    if predicate():
        return True
    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: loop.quit() if predicate() or time.monotonic() > deadline
                          else None)
    timer.start(20)
    loop.exec()
    timer.stop()
    return predicate()


class WindowRecorder(QObject):
    """Collects what the window shows: message boxes, frames, recorded analyses."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.frame_events: list[tuple[int, int] | str] = []  # (height, width) or a failure
        self.results: dict[int, object] = {}  # evidence id -> MediaResult
        self.imports_done = 0
        window.frame_loader.frame_loaded.connect(self._on_frame_loader_frame_loaded)
        window.frame_loader.frame_failed.connect(self._on_frame_loader_frame_failed)
        window.controller.analysis_recorded.connect(self._on_controller_analysis_recorded)
        window.controller.evidence_changed.connect(self._on_controller_evidence_changed)

    @Slot(object)
    def _on_frame_loader_frame_loaded(self, frame: object) -> None:
        height, width = frame.rgb_u8.shape[:2]  # type: ignore[attr-defined]
        self.frame_events.append((int(height), int(width)))

    @Slot(str)
    def _on_frame_loader_frame_failed(self, message: str) -> None:
        self.frame_events.append(message)

    @Slot(int, object)
    def _on_controller_analysis_recorded(self, evidence_id: int, analysis: object) -> None:
        self.results[evidence_id] = analysis.result  # type: ignore[attr-defined]

    @Slot(int)
    def _on_controller_evidence_changed(self, _case_id: int) -> None:
        self.imports_done += 1

    def take_messages(self) -> list[tuple[str, str, str]]:
        """(title, text, informative + details) of the boxes opened since the last call.

        Each box is then closed, as the analyst's OK would.
        """
        taken = []
        for box in self.window.findChildren(QMessageBox):
            if box.objectName() == _SEEN:
                continue
            # The full list of a long "not added" box is its detailed text: one list to read.
            listed = "\n".join(filter(None, [box.informativeText(), box.detailedText()]))
            taken.append((box.windowTitle(), box.text(), listed))
            box.setObjectName(_SEEN)
            box.done(0)
            box.deleteLater()
        return taken


@dataclass
class AppItem:
    """What the analyst saw for one file."""

    in_table: bool = False
    import_message: str | None = None
    status: str | None = None
    n_tracks: int = 0
    track_gap: bool = False
    messages: list[tuple[str, str, str]] = field(default_factory=list)
    row_text: str = ""
    frame_events: list[tuple[int, int] | str] = field(default_factory=list)
    seconds: float | None = None
    timed_out: bool = False


@dataclass
class AppRun:
    """The whole run: per path, what was seen; plus the batch import's time and messages."""

    items: dict[str, AppItem]
    import_seconds: float
    import_messages: list[tuple[str, str, str]]


def _import_folder(recorder: WindowRecorder, folder: Path, timeout_s: float
                   ) -> tuple[float, list[tuple[str, str, str]]]:
    window, before = recorder.window, recorder.imports_done
    start = time.perf_counter()
    window.import_paths([folder])
    done = wait_until(lambda: recorder.imports_done > before, timeout_s)
    seconds = time.perf_counter() - start
    messages = recorder.take_messages()
    if not done:
        messages.append(("TIMEOUT", f"the import took more than {timeout_s:.0f} s", ""))
    return seconds, messages


def _not_added(messages: Sequence[tuple[str, str, str]]) -> dict[str, str]:
    """File name -> reason, from the "not added" box's list ("name: reason" lines)."""
    reasons: dict[str, str] = {}
    for title, _text, informative in messages:
        if title == NOT_ADDED_TITLE:
            for line in informative.splitlines():
                name, _, reason = line.partition(": ")
                reasons[name] = reason
    return reasons


def _analyze_one(recorder: WindowRecorder, evidence_id: int, timeout_s: float) -> AppItem:
    window = recorder.window
    item = AppItem(in_table=True)
    start = time.perf_counter()
    window.evidence_list.select_ids([evidence_id])
    window.analyze_selected()
    finished = wait_until(lambda: not window.controller.analysis_running, timeout_s)
    item.seconds = time.perf_counter() - start
    if not finished:
        item.timed_out = True
        window.controller.cancel_analysis()
        wait_until(lambda: not window.controller.analysis_running, 60.0)
    # A stored result is shown at once, and its frame requested: wait until it is decoded.
    wait_until(lambda: not window.frame_loader.busy, 10.0)
    if evidence_id in recorder.results:
        result: Any = recorder.results[evidence_id]
        item.status = result.status
        item.n_tracks = len(result.tracks)
        sampled = result.provenance.sampled_frame_indices if result.provenance else ()
        item.track_gap = any(has_track_gap(t.frame_indices, sampled) for t in result.tracks)
    item.messages = recorder.take_messages()
    item.row_text = window.evidence_list.row_for(evidence_id).finding_text
    return item


def run_corpus(window: MainWindow, folder: Path, *, item_timeout_s: float,
               import_timeout_s: float) -> AppRun:
    """Import ``folder`` into the window's current case, then analyse each added item."""
    recorder = WindowRecorder(window)
    recorder.take_messages()
    import_seconds, import_messages = _import_folder(recorder, folder, import_timeout_s)
    items: dict[str, AppItem] = {}
    for name, reason in _not_added(import_messages).items():
        items[name] = AppItem(import_message=reason)
    for row in list(window.evidence_list.rows):
        n_events = len(recorder.frame_events)
        item = _analyze_one(recorder, row.evidence_id, item_timeout_s)
        item.frame_events = recorder.frame_events[n_events:]
        exact = window.store.get_evidence(row.evidence_id).open_path  # original_path is text
        items[os.path.normpath(exact)] = item
    return AppRun(items, import_seconds, import_messages)


def _lookup(run: AppRun, path: Path) -> AppItem | None:
    from engine.api import printable_path

    return (run.items.get(os.path.normpath(path)) or run.items.get(path.name)
            or run.items.get(printable_path(path.name)))


def app_expected_text(case: Case, path: Path) -> str:
    """The app's expectation for ``case`` in a few words."""
    if path.is_dir():
        return "a folder: walked, nothing added"
    if case.expect is not None and not case.fails_late:
        return f"not added: {case.expect.__name__}"
    if case.expect is not None:
        return f"added; analysis fails: {case.expect.__name__}"
    if case.analysis_status == "ok":
        return f"analysed: ok, {case.n_tracks} track(s)"
    return ("analysed: no_face + 'No face found', or listed with its whole-picture finding "
            "('...; no face')")


def _judge_analysed(case: Case, path: Path, item: AppItem) -> tuple[str, list[str]]:
    """Outcome text and problems of an item that was added and analysed."""
    problems = []
    titles = [m[0] for m in item.messages]
    if case.expect is not None:
        ref = reference_error(path)
        failure = next((m for m in item.messages if m[0] == "Analysis failed"), None)
        if failure is None or ref is None or ref.reason not in failure[1]:
            problems.append(f"no 'Analysis failed' message with the reason: {item.messages}")
        return f"added; 'Analysis failed': {short(failure[1] if failure else '-')}", problems
    outcome = f"analysed: {item.status}"
    if item.status != case.analysis_status:
        problems.append(f"status {item.status}, expected {case.analysis_status}")
    if item.status == "ok":
        outcome += f", {item.n_tracks} track(s)"
        if item.n_tracks != case.n_tracks:
            problems.append(f"{item.n_tracks} tracks, expected {case.n_tracks}")
        if item.track_gap != case.track_gap:
            problems.append(f"track gap {item.track_gap}, expected {case.track_gap}")
        outcome += ", one with a gap" if item.track_gap else ""
    # NOTE: a picture without a face that the whole-picture detectors graded gets no box: the
    # list shows that finding with "; no face" (a batch of such pictures stacked one box each).
    whole_picture = item.row_text.endswith("; no face)")
    if case.analysis_status == "no_face" and "No face found" not in titles and not whole_picture:
        problems.append("no 'No face found' message and no whole-picture finding in the list")
    if whole_picture:
        outcome += f"; listed as '{short(item.row_text)}'"
    if titles:
        outcome += f"; message(s): {', '.join(repr(t) for t in titles)}"
    return outcome, problems


def _judge_frames(path: Path, item: AppItem) -> tuple[str, list[str]]:
    from engine.api import probe_media

    failures = [e for e in item.frame_events if isinstance(e, str)]
    shapes = {e for e in item.frame_events if isinstance(e, tuple)}
    if failures:
        return "", [f"frame view: {short(failures[0])}"]
    if not shapes:
        return "", ["no frame was shown"]
    info = probe_media(path)
    if shapes != {(info.height, info.width)}:
        return "", [f"frames {shapes}, the file is {info.width}x{info.height}"]
    ((height, width),) = shapes
    return f"; frame {width}x{height} shown", []


def judge_app_item(case: Case, path: Path, item: AppItem | None) -> ItemOutcome:
    """Judge what the analyst saw for one corpus file."""
    expected = app_expected_text(case, path)
    if path.is_dir():
        return ItemOutcome(case.name, expected, "nothing added, no message" if item is None
                           else "something was shown for it", item is None, None)
    if item is None:
        return ItemOutcome(case.name, expected, "NOT SHOWN: neither added nor listed", False,
                           None)
    if not item.in_table:
        ref = reference_error(path)
        passed = (case.expect is not None and not case.fails_late and ref is not None
                  and item.import_message == ref.reason)
        return ItemOutcome(case.name, expected, f"not added: {short(item.import_message or '')}",
                           passed, None)
    outcome, problems = _judge_analysed(case, path, item)
    if case.expect is None:
        frame_text, frame_problems = _judge_frames(path, item)
        outcome += frame_text
        problems += frame_problems
    crashes = [m for m in item.messages if any(w in " ".join(m) for w in _CRASH_WORDS)]
    problems += [f"crash message: {short(' '.join(m))}" for m in crashes]
    if item.timed_out:
        problems.append(f"no end after {item.seconds:.0f} s (cancelled)")
    return ItemOutcome(case.name, expected, "; ".join([outcome, *problems]), not problems,
                       item.seconds)


def judge_app_run(cases: Sequence[Case], corpus: Mapping[str, Path],
                  run: AppRun) -> list[ItemOutcome]:
    """One :class:`ItemOutcome` per case, in corpus order."""
    return [judge_app_item(case, corpus[case.name], _lookup(run, corpus[case.name]))
            for case in cases]
