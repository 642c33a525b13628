"""The list of cases in the database; choosing one opens it in the main window."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from forensic_gui.cases.records import CaseRecord

__all__ = ["CaseListWidget"]


class CaseListWidget(QWidget):
    """Cases, newest first, with a button to create one."""

    case_selected = Signal(object)  # case id, or None when no case is selected
    new_case_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._list = QListWidget(self)
        self._list.setObjectName("case_list")
        self._list.setWordWrap(True)
        self._list.setSpacing(2)
        self._list.currentItemChanged.connect(self._on_list_current_item_changed)
        self._new_button = QPushButton("New case…", self)
        self._new_button.clicked.connect(self.new_case_requested)
        title = QLabel("Cases", self)
        title.setStyleSheet("font-weight: bold;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self._list, 1)
        layout.addWidget(self._new_button)
        self._case_ids: list[int] = []

    @property
    def case_ids(self) -> tuple[int, ...]:
        """Ids of the listed cases, in list order."""
        return tuple(self._case_ids)

    def current_case_id(self) -> int | None:
        """The selected case, ``None`` if none is."""
        row = self._list.currentRow()
        return self._case_ids[row] if 0 <= row < len(self._case_ids) else None

    def set_cases(self, cases: Sequence[CaseRecord], *, select_id: int | None = None) -> None:
        """Show ``cases``; select ``select_id``, else keep the current case if it is still there.

        ``case_selected`` is emitted only when the selected case changes.
        """
        old = self.current_case_id()
        keep = select_id if select_id is not None else old
        self._list.blockSignals(True)
        self._list.clear()
        self._case_ids = [case.id for case in cases]
        for case in cases:
            item = QListWidgetItem(f"{case.number}\n{case.title}")
            item.setToolTip(f"Case {case.number}: {case.title}\nAnalyst: {case.analyst}\n"
                            f"Status: {case.status.value}\n{case.notes}".rstrip())
            item.setData(Qt.ItemDataRole.UserRole, case.id)
            self._list.addItem(item)
        self._list.setCurrentRow(self._case_ids.index(keep) if keep in self._case_ids else -1)
        self._list.blockSignals(False)
        if self.current_case_id() != old:
            self.case_selected.emit(self.current_case_id())

    def select_case(self, case_id: int) -> None:
        """Select a listed case (emits ``case_selected``).

        Raises:
            KeyError: the case is not listed.
        """
        if case_id not in self._case_ids:
            raise KeyError(f"case {case_id} is not listed")
        self._list.setCurrentRow(self._case_ids.index(case_id))

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_list_current_item_changed(self, current: QListWidgetItem | None,
                                      _previous: QListWidgetItem | None) -> None:
        self.case_selected.emit(None if current is None else current.data(Qt.ItemDataRole.UserRole))
