"""The media-provenance panel of one evidence item: what the file says about its origin.

A coloured banner gives the Content Credentials state at a glance (red for a failed or damaged
manifest, and a red line when the manifest declares generative AI); below it, the count of
inconsistencies marked "look at this first", and a browser with the whole record
(``forensic_gui.provenance_html``). The title says it is not a verdict. The record comes with
the stored analysis; an item analysed before provenance was read says so.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTabWidget, QTextBrowser, QVBoxLayout, QWidget

from engine.types import FileProvenance
from forensic_gui.provenance_html import STATE_TEXT, provenance_html

__all__ = ["ProvenancePanel", "side_tabs"]


def side_tabs(findings: QWidget, provenance: ProvenancePanel, parent: QWidget) -> QTabWidget:
    """The machine findings and the media provenance as two tabs of the window's side."""
    tabs = QTabWidget(parent)
    tabs.addTab(findings, "Findings")
    tabs.addTab(provenance, "Provenance && metadata")
    return tabs


class ProvenancePanel(QWidget):
    """Metadata, Content Credentials and inconsistencies of the item shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("Media provenance: what the file says about itself (reasons to look, "
                       "not a verdict)", self)
        title.setStyleSheet("font-weight: bold;")
        title.setWordWrap(True)
        self._banner = QLabel("", self)
        self._banner.setObjectName("c2pa_banner")
        self._banner.setWordWrap(True)
        self._banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._summary = QLabel("", self)
        self._summary.setObjectName("inconsistency_summary")
        self._summary.setWordWrap(True)
        self._browser = QTextBrowser(self)
        self._browser.setObjectName("provenance_details")
        self._browser.setOpenLinks(False)  # metadata may hold links: never follow them
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self._banner)
        layout.addWidget(self._summary)
        layout.addWidget(self._browser, 1)
        self.clear("Select an evidence item.")

    @property
    def banner_text(self) -> str:
        """The state line shown at the top (for tests and the status bar)."""
        return self._banner.text()

    @property
    def details_text(self) -> str:
        """The record as plain text."""
        return self._browser.toPlainText()

    def clear(self, text: str) -> None:
        """Show ``text`` instead of a record."""
        self._banner.setText("")
        self._banner.setStyleSheet("")
        self._summary.setText("")
        self._browser.setPlainText(text)

    def set_record(self, record: FileProvenance | None) -> None:
        """Show ``record``; ``None`` means the analysis was made before provenance was read."""
        if record is None:
            self.clear("This analysis was made before media provenance was read: analyse the "
                       "item again to see its metadata and Content Credentials.")
            return
        words, colour = STATE_TEXT.get(record.c2pa.state, (record.c2pa.state, "#5f6368"))
        if record.c2pa.ai_generated:
            words += " - DECLARES GENERATIVE-AI CONTENT"
            colour = "#d93025"
        self._banner.setText(words)
        self._banner.setStyleSheet(f"color: white; background: {colour}; padding: 4px; "
                                   "font-weight: bold;")
        first = sum(i.severity == "look_first" for i in record.inconsistencies)
        self._summary.setText(f"{len(record.inconsistencies)} inconsistencies to look at"
                              + (f", {first} marked 'look at this first'" if first else "")
                              + (f"; {len(record.notes)} reading problem(s)" if record.notes
                                 else ""))
        self._browser.setHtml(provenance_html(record))
