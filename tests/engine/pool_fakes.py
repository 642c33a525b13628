"""A face finder that misbehaves like native code on chosen inputs, for the isolation tests.

It pickles (module-level class, plain fields), so it runs inside the analysis worker
processes. Its behaviour is chosen by the frame's width, so a test picks it by writing an image
of that width: a real segfault (SIGSEGV sent to itself), an abort (``os.abort``, as an uncaught
C++ exception does), a hang (a loop that ignores cancel, like a stuck decoder) or a runaway
allocation (like a forged frame count). Any other width behaves like ``FakeFaceFinder``.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
from PIL import Image

from engine.faces.mesh import MeshResult
from tests.engine.analysis_fakes import FakeFaceFinder

__all__ = ["BEHAVIOURS", "MisbehavingFaceFinder", "write_trigger_image"]

BEHAVIOURS = {"segfault": 101, "abort": 103, "hang": 105, "memory": 107}
_STEP_BYTES = 64 << 20


class MisbehavingFaceFinder(FakeFaceFinder):
    """``FakeFaceFinder`` that crashes, hangs or allocates on the widths in ``BEHAVIOURS``."""

    def analyze(self, rgb_u8: np.ndarray, frame_idx: int = 0) -> MeshResult:
        width = rgb_u8.shape[1]
        if width == BEHAVIOURS["segfault"]:
            os.kill(os.getpid(), signal.SIGSEGV)
        if width == BEHAVIOURS["abort"]:
            os.abort()
        if width == BEHAVIOURS["hang"]:
            while True:  # deaf to cancel, like native code that never returns
                time.sleep(0.05)
        if width == BEHAVIOURS["memory"]:
            held = []
            while True:  # grows 64 MiB at a time, every page touched
                held.append(np.ones(_STEP_BYTES, np.uint8))
                time.sleep(0.02)
        return super().analyze(rgb_u8, frame_idx)


def write_trigger_image(folder: Path, behaviour: str) -> Path:
    """A PNG whose width makes ``MisbehavingFaceFinder`` do ``behaviour``."""
    path = folder / f"{behaviour}.png"
    Image.new("RGB", (BEHAVIOURS[behaviour], 90), (120, 110, 100)).save(path)
    return path
