"""Kill the app's case-database work with SIGKILL N times and print what survived.

The same rounds as ``tests/cases/test_crash_safety.py`` (see ``tests/cases/crash_harness.py``),
but with ``--real`` the child runs the shipped detectors on ``resources/sample/demo_real.mp4``
with the app's default settings, so kills land in a real analysis. The harness is loaded by path
(scripts are not a package and must not edit sys.path). Figures go in docs/TAMPER_AND_CRASH.md.

Usage: python scripts/crash_torture.py [--real] [--kills 20] [--seed 7] [--work DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
_HARNESS = REPO / "tests" / "cases" / "crash_harness.py"


def _load_harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_harness", _HARNESS)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"cannot load {_HARNESS}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def _evidence(work: Path, real: bool) -> Path:
    folder = work / "evidence"
    folder.mkdir(parents=True)
    names = ("demo_real.mp4",) if real else ("demo_real.mp4", "demo_fake.mp4")
    for name in names:
        shutil.copyfile(REPO / "resources" / "sample" / name, folder / name)
    return folder


def _print_round(r: Any) -> None:
    status = "ok" if not r.problems else "PROBLEMS: " + "; ".join(r.problems)
    into = "" if r.into_phase_s is None else f" {r.into_phase_s * 1000:7.1f} ms into it"
    print(f"kill {r.index + 1:3d}: aimed at {r.target:8s} +{r.delay_s * 1000:7.1f} ms, "
          f"died in {r.died_in:14s}{into} | {r.n_commits:4d} commits logged so far, "
          f"checked in {r.check_s:.2f} s: {status}", flush=True)


def _summary(harness: ModuleType, rounds: list[Any], work: Path, evidence: Path,
             wall_s: float) -> int:
    commits = harness.read_commits(sorted(work.glob("log_*.txt")))
    failed = [r for r in rounds if r.problems]
    print(f"\n{len(rounds)} SIGKILLs in {wall_s:.0f} s; rounds with problems: {len(failed)}")
    print("aimed at:", dict(Counter(r.target for r in rounds)))
    print("died in: ", dict(Counter(r.died_in for r in rounds)))
    print(f"commits logged and found intact after the last kill: cases {len(commits.cases)}, "
          f"evidence {len(commits.evidence)}, analyses {len(commits.analyses)}, verdicts "
          f"{len(commits.verdicts)}, audit entries {len(commits.audit)}")
    print(f"evidence files unchanged (sha256, size, mtime): {len(list(evidence.iterdir()))}")
    checks = [r.check_s for r in rounds]
    print(f"check after each kill: mean {sum(checks) / len(checks):.2f} s, max {max(checks):.2f} s")
    print(f"database: {work / 'cases.sqlite3'}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", action="store_true", help="run the shipped detectors")
    parser.add_argument("--kills", type=int, default=20, help="how many SIGKILLs (default 20)")
    parser.add_argument("--seed", type=int, default=7, help="seed of targets and delays")
    parser.add_argument("--work", type=Path, help="empty folder for the database and logs")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="crash_torture_"))
    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()):
        parser.error(f"--work {work} is not empty")
    harness = _load_harness()
    evidence = _evidence(work, args.real)
    settings = harness.TortureSettings.for_real() if args.real else harness.TortureSettings()
    print(f"{args.kills} kills, {'real detectors' if args.real else 'fake analysis'}, "
          f"seed {args.seed}, work folder {work}", flush=True)
    started = time.monotonic()
    rounds = harness.run_rounds(work, evidence, kills=args.kills, seed=args.seed,
                                settings=settings, on_round=_print_round)
    return _summary(harness, rounds, work, evidence, time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
