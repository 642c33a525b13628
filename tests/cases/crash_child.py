"""The victim of the crash-safety tests: does what the app does to a case database, in a loop.

Run as ``python tests/cases/crash_child.py DB EVIDENCE_DIR LOG [--real] [--seed N]
[--cycles N] [--pause-at PHASE]``. It opens the database as the app does at start-up
(``CaseStore.open`` with the integrity check), then, cycle after cycle until it is killed:
creates a case, imports every file in EVIDENCE_DIR with :func:`forensic_gui.tasks.run_import`
(probe + SHA-256, the import worker's code), analyses each item with
:func:`forensic_gui.tasks.run_analysis` (hash re-check, analysis, key frames,
``record_analysis``: the analysis worker's code, on its own store like the worker), records
analyst verdicts and appends an audit entry on the "GUI" store.

Why a separate program: only a real process can be SIGKILLed at a random moment, mid-fsync
included. After each commit RETURNS, it appends one line to LOG and fsyncs it, so every line in
LOG is something the store acknowledged; the parent (``crash_harness``) checks each of them
survives the kill. ``begin <phase> <time.monotonic()>`` lines (not synced) tell the parent
where the child is and since when; with ``--pause-at`` the child stops itself (SIGSTOP) when it
reaches that phase, so the parent can time the kill from there.

The fake analysis (default) is deterministic and needs no models, so a kill costs about one
start-up; ``--real`` runs the shipped detectors through ``engine.api.Analyzer`` with the app's
default settings. Nothing here imports ``tests``: the script runs with only the installed
packages on its path. Heavy imports are inside functions so the harness can load this module
cheaply for :func:`verdict_content` and :func:`content_sha256`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from engine.jobs import Progress
    from engine.types import FrameResult, MediaInfo, MediaResult
    from forensic_gui.cases import CaseStore, VerdictRecord
    from forensic_gui.tasks import AnalyzerLike, StoreAccess

__all__ = [
    "ACTOR",
    "PHASES",
    "CommitLog",
    "FakeAnalyzer",
    "content_sha256",
    "main",
    "result_digest",
    "verdict_content",
]

ACTOR = "Crash Tester"
PHASES = ("startup", "open", "case", "import", "analysis", "save", "verdict", "audit")
FAKE_SBI, FAKE_XRAY = "fake_sbi", "fake_xray"
_N_FAKE_FRAMES = 8
_KEY_FRAMES = 2
_VERDICTS = ("authentic", "manipulated", "inconclusive")


class CommitLog:
    """Append-only text log; commit lines are fsynced before the next store call starts.

    Args:
        path: the log file.
        pause_at: a phase at whose first start the child stops itself (SIGSTOP), so the parent
            can time its kill from that exact moment, however busy the machine is.
    """

    def __init__(self, path: Path, pause_at: str | None = None) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._pause_at = pause_at

    def mark(self, phase: str) -> None:
        """Where the child is now, since when (``time.monotonic``, the same clock system-wide on
        Linux); not synced: only the parent, on the same machine, reads it."""
        os.write(self._fd, f"begin {phase} {time.monotonic():.6f}\n".encode())
        if phase == self._pause_at:
            self._pause_at = None
            os.kill(os.getpid(), signal.SIGSTOP)  # the parent sends SIGCONT, then SIGKILL

    def committed(self, kind: str, *fields: object) -> None:
        """Record one acknowledged commit: one ``write`` of the whole line, then ``fsync``."""
        os.write(self._fd, (" ".join([kind, *map(str, fields)]) + "\n").encode())
        os.fsync(self._fd)


def verdict_content(record: VerdictRecord) -> dict[str, Any]:
    """The stored content of a verdict, as compared before and after a kill."""
    return {
        "id": record.id,
        "evidence_id": record.evidence_id,
        "analyst": record.analyst,
        "verdict": record.verdict.value,
        "rationale": record.rationale,
        "supersedes_id": record.supersedes_id,
        "created_at_utc": record.created_at_utc.isoformat(),
    }


def content_sha256(content: Any) -> str:
    """SHA-256 of the canonical JSON of ``content``."""
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def result_digest(result: MediaResult) -> str:
    """SHA-256 of a result's JSON form (maps omitted), as stored and as read back."""
    from engine.api import result_to_dict

    return content_sha256(result_to_dict(result))


# -- the fake analysis -----------------------------------------------------------------------


class FakeAnalyzer:
    """Stands in for ``engine.api.Analyzer``: no models, scores derived from the file's hash.

    The media is really probed, hashed and (for key frames) decoded, so the store gets a
    result of the real shape, with one map for overlays, in milliseconds.
    """

    def analyze(self, path: str, *, expected_sha256: str | None = None,
                progress: Any = None, cancel: Any = None) -> MediaResult:
        """A deterministic result for ``path`` (``status="error"`` on a hash mismatch)."""
        from engine import api
        from engine.types import MediaResult, TrackResult

        media = api.probe_media(path)
        sha256 = api.sha256_file(path, cancel=cancel)
        if expected_sha256 is not None and sha256 != expected_sha256:
            return MediaResult(path, "error", sha256, media, error="evidence hash mismatch")
        rng = np.random.default_rng(int(sha256[:16], 16))
        indices = np.linspace(0, max(0, media.n_frames - 1), _N_FAKE_FRAMES).round()
        frames = tuple(_fake_frame(int(i), media, rng) for i in sorted(set(indices)))
        scores = _mean_scores([f.scores for f in frames])
        track = TrackResult(0, tuple(f.frame_idx for f in frames), scores, api.fuse_scores(scores))
        return MediaResult(path, "ok", sha256, media, frames, (track,), scores,
                           api.fuse_scores(scores), _fake_provenance(frames))

    def close(self) -> None:
        """Nothing to release."""


def _fake_frame(frame_idx: int, media: MediaInfo, rng: np.random.Generator) -> FrameResult:
    from engine import api
    from engine.types import DetectorScore, FaceScore, FrameResult

    w, h, crop_px = float(media.width), float(media.height), 64
    bbox = (w * 0.3, h * 0.2, w * 0.7, h * 0.8)
    crop_to_frame = np.array([[(bbox[2] - bbox[0]) / crop_px, 0.0, bbox[0]],
                              [0.0, (bbox[3] - bbox[1]) / crop_px, bbox[1]]])
    ring = np.zeros((16, 16), np.float32)
    ring[2:14, 2:14], ring[4:12, 4:12] = 1.0, 0.0  # a blending-boundary-like map
    scores = tuple(DetectorScore(name, round(float(rng.uniform(0.05, 0.95)), 6))
                   for name in (FAKE_SBI, FAKE_XRAY))
    face = FaceScore(frame_idx, 0, bbox, scores, crop_to_frame, crop_px, maps={FAKE_XRAY: ring})
    fps = media.fps or 1.0
    return FrameResult(frame_idx, frame_idx / fps, (face,), scores, api.fuse_scores(scores))


def _mean_scores(per_frame: Sequence[Sequence[Any]]) -> tuple[Any, ...]:
    from engine.types import DetectorScore

    return tuple(DetectorScore(name, float(np.mean([s.p_fake for scores in per_frame
                                                     for s in scores if s.detector == name])))
                 for name in (FAKE_SBI, FAKE_XRAY))


def _fake_provenance(frames: Sequence[FrameResult]) -> Any:
    from engine.types import DetectorProvenance, Provenance

    detectors = tuple(DetectorProvenance(name, "crash-1", hashlib.sha256(name.encode()).hexdigest(),
                                         0.5, "none") for name in (FAKE_SBI, FAKE_XRAY))
    return Provenance("crash-child", detectors, "fake", "cpu", f"{len(frames)} evenly spaced",
                      "frame=max over faces; video=mean over frames",
                      tuple(f.frame_idx for f in frames), (("fake", 0.0),))


# -- one cycle of the app's work -------------------------------------------------------------


class Workload:
    """The app's writes, phase by phase, each acknowledged commit logged."""

    def __init__(self, store: CaseStore, access: StoreAccess, evidence_dir: Path,
                 get_analyzer: Callable[[], AnalyzerLike], map_labels: dict[str, str],
                 log: CommitLog, rng: np.random.Generator, tag: str) -> None:
        self.store, self.access, self.evidence_dir = store, access, evidence_dir
        self.get_analyzer, self.map_labels = get_analyzer, map_labels
        self.log, self.rng, self.tag = log, rng, tag

    def cycle(self, index: int) -> None:
        """Case, import, analyses, verdicts, audit entry: one case's worth of work."""
        self.log.mark("case")
        number = f"CRASH-{self.tag}-{os.getpid()}-{index}"
        case = self.store.create_case(number=number, title="Crash cycle", analyst=ACTOR,
                                      notes="crash-safety test", actor=ACTOR)
        self.log.committed("case", case.id, case.number)
        items = self._import(case.id)
        for item in items:
            self._analyse(item)
        for item in items:
            self._verdicts(item.id)
        self.log.mark("audit")
        entry = self.store.append_audit(actor=ACTOR, action="report.exported", object_type="case",
                                        object_id=case.id, case_id=case.id,
                                        payload={"n_items": len(items), "cycle": index})
        self.log.committed("audit", entry.seq, entry.hash)

    def _import(self, case_id: int) -> tuple[Any, ...]:
        from engine.jobs import CancelToken, null_sink
        from forensic_gui.tasks import run_import

        self.log.mark("import")
        report = run_import([self.evidence_dir], case_id, access=self.access, progress=null_sink,
                            cancel=CancelToken())
        if report.failures:
            raise RuntimeError(f"import refused files: {report.failures}")
        for item in report.added:
            self.log.committed("evidence", item.id, item.sha256)
        return report.added

    def _analyse(self, item: Any) -> None:
        from engine.jobs import CancelToken
        from forensic_gui.tasks import AnalysisRequest, run_analysis

        self.log.mark("analysis")
        request = AnalysisRequest(item.id, item.original_path, item.sha256, item.file_name)
        outcome = run_analysis(request, access=self.access, get_analyzer=self.get_analyzer,
                               key_frame_count=_KEY_FRAMES, map_labels=self.map_labels,
                               progress=self._on_progress, cancel=CancelToken())
        if not outcome.check.ok or outcome.analysis is None:
            raise RuntimeError(f"analysis of {item.original_path} not stored: {outcome.check}")
        frames = self.store.key_frames(outcome.analysis.id)
        frames_sha = content_sha256([hashlib.sha256(f.image_bytes).hexdigest() for f in frames])
        self.log.committed("analysis", outcome.analysis.id, item.id,
                           result_digest(outcome.analysis.result), frames_sha)

    def _on_progress(self, progress: Progress) -> None:
        # run_analysis reports stage "save" just before record_analysis: the analysis store.
        if progress.stage == "save":
            self.log.mark("save")

    def _verdicts(self, evidence_id: int) -> None:
        self.log.mark("verdict")
        for _ in range(int(self.rng.integers(1, 4))):
            verdict = _VERDICTS[int(self.rng.integers(len(_VERDICTS)))]
            note = f"Rationale {self.rng.integers(1 << 30)}: seam at the jaw line, Zoë's note ✓"
            record = self.store.record_verdict(evidence_id, analyst=ACTOR, verdict=verdict,
                                               rationale=note, actor=ACTOR)
            content = verdict_content(record)
            self.log.committed("verdict", record.id, evidence_id, content_sha256(content))


# -- the program -----------------------------------------------------------------------------


def _analyzer_source(real: bool) -> tuple[Callable[[], AnalyzerLike], dict[str, str]]:
    """A lazy analyzer getter (like the app's ``AnalyzerHolder``) and the key-frame labels."""
    from engine import api
    from forensic_gui.settings import Settings

    built: list[AnalyzerLike] = []

    def get() -> AnalyzerLike:
        if not built:
            built.append(api.Analyzer(Settings(analyst=ACTOR).analysis_options()) if real
                         else FakeAnalyzer())
        return built[0]

    if not real:
        return get, {FAKE_XRAY: "Fake X-ray: blending boundary"}
    infos = api.list_detectors()
    return get, {d.name: f"{d.display_name}: {d.map_kind}" for d in infos if d.map_kind}


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path, help="the case database (created if missing)")
    parser.add_argument("evidence_dir", type=Path, help="folder of media files to import")
    parser.add_argument("log", type=Path, help="commit log to append to")
    parser.add_argument("--real", action="store_true", help="run the shipped detectors")
    parser.add_argument("--seed", type=int, default=0, help="seed of verdicts and case numbers")
    parser.add_argument("--cycles", type=int, default=0, help="stop after N cycles (0: never)")
    parser.add_argument("--pause-at", choices=PHASES[1:], help="SIGSTOP itself when it starts")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run cycles until killed (or ``--cycles`` are done); returns the exit code."""
    args = _parse(argv)
    log = CommitLog(args.log, args.pause_at)
    log.mark("startup")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication  # key frames are painted with QPainter, as in the app

    app = QGuiApplication.instance() or QGuiApplication(["crash_child"])
    from forensic_gui.cases import CaseStore
    from forensic_gui.tasks import StoreAccess

    get_analyzer, labels = _analyzer_source(args.real)
    log.mark("open")  # the first open of a new file runs the schema migration
    with CaseStore.open(args.db) as store:  # the app's start-up open, integrity check included
        log.mark("opened")
        work = Workload(store, StoreAccess(store.db_path, ACTOR), args.evidence_dir, get_analyzer,
                        labels, log, np.random.default_rng(args.seed), tag=str(args.seed))
        index = 0
        while args.cycles <= 0 or index < args.cycles:
            work.cycle(index)
            index += 1
    log.mark("done")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
