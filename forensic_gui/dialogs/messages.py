"""Messages to the analyst: a plain sentence and what to do, never a traceback.

Boxes are opened window-modal with ``open()``, which returns at once: the event loop keeps
running (progress bars, other jobs) and tests can read the box instead of blocking on it.
Every message is also logged, so the log holds what the analyst was told.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

__all__ = ["show_error", "show_info", "show_warning"]

logger = logging.getLogger(__name__)


def _show(parent: QWidget, icon: QMessageBox.Icon, title: str, text: str,
          informative: str, details: str = "") -> QMessageBox:
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("message_box")
    if informative:
        box.setInformativeText(informative)
    if details:
        box.setDetailedText(details)  # behind a "Show Details..." button
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # copy a hash
    box.open()
    return box


def show_error(parent: QWidget, title: str, text: str, informative: str = "") -> QMessageBox:
    """Show an error; ``text`` says what failed, ``informative`` what the analyst can do."""
    logger.error("%s: %s %s", title, text, informative)
    return _show(parent, QMessageBox.Icon.Critical, title, text, informative)


def show_warning(parent: QWidget, title: str, text: str, informative: str = "",
                 details: str = "") -> QMessageBox:
    """Show a warning (something was skipped or needs attention, work went on).

    ``details`` is a longer text (e.g. the full list ``informative`` shortens), shown on demand.
    """
    logger.warning("%s: %s %s %s", title, text, informative, details)
    return _show(parent, QMessageBox.Icon.Warning, title, text, informative, details)


def show_info(parent: QWidget, title: str, text: str, informative: str = "") -> QMessageBox:
    """Show a short confirmation."""
    logger.info("%s: %s %s", title, text, informative)
    return _show(parent, QMessageBox.Icon.Information, title, text, informative)
