"""Where ``engine.api.Analyzer`` runs its work: a pool of worker processes, or this process.

:class:`PoolBackend` is what the CLI and the app use (see :mod:`engine.isolation`):
a crash, hang or runaway allocation while reading or analysing one file becomes that file's
error, and the caller lives on. :class:`InProcessBackend` runs the same pipeline in the calling
process; it exists for the test seams (fake detectors and face finders built in a test, often
closures, which cannot be sent to another process) and for code that already runs inside a
worker. Both give the same results for the same file.
"""

from __future__ import annotations

import logging
import pickle
from typing import TYPE_CHECKING, Any

from engine.errors import AnalysisAbortedError
from engine.isolation import IsolationSettings
from engine.jobs import CancelToken, JobCancelled, ProgressSink, null_sink
from engine.types import Frame, MediaInfo, MediaResult

if TYPE_CHECKING:
    from engine.analysis.pool import Outcome

__all__ = ["InProcessBackend", "PoolBackend", "in_process_frame", "in_process_probe"]

log = logging.getLogger(__name__)


class InProcessBackend:
    """The pipeline in the calling process (no isolation)."""

    def __init__(self, options: Any, *, detector_factory: Any, face_detector: Any) -> None:
        from engine.analysis.build import build_pipeline

        self._pipeline = build_pipeline(options, detector_factory=detector_factory,
                                        face_detector=face_detector)

    @property
    def detector_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self._pipeline.detectors)

    @property
    def detector_provenance(self) -> tuple[Any, ...]:
        return tuple(d.provenance for d in self._pipeline.detectors)

    def files_in_flight(self, requested: int | None) -> int:
        from engine.analysis.many import DEFAULT_WORKERS

        return DEFAULT_WORKERS if requested is None else requested

    def analyze(self, path: str, expected_sha256: str | None, progress: ProgressSink,
                cancel: CancelToken | None) -> MediaResult:
        return self._pipeline.analyze(path, expected_sha256=expected_sha256, progress=progress,
                                      cancel=cancel)

    def probe(self, path: str, cancel: CancelToken | None = None) -> MediaInfo:
        return in_process_probe(path, cancel)

    def read_frame(self, path: str, frame_idx: int,
                   cancel: CancelToken | None = None) -> Frame:
        return in_process_frame(path, frame_idx, cancel)

    def close(self) -> None:
        self._pipeline.close()


def in_process_probe(path: str, cancel: CancelToken | None = None) -> MediaInfo:
    """``media_io.probe`` in this process (``cancel`` is checked before it starts)."""
    from engine.analysis.media_io import probe

    if cancel is not None:
        cancel.raise_if_cancelled()
    return probe(path)


def in_process_frame(path: str, frame_idx: int, cancel: CancelToken | None = None) -> Frame:
    """``media_io.read_one_frame`` in this process (``cancel`` is checked before it starts)."""
    from engine.analysis.media_io import read_one_frame

    if cancel is not None:
        cancel.raise_if_cancelled()
    return read_one_frame(path, frame_idx)


class PoolBackend:
    """Every request in a worker process of an :class:`engine.analysis.pool.WorkerPool`.

    Raises:
        ValueError: a test seam cannot be sent to a worker process (run it in-process).
        The exception loading the models raised in a worker (``WeightsIntegrityError``, ...).
    """

    def __init__(self, options: Any, settings: IsolationSettings, *, detector_factory: Any,
                 face_detector: Any) -> None:
        from engine.analysis.pool import WorkerPool
        from engine.analysis.worker import WorkerSpec

        spec = WorkerSpec(options, detector_factory, face_detector,
                          log_level=logging.getLogger().getEffectiveLevel())
        _check_portable(spec)
        self._pool = WorkerPool(spec, settings)

    @property
    def detector_names(self) -> tuple[str, ...]:
        return self._pool.detector_names

    @property
    def detector_provenance(self) -> tuple[Any, ...]:
        return self._pool.detector_provenance  # type: ignore[no-any-return]

    @property
    def pool(self) -> Any:
        """The worker pool (the bench and the tests read its workers' process ids)."""
        return self._pool

    def files_in_flight(self, requested: int | None) -> int:
        n_workers = self._pool.settings.n_workers
        return n_workers if requested is None else max(1, min(requested, n_workers))

    def analyze(self, path: str, expected_sha256: str | None, progress: ProgressSink,
                cancel: CancelToken | None) -> MediaResult:
        outcome = self._pool.call(("analyze", path, expected_sha256), progress, cancel)
        if outcome.kind == "done":
            result: MediaResult = outcome.value
            return result
        if outcome.kind == "cancelled":
            raise JobCancelled
        if outcome.kind == "media_error":
            return MediaResult(path, "error", None, None, error=str(outcome.value))
        if outcome.kind == "failed":
            log.error("unexpected failure analysing %s: %s", path, outcome.message)
            return MediaResult(path, "error", None, None,
                               error=f"internal error: {outcome.message}")
        log.warning("analysis of %s ended by the pool: %s", path, outcome.message)
        return MediaResult(path, "error", None, None, error=outcome.message)

    def probe(self, path: str, cancel: CancelToken | None = None) -> MediaInfo:
        info: MediaInfo = self._value(path, self._pool.call(("probe", path), null_sink, cancel))
        return info

    def read_frame(self, path: str, frame_idx: int,
                   cancel: CancelToken | None = None) -> Frame:
        frame: Frame = self._value(path, self._pool.call(("frame", path, frame_idx),
                                                         null_sink, cancel))
        return frame

    def close(self) -> None:
        self._pool.close()

    @staticmethod
    def _value(path: str, outcome: Outcome) -> Any:
        if outcome.kind == "done":
            return outcome.value
        if outcome.kind == "media_error":
            raise outcome.value
        if outcome.kind == "cancelled":
            raise JobCancelled
        if outcome.kind == "failed":
            raise AnalysisAbortedError(path, f"Internal error while reading the file: "
                                       f"{outcome.message}")
        raise AnalysisAbortedError(path, outcome.message)


def _check_portable(spec: Any) -> None:
    try:
        pickle.dumps(spec)
    except Exception as exc:  # any pickling failure means the same thing here
        raise ValueError(
            "a test seam (detector_factory or face_detector) cannot be sent to a worker "
            f"process ({exc}); pass isolation=None to run the analyses in this process"
        ) from exc
