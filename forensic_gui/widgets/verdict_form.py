"""The analyst's own verdict on one evidence item, kept apart from the machine findings.

The form has its own frame, colour and heading so nobody reads the detectors' grade as the
analyst's conclusion or the other way round. Saving emits a :class:`VerdictDraft`; the main
window stores it (a new verdict supersedes the previous one, which stays in the history below).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from forensic_gui.cases.records import AnalystVerdict, VerdictRecord

__all__ = ["VerdictDraft", "VerdictForm"]

_LABELS = {
    AnalystVerdict.AUTHENTIC: "Authentic",
    AnalystVerdict.MANIPULATED: "Manipulated",
    AnalystVerdict.INCONCLUSIVE: "Inconclusive",
}


@dataclass(frozen=True)
class VerdictDraft:
    """A verdict the analyst asked to save."""

    evidence_id: int
    analyst: str
    verdict: AnalystVerdict
    rationale: str


class VerdictForm(QFrame):
    """Verdict choice, rationale and analyst name, with the item's earlier verdicts."""

    verdict_submitted = Signal(object)  # VerdictDraft

    def __init__(self, analyst: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("verdict_form")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # NOTE: a warm background and left bar set the analyst's part apart from the findings.
        self.setStyleSheet("#verdict_form { background: #fef7e0; border: 1px solid #f9ab00; "
                           "border-left: 6px solid #f9ab00; border-radius: 3px; }")
        self._evidence_id: int | None = None
        self._choices = QButtonGroup(self)
        self._analyst = QLineEdit(analyst, self)
        self._rationale = QPlainTextEdit(self)
        self._rationale.setMaximumHeight(120)
        self._rationale.setPlaceholderText("Why: what you looked at and what you saw "
                                           "(required).")
        self._save = QPushButton("Save verdict", self)
        self._save.clicked.connect(self._on_save_clicked)
        self._history = QListWidget(self)
        self._history.setObjectName("verdict_history")
        self._history.setMaximumHeight(110)
        self._history.setWordWrap(True)
        self._status = QLabel("", self)
        self._build_layout()
        self._analyst.textChanged.connect(self._update_save_enabled)
        self._rationale.textChanged.connect(self._update_save_enabled)
        self._choices.buttonToggled.connect(self._update_save_enabled)
        self.set_evidence(None, ())

    def _build_layout(self) -> None:
        heading = QLabel("Analyst verdict (your own conclusion)", self)
        heading.setStyleSheet("font-weight: bold; font-size: 13px;")
        choice_row = QHBoxLayout()
        for verdict, text in _LABELS.items():
            button = QRadioButton(text, self)
            button.setProperty("verdict", verdict.value)
            self._choices.addButton(button)
            choice_row.addWidget(button)
        choice_row.addStretch(1)
        form = QFormLayout()
        form.addRow("Verdict", choice_row)
        form.addRow("Analyst", self._analyst)
        form.addRow("Rationale", self._rationale)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self._status, 1)
        buttons.addWidget(self._save)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("Earlier verdicts on this item (never deleted):", self))
        layout.addWidget(self._history)

    def set_evidence(self, evidence_id: int | None, history: Sequence[VerdictRecord]) -> None:
        """Show the form for an evidence item (``None`` disables it) with its verdict history."""
        self._evidence_id = evidence_id
        self._history.clear()
        for record in reversed(history):
            current = "current" if record.is_current else "superseded"
            when = record.created_at_utc.strftime("%Y-%m-%d %H:%M UTC")
            self._history.addItem(f"{when}  {record.verdict.value.upper()} by {record.analyst} "
                                  f"({current}): {record.rationale}")
        self._status.setText("" if evidence_id is not None else "Select one evidence item.")
        for widget in (self._analyst, self._rationale, *self._choices.buttons()):
            widget.setEnabled(evidence_id is not None)
        self._update_save_enabled()

    def draft(self) -> VerdictDraft | None:
        """The verdict as filled in, ``None`` while something required is missing."""
        button = self._choices.checkedButton()
        analyst = self._analyst.text().strip()
        rationale = self._rationale.toPlainText().strip()
        if self._evidence_id is None or button is None or not analyst or not rationale:
            return None
        return VerdictDraft(self._evidence_id, analyst,
                            AnalystVerdict(button.property("verdict")), rationale)

    def fill(self, verdict: AnalystVerdict, rationale: str) -> None:
        """Fill the form (tests, screenshots); the analyst name is left as it is."""
        for button in self._choices.buttons():
            button.setChecked(button.property("verdict") == verdict.value)
        self._rationale.setPlainText(rationale)

    def mark_saved(self) -> None:
        """Clear the form after the main window stored the verdict."""
        self._rationale.clear()
        self._choices.setExclusive(False)
        for button in self._choices.buttons():
            button.setChecked(False)
        self._choices.setExclusive(True)
        self._status.setText("Verdict saved.")

    def _update_save_enabled(self, *_args: object) -> None:  # several signals, any arguments
        self._save.setEnabled(self.draft() is not None)

    @Slot()
    def _on_save_clicked(self) -> None:
        draft = self.draft()
        if draft is not None:
            self.verdict_submitted.emit(draft)
