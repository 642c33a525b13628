"""Measures how long the GUI event loop was blocked, so responsiveness is a number, not a feeling.

A :class:`QTimer` fires every 10 ms on the GUI thread. When the loop is free, consecutive ticks
are about 10 ms apart; a tick that comes late shows that something ran on the GUI thread for
that long. :attr:`StallMonitor.max_stall_ms` is the longest gap seen minus the interval. The
main window runs one monitor for each analysis; tests and the bench print the figure.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer, Slot

__all__ = ["StallMonitor"]

# NOTE: 10 ms is fine enough to see a 100 ms stall clearly and cheap (100 wake-ups a second).
_INTERVAL_MS = 10


class StallMonitor(QObject):
    """Records the longest event-loop stall between :meth:`start` and :meth:`stop`."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(_INTERVAL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._last_tick_s = 0.0
        self._max_gap_s = 0.0
        self._n_ticks = 0

    @property
    def running(self) -> bool:
        """Whether the monitor is measuring."""
        return self._timer.isActive()

    @property
    def max_stall_ms(self) -> float:
        """Longest time the loop was blocked beyond the timer interval, in milliseconds."""
        return max(0.0, self._max_gap_s * 1000.0 - _INTERVAL_MS)

    @property
    def n_ticks(self) -> int:
        """Ticks seen since :meth:`start` (a check that the loop ran at all)."""
        return self._n_ticks

    def start(self) -> None:
        """Reset the figures and start measuring."""
        self._last_tick_s = time.perf_counter()
        self._max_gap_s = 0.0
        self._n_ticks = 0
        self._timer.start()

    def stop(self) -> float:
        """Stop measuring, counting the time since the last tick; returns :attr:`max_stall_ms`."""
        if self._timer.isActive():
            self._record_tick()
            self._timer.stop()
        return self.max_stall_ms

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._record_tick()

    def _record_tick(self) -> None:
        now_s = time.perf_counter()
        self._max_gap_s = max(self._max_gap_s, now_s - self._last_tick_s)
        self._last_tick_s = now_s
        self._n_ticks += 1
