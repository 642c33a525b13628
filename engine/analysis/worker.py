"""The worker process of the analysis pool: models loaded once, then one request at a time.

Started by :mod:`engine.analysis.pool` as a fresh interpreter (no threads, locks or Qt state
copied from the caller, and the caller's main script is not imported again, as
``multiprocessing``'s spawn would), talking over a socket whose descriptor it is given. It
receives ``("spec", WorkerSpec)``, builds the pipeline, answers ``("ready", names, provenance)`` or
``("setup_error", exception)``, and then serves requests::

    parent -> worker: ("analyze", job_id, path, expected_sha256) | ("probe", job_id, path)
                      | ("frame", job_id, path, frame_idx) | ("cancel", job_id) | ("stop",)
    worker -> parent: ("progress", job_id, Progress) | ("done", job_id, value)
                      | ("media_error", job_id, MediaError) | ("setup_error", exception)
                      | ("cancelled", job_id) | ("failed", job_id, type_name, text)
                      | ("log", logger_name, level, message)

A reader thread receives while the main thread works, so a cancel reaches the running job's
``CancelToken``; when the pipe closes (the caller exited or was killed) the worker exits at
once. The worker ignores SIGINT: a Ctrl-C in a terminal reaches the whole process group, and
the caller decides what to stop.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import signal
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from engine.errors import MediaError
from engine.jobs import CancelToken, JobCancelled, ThrottledSink

__all__ = ["WORKER_FLAG", "WorkerSpec", "main", "worker_main"]

WORKER_FLAG = "--engine-analysis-worker"
"""First argument that makes a frozen application run as a worker (see ``pool.worker_command``)."""

# NOTE: the pipeline reports every frame and detector batch; 20 Hz is plenty for a progress
# bar and keeps a fast photo batch from spending its time pickling reports.
_PROGRESS_HZ = 20.0


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to build its pipeline (pickled to the new process).

    Attributes:
        options: the ``engine.api.AnalysisOptions``; ``None`` for a reader that only probes
            files and decodes frames (no models loaded).
        detector_factory: the test seam, or ``None`` for the shipped detectors; must pickle.
        face_detector: the test seam, or ``None`` for MediaPipe Face Mesh; must pickle.
        log_level: records at or above it are forwarded to the caller's logging.
    """

    options: Any
    detector_factory: Any = None
    face_detector: Any = None
    log_level: int = logging.WARNING


class _Channel:
    """The worker's end of the pipe; sends are serialised (logging may come from any thread)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> None:
        with self._lock:
            self._conn.send(message)


class _ForwardHandler(logging.Handler):
    def __init__(self, channel: _Channel) -> None:
        super().__init__()
        self._channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        # the caller may be gone; the worker then exits on its own
        with contextlib.suppress(OSError, ValueError):
            self._channel.send(("log", record.name, record.levelno, record.getMessage()))


def main(argv: list[str]) -> int:
    """``python -c ... FD``: serve the caller on descriptor ``FD`` (see ``pool.worker_command``)."""
    conn = Connection(int(argv[0]))
    try:
        message = conn.recv()
    except (EOFError, OSError):
        return 0
    if message[0] != "spec":
        return 2
    worker_main(conn, message[1])
    return 0


def worker_main(conn: Connection, spec: WorkerSpec) -> None:
    """Entry point of a worker process (see the module docstring)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    channel = _Channel(conn)
    root = logging.getLogger()
    root.setLevel(spec.log_level)
    root.addHandler(_ForwardHandler(channel))
    pipeline = None  # a reader (no options): probes and frames only, no models
    if spec.options is not None:
        from engine.analysis.build import build_pipeline

        try:
            pipeline = build_pipeline(spec.options, detector_factory=spec.detector_factory,
                                      face_detector=spec.face_detector)
        except Exception as exc:  # noqa: BLE001 - sent to the caller, which raises it as its own
            channel.send(("setup_error", _portable(exc)))
            return
    detectors = pipeline.detectors if pipeline is not None else ()
    channel.send(("ready", tuple(d.name for d in detectors),
                  tuple(d.provenance for d in detectors)))
    _serve(conn, channel, pipeline)


def _serve(conn: Connection, channel: _Channel, pipeline: Any) -> None:
    requests: queue.Queue[tuple[Any, ...] | None] = queue.Queue()
    running: dict[str, Any] = {"job_id": None, "token": None}
    lock = threading.Lock()

    def read() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                os._exit(0)  # the caller is gone: nothing to report to
            if message[0] == "cancel":
                with lock:
                    if running["job_id"] == message[1]:
                        running["token"].cancel()
            elif message[0] == "stop":
                requests.put(None)
                return
            else:
                requests.put(message)

    threading.Thread(target=read, name="pool-reader", daemon=True).start()
    while (request := requests.get()) is not None:
        token = CancelToken()
        with lock:
            running["job_id"], running["token"] = request[1], token
        channel.send(_answer(request, pipeline, channel, token))
        with lock:
            running["job_id"] = None
    if pipeline is not None:
        pipeline.close()


def _answer(request: tuple[Any, ...], pipeline: Any, channel: _Channel,
            token: CancelToken) -> tuple[Any, ...]:
    op, job_id, *args = request
    sink = ThrottledSink(lambda p: channel.send(("progress", job_id, p)), max_hz=_PROGRESS_HZ)
    try:
        return ("done", job_id, _run(op, args, pipeline, sink, token))
    except JobCancelled:
        return ("cancelled", job_id)
    except (MediaError, IndexError) as exc:  # the caller raises these as they are
        return ("media_error", job_id, _portable(exc))
    except Exception as exc:  # one request's failure must not end the worker
        logging.getLogger(__name__).exception("%s failed", op)
        return ("failed", job_id, type(exc).__name__, str(exc))


def _run(op: str, args: list[Any], pipeline: Any, sink: Any, token: CancelToken) -> Any:
    from engine.analysis import media_io

    if op == "analyze":
        if pipeline is None:
            raise ValueError("this worker only reads media (it has no models)")
        path, expected_sha256 = args
        return pipeline.analyze(path, expected_sha256=expected_sha256, progress=sink,
                                cancel=token)
    if op == "probe":
        return media_io.probe(args[0])
    if op == "frame":
        return media_io.read_one_frame(args[0], args[1])
    raise ValueError(f"unknown request {op!r}")



def _portable(exc: Exception) -> Exception:
    """``exc`` if it survives pickling (engine errors do), else a RuntimeError that says it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any failure to round-trip: send its words instead
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
