"""How analyses are isolated from the caller: worker processes, budgets, and what a failure says.

Decoders (FFmpeg through OpenCV), MediaPipe's graphs and ONNX Runtime are native code: a
hostile or broken file can make them segfault, abort or loop, and in the caller's process that
ends the batch (the CLI) or the application (the app). So :class:`engine.api.Analyzer` runs
every analysis in a pool of worker processes (:mod:`engine.analysis.pool`), each with the models
loaded once, and gives each file a time budget and its worker a memory ceiling. A worker that
crashes, overruns or grows past the ceiling is killed and replaced; that file gets an error
result that says what happened, and the batch goes on.

This module holds the settings and the words; it imports nothing heavy.
"""

from __future__ import annotations

import math
import os
import signal
from dataclasses import dataclass

__all__ = [
    "DEFAULT_MEMORY_CEILING_BYTES",
    "DEFAULT_TIME_BUDGET_S",
    "IsolationSettings",
    "crash_message",
    "memory_message",
    "timeout_message",
]

# NOTE: 300 s is 50-100x what a 32-frame analysis of a 1080p clip takes on 2 busy cores (3-6 s);
# only a stuck decoder or a file far outside normal use reaches it (--timeout raises it).
DEFAULT_TIME_BUDGET_S = 300.0
# NOTE: a loaded worker holds about 0.6-0.9 GB (models, MediaPipe graphs, ONNX sessions) and the
# pipeline peaks at 1.3 GB on a 1080p clip with maps (docs/PERFORMANCE.md); 4 GiB leaves room
# for a 50 MP photo with maps, and stops a forged frame count long before it takes the machine
# (it grew to 7 GB before). Checked every 0.2 s on the worker's resident memory.
DEFAULT_MEMORY_CEILING_BYTES = 4 << 30


@dataclass(frozen=True)
class IsolationSettings:
    """How the worker pool runs.

    Attributes:
        n_workers: worker processes (each loads its own models; files in flight at most).
        time_budget_s: seconds one file may take before its worker is killed.
        memory_ceiling_bytes: resident memory a worker may reach before it is killed (Linux:
            read from ``/proc``; elsewhere not enforced, see docs/RELIABILITY.md).
        start_timeout_s: seconds a new worker may take to load the models.
        cancel_grace_s: seconds a worker gets to stop at its next checkpoint after a cancel
            before it is killed.
    """

    n_workers: int = 1
    time_budget_s: float = DEFAULT_TIME_BUDGET_S
    memory_ceiling_bytes: int = DEFAULT_MEMORY_CEILING_BYTES
    start_timeout_s: float = 600.0
    cancel_grace_s: float = 1.0

    def __post_init__(self) -> None:
        if self.n_workers < 1:
            raise ValueError(f"n_workers must be >= 1, got {self.n_workers}")
        for name in ("time_budget_s", "start_timeout_s", "cancel_grace_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value}")
        if self.memory_ceiling_bytes < 256 << 20:
            raise ValueError(
                f"memory_ceiling_bytes must be at least 256 MiB, got {self.memory_ceiling_bytes}"
            )


# Progress stages (see engine.analysis.progress) -> the part of the engine that was running.
_COMPONENT_BY_STAGE = (
    ("hash", "the file reader"),
    ("frames", "the decoder or the face finder (FFmpeg, OpenCV, MediaPipe)"),
    ("detector", "a detector runtime (ONNX Runtime)"),
)


def component_of(stage: str | None) -> str:
    """The part of the engine that ran during ``stage`` (the last progress report seen)."""
    if not stage:
        return "the decoder"  # before the first report: probing, i.e. opening the container
    for prefix, words in _COMPONENT_BY_STAGE:
        if stage.startswith(prefix):
            return words
    return "the analysis"


def crash_message(exitcode: int | None, stage: str | None) -> str:
    """One sentence for a worker that died while analysing a file."""
    if exitcode is not None and exitcode < 0:
        number = -exitcode
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = "unknown signal"
        how = f"signal {number}, {name}"
    else:
        how = f"exit status {exitcode}"
    return (f"{_capital(component_of(stage))} crashed on this file ({how}); the file is likely "
            "damaged or crafted to crash it. The other files were not affected.")


def timeout_message(budget_s: float, stage: str | None) -> str:
    """One sentence for a file whose analysis overran its time budget."""
    return (f"The analysis exceeded its {budget_s:g} s budget (stopped in "
            f"{component_of(stage)}) and was stopped; the file may make the decoder loop. Give "
            "it more time with --timeout if it is simply very long.")


def memory_message(ceiling_bytes: int, rss_bytes: int, stage: str | None) -> str:
    """One sentence for a file whose analysis grew past the memory ceiling."""
    return (f"The analysis used {rss_bytes / 2**30:.2f} GiB of memory, more than its ceiling "
            f"of {ceiling_bytes / 2**30:.2f} GiB (in {component_of(stage)}), and was stopped; "
            "the file may declare far more frames or pixels than it holds.")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def resident_bytes(pid: int) -> int | None:
    """Resident memory of process ``pid`` in bytes (Linux ``/proc``); ``None`` elsewhere."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            resident_pages = int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE")
