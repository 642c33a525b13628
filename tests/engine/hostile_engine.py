"""Isolation and integrity through the engine API (issue #18), judged case by case.

Shared by tests (test_isolation.py, test_media_fileguard.py hold the fine-grained versions) and
scripts/reliability_report.py. The native misbehaviour is real and happens in the worker
process (``tests/engine/pool_fakes.py``); the file swap happens between hashing and decoding,
from inside the analysis, where a hostile process on the same machine would do it.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from engine.api import AnalysisOptions, Analyzer, IsolationSettings
from engine.jobs import CancelToken, JobCancelled
from tests.engine.analysis_fakes import FakeFaceFinder, named_fake_detector
from tests.engine.hostile_cli import Check
from tests.engine.pool_fakes import MisbehavingFaceFinder, write_trigger_image

__all__ = ["all_engine_checks"]

_OPTIONS = AnalysisOptions(detectors=("a",), n_frames=4)
_EXPECTED = {
    "segfault": "crashed on this file (signal 11, SIGSEGV)",
    "abort": "crashed on this file (signal 6, SIGABRT)",
    "hang": "exceeded its 8 s budget",
    "memory": "more than its ceiling of 0.50 GiB",
}


def _photo(folder: Path, name: str, colour: tuple[int, int, int]) -> Path:
    path = folder / name
    Image.new("RGB", (200, 150), colour).save(path)
    return path


def isolation_checks(work: Path) -> list[Check]:
    """One batch: good photos between a segfault, an abort, a hang and a runaway allocation."""
    work.mkdir(parents=True, exist_ok=True)
    bad = {name: write_trigger_image(work, name) for name in _EXPECTED}
    good = [_photo(work, f"good_{i}.png", (40 * i, 100, 150)) for i in range(4)]
    order = [good[0], bad["segfault"], good[1], bad["abort"], bad["hang"], good[2],
             bad["memory"], good[3]]
    limits = IsolationSettings(n_workers=2, time_budget_s=8.0, memory_ceiling_bytes=512 << 20)
    start = time.perf_counter()
    with Analyzer(_OPTIONS, isolation=limits, detector_factory=named_fake_detector,
                  face_detector=MisbehavingFaceFinder()) as analyzer:
        results = list(analyzer.analyze_many(order))
    seconds = time.perf_counter() - start
    by_path = {r.path: r for r in results}
    checks = []
    for name, words in _EXPECTED.items():
        result = by_path[str(bad[name])]
        checks.append(Check(f"engine API: {name} in the worker", f"error line: '{words}'",
                            f"{result.status}: {result.error}",
                            result.status == "error" and words in (result.error or ""), None))
    good_ok = all(by_path[str(p)].status == "ok" for p in good)
    checks.append(Check("engine API: the 4 good files of that batch", "ok, in input order",
                        f"{[by_path[str(p)].status for p in good]}; order kept: "
                        f"{[r.path for r in results] == [str(p) for p in order]}; batch "
                        f"{seconds:.1f} s", good_ok and len(results) == len(order), seconds))
    return checks


class _Tamperer(FakeFaceFinder):
    """Changes the evidence file while its frames are searched (in-process only: a closure)."""

    def __init__(self, path: Path, how: str) -> None:
        super().__init__()
        self.path, self.how, self.done = path, how, False

    def analyze(self, rgb_u8: np.ndarray, frame_idx: int = 0) -> Any:
        if not self.done and rgb_u8.shape[1] != 64:  # not the warm-up frame
            self.done = True
            if self.how == "replaced":
                other = self.path.with_name("other.png")
                Image.new("RGB", (200, 150), (250, 0, 0)).save(other)
                os.replace(other, self.path)
            else:
                with self.path.open("r+b") as fh:
                    fh.seek(60)
                    fh.write(b"\x00")
        return super().analyze(rgb_u8, frame_idx)


def changed_file_checks(work: Path) -> list[Check]:
    """A file replaced, or written to, between hashing and decoding is refused."""
    checks = []
    for how in ("replaced", "written to in place"):
        path = _photo(work, f"tampered_{how[:5]}.png", (10, 200, 30))
        with Analyzer(_OPTIONS, isolation=None, detector_factory=named_fake_detector,
                      face_detector=_Tamperer(path, how.split()[0])) as analyzer:
            result = analyzer.analyze(path)
        words = "replaced" if how == "replaced" else "written to"
        passed = (result.status == "error" and "changed while it was being analysed" in
                  (result.error or "") and words in (result.error or ""))
        checks.append(Check(f"engine API: file {how} between hashing and decoding",
                            "error: the file changed, no result of other bytes",
                            f"{result.status}: {result.error}", passed, None))
    return checks


def cancel_check(work: Path) -> Check:
    """Cancel of an analysis stuck in native code (deaf to the token) ends it promptly."""
    hang = write_trigger_image(work, "hang")
    limits = IsolationSettings(time_budget_s=60.0, cancel_grace_s=1.0)
    with Analyzer(_OPTIONS, isolation=limits, detector_factory=named_fake_detector,
                  face_detector=MisbehavingFaceFinder()) as analyzer:
        cancel = CancelToken()
        threading.Timer(1.0, cancel.cancel).start()
        start = time.perf_counter()
        try:
            analyzer.analyze(hang, cancel=cancel)
            outcome = "finished (not cancelled)"
        except JobCancelled:
            outcome = "cancelled"
        seconds = time.perf_counter() - start - 1.0
        after = analyzer.analyze(_photo(work, "after_cancel.png", (5, 5, 250))).status
    passed = outcome == "cancelled" and seconds < 2.5 and after == "ok"
    return Check("engine API: Cancel of a hung analysis", "cancelled within ~1 s; next file ok",
                 f"{outcome} {seconds:.2f} s after the cancel; next file: {after}", passed,
                 seconds)


def all_engine_checks(work: Path) -> list[Check]:
    """Every check above, in table order."""
    work.mkdir(parents=True, exist_ok=True)
    return [*isolation_checks(work / "isolation"), *changed_file_checks(work), cancel_check(work)]
