"""Installing an analyst's C2PA trust list, and the Provenance menu that offers it.

No trust anchors ship with the application (docs/PROVENANCE.md): the analyst imports a PEM
bundle they trust (the C2PA trust list, their organisation's roots). The file is checked by
the engine, then copied into the per-user config dir, so later analyses do not depend on where
the original was; each analysis records the list's name and SHA-256.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMainWindow

from forensic_gui.dialogs.messages import show_info

if TYPE_CHECKING:
    from forensic_gui.controller import CaseController

__all__ = ["add_provenance_menu", "import_trust_list_dialog", "install_trust_list"]


def install_trust_list(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target`` atomically (a crash never leaves half a list); ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    data = source.read_bytes()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def import_trust_list_dialog(window: QMainWindow, controller: CaseController) -> None:
    """Choose a PEM file of trust anchors, import it, and say what was imported."""
    name, _ = QFileDialog.getOpenFileName(window, "Import C2PA trust list", "",
                                          "PEM certificates (*.pem *.crt *.cer);;All (*)")
    trust = controller.import_trust_list(Path(name)) if name else None
    if trust is not None:
        show_info(window, "Trust list imported",
                  f"{len(trust.subjects)} trust anchor(s) from {trust.source} (SHA-256 "
                  f"{trust.sha256[:16]}…). Analyses from now on check Content Credentials "
                  "against them; earlier analyses keep the list they were checked with.",
                  "\n".join(trust.subjects))


def add_provenance_menu(window: QMainWindow, controller: CaseController) -> QAction:
    """A "Provenance" menu with *Import C2PA trust list…*; returns the action."""
    action = QAction("Import C2PA trust list…", window)
    action.setStatusTip("Check Content Credentials signers against a PEM file of trust anchors "
                        "(none ship with the application)")
    action.triggered.connect(lambda _checked=False: import_trust_list_dialog(window, controller))
    window.menuBar().addMenu("&Provenance").addAction(action)
    return action
