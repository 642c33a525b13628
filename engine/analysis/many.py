"""Many files through one pipeline, a few at a time, results in input order.

One file's analysis alternates stages that cannot use both cores well: MediaPipe's face graphs
run on one core, and a batch of one face crop keeps ONNX Runtime's two threads only partly
busy. With three files in flight, one file's face stage overlaps the others' detectors, so a
folder of photos goes through about 40% faster (docs/PERFORMANCE.md) with the same models in
memory: the face detector serialises itself with a lock and ONNX Runtime sessions may be run
from several threads at once. Every result is still computed by ``AnalysisPipeline.analyze``
alone, so it is the same as in a one-at-a-time run.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from engine.jobs import Progress, ProgressSink
from engine.types import MediaResult

__all__ = ["DEFAULT_WORKERS", "analyze_in_order", "locked_sink"]

DEFAULT_WORKERS = 3
"""Files in flight at once. Measured on 2 cores (64 face photos, four detectors): 1 -> 11.0,
2 -> 14.3, 3 -> 15.7 images/s; more only adds memory (docs/PERFORMANCE.md)."""


def locked_sink(sink: ProgressSink) -> ProgressSink:
    """``sink`` made safe to call from several threads (reports are delivered one at a time)."""
    lock = threading.Lock()

    def call(progress: Progress) -> None:
        with lock:
            sink(progress)

    return call


def analyze_in_order(
    analyze_one: Callable[[str], MediaResult], paths: Sequence[str], *, workers: int
) -> Iterator[MediaResult]:
    """Yield ``analyze_one(path)`` for every path, in order, with up to ``workers`` running.

    At most ``workers`` files are started ahead of the one being yielded, so memory stays
    bounded on long folders. An exception of one file (``JobCancelled`` included) is raised
    when its turn comes; the files not yet started are then not started, and the running
    ones are waited for (they see the same cancel token) before the exception propagates.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if workers == 1 or len(paths) < 2:
        for path in paths:
            yield analyze_one(path)
        return
    pending: deque[Future[MediaResult]] = deque()
    todo = iter(paths)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="analyze") as pool:
        try:
            for path in todo:
                pending.append(pool.submit(analyze_one, path))
                if len(pending) >= workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
