"""The app and the CLI make no network connection, checked two ways.

(a) In process: ``socket.socket.connect``/``connect_ex``/``sendto``, ``socket.create_connection``
and the name lookups (``getaddrinfo``, ``gethostbyname[_ex]``) are replaced by functions that
record the attempt and raise; then the real CLI ``main`` runs on the bundled sample and the main
window runs the demo case (import, analysis with the shipped detectors, verdict, PDF report)
offscreen. This sees every Python-level attempt, DNS lookups included, but not one made inside a
native library.

(b) In a new network namespace (``unshare -rn``: no interface but a loopback that is down), so
native code has no network either: ``forensic-analyze resources/sample`` must still succeed.
The namespace is first shown to be really offline (a connection attempt fails there).
"""

from __future__ import annotations

import errno
import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT

SAMPLE = REPO_ROOT / "resources" / "sample"
VIDEOS = ("demo_fake.mp4", "demo_real.mp4")
TIMEOUT_MS = 180_000


class NetworkGuard:
    """Replaces the socket entry points; every call is recorded and refused."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def refuse(self, what: str) -> Callable[..., Any]:
        """A stand-in for ``what`` that records its arguments and raises ENETUNREACH."""

        def blocked(*args: Any, **kwargs: Any) -> Any:
            self.attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
            raise OSError(errno.ENETUNREACH, f"network disabled by the test ({what})")

        return blocked


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> NetworkGuard:
    """Every Python-level way to reach the network raises, and is recorded."""
    guard = NetworkGuard()
    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, guard.refuse(f"socket.{name}"))
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, guard.refuse(name))
    return guard


def test_guard_catches_a_connection_attempt(no_network: NetworkGuard) -> None:
    with pytest.raises(OSError, match="network disabled"):
        socket.create_connection(("example.org", 80), timeout=1)
    with socket.socket() as sock, pytest.raises(OSError, match="network disabled"):
        sock.connect(("192.0.2.1", 80))
    assert len(no_network.attempts) == 2


def _statuses(jsonl: Path) -> dict[str, str]:
    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    return {Path(line["path"]).name: line["status"] for line in lines}


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Analyses and reads in this process, where the guard sees them.

    The CLI and the app analyse in worker processes (docs/ISOLATION.md); the guard patches this
    process only. The network-namespace check below runs them as shipped, workers included.
    """
    from engine import api

    analyzer, reader = api.Analyzer, api.MediaReader
    monkeypatch.setattr(api, "Analyzer",
                        lambda *args, **kw: analyzer(*args, **{**kw, "isolation": None}))
    monkeypatch.setattr(api, "MediaReader", lambda *args, **kw: reader(isolation=None))


@pytest.mark.slow
@pytest.mark.weights
@pytest.mark.usefixtures("in_process")
def test_cli_makes_no_connection(no_network: NetworkGuard, tmp_path: Path) -> None:
    from engine.cli import main

    out = tmp_path / "out.jsonl"
    assert main([str(SAMPLE), "--quiet", "--frames", "8", "--jsonl", str(out)]) == 0
    statuses = _statuses(out)
    assert {name: statuses[name] for name in VIDEOS} == dict.fromkeys(VIDEOS, "ok")
    assert no_network.attempts == []


@pytest.mark.slow
@pytest.mark.weights
@pytest.mark.usefixtures("in_process")
def test_app_workflow_makes_no_connection(no_network: NetworkGuard, qtbot,
                                          tmp_path: Path) -> None:
    from forensic_gui.cases.records import AnalystVerdict
    from forensic_gui.cases.repository import CaseStore
    from forensic_gui.controller import EngineServices
    from forensic_gui.main_window import MainWindow
    from forensic_gui.settings import Settings
    from forensic_gui.widgets.verdict_form import VerdictDraft

    with CaseStore.open(tmp_path / "cases.sqlite3") as store:
        window = MainWindow(store, Settings(analyst="Tester", n_frames=8, key_frames=1),
                            services=EngineServices.default())
        qtbot.addWidget(window)
        window.show()
        recorded: list[int] = []
        window.controller.analysis_recorded.connect(lambda evidence_id, _a: recorded.append(1))
        window.controller.create_demo_case()
        qtbot.waitUntil(lambda: len(recorded) == len(VIDEOS), timeout=TIMEOUT_MS)
        qtbot.waitUntil(lambda: not window.controller.analysis_running, timeout=TIMEOUT_MS)
        (case,) = store.list_cases()
        item = store.list_evidence(case.id)[0]
        assert window.controller.save_verdict(VerdictDraft(item.id, "Tester",
                                                           AnalystVerdict.INCONCLUSIVE, "Demo."))
        with qtbot.waitSignal(window.controller.report_exported, timeout=TIMEOUT_MS) as done:
            window.controller.export_report(case.id, tmp_path / "report.pdf")
        assert done.args[0].chain.ok
        window.close()
    assert no_network.attempts == []


def _unshare() -> str:
    """``unshare`` that may create a user + network namespace here, or skip saying why not."""
    found = shutil.which("unshare")
    if found is None:
        pytest.skip("unshare (util-linux) is not installed, so the network cannot be switched off")
    probe = subprocess.run([found, "-rn", "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"unshare -rn is not permitted on this machine: {probe.stderr.strip()}")
    return found


def _cli_command() -> list[str]:
    script = Path(sys.executable).with_name("forensic-analyze")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "engine.cli"]


def test_network_namespace_is_really_offline() -> None:
    unshare = _unshare()
    code = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=2)"
    done = subprocess.run([unshare, "-rn", sys.executable, "-c", code], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode != 0
    assert "Network is unreachable" in done.stderr


@pytest.mark.slow
@pytest.mark.weights
def test_cli_runs_with_networking_disabled(tmp_path: Path) -> None:
    unshare = _unshare()
    out = tmp_path / "out.jsonl"
    done = subprocess.run(
        [unshare, "-rn", *_cli_command(), str(SAMPLE), "--quiet", "--frames", "8",
         "--jsonl", str(out)],
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    statuses = _statuses(out)
    assert {name: statuses[name] for name in VIDEOS} == dict.fromkeys(VIDEOS, "ok")
    assert set(statuses) - set(VIDEOS) == {"README.md", "demo_sample.json"}  # not media
