"""Batches sized by measured time, so progress and cancellation stay under half a second.

Batching makes inference fast; a batch that runs too long makes the job deaf to a cancel and
silent to its progress bar. :class:`AdaptiveBatcher` therefore starts with one item, measures
the seconds per item, and sizes each next batch to about ``target_s`` of work. A single item
slower than the target cannot be split: that is the one case where a checkpoint comes late.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

from engine.jobs import CancelToken

__all__ = ["AdaptiveBatcher"]


class AdaptiveBatcher:
    """Splits ``n_items`` into consecutive ``(start, stop)`` batches of about ``target_s``.

    Args:
        target_s: wanted seconds of work per batch.
        max_batch: the most items per batch (bounds memory and per-batch latency).
        first_batch: items in the first batch, before any timing is known.
    """

    # NOTE: 0.25 s leaves half of the 0.5 s progress/cancel budget for timing noise.
    def __init__(self, target_s: float = 0.25, max_batch: int = 16, first_batch: int = 1) -> None:
        if target_s <= 0 or max_batch < 1 or first_batch < 1:
            raise ValueError("target_s must be > 0, max_batch and first_batch >= 1")
        self._target_s = target_s
        self._max_batch = max_batch
        self._first_batch = first_batch
        self._s_per_item: float | None = None

    def batches(self, n_items: int, cancel: CancelToken | None = None) -> Iterator[tuple[int, int]]:
        """Yield ``(start, stop)``; the caller's work between yields is timed.

        ``cancel.raise_if_cancelled()`` is called before every batch.
        """
        start = 0
        while start < n_items:
            if cancel is not None:
                cancel.raise_if_cancelled()
            stop = min(n_items, start + self._next_size())
            t0 = time.perf_counter()
            yield start, stop
            self._learn((time.perf_counter() - t0) / (stop - start))
            start = stop

    def run(
        self,
        n_items: int,
        work: Callable[[int, int], None],
        cancel: CancelToken | None = None,
    ) -> None:
        """Call ``work(start, stop)`` on every batch in order."""
        for start, stop in self.batches(n_items, cancel):
            work(start, stop)

    def _next_size(self) -> int:
        if self._s_per_item is None:
            return self._first_batch
        if self._s_per_item <= 0:
            return self._max_batch
        return max(1, min(self._max_batch, math.floor(self._target_s / self._s_per_item)))

    def _learn(self, s_per_item: float) -> None:
        # NOTE: an exponential average (weight 0.5 on the newest batch) follows a detector that
        # slows down (thermal throttling, a neighbour process) within one or two batches.
        prev = self._s_per_item
        self._s_per_item = s_per_item if prev is None else 0.5 * prev + 0.5 * s_per_item
