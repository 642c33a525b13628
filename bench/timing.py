"""The timing loop the per-face benchmarks share: warm-up calls, then the median of timed calls.

Scripts in bench/ import it as a sibling module (``python bench/<script>.py`` puts bench/ first
on ``sys.path``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_ms_per_item(call: Callable[[], object], n_items: int, repeats: int,
                       *, warmup: int = 3) -> float:
    """Median wall milliseconds of ``call()`` over ``repeats`` runs, divided by ``n_items``.

    The ``warmup`` calls before (allocator, thread pool, kernel selection) are not timed.
    """
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / n_items * 1000.0
