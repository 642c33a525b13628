"""Run ``forensic-analyze`` over the bad-input corpus and judge every line against its case.

Shared by tests/engine/test_reliability_cli.py and scripts/reliability_report.py, so the CI test
and the published table apply the same rules. The CLI runs as a real subprocess (a crash, a
hang or a traceback shows up as it would for a user), under one timeout for the whole batch.
Error lines are compared with the typed error the media layer raises for the same file, read
in this process, so "a clear error" means the engine's own sentence for that error class.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import MediaError
from tests.engine.bad_media import Case

__all__ = [
    "ITEM_LIMIT_S",
    "CliRun",
    "ItemOutcome",
    "compare_scores",
    "expected_text",
    "has_track_gap",
    "judge_cli_run",
    "record_path",
    "reference_error",
    "run_cli",
    "short",
]

# NOTE: the slowest corpus item (a 24-frame face video, 5 detectors) takes ~6 s on 2 busy
# cores; 60 s per item means "bounded", with room for a slow CI machine.
ITEM_LIMIT_S = 60.0
_CLI_MODULE = "engine.cli"


@dataclass(frozen=True)
class ItemOutcome:
    """What one corpus item gave on one path (CLI or app), judged against its case."""

    case: str
    expected: str
    outcome: str
    passed: bool
    seconds: float | None


@dataclass(frozen=True)
class CliRun:
    """One run of the CLI: exit code, wall time, its JSON lines keyed by path, stderr."""

    returncode: int | None
    wall_s: float
    records: dict[str, dict[str, Any]]
    n_lines: int
    stderr: str


def short(text: str, limit: int = 110) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def expected_text(case: Case, path: Path) -> str:
    """The expectation of ``case`` in a few words (the table's "expected" column)."""
    if path.is_dir():
        return "a folder: walked, holds no file, no line"
    if case.expect is not None:
        where = " (when decoding)" if case.fails_late else ""
        return f"error: {case.expect.__name__}{where}"
    if case.analysis_status == "ok":
        gap = ", one track with a gap" if case.track_gap else ""
        return f"ok, {case.n_tracks} track(s){gap}"
    return "valid; no_face"


def reference_error(path: Path) -> MediaError | None:
    """The typed error the engine's reading gives for ``path`` (probe, then the frames read).

    Read as the pipeline reads (``engine.analysis.media_io``: one guarded descriptor), so a
    special file is refused here too instead of blocking this process.
    """
    from engine.analysis.media_io import open_evidence

    try:
        with open_evidence(str(path)) as evidence:
            evidence.probe()
            for _frame in evidence.frames(n_frames=32, fps=None, cancel=None):
                pass
    except MediaError as exc:
        return exc
    return None


def record_path(record: Mapping[str, Any]) -> str:
    """The exact path of a JSON line (``path_bytes_b64`` when the name is not UTF-8)."""
    from engine.pathtext import exact_path_from_b64

    encoded = record.get("path_bytes_b64")
    return exact_path_from_b64(encoded) if encoded else str(record["path"])


def run_cli(inputs: Sequence[Path], out_jsonl: Path, *, timeout_s: float,
            extra_args: Sequence[str] = ()) -> CliRun:
    """Run ``forensic-analyze INPUTS --jsonl OUT --quiet`` (via ``python -m``) with a timeout.

    A run past ``timeout_s`` is killed and returns ``returncode=None`` with the lines written
    so far (each line is flushed when its file is done).
    """
    argv = [sys.executable, "-m", _CLI_MODULE, *map(str, inputs), "--jsonl", str(out_jsonl),
            "--quiet", *extra_args]
    start = time.perf_counter()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
        returncode: int | None = done.returncode
        stderr = done.stderr
    except subprocess.TimeoutExpired as exc:
        returncode = None
        stderr = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
    wall_s = time.perf_counter() - start
    lines = out_jsonl.read_text(encoding="utf-8").splitlines() if out_jsonl.exists() else []
    records = {os.path.normpath(record_path(r)): r for r in map(json.loads, lines)}
    return CliRun(returncode, wall_s, records, len(lines), stderr)


def _seconds(record: Mapping[str, Any]) -> float | None:
    timings = dict(record.get("provenance", {}).get("timings_s", []))
    return timings.get("total")


def _score_text(p_fake: Mapping[str, float | None]) -> str:
    return ", ".join(f"{name} {p:.2f}" for name, p in sorted(p_fake.items()) if p is not None)


def _runs(frame_indices: Sequence[int], sampled: Sequence[int]) -> str:
    """The sampled frames a track covers, as runs: ``"0-7, 16-23"``."""
    runs: list[list[int]] = []
    position = {idx: i for i, idx in enumerate(sampled)}
    for idx in frame_indices:
        if runs and position.get(idx) == position.get(runs[-1][-1], -2) + 1:
            runs[-1].append(idx)
        else:
            runs.append([idx])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in runs)


def _tracks_text(tracks: Sequence[Mapping[str, Any]], sampled: Sequence[int]) -> str:
    return "; ".join(f"#{t['track_id']}: frames {_runs(t['frame_indices'], sampled)}"
                     for t in tracks)


def has_track_gap(track_frames: Sequence[int], sampled: Sequence[int]) -> bool:
    """Whether sampled frames inside the track's span are missing from the track."""
    if not track_frames:
        return False
    inside = [i for i in sampled if track_frames[0] <= i <= track_frames[-1]]
    return len(inside) > len(set(track_frames))


def _problems_ok(case: Case, record: Mapping[str, Any]) -> list[str]:
    problems = []
    tracks = record["tracks"]
    if len(tracks) != case.n_tracks:
        problems.append(f"{len(tracks)} tracks, expected {case.n_tracks}")
    scores = [p for p in record["p_fake"].values() if p is not None]
    if not scores or not all(0.0 <= p <= 1.0 for p in scores):
        problems.append(f"no valid p_fake: {record['p_fake']}")
    missing = [n for n, p in record["p_fake"].items()
               if p is None and not record["not_applicable"].get(n)]
    if missing:
        problems.append(f"null p_fake without a reason: {missing}")
    sampled = record["provenance"]["sampled_frame_indices"]
    gaps = [has_track_gap(t["frame_indices"], sampled) for t in tracks]
    if case.track_gap != any(gaps):
        problems.append(f"track gap {any(gaps)}, expected {case.track_gap}")
    return problems


def _problems_valid(case: Case, path: Path, record: Mapping[str, Any]) -> list[str]:
    """Checks shared by ok and no_face lines (frames, hash); the status-specific ones follow."""
    problems = []
    if record["status"] != case.analysis_status:
        problems.append(f"status {record['status']}, expected {case.analysis_status}")
    if record["sha256"] != hashlib.sha256(path.read_bytes()).hexdigest():
        problems.append("sha256 differs from the file's")
    if record["kind"] == "video":
        sampled = record["provenance"]["sampled_frame_indices"]
        if [f["frame_idx"] for f in record["frames"]] != list(sampled) or not sampled:
            problems.append("per-frame lines do not match the sampled frames")
    if record["status"] == "ok":
        problems += _problems_ok(case, record)
    elif record["status"] == "no_face":
        # NOTE: whole-picture detectors score a picture without a face (their scores are in
        # picture_p_fake); a face detector must not.
        pictured = set(record.get("picture_p_fake") or {})
        if any(p is not None for d, p in record["p_fake"].items() if d not in pictured):
            problems.append("a no_face result carries face-detector scores")
    return problems


def _judge_error(case: Case, path: Path, record: Mapping[str, Any]) -> tuple[str, bool]:
    ref = reference_error(path)
    error = str(record.get("error") or "")
    if record["status"] != "error":
        return f"{record['status']} (no error)", False
    if ref is None or case.expect is None or not isinstance(ref, case.expect):
        return f"error, but the media layer gives {type(ref).__name__}: {short(error)}", False
    clear = ref.reason in error and "internal error" not in error and "Traceback" not in error
    return f"error: {type(ref).__name__}: {short(ref.reason)}", clear


def judge_cli_record(case: Case, path: Path, record: Mapping[str, Any] | None) -> ItemOutcome:
    """Judge the CLI's line for one corpus item (``None``: no line was written for it)."""
    expected = expected_text(case, path)
    if path.is_dir():
        return ItemOutcome(case.name, expected, "no line (walked as a folder)" if record is None
                           else f"a line: {record['status']}", record is None, None)
    if record is None:
        return ItemOutcome(case.name, expected, "NO LINE for this file", False, None)
    seconds = _seconds(record)
    if case.analysis_status == "error":
        outcome, passed = _judge_error(case, path, record)
    else:
        problems = _problems_valid(case, path, record)
        outcome = record["status"]
        if record["status"] == "ok":
            sampled = record["provenance"]["sampled_frame_indices"]
            outcome += (f", {len(record['tracks'])} track(s) "
                        f"({_tracks_text(record['tracks'], sampled)})")
            outcome += f"; p_fake {_score_text(record['p_fake'])}"
        outcome = "; ".join([outcome, *problems])
        passed = not problems
    if seconds is None or seconds > ITEM_LIMIT_S:
        outcome += f"; took {seconds} s (limit {ITEM_LIMIT_S:.0f} s)"
        passed = False
    return ItemOutcome(case.name, expected, outcome, passed, seconds)


def judge_cli_run(cases: Sequence[Case], corpus: Mapping[str, Path],
                  run: CliRun) -> list[ItemOutcome]:
    """One :class:`ItemOutcome` per case, in corpus order."""
    return [judge_cli_record(case, corpus[case.name],
                             run.records.get(os.path.normpath(corpus[case.name])))
            for case in cases]


def compare_scores(batch: CliRun, alone: CliRun) -> list[str]:
    """Differences between the scores of files analysed in the batch and on their own."""
    problems = []
    for path, record in alone.records.items():
        in_batch = batch.records.get(path)
        if in_batch is None:
            problems.append(f"{Path(path).name}: not in the batch")
            continue
        if in_batch["status"] != record["status"] or not _same_scores(in_batch["p_fake"],
                                                                       record["p_fake"]):
            problems.append(f"{Path(path).name}: {in_batch['status']} {in_batch['p_fake']} in "
                            f"the batch, {record['status']} {record['p_fake']} alone")
    return problems


def _same_scores(a: Mapping[str, float | None], b: Mapping[str, float | None]) -> bool:
    # NOTE: 1e-6 allows for a different float summation order in ONNX Runtime's threads;
    # state leaking from another file would move a score by far more.
    if a.keys() != b.keys():
        return False
    for name, p_a in a.items():
        p_b = b[name]
        if (p_a is None) != (p_b is None) or (p_a is not None and abs(p_a - p_b) > 1e-6):
            return False
    return True
