"""``forensic-gui --self-test``: the installer's proof that the real application works.

The slow test runs the self-test in-process with the real engine and the shipped detectors on
the bundled demo sample (fewer frames than the default, to stay fast); the others use the fake
analyzer to check that every failure ends the run with a clear reason and a non-zero status.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from forensic_gui.app import parse_args
from forensic_gui.controller import EngineServices
from forensic_gui.selftest import (
    DB_FILE_NAME,
    REPORT_FILE_NAME,
    SelfTestError,
    check_report,
    process_age_s,
    run_self_test,
)
from tests.gui.fakes import FAKE_DETECTORS, FakeAnalyzer, FakeAnalyzerFactory


def _fake_services(analyzer: FakeAnalyzer | None = None) -> EngineServices:
    return EngineServices(analyzer_factory=FakeAnalyzerFactory(analyzer),
                          list_detectors=lambda: list(FAKE_DETECTORS))


def _steps(lines: list[str]) -> list[str]:
    return [line.split()[1] for line in lines]


@pytest.mark.slow
@pytest.mark.weights
def test_self_test_passes_with_the_real_engine(qapp, tmp_path):
    settings = tmp_path / "settings.toml"
    settings.write_text('runtime = "onnx"\nn_frames = 4\nkey_frames = 1\n', encoding="utf-8")
    lines: list[str] = []
    status = run_self_test(tmp_path / "out", settings_path=settings, timeout_s=55,
                           write_line=lines.append)
    assert status == 0, lines
    assert _steps(lines) == ["window", "detectors", "demo", "analysis", "analysis",
                             "display", "provenance", "report", "passed"]
    assert "first window shown after" in lines[0]
    assert "since process start" in lines[0]
    assert all("onnx runtime" in line and "4 frames" in line for line in lines[3:5])
    assert (tmp_path / "out" / REPORT_FILE_NAME).stat().st_size > 20_000


def test_self_test_flow_with_the_fake_analyzer(qapp, tmp_path):
    lines: list[str] = []
    status = run_self_test(tmp_path, services=_fake_services(), timeout_s=30,
                           write_line=lines.append)
    assert status == 0, lines
    assert _steps(lines) == ["window", "detectors", "demo", "analysis", "analysis",
                             "display", "provenance", "report", "passed"]
    assert "demo_real.mp4" in lines[3]
    assert "demo_fake.mp4" in lines[4]
    assert "longest GUI stall during the analyses" in lines[5]
    assert (tmp_path / DB_FILE_NAME).is_file()


def test_the_self_tests_own_checks_wait_until_the_stall_measurement_ended(qapp, tmp_path,
                                                                          monkeypatch):
    """The provenance check runs on the GUI thread: while the window still measures its
    stalls, it was counted as the application's (self-test figure 170-280 ms, not 60-95)."""
    import forensic_gui.selftest as selftest
    from forensic_gui.main_window import MainWindow

    measuring: list[bool] = []
    real_check = selftest.check_provenance

    def check(*args: object, **kwargs: object) -> str:
        windows = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow)]
        measuring.extend(w.controller.stall_monitor.running for w in windows)
        return real_check(*args, **kwargs)

    monkeypatch.setattr(selftest, "check_provenance", check)
    assert run_self_test(tmp_path, services=_fake_services(), timeout_s=30,
                         write_line=[].append) == 0
    assert measuring
    assert not any(measuring)


def test_a_warning_box_fails_the_self_test(qapp, tmp_path):
    lines: list[str] = []
    status = run_self_test(tmp_path, services=_fake_services(FakeAnalyzer(no_face=True)),
                           timeout_s=30, write_line=lines.append)
    assert status == 1
    assert lines[-1].startswith("self-test: FAILED")
    assert "while analysing the demo sample" in lines[-1]
    assert "no_face" in lines[-1]
    assert not (tmp_path / REPORT_FILE_NAME).exists()


class _BrokenAnalyzer(FakeAnalyzer):
    def analyze(self, path: str, **kwargs: object) -> object:
        raise RuntimeError("model file unreadable")


def test_an_error_box_fails_the_self_test(qapp, tmp_path):
    lines: list[str] = []
    status = run_self_test(tmp_path, services=_fake_services(_BrokenAnalyzer()), timeout_s=30,
                           write_line=lines.append)
    assert status == 1
    assert "the application showed error: Analysis failed" in lines[-1]
    assert "model file unreadable" in lines[-1]


def test_the_timeout_fails_the_self_test(qapp, tmp_path):
    lines: list[str] = []
    slow = FakeAnalyzer(n_steps=1000, step_s=0.01)
    status = run_self_test(tmp_path, services=_fake_services(slow), timeout_s=1,
                           write_line=lines.append)
    assert status == 1
    assert "no progress within 1 s" in lines[-1]


def test_a_used_folder_is_refused(qapp, tmp_path):
    (tmp_path / DB_FILE_NAME).write_bytes(b"")
    lines: list[str] = []
    assert run_self_test(tmp_path, services=_fake_services(), write_line=lines.append) == 1
    assert "earlier self-test" in lines[0]


def test_a_truncated_report_is_caught(tmp_path):
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + b"x" * 30_000)
    with pytest.raises(SelfTestError, match="not a complete PDF"):
        check_report(pdf, expected_sha256="", n_pages=5)
    with pytest.raises(SelfTestError, match="was not written"):
        check_report(tmp_path / "missing.pdf", expected_sha256="", n_pages=5)


def test_self_test_and_db_are_exclusive(tmp_path, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--self-test", str(tmp_path), "--db", str(tmp_path / "c.sqlite3")])
    assert "--self-test uses a fresh database" in capsys.readouterr().err


def test_process_age_is_measured_from_the_process_start():
    here = process_age_s()
    assert here is not None
    assert here > 0.0
    code = "from forensic_gui.selftest import process_age_s; print(process_age_s())"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, timeout=60).stdout
    # NOTE: a child that just started is younger than the import of Qt it did; a wrong
    # /proc field would give boot-relative or tick-count nonsense far outside this range.
    assert 0.0 < float(out) < 30.0
