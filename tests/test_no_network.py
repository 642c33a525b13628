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


# -- media provenance and C2PA ---------------------------------------------------------------


class _CountingServer:
    """A TCP server on 127.0.0.1 that counts connections (and answers none of them)."""

    def __init__(self) -> None:
        import threading

        self.hits: list[object] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, addr = self._sock.accept()
            except OSError:
                continue
            self.hits.append(addr)
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()


def _signed_files(tmp_path: Path, port: int) -> dict[str, Path]:
    from tests.provenance_media import jpeg_bytes, make_pki, sign_jpeg, textured_rgb, write

    pki = make_pki(ocsp_url=f"http://127.0.0.1:{port}/ocsp")  # OCSP pointing at the server
    base = jpeg_bytes(textured_rgb(96, 128))
    return {
        "embedded": write(tmp_path / "embedded.jpg", sign_jpeg(base, pki)),
        "remote": write(tmp_path / "remote.jpg", sign_jpeg(
            base, pki, remote_url=f"http://127.0.0.1:{port}/manifest.c2pa")),
    }


def test_c2pa_native_code_fetches_neither_remote_manifests_nor_ocsp(tmp_path: Path) -> None:
    """The local server sees no connection from our reads, and one from the library's defaults
    (so the test would notice if the native code went to the network)."""
    import io

    import c2pa

    from engine.api import inspect_provenance

    server = _CountingServer()
    try:
        files = _signed_files(tmp_path, server.port)
        embedded, remote = (inspect_provenance(files[k]) for k in ("embedded", "remote"))
        assert embedded.c2pa.state == "valid"
        assert remote.c2pa.state == "not_checked"
        assert remote.c2pa.remote_url == f"http://127.0.0.1:{server.port}/manifest.c2pa"
        assert server.hits == []
        # control: the library's own defaults fetch the remote manifest, and OCSP when asked
        with pytest.raises(c2pa.C2paError):
            c2pa.Reader("image/jpeg", io.BytesIO(files["remote"].read_bytes()))
        online = c2pa.Context.from_dict({"verify": {"ocsp_fetch": True}})
        c2pa.Reader("image/jpeg", io.BytesIO(files["embedded"].read_bytes()), None, online)
        assert len(server.hits) >= 2
    finally:
        server.close()


def test_provenance_makes_no_python_level_connection(no_network: NetworkGuard,
                                                     tmp_path: Path) -> None:
    from engine.api import apply_filter, inspect_provenance
    from tests.provenance_media import decode

    files = _signed_files(tmp_path, 9)
    records = [inspect_provenance(path) for path in files.values()]
    assert [r.c2pa.state for r in records] == ["valid", "not_checked"]
    apply_filter("ela", decode(files["embedded"].read_bytes()))
    assert no_network.attempts == []


def test_provenance_runs_with_networking_disabled(tmp_path: Path) -> None:
    unshare = _unshare()
    files = _signed_files(tmp_path, 9)
    code = ("import sys; from engine.api import inspect_provenance as i; "
            "print(' '.join(i(p).c2pa.state for p in sys.argv[1:]))")
    done = subprocess.run(
        [unshare, "-rn", sys.executable, "-c", code, *map(str, files.values())],
        capture_output=True, text=True, check=False, timeout=120, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["valid", "not_checked"]
