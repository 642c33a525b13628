"""A worker's own output relayed to the caller's stderr, without the native libraries' chatter.

MediaPipe (absl logging) and TensorFlow Lite write start-up notes straight to file descriptor 2
of every worker process, past Python's logging: "INFO: Created TensorFlow Lite XNNPACK delegate
for CPU.", "W0000 ... inference_feedback_manager.cc:114] Feedback manager requires a model with
a single signature ...", about a dozen lines per worker and run. In a terminal they bury the
lines an analyst needs (a file that failed, a crash), and they say nothing about the evidence.

So the pool gives each worker a pipe instead of the caller's stderr and a thread of the caller
relays it line by line, dropping only the exact informational notes listed here. Everything
else passes: errors, a crash's last words (the relay runs in the caller, so it outlives the
worker), Python tracebacks. Logging at DEBUG (the app's ``--log-level DEBUG``) passes it all. The
relay always drains the pipe, even when the caller's stderr is gone, so a worker can never block
on a full pipe.
"""

from __future__ import annotations

import os
import re
import threading
from typing import IO

__all__ = ["is_chatter", "start_relay"]

_ABSL_SOURCES = (
    "inference_feedback_manager",
    "landmark_projection_calculator",
    "gl_context",
    "gl_context_egl",
)
# NOTE: only informational (I) and warning (W) lines of the named MediaPipe sources, and the
# two fixed TFLite/absl notes; an error (E) or fatal (F) line of any source always passes.
_CHATTER = re.compile(
    rb"^(?:INFO: Created TensorFlow Lite XNNPACK delegate for CPU\."
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|[IW]\d{4} [\d:.]+\s+\d+ (?:" + "|".join(_ABSL_SOURCES).encode() + rb")\.cc:\d+\] .*"
    rb")\r?\n?$"
)


def is_chatter(line: bytes) -> bool:
    """Whether ``line`` is one of the native libraries' known informational notes."""
    return _CHATTER.match(line) is not None


def start_relay(stream: IO[bytes], target_fd: int | None, *, keep_all: bool = False,
                name: str = "worker-output") -> threading.Thread:
    """Relay ``stream`` to ``target_fd`` line by line in a daemon thread, dropping chatter.

    Args:
        stream: the worker's combined stdout and stderr (a pipe opened in binary mode).
        target_fd: where kept lines go (the caller's stderr), or ``None`` to drop all.
        keep_all: pass the chatter too (verbose runs).
        name: the thread's name.

    Returns:
        The started thread; it ends when the worker closes its end (exit or crash).
    """
    thread = threading.Thread(target=_relay, args=(stream, target_fd, keep_all), name=name,
                              daemon=True)
    thread.start()
    return thread


def _relay(stream: IO[bytes], target_fd: int | None, keep_all: bool) -> None:
    try:
        for line in iter(stream.readline, b""):
            if target_fd is None or (not keep_all and is_chatter(line)):
                continue
            try:
                os.write(target_fd, line)
            except OSError:
                target_fd = None  # the caller's stderr is gone: keep draining, write nothing
    except (OSError, ValueError):
        pass  # the pipe was closed under us (the pool closed): nothing left to relay
    finally:
        stream.close()
