"""The main window's menus and toolbar: one ``QAction`` per command, with icon and shortcut."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

from forensic_gui.resources import icon

__all__ = ["ActionSlots", "WindowActions", "build_actions"]


@dataclass(frozen=True)
class ActionSlots:
    """What each command calls (methods of the main window, taking no arguments)."""

    new_case: Callable[[], object]
    add_files: Callable[[], object]
    add_folder: Callable[[], object]
    analyze: Callable[[], object]
    verify: Callable[[], object]
    compare: Callable[[], object]
    export: Callable[[], object]
    demo: Callable[[], object]
    quit: Callable[[], object]


@dataclass(frozen=True)
class WindowActions:
    """The window's actions, for enabling and disabling them."""

    new_case: QAction
    add_files: QAction
    add_folder: QAction
    analyze: QAction
    verify: QAction
    compare: QAction
    export: QAction
    demo: QAction
    quit: QAction


def _action(window: QMainWindow, text: str, icon_name: str | None, slot: Callable[[], object],
            shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
            tip: str = "") -> QAction:
    action = QAction(text, window)
    if icon_name is not None:
        action.setIcon(icon(icon_name))
    if shortcut is not None:
        action.setShortcut(shortcut)
    action.setStatusTip(tip or text)
    # NOTE: a lambda, so the 'checked' argument of triggered never reaches the slot.
    action.triggered.connect(lambda _checked=False: slot())
    return action


def build_actions(window: QMainWindow, slots: ActionSlots) -> WindowActions:
    """Create the actions and put them in the Case and Evidence menus and the toolbar."""
    keys = QKeySequence.StandardKey
    actions = WindowActions(
        new_case=_action(window, "New case…", "new_case", slots.new_case, keys.New),
        add_files=_action(window, "Add files…", "add_files", slots.add_files, "Ctrl+I",
                          "Add image or video files to the case"),
        add_folder=_action(window, "Add folder…", "add_folder", slots.add_folder, None,
                           "Add every file in a folder (and its subfolders) to the case"),
        analyze=_action(window, "Analyze", "analyze", slots.analyze, "Ctrl+R",
                        "Check the SHA-256, then run the detectors on the selected items"),
        verify=_action(window, "Verify hash", "verify", slots.verify, None,
                       "Re-compute the SHA-256 of the selected items and compare it"),
        compare=_action(window, "Compare with reference…", None, slots.compare, None,
                        "Set the selected video against genuine footage of the same source"),
        export=_action(window, "Export report…", "export", slots.export, "Ctrl+E",
                       "Write the case report as PDF"),
        demo=_action(window, "Create demo case", "demo", slots.demo),
        quit=_action(window, "Quit", None, slots.quit, keys.Quit),
    )
    case_menu = window.menuBar().addMenu("&Case")
    for action in (actions.new_case, actions.export, actions.demo):
        case_menu.addAction(action)
    case_menu.addSeparator()
    case_menu.addAction(actions.quit)
    evidence_menu = window.menuBar().addMenu("&Evidence")
    for action in (actions.add_files, actions.add_folder, actions.analyze, actions.verify,
                   actions.compare):
        evidence_menu.addAction(action)
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("main_toolbar")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for action in (actions.new_case, actions.add_files, actions.analyze, actions.verify,
                   actions.export):
        toolbar.addAction(action)
    return actions
