"""Progress reporting and cooperative cancellation for long engine jobs.

The engine is Qt-free: a job receives a :class:`ProgressSink` callable and a
:class:`CancelToken`. It calls ``cancel.raise_if_cancelled()`` at every batch boundary (at most
about half a second of work apart) and reports ``Progress`` at least that often. The GUI's
worker wraps both; the CLI wraps them in a progress bar.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["CancelToken", "JobCancelled", "Progress", "ProgressSink", "ThrottledSink", "null_sink"]


@dataclass(frozen=True)
class Progress:
    """One progress report: ``done`` of ``total`` units of ``stage`` are finished."""

    stage: str
    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        """Share of the stage that is done, in [0, 1]; 0 when the total is unknown."""
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0


ProgressSink = Callable[[Progress], None]


def null_sink(_progress: Progress) -> None:
    """A sink that ignores every report (the default when a caller wants none)."""


class JobCancelled(Exception):  # named as in superqt/Orange: cancelling is not an error
    """Raised inside a job when its token was cancelled. Callers map it to 'cancelled'."""


class CancelToken:
    """Thread-safe cancellation flag, set by the caller and polled by the job."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next checkpoint."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`JobCancelled` if cancellation was requested."""
        if self._event.is_set():
            raise JobCancelled


class ThrottledSink:
    """Forward reports to ``sink`` at most ``max_hz`` times a second.

    Stage changes and the final report of a stage always pass, so a listener never misses the
    start or the end of a stage (Orange throttles its progress the same way).
    """

    def __init__(self, sink: ProgressSink, max_hz: float = 10.0) -> None:
        self._sink = sink
        self._min_interval_s = 1.0 / max_hz
        self._last_t = 0.0
        self._last_stage: str | None = None

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        is_boundary = progress.stage != self._last_stage or progress.done >= progress.total
        if is_boundary or now - self._last_t >= self._min_interval_s:
            self._last_t = now
            self._last_stage = progress.stage
            self._sink(progress)
