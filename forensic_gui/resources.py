"""Where the bundled files (icons, demo sample) are, in a checkout and in the installer.

``resources/`` sits at the repository root, beside the packages, and PyInstaller copies it to
the bundle root (``sys._MEIPASS``). It is not a Python package, so ``importlib.resources``
cannot find it; this module is the one place that knows both locations.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon

__all__ = ["icon", "resources_dir"]


def resources_dir() -> Path:
    """The ``resources/`` folder of the checkout or of the frozen application."""
    bundle_root = getattr(sys, "_MEIPASS", None)
    if bundle_root is not None:
        return Path(bundle_root) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def icon(name: str) -> QIcon:
    """The icon ``resources/icons/<name>.svg``.

    Raises:
        FileNotFoundError: the icon is not bundled (a packaging mistake, caught by the tests).
    """
    path = resources_dir() / "icons" / f"{name}.svg"
    if not path.is_file():
        raise FileNotFoundError(f"icon {name!r} is missing from {path.parent}")
    return QIcon(str(path))
