"""Start the real application with its case database in a read-only folder (issue #7).

The app is started as a user would start it: a fresh process running ``forensic_gui.app.main``
with ``--db`` in the read-only folder, offscreen. Its start-up message box is modal, so the
process clicks it away with a timer and prints what it said; the exit status, that text and
stderr (no traceback allowed) are what the tests and the report check. The CLI has no database;
it is run in the same folder to show it is unaffected, and with ``--jsonl`` pointing into the
folder to show that one refusal is a clean usage error.

A folder with mode 555 is no obstacle to root (the CI and the development box run as root), so
for root the command runs in its own mount namespace where the folder is bind-mounted
read-only: writes fail with EROFS exactly as on a write-protected share. Nothing outside that
process sees the mount.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ReadOnlyUnavailableError",
    "RunOutcome",
    "cli_in_readonly_dir",
    "make_readonly_dir",
    "start_app_with_db",
    "start_app_with_db_in",
]

# The start-up driver: the real ``main``, plus a timer that clicks away modal boxes (the
# analyst's OK) and prints them as JSON lines. A window that opens instead exits with 99.
_DRIVER = """
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from forensic_gui import app as app_module

qapp = QApplication([])

def dismiss():
    box = QApplication.activeModalWidget()
    if box is not None:
        print(json.dumps({"title": box.windowTitle(), "text": box.text()}), flush=True)
        box.close()

timer = QTimer()
timer.timeout.connect(dismiss)
timer.start(50)
QTimer.singleShot(15000, lambda: qapp.exit(99))
sys.exit(app_module.main(sys.argv[1:]))
"""
_RO_WRAPPER = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'


class ReadOnlyUnavailableError(RuntimeError):
    """This machine cannot make a folder read-only for the current user."""


@dataclass(frozen=True)
class RunOutcome:
    """A finished (or killed) process: exit status, what it showed or wrote, how long."""

    returncode: int | None
    dialogs: tuple[tuple[str, str], ...]
    stdout: str
    stderr: str
    seconds: float


def make_readonly_dir(root: Path, *, existing_db: bool) -> Path:
    """``root/db`` (mode 555), holding a valid ``cases.sqlite3`` when ``existing_db``."""
    folder = root / "db"
    folder.mkdir(parents=True)
    if existing_db:
        from forensic_gui.cases.repository import CaseStore

        CaseStore.open(folder / "cases.sqlite3").close()
    folder.chmod(0o555)
    return folder


def _readonly_command(command: Sequence[str], ro_dir: Path) -> list[str]:
    """``command``, wrapped so that ``ro_dir`` is read-only even for root."""
    if os.geteuid() != 0:
        return list(command)
    unshare = shutil.which("unshare")
    if unshare is None:
        raise ReadOnlyUnavailableError("running as root without 'unshare': 555 is writable")
    probe = subprocess.run([unshare, "--mount", "--propagation", "private", "sh", "-c",
                            _RO_WRAPPER, str(ro_dir), "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        raise ReadOnlyUnavailableError(f"cannot bind-mount read-only: {probe.stderr!r}")
    return [unshare, "--mount", "--propagation", "private", "sh", "-c", _RO_WRAPPER,
            str(ro_dir), *command]


_REPO = Path(__file__).resolve().parents[2]


def _env(root: Path) -> dict[str, str]:
    """Offscreen Qt; settings, logs and data under ``root/home``, not the user's; this
    checkout's packages first on the path (the CLI runs from another working directory)."""
    home = root / "home"
    home.mkdir(exist_ok=True)
    python_path = os.pathsep.join(filter(None, [str(_REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": python_path, "QT_QPA_PLATFORM": "offscreen",
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state"), "XDG_CACHE_HOME": str(home / "cache")}


def _run(command: Sequence[str], ro_dir: Path | None, root: Path, timeout_s: float,
         cwd: Path | None = None) -> RunOutcome:
    """Run ``command`` (with ``ro_dir`` read-only, when given) and collect its dialogs."""
    start = time.perf_counter()
    argv = list(command) if ro_dir is None else _readonly_command(command, ro_dir)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s,
                              env=_env(root), cwd=cwd, check=False)
    except subprocess.TimeoutExpired as exc:
        return RunOutcome(None, (), str(exc.stdout or ""), str(exc.stderr or ""),
                          time.perf_counter() - start)
    dialogs = tuple((d["title"], d["text"]) for d in map(json.loads, _json_lines(done.stdout)))
    return RunOutcome(done.returncode, dialogs, done.stdout, done.stderr,
                      time.perf_counter() - start)


def _json_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("{")]


def start_app_with_db_in(ro_dir: Path, root: Path, *, timeout_s: float = 60.0) -> RunOutcome:
    """Start ``forensic-gui --db ro_dir/cases.sqlite3`` and click its message boxes away."""
    command = [sys.executable, "-c", _DRIVER, "--db", str(ro_dir / "cases.sqlite3"),
               "--settings", str(root / "home" / "settings.toml")]
    return _run(command, ro_dir, root, timeout_s)


def start_app_with_db(db_path: Path, root: Path, *, timeout_s: float = 60.0) -> RunOutcome:
    """Start ``forensic-gui --db DB_PATH`` (no read-only mount) and click its boxes away."""
    command = [sys.executable, "-c", _DRIVER, "--db", str(db_path),
               "--settings", str(root / "home" / "settings.toml")]
    return _run(command, None, root, timeout_s)


def cli_in_readonly_dir(ro_dir: Path, root: Path, media: Path, *, jsonl: Path,
                        timeout_s: float = 120.0) -> RunOutcome:
    """Run ``forensic-analyze MEDIA --jsonl JSONL`` from inside the read-only folder."""
    command = [sys.executable, "-m", "engine.cli", str(media), "--jsonl", str(jsonl),
               "--quiet", "--detectors", "sbi_effl0"]
    return _run(command, ro_dir, root, timeout_s, cwd=ro_dir)
