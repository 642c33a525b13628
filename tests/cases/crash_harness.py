"""SIGKILL the crash child at random moments and check what survived, round after round.

Shared by ``tests/cases/test_crash_safety.py`` (fake analysis, 20 kills) and
``scripts/crash_torture.py`` (``--real``), which loads this file by path: so it imports nothing
from ``tests`` and loads ``crash_child.py`` by path too.

Each round starts ``crash_child.py`` on the same database with a target phase (seeded RNG); the
child stops itself (SIGSTOP) when it reaches that phase, the parent resumes it (SIGCONT), sleeps
a random delay about as long as the phase and sends SIGKILL (for ``startup``: a random delay
from spawning). Timing from the child's own pause keeps the kills inside the phase even when
the machine is busy and the parent is scheduled late. Then, with no child running:

- ``PRAGMA integrity_check`` on a raw connection is ``ok``;
- the database reopens with the app's own ``CaseStore.open`` (quick check and migration);
- the audit chain verifies, and every audit entry the child logged is there with its hash;
- every logged case, evidence item, analysis (result and key frames) and verdict is there with
  identical content;
- every case, evidence, analysis and verdict row has its audit entry and the reverse (an action
  and its audit entry commit together or not at all), and each stored result still matches
  the ``result_sha256`` stored with it;
- every evidence file has its original SHA-256, size and modification time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np

from forensic_gui.cases import CaseStore, CaseStoreError, RecordNotFoundError

__all__ = [
    "CHILD",
    "Commits",
    "Fingerprint",
    "KillRound",
    "TortureSettings",
    "check_after_crash",
    "fingerprint",
    "read_commits",
    "run_child",
    "run_rounds",
]

CHILD = Path(__file__).resolve().with_name("crash_child.py")


def _load_child() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_child", CHILD)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"cannot load {CHILD}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_child = _load_child()
PHASES: tuple[str, ...] = _child.PHASES


@dataclass(frozen=True)
class TortureSettings:
    """The longest random delay before a kill, per phase, counted from the phase's start.

    ``startup`` counts from spawning the child; the others from the moment the child paused
    itself at that phase (see ``crash_child --pause-at``). Each window is about as long as the
    phase, so the kills land inside it.
    """

    real: bool = False
    # NOTE: the phase lengths measured on the 2-core development machine (docs/TAMPER_AND_CRASH.md).
    windows_s: tuple[tuple[str, float], ...] = (
        ("startup", 1.2), ("open", 0.07), ("case", 0.02), ("import", 0.1), ("analysis", 0.05),
        ("save", 0.03), ("verdict", 0.02), ("audit", 0.005),
    )
    pause_timeout_s: float = 120.0

    @classmethod
    def for_real(cls) -> TortureSettings:
        """Windows for ``--real``: loading the detectors and one analysis take seconds."""
        return cls(real=True, pause_timeout_s=300.0, windows_s=(
            ("startup", 1.2), ("open", 0.07), ("case", 0.02), ("import", 0.1), ("analysis", 6.0),
            ("save", 0.08), ("verdict", 0.015), ("audit", 0.005),
        ))

    def window_s(self, phase: str) -> float:
        """The longest random delay after the child reaches ``phase``."""
        return dict(self.windows_s)[phase]


@dataclass(frozen=True)
class Fingerprint:
    """What must not change about an evidence file."""

    path: str
    sha256: str
    size_bytes: int
    mtime_ns: int


def fingerprint(folder: Path) -> tuple[Fingerprint, ...]:
    """Fingerprints of every file in ``folder``, sorted by path."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        found.append(Fingerprint(str(path), digest, stat.st_size, stat.st_mtime_ns))
    return tuple(found)


@dataclass
class Commits:
    """Everything the children logged as committed (complete lines only), by kind and id."""

    cases: dict[int, str] = field(default_factory=dict)
    evidence: dict[int, str] = field(default_factory=dict)
    analyses: dict[int, tuple[int, str, str]] = field(default_factory=dict)
    verdicts: dict[int, tuple[int, str]] = field(default_factory=dict)
    audit: dict[int, str] = field(default_factory=dict)

    @property
    def n_total(self) -> int:
        """How many commits were logged."""
        return sum(map(len, (self.cases, self.evidence, self.analyses, self.verdicts, self.audit)))


def read_commits(logs: Sequence[Path]) -> Commits:
    """Parse the commit lines of ``logs``; a last line cut by the kill (no newline) is ignored."""
    commits = Commits()
    for log in logs:
        text = log.read_text(encoding="utf-8") if log.exists() else ""
        for line in text.splitlines(keepends=True):
            if not line.endswith("\n"):
                continue
            kind, *rest = line.split()
            if kind == "case":
                commits.cases[int(rest[0])] = rest[1]
            elif kind == "evidence":
                commits.evidence[int(rest[0])] = rest[1]
            elif kind == "analysis":
                commits.analyses[int(rest[0])] = (int(rest[1]), rest[2], rest[3])
            elif kind == "verdict":
                commits.verdicts[int(rest[0])] = (int(rest[1]), rest[2])
            elif kind == "audit":
                commits.audit[int(rest[0])] = rest[1]
    return commits


# -- the checks ------------------------------------------------------------------------------


def check_after_crash(db_path: Path, commits: Commits,
                      originals: Sequence[Fingerprint]) -> list[str]:
    """Every problem found after a kill (empty: the database and the evidence are intact)."""
    problems = _original_problems(originals)
    if not db_path.exists():
        return problems + ([f"{db_path} is gone but {commits.n_total} commits were logged"]
                           if commits.n_total else [])
    with closing(sqlite3.connect(db_path)) as raw:
        rows = raw.execute("PRAGMA integrity_check").fetchall()
    if rows != [("ok",)]:
        return [*problems, f"PRAGMA integrity_check: {rows[:5]}"]
    try:
        store = CaseStore.open(db_path)
    except CaseStoreError as exc:
        return [*problems, f"CaseStore.open failed after the kill: {exc}"]
    with store:
        problems += list(store.verify_audit_chain().problems)
        problems += _logged_problems(store, commits)
    return problems + _pairing_problems(db_path)


def _original_problems(originals: Sequence[Fingerprint]) -> list[str]:
    problems = []
    for before in originals:
        path = Path(before.path)
        stat = path.stat()
        now = Fingerprint(before.path, hashlib.sha256(path.read_bytes()).hexdigest(),
                          stat.st_size, stat.st_mtime_ns)
        if now != before:
            problems.append(f"evidence file {path.name} changed: {before} -> {now}")
    return problems


def _logged_problems(store: CaseStore, commits: Commits) -> list[str]:
    problems = []
    entries = {entry.seq: entry.hash for entry in store.audit_entries()}
    problems += [f"audit entry #{seq} logged as committed is missing or changed"
                 for seq, digest in commits.audit.items() if entries.get(seq) != digest]
    numbers = {case.id: case.number for case in store.list_cases()}
    problems += [f"case {case_id} ({number}) logged as committed is missing"
                 for case_id, number in commits.cases.items() if numbers.get(case_id) != number]
    try:
        problems += _row_problems(store, commits)
    except RecordNotFoundError as exc:
        problems.append(f"a record logged as committed is gone: {exc}")
    return problems


def _row_problems(store: CaseStore, commits: Commits) -> list[str]:
    problems = [f"evidence {evidence_id} has another SHA-256 than when committed"
                for evidence_id, sha256 in commits.evidence.items()
                if store.get_evidence(evidence_id).sha256 != sha256]
    for analysis_id, (evidence_id, result_sha, frames_sha) in commits.analyses.items():
        analysis = store.get_analysis(analysis_id)
        frames = [hashlib.sha256(f.image_bytes).hexdigest()
                  for f in store.key_frames(analysis_id)]
        if (analysis.evidence_id, _child.result_digest(analysis.result),
                _child.content_sha256(frames)) != (evidence_id, result_sha, frames_sha):
            problems.append(f"analysis {analysis_id} differs from what was committed")
    for verdict_id, (evidence_id, content_sha) in commits.verdicts.items():
        found = {v.id: v for v in store.verdicts(evidence_id)}.get(verdict_id)
        if found is None or _child.content_sha256(_child.verdict_content(found)) != content_sha:
            problems.append(f"verdict {verdict_id} logged as committed is missing or changed")
    return problems


# (table, audit action) pairs written in one transaction by the store.
_PAIRS = (
    ("cases", "case.created"),
    ("evidence", "evidence.added"),
    ("analyses", "analysis.recorded"),
    ("analyst_verdicts", "verdict.recorded"),
)


def _pairing_problems(db_path: Path) -> list[str]:
    problems = []
    with closing(sqlite3.connect(db_path)) as raw:
        for table, action in _PAIRS:
            rows = {str(r[0]) for r in raw.execute(f"SELECT id FROM {table}")}
            logged = {r[0] for r in raw.execute(
                "SELECT object_id FROM audit_events WHERE action = ?", (action,))}
            if rows != logged:
                problems.append(f"{table} rows without audit entry {sorted(rows - logged)}, "
                                f"{action} entries without row {sorted(logged - rows)}")
        for analysis_id, text, stored in raw.execute(
                "SELECT id, result_json, result_sha256 FROM analyses"):
            if hashlib.sha256(text.encode("utf-8")).hexdigest() != stored:
                problems.append(f"analysis {analysis_id}: result_json does not match its hash")
    return problems


# -- the kill loop ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KillRound:
    """One kill: what was aimed at, where the child really was, what the checks found."""

    index: int
    target: str
    delay_s: float
    died_in: str
    into_phase_s: float | None
    n_commits: int
    check_s: float
    problems: tuple[str, ...]


def _phases(log: Path) -> list[tuple[str, float]]:
    """``(phase, monotonic start)`` of every complete ``begin`` line of a child's log."""
    if not log.exists():
        return []
    found = []
    for line in log.read_text(encoding="utf-8").splitlines(keepends=True):
        words = line.split()
        if line.endswith("\n") and len(words) == 3 and words[0] == "begin":
            found.append((words[1], float(words[2])))
    return found


def _child_command(db: Path, evidence_dir: Path, log: Path, seed: int, real: bool,
                   cycles: int = 0) -> list[str]:
    command = [sys.executable, str(CHILD), str(db), str(evidence_dir), str(log),
               "--seed", str(seed), "--cycles", str(cycles)]
    return [*command, "--real"] if real else command


def _child_env() -> dict[str, str]:
    """The child imports this checkout's packages (a worktree's), not another installed copy."""
    repo = str(CHILD.parents[2])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": repo if not path else os.pathsep.join([repo, path])}


def run_child(db: Path, evidence_dir: Path, log: Path, *, seed: int, real: bool,
              cycles: int) -> subprocess.CompletedProcess[str]:
    """Run the child to completion for ``cycles`` cycles (no kill)."""
    command = _child_command(db, evidence_dir, log, seed, real, cycles)
    return subprocess.run(command, capture_output=True, text=True, check=False,
                          env=_child_env())


def _wait_stopped(child: subprocess.Popen[bytes], timeout_s: float, stderr: Path) -> None:
    """Wait until the child stopped itself at its ``--pause-at`` phase."""
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status = os.waitpid(child.pid, os.WUNTRACED | os.WNOHANG)
        if pid == child.pid and os.WIFSTOPPED(status):
            return
        if pid == child.pid:
            child.returncode = os.waitstatus_to_exitcode(status)
            tail = stderr.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"crash child exited ({child.returncode}) before pausing:\n{tail}")
        if time.monotonic() > deadline:
            child.kill()
            raise TimeoutError(f"crash child did not reach its phase in {timeout_s} s")
        time.sleep(0.002)


def _kill_round(index: int, work: Path, evidence_dir: Path, target: str,
                rng: np.random.Generator, settings: TortureSettings
                ) -> tuple[float, str, float | None]:
    """Spawn, pause at ``target``, kill; returns the delay, the phase the child died in and
    how long after that phase began."""
    log, stderr = work / f"log_{index:03d}.txt", work / f"stderr_{index:03d}.txt"
    delay_s = float(rng.uniform(0.0, settings.window_s(target)))
    command = _child_command(work / "cases.sqlite3", evidence_dir, log, 1000 + index,
                             settings.real)
    if target != "startup":
        command += ["--pause-at", target]
    killed_at = float("nan")
    with stderr.open("wb") as err:
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err,
                                 env=_child_env())
        try:
            if target != "startup":
                _wait_stopped(child, settings.pause_timeout_s, stderr)
                os.kill(child.pid, signal.SIGCONT)
            time.sleep(delay_s)
            if child.poll() is not None:
                raise RuntimeError(f"crash child exited ({child.returncode}) before the kill")
            os.kill(child.pid, signal.SIGKILL)
            killed_at = time.monotonic()
        finally:
            child.kill()  # no-op when already killed; never leaves a child behind on an error
            child.wait()
    reached = _phases(log)
    if not reached:
        return delay_s, "before startup", None
    return delay_s, reached[-1][0], killed_at - reached[-1][1]


def run_rounds(work: Path, evidence_dir: Path, *, kills: int, seed: int,
               settings: TortureSettings = TortureSettings(),
               on_round: Callable[[KillRound], None] | None = None) -> list[KillRound]:
    """``kills`` rounds of spawn, kill, check on ``work/cases.sqlite3``; returns every round.

    Targets cycle through every phase in a seeded random order, so each phase gets about the
    same number of kills; the first round always aims at ``open``, which on the new file is the
    schema migration.
    """
    rng = np.random.default_rng(seed)
    originals = fingerprint(evidence_dir)
    targets = [PHASES[i % len(PHASES)] for i in range(kills)]
    rng.shuffle(targets)
    if "open" in targets:
        targets.remove("open")
        targets.insert(0, "open")
    rounds = []
    for index, target in enumerate(targets):
        delay_s, died_in, into_s = _kill_round(index, work, evidence_dir, target, rng, settings)
        started = time.monotonic()
        commits = read_commits(sorted(work.glob("log_*.txt")))
        problems = check_after_crash(work / "cases.sqlite3", commits, originals)
        done = KillRound(index, target, delay_s, died_in, into_s, commits.n_total,
                         time.monotonic() - started, tuple(problems))
        rounds.append(done)
        if on_round is not None:
            on_round(done)
    return rounds
