"""One row per running job: what it does, a progress bar, and a Cancel button.

Each job has its own Cancel, so stopping an analysis never stops an import running beside it.
The rows are fed by ``Job.progressed`` (already throttled to about 10 Hz in the worker).
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.jobs import Progress

__all__ = ["JobProgressPanel"]

# NOTE: the bar works in per-mille so byte counts above 2**31 still fit a QProgressBar int.
_BAR_MAX = 1000
_HIDE_DELAY_MS = 800


class _JobRow(QWidget):
    cancel_clicked = Signal(str)

    def __init__(self, job_id: str, description: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job_id = job_id
        self.label = QLabel(description, self)
        self.label.setMinimumWidth(260)
        # NOTE: the text changes with every report (stage, file path); an Ignored width keeps it
        # from re-laying out the whole window each time (40 ms on the GUI thread per report).
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)  # busy until the first report
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName(f"cancel_{job_id}")
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.label, 2)
        layout.addWidget(self.bar, 3)
        layout.addWidget(self.cancel_button)
        self._description = description

    def show_progress(self, progress: Progress) -> None:
        # NOTE: QProgressBar.setValue repaints at once (synchronously), and that repaint
        # reached the timeline plot behind it: 30 ms on the GUI thread for one report. With
        # updates off while it changes, the bar is redrawn with the next normal paint instead.
        self.bar.setUpdatesEnabled(False)
        try:
            if progress.total > 0:
                self.bar.setRange(0, _BAR_MAX)
                self.bar.setValue(round(progress.fraction * _BAR_MAX))
                self.bar.setFormat(f"{progress.stage}: {progress.fraction:.0%}")
            else:
                self.bar.setRange(0, 0)
        finally:
            self.bar.setUpdatesEnabled(True)  # schedules the (asynchronous) repaint
        detail = progress.message or progress.stage
        self.label.setText(f"{self._description} — {detail}")
        self.label.setToolTip(self.label.text())

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.cancel_clicked.emit(self.job_id)


class JobProgressPanel(QWidget):
    """Rows of running jobs; hidden when none runs."""

    cancel_requested = Signal(str)  # job id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: dict[str, _JobRow] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 2, 0, 2)
        self.setVisible(False)

    @property
    def job_ids(self) -> tuple[str, ...]:
        """Jobs with a row, oldest first."""
        return tuple(self._rows)

    def row_text(self, job_id: str) -> str:
        """The label of a job's row."""
        return self._rows[job_id].label.text()

    def add_job(self, job_id: str, description: str, *, cancellable: bool = True) -> None:
        """Add a row for a job that just started."""
        row = _JobRow(job_id, description, self)
        row.cancel_button.setVisible(cancellable)
        row.cancel_clicked.connect(self.cancel_requested)
        self._rows[job_id] = row
        self._layout.addWidget(row)
        self.setVisible(True)

    def update_job(self, job_id: str, progress: Progress) -> None:
        """Show a job's latest progress (ignored for a job without a row)."""
        row = self._rows.get(job_id)
        if row is not None:
            row.show_progress(progress)

    def remove_job(self, job_id: str) -> None:
        """Remove a finished job's row."""
        row = self._rows.pop(job_id, None)
        if row is not None:
            self._layout.removeWidget(row)
            row.deleteLater()
        if not self._rows:
            # NOTE: hidden a moment later, so a queue of jobs does not hide and show the panel
            # between two of them (each toggle re-lays out and repaints the window).
            QTimer.singleShot(_HIDE_DELAY_MS, self._hide_if_idle)

    @Slot()
    def _hide_if_idle(self) -> None:
        if not self._rows:
            self.setVisible(False)
