"""The evidence table of the open case; files and folders can be dropped on it to import them.

The table shows what the main window gives it (:class:`EvidenceRow` values) and reports drops
and selection through signals; it never reads the database or the files itself. An integrity
failure is shown in red in its own column, so it cannot be missed in a long list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QBrush, QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

__all__ = ["FINDING_HEADER_TIP", "EvidenceListWidget", "EvidenceRow", "format_size"]

_COLUMNS = ("File", "Kind", "Size", "SHA-256", "Integrity", "Machine finding", "Analyst verdict")
_INTEGRITY_COLUMN = 4
_FINDING_COLUMN = 5
# NOTE: the list gives the grade and, in brackets, the calibrated p_fake of the finding's kind.
# A grade also needs the kind's score to be rare among real media of the file's type
# (docs/FINDINGS.md section 3), so "no support ... (0.785)" is not a contradiction; the header
# says so where the analyst reads the number, and the findings panel gives the reason per kind.
FINDING_HEADER_TIP = (
    "The machine's finding and, in brackets, the likelihood of its kind of manipulation "
    "(calibrated p_fake). A grade needs both a high likelihood and a score that real media of "
    "the same type rarely reach, so a finding of 'no support' can come with a p_fake above "
    "0.5. 'Why these grades' in the findings panel gives the reason for each kind.")
_ALARM = QColor("#d93025")
_OK = QColor("#188038")


@dataclass(frozen=True)
class EvidenceRow:
    """One line of the table.

    Attributes:
        integrity_ok: ``True`` if the last hash check matched, ``False`` if it failed, ``None``
            if the file was not re-checked since it was added.
    """

    evidence_id: int
    file_name: str
    original_path: str
    kind: str
    size_bytes: int
    sha256: str
    integrity_text: str
    integrity_ok: bool | None
    finding_text: str
    verdict_text: str


def format_size(size_bytes: int) -> str:
    """``1536`` -> ``"1.5 KB"`` (powers of 1024, one decimal)."""
    value = float(size_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024.0 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024.0
    raise AssertionError("unreachable")  # pragma: no cover


class _DropTable(QTableWidget):
    """A table that accepts local files and folders dragged from the file manager."""

    paths_dropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(_COLUMNS), parent)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)

    @staticmethod
    def _local_paths(event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> list[Path]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._local_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._local_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._local_paths(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.paths_dropped.emit(paths)


class EvidenceListWidget(QWidget):
    """Evidence items of one case, with drag & drop import."""

    evidence_selected = Signal(object)  # evidence id, or None when the selection is empty
    paths_dropped = Signal(list)  # list[Path]: files and folders to import

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._table = _DropTable(self)
        self._table.setObjectName("evidence_table")
        self._table.setHorizontalHeaderLabels(_COLUMNS)
        self._table.horizontalHeaderItem(_FINDING_COLUMN).setToolTip(FINDING_HEADER_TIP)
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.verticalHeader().setVisible(False)
        header = self._table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self._table.paths_dropped.connect(self.paths_dropped)
        self._table.itemSelectionChanged.connect(self._on_table_item_selection_changed)
        self._hint = QLabel("Drop files or folders here, or use Evidence ▸ Add files…", self)
        self._hint.setStyleSheet("color: #5f6368;")
        self._hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._table, 1)
        layout.addWidget(self._hint)
        self._rows: list[EvidenceRow] = []
        self._current_id: int | None = None

    @property
    def rows(self) -> tuple[EvidenceRow, ...]:
        """The rows shown, in table order."""
        return tuple(self._rows)

    def set_rows(self, rows: Sequence[EvidenceRow], *, select_id: int | None = None) -> None:
        """Replace the contents, keeping the selection or selecting ``select_id``."""
        previous = self.selected_ids()
        self._table.blockSignals(True)
        self._rows = list(rows)
        self._table.setRowCount(len(self._rows))
        for r, row in enumerate(self._rows):
            self._fill_row(r, row)
        self._table.blockSignals(False)
        keep = [select_id] if select_id is not None else list(previous)
        self.select_ids(keep)

    def update_row(self, row: EvidenceRow) -> None:
        """Replace the row with the same evidence id, keeping the selection.

        Raises:
            KeyError: the id is not in the table.
        """
        for r, old in enumerate(self._rows):
            if old.evidence_id == row.evidence_id:
                self._rows[r] = row
                self._fill_row(r, row)
                return
        raise KeyError(f"evidence {row.evidence_id} is not in the table")

    def select_ids(self, evidence_ids: Sequence[int]) -> None:
        """Select the rows of these evidence ids (``evidence_selected`` only if that changed)."""
        wanted = set(evidence_ids)
        self._table.blockSignals(True)
        self._table.clearSelection()
        mode = self._table.selectionMode()
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for r, row in enumerate(self._rows):
            if row.evidence_id in wanted:
                self._table.selectRow(r)
        self._table.setSelectionMode(mode)
        self._table.blockSignals(False)
        self._table.viewport().update()
        self._on_table_item_selection_changed()

    def selected_ids(self) -> tuple[int, ...]:
        """Evidence ids of the selected rows, in table order."""
        chosen = {index.row() for index in self._table.selectionModel().selectedRows()}
        return tuple(self._rows[r].evidence_id for r in sorted(chosen) if r < len(self._rows))

    def row_for(self, evidence_id: int) -> EvidenceRow:
        """The row of an evidence id.

        Raises:
            KeyError: the id is not in the table.
        """
        for row in self._rows:
            if row.evidence_id == evidence_id:
                return row
        raise KeyError(f"evidence {evidence_id} is not in the table")

    def _fill_row(self, r: int, row: EvidenceRow) -> None:
        texts = (row.file_name, row.kind, format_size(row.size_bytes), row.sha256[:16] + "…",
                 row.integrity_text, row.finding_text, row.verdict_text)
        for c, text in enumerate(texts):
            item = QTableWidgetItem(text)
            item.setToolTip(row.original_path if c == 0 else row.sha256 if c == 3 else text)
            self._table.setItem(r, c, item)
        integrity = self._table.item(r, _INTEGRITY_COLUMN)
        if row.integrity_ok is False:
            font = QFont(integrity.font())
            font.setBold(True)
            integrity.setFont(font)
            integrity.setForeground(QBrush(QColor("white")))
            integrity.setBackground(QBrush(_ALARM))
            # NOTE: the icon stays visible when the row is selected and the red is painted over.
            integrity.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical))
        elif row.integrity_ok is True:
            integrity.setForeground(QBrush(_OK))

    @Slot()
    def _on_table_item_selection_changed(self) -> None:
        ids = self.selected_ids()
        current = ids[0] if len(ids) == 1 else None
        if current != self._current_id:
            self._current_id = current
            self.evidence_selected.emit(current)
