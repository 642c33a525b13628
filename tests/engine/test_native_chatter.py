"""A worker's output reaches the caller's stderr without MediaPipe's and TFLite's chatter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.analysis.native_chatter import is_chatter, start_relay

# Lines as MediaPipe 0.10.21 and TFLite print them in every worker (copied from a run).
CHATTER = [
    b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n",
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    b"W0000 00:00:1796603902.510952   26711 inference_feedback_manager.cc:114] Feedback manager "
    b"requires a model with a single signature inference. Disabling support for feedback "
    b"tensors.\n",
    b"W0000 00:00:1796603904.427439   26716 landmark_projection_calculator.cc:186] Using "
    b"NORM_RECT without IMAGE_DIMENSIONS is only supported for the square ROI.\n",
    b"I0000 00:00:1796604267.754260   30481 gl_context_egl.cc:85] Successfully initialized EGL.\n",
]
KEPT = [
    b"E0000 00:00:1796603902.510952   26711 inference_feedback_manager.cc:114] an error\n",
    b"F0000 00:00:1796603902.510952   26711 gl_context.cc:1] fatal\n",
    b"W0000 00:00:1796603902.510952   26711 some_other_calculator.cc:9] not on the list\n",
    b"Fatal Python error: Segmentation fault\n",
    b"Traceback (most recent call last):\n",
    b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU. and more\n",
    b"no newline at the end",
]


@pytest.mark.parametrize("line", CHATTER)
def test_known_chatter_is_dropped(line: bytes) -> None:
    assert is_chatter(line)


@pytest.mark.parametrize("line", KEPT)
def test_everything_else_passes(line: bytes) -> None:
    assert not is_chatter(line)


def _worker_output(tmp_path: Path, keep_all: bool, target: bool = True) -> bytes:
    """Run a child that prints chatter and real lines (then dies by SIGKILL), relayed."""
    script = (
        "import os, sys\n"
        f"lines = {CHATTER + KEPT[:-1]!r}\n"
        "for i, line in enumerate(lines):\n"
        "    (sys.stdout if i % 2 else sys.stderr).buffer.write(line)\n"
        "    (sys.stdout if i % 2 else sys.stderr).flush()\n"
        "sys.stdout.buffer.write(b'x' * 200000 + b'\\n')\n"  # more than a pipe buffer holds
        "sys.stdout.flush()\n"
        "os.kill(os.getpid(), 9)\n"
    )
    out = tmp_path / "stderr.txt"
    with out.open("wb") as sink:
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT)
        assert child.stdout is not None
        relay = start_relay(child.stdout, sink.fileno() if target else None, keep_all=keep_all)
        child.wait(timeout=60)
        relay.join(timeout=60)
        assert not relay.is_alive()
    return out.read_bytes()


def test_relay_drops_chatter_and_outlives_a_killed_worker(tmp_path: Path) -> None:
    got = _worker_output(tmp_path, keep_all=False)
    for line in KEPT[:-1]:
        assert line in got
    for line in CHATTER:
        assert line not in got
    assert b"x" * 200000 in got  # a long line passes whole, and the pipe never blocked


def test_relay_keeps_everything_when_asked(tmp_path: Path) -> None:
    got = _worker_output(tmp_path, keep_all=True)
    assert all(line in got for line in CHATTER + KEPT[:-1])


def test_relay_drains_without_a_target(tmp_path: Path) -> None:
    assert _worker_output(tmp_path, keep_all=False, target=False) == b""
    assert os.path.exists(tmp_path / "stderr.txt")
