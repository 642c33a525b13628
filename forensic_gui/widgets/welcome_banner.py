"""The first-start banner: says where the new case database is and offers the demo case.

It is a banner, not a modal dialog, so the window is usable at once and nothing blocks the
event loop (or a test) waiting for an answer.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

__all__ = ["WelcomeBanner"]


class WelcomeBanner(QFrame):
    """"Welcome" with two buttons: create the demo case, or close the banner."""

    demo_requested = Signal()

    def __init__(self, db_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome_banner")
        self.setStyleSheet("#welcome_banner { background: #e8f0fe; border: 1px solid #aecbfa; "
                           "border-radius: 3px; }")
        text = QLabel(
            f"Welcome. A new case database was created at {db_path}. To see how the application "
            "works, create the demo case: a short real clip and a synthesized fake, analysed "
            "for you.", self)
        text.setWordWrap(True)
        demo = QPushButton("Create the demo case", self)
        demo.clicked.connect(self.demo_requested)
        dismiss = QPushButton("Not now", self)
        dismiss.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.addWidget(text, 1)
        layout.addWidget(demo)
        layout.addWidget(dismiss)
