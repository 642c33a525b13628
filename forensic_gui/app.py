"""Application start: arguments, settings, logging, the case database, the main window.

``main(argv)`` is the ``forensic-gui`` entry point. :func:`open_window` does everything but run
the event loop, so the screenshot script and tests start the same application. A problem before
the window exists (bad settings file, unusable database) is shown in one plain message box and
the program exits with status 2; it never shows a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from forensic_gui import gc_policy
from forensic_gui.cases.db import default_db_path
from forensic_gui.cases.errors import CaseStoreError
from forensic_gui.cases.repository import CaseStore
from forensic_gui.controller import EngineServices
from forensic_gui.main_window import MainWindow
from forensic_gui.resources import icon
from forensic_gui.settings import (
    APP_NAME,
    SettingsError,
    default_log_dir,
    default_settings_path,
    load_settings,
)
from forensic_gui.workers import configure_pool

__all__ = ["Started", "StartupError", "main", "open_window", "parse_args"]

logger = logging.getLogger(__name__)


class StartupError(Exception):
    """The application cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class Started:
    """A started application: the window (shown) and the store it uses (close it at exit)."""

    window: MainWindow
    store: CaseStore


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (``argv`` without the program name; ``None`` reads ``sys.argv``)."""
    parser = argparse.ArgumentParser(
        prog="forensic-gui", description="Offline analysis of manipulated faces in media.")
    parser.add_argument("--db", type=Path, default=None,
                        help="case database file (default: from the settings, else "
                             f"{default_db_path()})")
    parser.add_argument("--settings", type=Path, default=None,
                        help=f"settings TOML file (default: {default_settings_path()})")
    parser.add_argument("--log-level", default="INFO",
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    parser.add_argument("--self-test", type=Path, default=None, metavar="OUT_DIR",
                        help="check this installation without a user: create the demo case on "
                             "a fresh database in OUT_DIR, analyse it, export its PDF report, "
                             "exit 0 on success (see forensic_gui/selftest.py)")
    parser.add_argument("--self-test-timeout", type=float, default=None, metavar="SECONDS",
                        help="--self-test fails after this many seconds (default 600)")
    args = parser.parse_args(argv)
    if args.self_test is not None and args.db is not None:
        parser.error("--self-test uses a fresh database in OUT_DIR; do not pass --db")
    return args


def open_window(args: argparse.Namespace, *, services: EngineServices | None = None) -> Started:
    """Load the settings, open (or create) the database and show the main window.

    A ``QApplication`` must exist. ``services`` is the engine seam (tests and the screenshot
    script pass a fake analyzer); ``None`` uses the real engine.

    Raises:
        StartupError: the settings file or the database cannot be used.
    """
    settings_path = args.settings if args.settings is not None else default_settings_path()
    try:
        settings = load_settings(settings_path)
    except SettingsError as exc:
        raise StartupError(f"{exc}\n\nFix or delete the file and start again.") from exc
    db_path = args.db if args.db is not None else settings.db_path or default_db_path()
    first_start = not db_path.exists()
    try:
        store = CaseStore.open(db_path)
    except CaseStoreError as exc:
        raise StartupError(f"{exc}\n\nStart with --db PATH to use another file.") from exc
    configure_pool()
    app = QApplication.instance()
    if app is not None:  # before any worker thread starts: see forensic_gui.gc_policy
        gc_policy.install(app)
    window = MainWindow(store, settings, services=services or EngineServices.default(),
                        first_start=first_start)
    window.show()
    logger.info("started on %s (first start: %s) as %s", store.db_path, first_start,
                settings.analyst)
    return Started(window, store)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the desktop application; returns the exit status."""
    args = parse_args(argv)
    _configure_logging(args.log_level)
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_NAME])
    app.setApplicationName(APP_NAME)
    app.setWindowIcon(icon("app"))
    if args.self_test is not None:
        from forensic_gui.selftest import run_self_test

        return run_self_test(args.self_test, settings_path=args.settings,
                             timeout_s=args.self_test_timeout)
    try:
        started = open_window(args)
    except StartupError as exc:
        logger.error("cannot start: %s", exc)
        QMessageBox.critical(None, "Forensic Face Analyzer cannot start", str(exc))
        return 2
    try:
        return app.exec()
    finally:
        started.store.close()


def _configure_logging(level: str) -> None:
    """Log to stderr and to a rotating file in the per-user log dir (named in error messages)."""
    root = logging.getLogger()
    root.setLevel(level)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    log_dir = default_log_dir()
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        # NOTE: 5 x 2 MB keeps weeks of use while bounding disk use.
        handlers.append(RotatingFileHandler(log_dir / "app.log", maxBytes=2_000_000,
                                            backupCount=5, encoding="utf-8"))
    except OSError as exc:
        logger.warning("no log file in %s: %s", log_dir, exc)
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
