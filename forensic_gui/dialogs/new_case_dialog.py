"""The dialog that asks for a new case's number, title, analyst and notes."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

__all__ = ["NewCaseDialog", "NewCaseFields"]


@dataclass(frozen=True)
class NewCaseFields:
    """What the analyst entered; the main window passes it to ``CaseStore.create_case``."""

    number: str
    title: str
    analyst: str
    notes: str


class NewCaseDialog(QDialog):
    """Case number, title, analyst and notes; OK is enabled once the required ones are filled."""

    def __init__(self, *, suggested_number: str, analyst: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New case")
        self.number = QLineEdit(suggested_number, self)
        self.case_title = QLineEdit(self)
        self.case_title.setPlaceholderText("e.g. Suspected face swap in interview video")
        self.analyst = QLineEdit(analyst, self)
        self.notes = QPlainTextEdit(self)
        self.notes.setPlaceholderText("Optional: request, requester, exhibit numbers…")
        form = QFormLayout()
        form.addRow("Case number", self.number)
        form.addRow("Title", self.case_title)
        form.addRow("Analyst", self.analyst)
        form.addRow("Notes", self.notes)
        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self._buttons)
        for edit in (self.number, self.case_title, self.analyst):
            edit.textChanged.connect(self._update_ok_enabled)
        self._update_ok_enabled()
        self.resize(460, 300)

    def fields(self) -> NewCaseFields:
        """The entered values, stripped."""
        return NewCaseFields(self.number.text().strip(), self.case_title.text().strip(),
                             self.analyst.text().strip(), self.notes.toPlainText().strip())

    def _update_ok_enabled(self, *_args: object) -> None:
        f = self.fields()
        ok = self._buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(f.number and f.title and f.analyst))
