"""What a GUI test prints when a background job did not end in time.

A timeout alone says nothing about why; this says whether the cancel reached the job, whether
its worker finished, what the global thread pool was doing and where every thread stood.
"""

from __future__ import annotations

import sys
import threading
import traceback

from PySide6.QtCore import QThreadPool

from forensic_gui.workers import Job

__all__ = ["describe_stuck_job"]


def describe_stuck_job(job: Job, running: tuple[Job, ...], **facts: object) -> str:
    """A multi-line account of ``job`` and of every thread, for an assertion message."""
    pool = QThreadPool.globalInstance()
    lines = [
        f"job {job.description!r}: cancel requested={job.cancel_requested}, "
        f"worker finished={job.wait(0)}",
        f"thread pool: {pool.activeThreadCount()} active of {pool.maxThreadCount()}",
        "jobs still tracked: " + (", ".join(j.description for j in running) or "none"),
        *(f"{name}: {value}" for name, value in facts.items()),
    ]
    names = {t.ident: t.name for t in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        lines.append(f"--- thread {names.get(ident, '?')} ({ident})")
        lines.extend(line.rstrip() for line in traceback.format_stack(frame)[-8:])
    return "\n".join(lines)
