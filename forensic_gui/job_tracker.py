"""Keeps every running job by id, shows it in the progress panel, and stops them all on close.

A job stays referenced here until its final signal has been handled, then it is deleted on the
GUI thread once its worker has left that signal's ``emit()`` (``Job.release``), never by a
worker dropping the last reference.
"""

from __future__ import annotations

import logging
import time
from functools import partial

from PySide6.QtCore import QObject, Signal, Slot

from engine.jobs import Progress
from forensic_gui.widgets.job_progress import JobProgressPanel
from forensic_gui.workers import Job

__all__ = ["JobTracker"]

logger = logging.getLogger(__name__)


class JobTracker(QObject):
    """Starts jobs and tracks them until exactly one of their final signals arrives."""

    jobs_changed = Signal()  # a job started or finished

    def __init__(self, panel: JobProgressPanel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._panel = panel
        self._jobs: dict[str, Job] = {}
        panel.cancel_requested.connect(self._on_panel_cancel_requested)

    @property
    def running(self) -> tuple[Job, ...]:
        """Jobs started and not yet finished, oldest first."""
        return tuple(self._jobs.values())

    def start(self, job: Job, *, cancellable: bool = True) -> None:
        """Show ``job`` in the panel and start it. Connect its result slots before calling."""
        self._jobs[job.job_id] = job
        self._panel.add_job(job.job_id, job.description, cancellable=cancellable)
        job.progressed.connect(partial(self._on_job_progressed, job.job_id))
        for final in (job.succeeded, job.failed, job.cancelled):
            final.connect(partial(self._on_job_finished, job.job_id))
        job.start()
        self.jobs_changed.emit()

    def cancel(self, job_id: str) -> None:
        """Ask one job to stop (its ``cancelled`` signal follows unless it already finished)."""
        job = self._jobs.get(job_id)
        if job is not None:
            job.cancel()

    def cancel_all(self) -> None:
        """Ask every running job to stop."""
        for job in self._jobs.values():
            job.cancel()

    def shutdown(self, timeout_s: float) -> bool:
        """Cancel every job and wait for the workers, ``timeout_s`` in all.

        Returns:
            Whether every worker stopped in time.
        """
        self.cancel_all()
        deadline = time.monotonic() + timeout_s
        stopped = True
        for job in list(self._jobs.values()):
            if not job.wait(max(0.0, deadline - time.monotonic())):
                logger.error("%s did not stop within %.0f s", job.description, timeout_s)
                stopped = False
        return stopped

    @Slot(str)
    def _on_panel_cancel_requested(self, job_id: str) -> None:
        self.cancel(job_id)

    def _on_job_progressed(self, job_id: str, progress: Progress) -> None:
        self._panel.update_job(job_id, progress)

    def _on_job_finished(self, job_id: str, *_result: object) -> None:
        job = self._jobs.pop(job_id, None)
        self._panel.remove_job(job_id)
        if job is not None:
            job.release()
        self.jobs_changed.emit()
