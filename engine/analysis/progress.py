"""Stage-by-stage progress and timings for one analysis.

Every unit of work (a decoded frame, a frame's faces, a detector batch) ends with a report, and
each unit is kept under about half a second, so a listener hears from the job at least every
half second of work. The caller's sink decides how often to show it (``ThrottledSink``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from engine.jobs import Progress, ProgressSink

__all__ = ["StageClock", "StageReporter"]


class StageReporter:
    """Sends ``Progress(stage, done, total, message)`` for the stage currently running."""

    def __init__(self, sink: ProgressSink, message: str = "") -> None:
        self._sink = sink
        self._message = message
        self._stage = ""
        self._total = 0

    def start(self, stage: str, total: int) -> None:
        """Begin ``stage`` with ``total`` units (0 when unknown) and report 0 done."""
        self._stage, self._total = stage, total
        self._sink(Progress(stage, 0, total, self._message))

    def update(self, done: int) -> None:
        """Report ``done`` units of the current stage finished."""
        self._sink(Progress(self._stage, done, self._total, self._message))


class StageClock:
    """Seconds spent per stage, summed over every time the stage ran, in first-run order."""

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}
        self._t0 = time.perf_counter()

    @contextmanager
    def time(self, stage: str) -> Iterator[None]:
        """Add the seconds spent inside the ``with`` block to ``stage``."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self._seconds[stage] = self._seconds.get(stage, 0.0) + time.perf_counter() - t0

    def add(self, stage: str, seconds: float) -> None:
        """Add ``seconds`` measured elsewhere to ``stage``."""
        self._seconds[stage] = self._seconds.get(stage, 0.0) + seconds

    def timings_s(self) -> tuple[tuple[str, float], ...]:
        """``((stage, seconds), ...)`` plus ``("total", seconds since creation)``."""
        stages = tuple((k, round(v, 6)) for k, v in self._seconds.items())
        return (*stages, ("total", round(time.perf_counter() - self._t0, 6)))
