"""Background jobs: the only module that starts threads (QRunnables on the global pool).

Every job is a :class:`Job` ``QObject`` living on the GUI thread with four signals:
``progressed(object)`` (an ``engine.jobs.Progress``, throttled to about 10 Hz),
``succeeded(object)`` (a frozen dataclass from :mod:`forensic_gui.tasks`), ``failed(str)`` (a
message for the analyst, never a traceback) and ``cancelled()``. Exactly one of the last three is
emitted, once. ``start()`` submits a ``QRunnable``; ``cancel()`` sets the engine's
``CancelToken``, which the work polls at every batch boundary. Workers never touch widgets, and
never share the GUI thread's store: the import, analysis and export jobs open their own store on
the case file (see :mod:`forensic_gui.tasks` for why they write at all).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path

import numpy as np
import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, QTimer, Signal, Slot

from engine import api
from engine.errors import EngineError, MediaError
from engine.jobs import CancelToken, JobCancelled, Progress, ProgressSink, ThrottledSink
from engine.types import FaceScore
from forensic_gui.cases.errors import CaseStoreError
from forensic_gui.tasks import (
    AnalysisRequest,
    AnalyzerLike,
    ReaderLike,
    StoreAccess,
    ViewFilter,
    load_frame,
    run_analysis,
    run_import,
)

__all__ = [
    "AnalysisJob",
    "AnalyzerHolder",
    "ExportJob",
    "FrameJob",
    "FrameLoader",
    "HashJob",
    "ImportJob",
    "Job",
    "PreloadJob",
    "configure_pool",
    "describe_error",
]

logger = logging.getLogger(__name__)

# NOTE: analysis, hashing and frame decoding may run at once; with the default of one thread per
# core (2 on small laptops) a frame request would queue behind a long analysis.
_MIN_POOL_THREADS = 4


def configure_pool(min_threads: int = _MIN_POOL_THREADS) -> None:
    """Room in the global pool for an analysis, an import and frame loading at once."""
    pool = QThreadPool.globalInstance()
    pool.setMaxThreadCount(max(pool.maxThreadCount(), min_threads))


class AnalyzerHolder:
    """Builds the analyzer once, lazily in a worker thread, and reuses it (models load once).

    The window runs one analysis at a time; the lock only guards building and closing.
    """

    def __init__(self, factory: Callable[[api.AnalysisOptions], AnalyzerLike],
                 options: api.AnalysisOptions) -> None:
        self._factory = factory
        self._options = options
        self._analyzer: AnalyzerLike | None = None
        self._lock = threading.Lock()

    def get(self) -> AnalyzerLike:
        """The analyzer, built on first use (slow: it loads every detector)."""
        with self._lock:
            if self._analyzer is None:
                self._analyzer = self._factory(self._options)
            return self._analyzer

    def close(self) -> None:
        """Release the models; a later :meth:`get` builds them again."""
        with self._lock:
            if self._analyzer is not None:
                self._analyzer.close()
                self._analyzer = None


# NOTE: how often a released job is looked at again (see _release_step): whether its worker has
# left its last emit() (then a few microseconds away), then whether Qt has deleted it.
_RELEASE_POLL_MS = 5

# NOTE: background work yields the CPU to the GUI thread: on 2 cores an analysis keeps both busy,
# and a result arriving on the GUI thread waited behind it for 100-200 ms. Threads and processes
# started by a worker (the analysis and reader worker processes) inherit its niceness on Linux.
_BACKGROUND_NICE = 10


def _lower_this_thread_priority() -> None:
    """Run the calling pool thread (and threads it starts) below the GUI thread's priority."""
    QThread.currentThread().setPriority(QThread.Priority.LowPriority)
    if sys.platform.startswith("linux"):
        tid = threading.get_native_id()
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) < _BACKGROUND_NICE:
                os.setpriority(os.PRIO_PROCESS, tid, _BACKGROUND_NICE)
        except OSError as exc:  # a sandbox may forbid it: the work still runs, only less politely
            logger.warning("cannot lower the priority of worker thread %d: %s", tid, exc)


class _Runnable(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self._job = job

    def run(self) -> None:
        _lower_this_thread_priority()
        self._job._run_in_worker()


class Job(QObject):
    """Base of every background job; subclasses implement :meth:`_work` (see module docstring)."""

    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, description: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job_id = uuid.uuid4().hex
        self.description = description
        self._token = CancelToken()
        self._finished = threading.Event()
        self._started = False
        self._delete_requested = False  # see _release_step

    @property
    def cancel_requested(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._token.cancelled

    def start(self) -> None:
        """Run the job on the global thread pool. A job runs once.

        Raises:
            RuntimeError: the job was started before.
        """
        if self._started:
            raise RuntimeError(f"job {self.description!r} was already started")
        self._started = True
        QThreadPool.globalInstance().start(_Runnable(self))

    def cancel(self) -> None:
        """Ask the work to stop at its next checkpoint; ``cancelled`` follows unless it finished."""
        self._token.cancel()

    def wait(self, timeout_s: float) -> bool:
        """Block until done (for shutdown only); ``True`` if it finished in time."""
        return self._finished.wait(timeout_s) if self._started else True

    def release(self) -> None:
        """Hand this finished job to the GUI thread's release: see :func:`_release_step`.

        Call it on the GUI thread from a slot of a final signal, instead of ``deleteLater``.
        """
        _RELEASING[self.job_id] = self
        _release_step(self.job_id)

    def _work(self, progress: ProgressSink, cancel: CancelToken) -> object:
        raise NotImplementedError

    def _run_in_worker(self) -> None:
        sink = ThrottledSink(self.progressed.emit, max_hz=10.0)
        try:
            self._token.raise_if_cancelled()
            # NOTE: no check after _work: each job checks at its own last checkpoint, before it
            # commits to the database; a cancel that comes later cannot undo a committed write.
            value = self._work(sink, self._token)
        except JobCancelled:
            logger.info("%s cancelled", self.description)
            self.cancelled.emit()
        except Exception as exc:
            logger.exception("%s failed", self.description)
            self.failed.emit(describe_error(exc, self.description))
        else:
            self.succeeded.emit(value)
        finally:
            self._finished.set()


# Jobs handed to release() and not yet deleted by Qt, by id; GUI thread only (see below).
_RELEASING: dict[str, Job] = {}


def _release_step(job_id: str) -> None:
    """Delete a finished job on the GUI thread, and only when no thread can still be using it.

    A final signal's slot can run while the worker is still inside ``emit()``: Qt posts the
    signal to each receiver in turn, and the GUI thread may take the first before the last is
    posted (measured: in 440 of 1,000 cancelled jobs). Deleted then (``deleteLater`` in the
    tracker's slot, as before), the job lost the deliveries not yet posted (a listener connected
    after the tracker's never heard that the job ended: the GUI test that waits for
    ``cancelled`` timed out in about 1 full-suite run of 4) while the worker went on emitting
    from an object being destroyed. So: ``deleteLater`` once the worker has left its final
    ``emit()`` (``wait(0)``), and a strong reference held here until Qt has deleted the object,
    so that no thread dropping the last Python reference (the worker's runnable holds one until
    it returns) ever deletes it outside the GUI thread. Polled by timers of this thread.
    """
    job = _RELEASING.get(job_id)
    if job is None:  # released twice: the first chain of steps is done with it
        return
    if not shiboken6.isValid(job):  # Qt deleted it: the last references may go now
        del _RELEASING[job_id]
        return
    if job.wait(0) and not job._delete_requested:
        job._delete_requested = True
        job.deleteLater()
    QTimer.singleShot(_RELEASE_POLL_MS, partial(_release_step, job_id))


def describe_error(exc: BaseException, doing: str) -> str:
    """One clear sentence for the analyst about why ``doing`` failed (no traceback)."""
    if isinstance(exc, MediaError):
        return f"{doing} failed: {exc.reason}. File: {exc.path}"
    if isinstance(exc, EngineError | CaseStoreError):
        return f"{doing} failed: {exc}"
    if isinstance(exc, FileNotFoundError):
        return (f"{doing} failed: the file {exc.filename} does not exist any more. It may have "
                "been moved, renamed or deleted since it was added.")
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return (f"{doing} failed: the file could not be read or written{where}: "
                f"{exc.strerror or exc}")
    return (f"{doing} failed because of an unexpected internal error ({type(exc).__name__}: "
            f"{exc}). The details are in the application log.")


class ImportJob(Job):
    """Probe, hash and add files and folders to a case; succeeds with an ``ImportReport``."""

    def __init__(self, paths: Sequence[Path], case_id: int, access: StoreAccess,
                 parent: QObject | None = None, *, reader: ReaderLike | None = None) -> None:
        super().__init__("Importing evidence", parent)
        self._paths = tuple(paths)
        self._case_id = case_id
        self._access = access
        self._reader = reader

    def _work(self, progress: ProgressSink, cancel: CancelToken) -> object:
        return run_import(self._paths, self._case_id, access=self._access, progress=progress,
                          cancel=cancel, reader=self._reader)


class PreloadJob(Job):
    """Build the analyzer (load every detector) before the first analysis needs it.

    Loading imports MediaPipe and ONNX Runtime and reads the weights; Python imports hold the
    GIL for long stretches, which would stall the window in the middle of the first analysis.
    Done at start-up instead, while the analyst opens a case. Succeeds with ``None``.
    """

    def __init__(self, holder: AnalyzerHolder, parent: QObject | None = None) -> None:
        super().__init__("Loading the detectors", parent)
        self._holder = holder

    def _work(self, progress: ProgressSink, cancel: CancelToken) -> object:
        # NOTE: no garbage collection here: see forensic_gui.gc_policy (the controller freezes
        # the loaded objects on the GUI thread when this job succeeds).
        progress(Progress("load", 0, 1, "Loading the detectors"))
        self._holder.get()
        progress(Progress("load", 1, 1, "Detectors ready"))
        return None


class HashJob(Job):
    """Compute one file's SHA-256; succeeds with the hex digest."""

    def __init__(self, path: str, parent: QObject | None = None) -> None:
        super().__init__(f"Checking the SHA-256 of {Path(path).name}", parent)
        self._path = path

    def _work(self, progress: ProgressSink, cancel: CancelToken) -> object:
        return api.sha256_file(self._path, progress=progress, cancel=cancel)


class AnalysisJob(Job):
    """Re-check the hash, analyse one evidence file, render key frames, store the analysis.

    Succeeds with an ``AnalysisOutcome`` (``result is None`` when the hash check failed).
    """

    def __init__(self, request: AnalysisRequest, holder: AnalyzerHolder, access: StoreAccess,
                 *, key_frame_count: int, map_labels: Mapping[str, str],
                 parent: QObject | None = None, reader: ReaderLike | None = None) -> None:
        super().__init__(f"Analysing {request.file_name}", parent)
        self.request = request
        self._holder = holder
        self._access = access
        self._key_frame_count = key_frame_count
        self._map_labels = dict(map_labels)
        self._reader = reader

    def _work(self, progress: ProgressSink, cancel: CancelToken) -> object:
        return run_analysis(self.request, access=self._access, get_analyzer=self._holder.get,
                            key_frame_count=self._key_frame_count, map_labels=self._map_labels,
                            progress=progress, cancel=cancel, reader=self._reader)


class ExportJob(Job):
    """Write a case's PDF report; succeeds with the report's ``ReportSummary``.

    The report re-hashes every evidence file, which is the slow part: the job hands it a hashing
    function that reports progress and honours Cancel. The worker uses its own store
    (:class:`StoreAccess`). The report file is written atomically by the report builder, so a
    cancelled export leaves no file.
    """

    def __init__(self, case_id: int, out_path: Path, access: StoreAccess, *, n_items: int,
                 parent: QObject | None = None) -> None:
        super().__init__(f"Exporting the report {out_path.name}", parent)
        self._case_id = case_id
        self._out_path = out_path
        self._access = access
        self._n_steps = n_items + 1

    def _work(self, progress: ProgressSink, cancel: CancelToken) -> object:
        hashed: list[Path] = []

        def sha256_fn(path: Path, /, *, progress: ProgressSink | None = None,
                      cancel: CancelToken | None = None) -> str:
            # NOTE: the builder passes no sink or token; this job's own are used instead.
            report_progress(Progress("export", len(hashed), self._n_steps,
                                     f"Re-checking the SHA-256 of {path.name}"))
            hashed.append(path)
            return api.sha256_file(path, cancel=job_cancel)

        # NOTE: imported here: reportlab costs about a second of start-up and is only needed now.
        from forensic_gui.cases.report_pdf import build_case_report

        report_progress, job_cancel = progress, cancel
        with self._access.open() as store:
            summary = build_case_report(store, self._case_id, self._out_path,
                                        actor=self._access.actor, sha256_fn=sha256_fn)
        progress(Progress("export", self._n_steps, self._n_steps, "Report written"))
        return summary


class FrameJob(Job):
    """Decode one frame and its heatmaps for the frame view; succeeds with a ``FrameImage``."""

    def __init__(self, path: str, frame_idx: int, faces: Sequence[FaceScore],
                 parent: QObject | None = None, *, reader: ReaderLike | None = None,
                 view_filter: ViewFilter | None = None,
                 picture_maps: Mapping[str, np.ndarray] | None = None) -> None:
        super().__init__(f"Reading frame {frame_idx}", parent)
        self.frame_idx = frame_idx
        self._path = path
        self._faces = tuple(faces)
        self._reader = reader
        self._view_filter = view_filter
        self._picture_maps = dict(picture_maps or {})

    def _work(self, progress: ProgressSink, cancel: CancelToken) -> object:
        return load_frame(self._path, self.frame_idx, self._faces, cancel=cancel,
                          reader=self._reader, view_filter=self._view_filter,
                          picture_maps=self._picture_maps)


class FrameLoader(QObject):
    """Loads frames for the frame view one at a time, keeping only the newest request.

    Dragging the timeline cursor asks for many frames a second; decoding each would queue up.
    While one frame is being decoded, later requests replace each other, so the view always
    ends on the last frame asked for and never decodes frames nobody will see.
    """

    frame_loaded = Signal(object)
    frame_failed = Signal(str)

    def __init__(self, parent: QObject | None = None, *,
                 reader: ReaderLike | None = None) -> None:
        super().__init__(parent)
        self._job: FrameJob | None = None
        self._pending: tuple[str, int, tuple[FaceScore, ...], ViewFilter | None,
                             Mapping[str, np.ndarray]] | None = None
        self._reader = reader

    @property
    def busy(self) -> bool:
        """Whether a frame is being decoded."""
        return self._job is not None

    def request(self, path: str, frame_idx: int, faces: Sequence[FaceScore],
                view_filter: ViewFilter | None = None,
                picture_maps: Mapping[str, np.ndarray] | None = None) -> None:
        """Ask for ``frame_idx`` of ``path`` (and a filter); ``frame_loaded`` brings it.

        ``picture_maps`` are the frame's whole-picture heatmaps (``FrameResult.picture_maps``).
        """
        self._pending = (path, frame_idx, tuple(faces), view_filter, dict(picture_maps or {}))
        if self._job is None:
            self._start_pending()

    def shutdown(self, timeout_s: float) -> None:
        """Drop pending requests, cancel the running one and wait for it."""
        self._pending = None
        if self._job is not None:
            self._job.cancel()
            self._job.wait(timeout_s)

    def _start_pending(self) -> None:
        if self._pending is None:
            return
        path, frame_idx, faces, view_filter, picture_maps = self._pending
        self._pending = None
        job = FrameJob(path, frame_idx, faces, reader=self._reader, view_filter=view_filter,
                       picture_maps=picture_maps)
        job.succeeded.connect(self._on_job_succeeded)
        job.failed.connect(self._on_job_failed)
        job.cancelled.connect(self._on_job_cancelled)
        self._job = job
        job.start()

    def _finish_job(self) -> None:
        if self._job is not None:
            self._job.release()
        self._job = None
        self._start_pending()

    @Slot(object)
    def _on_job_succeeded(self, frame: object) -> None:
        # NOTE: shown even when a newer request waits: while the cursor is dragged the view
        # then follows it at decoding speed instead of freezing until the drag ends.
        self.frame_loaded.emit(frame)
        self._finish_job()

    @Slot(str)
    def _on_job_failed(self, message: str) -> None:
        self.frame_failed.emit(message)
        self._finish_job()

    @Slot()
    def _on_job_cancelled(self) -> None:
        self._finish_job()
