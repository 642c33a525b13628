"""A pool of analysis worker processes, supervised from the calling threads.

Each :class:`WorkerProcess` runs :func:`engine.analysis.worker.worker_main` in a fresh
interpreter (``spawn``) with its own models. :meth:`WorkerPool.call` lends an idle worker to the
calling thread, which sends one request and then supervises it until it ends, every
``_POLL_S``: progress reports are passed to the caller's sink; the worker's death (a segfault
or abort in native code), the file's time budget, the worker's resident memory and the
caller's cancel are checked. A worker that died, overran or grew too large is killed and
started again before it is lent next; the request ends as an :class:`Outcome` that says what
happened, never as a hang or as the caller's own death.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from engine.analysis.native_chatter import start_relay
from engine.analysis.worker import WORKER_FLAG, WorkerSpec
from engine.errors import EngineError
from engine.isolation import (
    IsolationSettings,
    crash_message,
    memory_message,
    resident_bytes,
    timeout_message,
)
from engine.jobs import CancelToken, JobCancelled, Progress, ProgressSink

__all__ = ["Outcome", "WorkerPool", "WorkerStartError"]

log = logging.getLogger(__name__)

# NOTE: 0.1 s between checks: a cancel or a crash is noticed within a tenth of a second, and
# the supervising thread costs well under 1% of a core.
_POLL_S = 0.1
_MEMORY_EVERY_S = 0.2
_STOP_WAIT_S = 2.0


class WorkerStartError(EngineError):
    """A worker process died or took too long while it loaded the models."""


@dataclass(frozen=True)
class Outcome:
    """How one request ended.

    Attributes:
        kind: ``"done"`` (``value`` holds the answer), ``"media_error"`` (``value`` holds
            the ``MediaError`` the worker raised), ``"failed"`` (an unexpected exception in the
            worker; ``message`` names it), ``"cancelled"``, ``"crashed"``, ``"timeout"`` or
            ``"memory"`` (``message`` says what happened, for the analyst).
    """

    kind: str
    value: Any = None
    message: str = ""


class WorkerProcess:
    """One worker process and the parent's end of its pipe. Used by one thread at a time."""

    def __init__(self, spec: WorkerSpec, settings: IsolationSettings) -> None:
        parent_end, child_end = socket.socketpair()
        try:
            self._process = subprocess.Popen(
                worker_command(child_end.fileno()),
                pass_fds=(child_end.fileno(),),
                stdin=subprocess.DEVNULL,
                # NOTE: never the caller's stdout (the JSON lines): both go through a relay to
                # the caller's stderr that drops MediaPipe's and TFLite's start-up chatter.
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                close_fds=True,
            )
        finally:
            child_end.close()
        assert self._process.stdout is not None
        start_relay(self._process.stdout, _stray_output_target(),
                    keep_all=spec.log_level <= logging.DEBUG,
                    name=f"worker-{self._process.pid}-output")
        self._conn = Connection(parent_end.detach())
        self._settings = settings
        self._job_ids = itertools.count(1)
        self.detector_names: tuple[str, ...] = ()
        self.detector_provenance: tuple[Any, ...] = ()
        self.stopping = False
        self._send(("spec", spec))

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self._process.pid

    @property
    def alive(self) -> bool:
        """Whether the process runs."""
        return self._process.poll() is None

    def wait_ready(self) -> tuple[str, ...]:
        """Wait until the models are loaded; the detectors' names.

        Raises:
            Exception: the one that loading the models raised in the worker (for example
                ``WeightsIntegrityError`` or ``UnknownDetectorError``).
            WorkerStartError: the worker died or took too long.
        """
        deadline = time.monotonic() + self._settings.start_timeout_s
        while time.monotonic() < deadline:
            if self.poll(_POLL_S):
                message = self._receive()
                if message is None:
                    break
                if message[0] == "ready":
                    self.detector_names = tuple(message[1])
                    self.detector_provenance = tuple(message[2])
                    return self.detector_names
                if message[0] == "setup_error":
                    self.kill()
                    raise message[1]
                _forward_log(message)
            elif not self.alive:
                break
        self.kill()
        raise WorkerStartError(f"The analysis worker could not start: it exited with status "
                               f"{self._process.returncode} or took longer than "
                               f"{self._settings.start_timeout_s:g} s to load the models")

    def call(self, request: tuple[Any, ...], progress: ProgressSink,
             cancel: CancelToken | None) -> Outcome:
        """Send ``(op, *args)`` and supervise it until it ends (see the module docstring)."""
        job_id = next(self._job_ids)
        if not self._send((request[0], job_id, *request[1:])):
            return Outcome("crashed", message=crash_message(self._exitcode(), None))
        return _Supervision(self, job_id, progress, cancel).run()

    def kill(self) -> None:
        """End the process now (SIGKILL), reap it and close the pipe."""
        if self.alive:
            self._process.kill()
        self.join(_STOP_WAIT_S)
        self._conn.close()

    def request_stop(self) -> None:
        """Ask the worker to exit after its current request (see :meth:`join`)."""
        self.stopping = True
        self._send(("stop",))

    def join(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for the process to exit."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout_s)

    def _send(self, message: tuple[Any, ...]) -> bool:
        try:
            self._conn.send(message)
        except (OSError, ValueError):
            return False
        return True

    def poll(self, timeout_s: float) -> bool:
        """Whether a message (or the end of the pipe) can be read within ``timeout_s``."""
        try:
            return self._conn.poll(timeout_s)
        except (OSError, ValueError):
            return True  # closed (killed by another thread): the read that follows says so

    def _receive(self) -> tuple[Any, ...] | None:
        try:
            message: tuple[Any, ...] = self._conn.recv()
        except (EOFError, OSError):
            return None
        return message

    def _exitcode(self) -> int | None:
        self.join(_STOP_WAIT_S)
        return self._process.returncode


class _Supervision:
    """One request, watched from the calling thread until it ends."""

    def __init__(self, worker: WorkerProcess, job_id: int, progress: ProgressSink,
                 cancel: CancelToken | None) -> None:
        self.worker = worker
        self.job_id = job_id
        self.progress = progress
        self.cancel = cancel
        self.stage: str | None = None
        self.started = time.monotonic()
        self.cancel_sent_at: float | None = None
        self.memory_checked = 0.0

    def run(self) -> Outcome:
        w = self.worker
        while True:
            if w.poll(_POLL_S):
                message = w._receive()
                if message is None:
                    return self._crashed()
                outcome = self._handle(message)
                if outcome is not None:
                    return outcome
                continue
            if not w.alive:
                return self._crashed()
            outcome = self._check_limits()
            if outcome is not None:
                return outcome

    def _handle(self, message: tuple[Any, ...]) -> Outcome | None:
        kind = message[0]
        if kind == "log":
            _forward_log(message)
            return None
        if message[1] != self.job_id:
            return None  # a late report of an earlier, cancelled request
        if kind == "progress":
            report: Progress = message[2]
            self.stage = report.stage
            self.progress(report)
            return None
        if kind == "done":
            return Outcome("done", message[2])
        if kind == "media_error":
            return Outcome("media_error", message[2])
        if kind == "cancelled":
            return Outcome("cancelled")
        return Outcome("failed", message=f"{message[2]}: {message[3]}")

    def _check_limits(self) -> Outcome | None:
        now = time.monotonic()
        settings = self.worker._settings
        if self.cancel is not None and self.cancel.cancelled:
            if self.cancel_sent_at is None:
                self.cancel_sent_at = now
                self.worker._send(("cancel", self.job_id))
            elif now - self.cancel_sent_at > settings.cancel_grace_s:
                log.info("worker %s did not stop within %.1f s of the cancel: killed",
                         self.worker.pid, settings.cancel_grace_s)
                self.worker.kill()
                return Outcome("cancelled")
        if now - self.started > settings.time_budget_s:
            self.worker.kill()
            return Outcome("timeout", message=timeout_message(settings.time_budget_s, self.stage))
        if now - self.memory_checked >= _MEMORY_EVERY_S:
            self.memory_checked = now
            rss = resident_bytes(self.worker.pid or 0)
            if rss is not None and rss > settings.memory_ceiling_bytes:
                self.worker.kill()
                return Outcome("memory", message=memory_message(settings.memory_ceiling_bytes,
                                                                rss, self.stage))
        return None

    def _crashed(self) -> Outcome:
        if self.worker.stopping:  # the pool is being closed: the caller is going away
            self.worker.kill()
            return Outcome("cancelled")
        exitcode = self.worker._exitcode()
        log.warning("analysis worker %s died (exit code %s) in stage %r", self.worker.pid,
                    exitcode, self.stage)
        self.worker.kill()
        return Outcome("crashed", message=crash_message(exitcode, self.stage))


def worker_command(fd: int) -> list[str]:
    """The command line of a worker process that talks over descriptor ``fd``.

    A fresh interpreter runs :func:`engine.analysis.worker.main` with this process's
    ``sys.path`` (so it imports this very engine, and the modules of a test seam, whatever the
    working directory). An application frozen by PyInstaller has no interpreter to run: its
    executable is started with ``WORKER_FLAG`` and its entry script hands over to
    ``engine.api.run_worker_process`` (forensic_gui/__main__.py).
    """
    if getattr(sys, "frozen", False):
        return [sys.executable, WORKER_FLAG, str(fd)]
    boot = ("import sys; sys.path[:] = __import__('json').loads(sys.argv[1]); "
            "from engine.analysis.worker import main; sys.exit(main(sys.argv[2:]))")
    return [sys.executable, "-c", boot, json.dumps(_import_roots()), str(fd)]


def _import_roots() -> list[str]:
    """This process's ``sys.path`` without package folders that put themselves on it.

    OpenCV's loader adds ``site-packages/cv2`` to ``sys.path``; in a fresh interpreter that
    entry would make ``cv2/typing`` shadow the standard ``typing`` module.
    """
    return [p for p in sys.path if not os.path.isfile(os.path.join(p or ".", "__init__.py"))]


def _stray_output_target() -> int | None:
    """Where a worker's own output goes: the caller's stderr, else nowhere (``None``)."""
    try:
        return sys.__stderr__.fileno()  # type: ignore[union-attr]
    except (AttributeError, OSError, ValueError):
        return None


def _forward_log(message: tuple[Any, ...]) -> None:
    if message[0] == "log":
        _, name, level, text = message
        logging.getLogger(name).log(level, "%s", text)


class WorkerPool:
    """``settings.n_workers`` workers built from ``spec``; see the module docstring.

    Raises:
        Exception: what loading the models raised in a worker (see ``WorkerProcess``).
    """

    def __init__(self, spec: WorkerSpec, settings: IsolationSettings) -> None:
        self._spec = spec
        self.settings = settings
        self._idle: queue.Queue[WorkerProcess] = queue.Queue()
        self._all: list[WorkerProcess] = []
        self._lock = threading.Lock()
        self._closed = False
        started = [WorkerProcess(spec, settings) for _ in range(settings.n_workers)]
        self._all.extend(started)
        try:
            names = [w.wait_ready() for w in started]
        except BaseException:
            self.close()
            raise
        self.detector_names = names[0]
        self.detector_provenance = started[0].detector_provenance
        for worker in started:
            self._idle.put(worker)

    def call(self, request: tuple[Any, ...], progress: ProgressSink,
             cancel: CancelToken | None) -> Outcome:
        """Run one request on an idle worker (waiting for one) and return how it ended.

        Raises:
            Exception: the worker had to be restarted and could not load the models.
            JobCancelled: the pool was closed.
        """
        worker = self._idle.get()
        try:
            if self._closed:  # the caller is shutting down: like a cancel
                raise JobCancelled
            if not worker.alive:
                worker = self._replace(worker)
            return worker.call(request, progress, cancel)
        finally:
            self._idle.put(worker)

    def _replace(self, dead: WorkerProcess) -> WorkerProcess:
        dead.kill()
        fresh = WorkerProcess(self._spec, self.settings)
        with self._lock:
            self._all = [fresh if w is dead else w for w in self._all]
        log.info("analysis worker %s replaced by %s", dead.pid, fresh.pid)
        fresh.wait_ready()
        return fresh

    def worker_pids(self) -> list[int]:
        """Process ids of the workers (for tests and the bench)."""
        with self._lock:
            return [w.pid for w in self._all if w.pid is not None and w.alive]

    def close(self) -> None:
        """Stop every worker (killing those that do not stop within 2 s); idempotent.

        A request still running is ended: its supervising thread sees the worker die.
        """
        self._closed = True
        with self._lock:
            workers = [w for w in self._all if w.alive]
        for worker in workers:
            worker.request_stop()
        deadline = time.monotonic() + _STOP_WAIT_S
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
            worker.kill()
