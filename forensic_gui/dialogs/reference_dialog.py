"""The dialog that asks which evidence item is genuine footage to set a suspect video against.

The choice is the analyst's judgement, so the dialog says what the comparison measures and what
it assumes, and OK stays disabled until the analyst confirms that the chosen item is genuine
footage of the same source. The store records the analyst's name with the comparison.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from forensic_gui.cases.repository import CaseStore

__all__ = ["ReferenceCandidate", "ReferenceDialog", "reference_candidates"]

EXPLANATION = (
    "Choose footage you hold to be <b>genuine</b> and of the <b>same source</b> as {name}: the "
    "same person, ideally the same channel, camera or recording (another part of the same "
    "broadcast or stream is best). The comparison says how much higher the evidence of each "
    "kind of manipulation is in {name} than in the reference, and how often genuine footage set "
    "against genuine footage of one recording differed as much (measured on the development "
    "benchmark's genuine videos). It is made from the stored analyses and kept in the case "
    "with your name."
)


@dataclass(frozen=True)
class ReferenceCandidate:
    """An analysed video of the case that can serve as the reference."""

    analysis_id: int
    evidence_id: int
    file_name: str


def reference_candidates(store: CaseStore, case_id: int,
                         suspect_evidence_id: int) -> list[ReferenceCandidate]:
    """The case's other videos whose newest analysis scored faces, in the case's order."""
    summaries = store.latest_analysis_summaries(case_id)
    out = []
    for item in store.list_evidence(case_id):
        summary = summaries.get(item.id)
        if item.id == suspect_evidence_id or summary is None or summary.status != "ok":
            continue
        if (item.media_info or {}).get("kind") == "video":
            out.append(ReferenceCandidate(summary.analysis_id, item.id, item.file_name))
    return out


class ReferenceDialog(QDialog):
    """A list of the case's other analysed videos and a confirmation box."""

    def __init__(self, suspect_name: str, candidates: Sequence[ReferenceCandidate], *,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare with reference footage")
        text = QLabel(EXPLANATION.format(name=html.escape(suspect_name, quote=False)), self)
        text.setWordWrap(True)
        self.choices = QListWidget(self)
        self.choices.setObjectName("reference_choices")
        for candidate in candidates:
            row = QListWidgetItem(f"{candidate.file_name}  (evidence #{candidate.evidence_id})")
            row.setData(Qt.ItemDataRole.UserRole, candidate)
            self.choices.addItem(row)
        self.confirm = QCheckBox("I hold the chosen item to be genuine footage of the same "
                                 "source.", self)
        self.confirm.setObjectName("reference_confirm")
        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.choices, 1)
        layout.addWidget(self.confirm)
        layout.addWidget(self._buttons)
        self.choices.currentRowChanged.connect(self._update_ok_enabled)
        self.confirm.toggled.connect(self._update_ok_enabled)
        self._update_ok_enabled()
        self.resize(560, 380)

    def chosen(self) -> ReferenceCandidate | None:
        """The selected candidate, ``None`` when none is selected."""
        row = self.choices.currentItem()
        return None if row is None else row.data(Qt.ItemDataRole.UserRole)

    def _update_ok_enabled(self, *_args: object) -> None:
        ok = self._buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(self.chosen() is not None and self.confirm.isChecked())
