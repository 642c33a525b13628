"""Run the bad-input corpus through the CLI and the app, print a table, write docs/RELIABILITY.md.

Issues #7 and #18 ask that every odd, broken or hostile input give a clear per-item error or a
correct result, through both the CLI and the app, with no crash, no hang, no changed input and
no effect on the other items of a batch. This script is the evidence: it generates the corpus
(tests/engine/bad_media.py and tests/engine/hostile_media.py) into a temporary folder and

(a) runs the real ``forensic-analyze FOLDER --jsonl OUT`` once over it (a subprocess, one
    timeout for the whole batch), judges every line, and re-runs the files that must have faces
    on their own to show their scores do not depend on the rest of the batch;
(b) drives the real main window (offscreen, real engine and shipped detectors): one batch
    import of the folder, then each added item analysed, recording what the analyst sees;
(c) starts the real application with its database in a read-only folder (new and existing
    database) and runs the CLI from inside that folder;
(d) runs the hostile command lines of tests/engine/hostile_cli.py (argument ranges, output
    paths that alias an input, a full output, a closed pipe, Ctrl-C), the engine-API checks
    of tests/engine/hostile_engine.py (a segfault, an abort, a hang and a runaway allocation
    in the worker; a file changed between hashing and decoding; Cancel of a hung analysis)
    and the app checks of tests/gui/hostile_app.py (another program's database; a file that
    crashes the analysis worker).

The judging rules are the ones the tests use (tests/engine/reliability_cli.py,
tests/gui/reliability_app.py and the hostile_* modules). Exit status 0 when every check passed,
1 otherwise.

Usage: python scripts/reliability_report.py [--out docs/RELIABILITY.md] [--batch-timeout S]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from make_bad_corpus import load_tests_package

# NOTE: the rows of every table are the hostile suites' own Check (tests/engine/hostile_cli.py).
load_tests_package()
from tests.engine.hostile_cli import Check  # noqa: E402  (the tests package is loaded above)

_REPO = Path(__file__).resolve().parents[1]
_COMMAND = "python scripts/reliability_report.py"


def _cli_section(cases: Any, corpus: dict[str, Path], work: Path, timeout_s: float
                 ) -> tuple[Any, list[Any], list[str]]:
    from tests.engine.reliability_cli import compare_scores, judge_cli_run, run_cli

    folder = work / "corpus"
    batch = run_cli([folder], work / "batch.jsonl", timeout_s=timeout_s)
    outcomes = judge_cli_run(cases, corpus, batch)
    problems = []
    if batch.returncode != 0:
        problems.append(f"exit code {batch.returncode} (expected 0)")
    if "Traceback" in batch.stderr:
        problems.append("a traceback on stderr")
    good = [corpus[c.name] for c in cases if c.analysis_status == "ok"]
    alone = run_cli(good, work / "alone.jsonl", timeout_s=timeout_s)
    problems += compare_scores(batch, alone)
    return batch, outcomes, problems


def _app_section(cases: Any, corpus: dict[str, Path], work: Path, item_timeout_s: float
                 ) -> tuple[Any, list[Any]]:
    from PySide6.QtWidgets import QApplication

    from forensic_gui.cases.repository import CaseStore
    from forensic_gui.controller import EngineServices
    from forensic_gui.dialogs.new_case_dialog import NewCaseFields
    from forensic_gui.main_window import MainWindow
    from forensic_gui.settings import Settings
    from tests.gui.reliability_app import judge_app_run, run_corpus

    app = QApplication.instance() or QApplication([sys.argv[0]])
    settings = Settings(analyst="Reliability check")
    with CaseStore.open(work / "app" / "cases.sqlite3") as store:
        window = MainWindow(store, settings, services=EngineServices.default())
        window.show()
        window.controller.create_case(NewCaseFields("REL-1", "Bad inputs", settings.analyst, ""))
        run = run_corpus(window, work / "corpus", item_timeout_s=item_timeout_s,
                         import_timeout_s=item_timeout_s)
        window.close()
    app.processEvents()
    return run, judge_app_run(cases, corpus, run)


def _startup_check(work: Path, existing_db: bool) -> Check:
    from tests.gui.readonly_db import make_readonly_dir, start_app_with_db_in

    root = work / f"ro_app_{'existing' if existing_db else 'new'}"
    ro_dir = make_readonly_dir(root, existing_db=existing_db)
    try:
        started = start_app_with_db_in(ro_dir, root)
    finally:
        ro_dir.chmod(0o755)
    texts = [text for _title, text in started.dialogs]
    passed = (started.returncode == 2 and len(texts) == 1 and "read-only" in texts[0]
              and "Traceback" not in started.stderr)
    shown = " / ".join(" ".join(t.split()) for t in texts) or "no message"
    name = "app, existing database" if existing_db else "app, new database"
    return Check(f"{name} in a read-only folder", "exit 2, one clear message, no traceback",
                 f"exit {started.returncode}; message: {shown}", passed, started.seconds)


def _cli_checks(work: Path, photo: Path) -> list[Check]:
    from tests.gui.readonly_db import cli_in_readonly_dir, make_readonly_dir

    root = work / "ro_cli"
    ro_dir = make_readonly_dir(root, existing_db=False)
    try:
        ran = cli_in_readonly_dir(ro_dir, root, photo, jsonl=root / "out.jsonl")
        refused = cli_in_readonly_dir(ro_dir, root, photo, jsonl=ro_dir / "out.jsonl")
    finally:
        ro_dir.chmod(0o755)
    out = root / "out.jsonl"
    ok_line = out.exists() and '"status": "ok"' in out.read_text(encoding="utf-8")
    said = refused.stderr.strip().splitlines()[-1:] or ["nothing"]
    return [
        Check("CLI run from inside the read-only folder", "exit 0, an ok line",
              f"exit {ran.returncode}; ok line written: {ok_line}",
              ran.returncode == 0 and ok_line, ran.seconds),
        Check("CLI --jsonl into the read-only folder", "usage error: exit 2, no traceback",
              f"exit {refused.returncode}; {said[0]}",
              refused.returncode == 2 and "Traceback" not in refused.stderr, refused.seconds),
    ]


def _hostile_checks(work: Path) -> dict[str, list[Check]]:
    """(d): the command-line, engine-API and app checks of issue #18, by table."""
    from tests.engine.hostile_cli import all_cli_checks
    from tests.engine.hostile_engine import all_engine_checks
    from tests.gui.hostile_app import app_crash_check, database_checks

    return {
        "cli": all_cli_checks(work / "hostile_cli"),
        "engine": all_engine_checks(work / "hostile_engine"),
        "app": [*database_checks(work / "hostile_app"), app_crash_check(work / "app_crash")],
    }


def _vfr_timing_note(corpus: dict[str, Path], batch: Any) -> str:
    """How far the nominal ``t_sec`` of the VFR file is from its container timestamps."""
    import cv2

    record = batch.records.get(os.path.normpath(corpus["vfr_mp4"]))
    if record is None or record["status"] == "error":
        return "The variable-frame-rate file gave no frames; no timing comparison."
    cap = cv2.VideoCapture(str(corpus["vfr_mp4"]))
    pts_s = []
    while cap.grab():
        pts_s.append(cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
    cap.release()
    errors = [abs(f["t_sec"] - pts_s[f["frame_idx"]]) for f in record["frames"]]
    return (f"Variable frame rate: every frame index is exact (decode order), but `t_sec` is "
            f"`frame_idx / nominal fps`; on the generated file it differs from the container "
            f"timestamps by up to {max(errors) * 1000:.0f} ms (mean {np.mean(errors) * 1000:.0f}"
            " ms). Seek by frame index, not by time, on phone video.")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _corpus_table(cases: Any, cli: list[Any], app: list[Any]) -> list[str]:
    rows = ["| # | kind | expected | CLI outcome | app outcome | s CLI / app | pass |",
            "|---|---|---|---|---|---|---|"]
    for i, (case, c, a) in enumerate(zip(cases, cli, app, strict=True), start=1):
        verdict = "PASS" if c.passed and a.passed else "**FAIL**"
        rows.append(f"| {i} | `{case.name}`: {_cell(case.note)} | {_cell(c.expected)} | "
                    f"{_cell(c.outcome)} | {_cell(a.outcome)} | {_secs(c.seconds)} / "
                    f"{_secs(a.seconds)} | {verdict} |")
    return rows


def _checks_table(checks: list[Check]) -> list[str]:
    rows = ["| check | expected | outcome | s | pass |", "|---|---|---|---|---|"]
    rows += [f"| {_cell(c.name)} | {_cell(c.expected)} | {_cell(c.outcome)} | "
             f"{_secs(c.seconds)} | {'PASS' if c.passed else '**FAIL**'} |" for c in checks]
    return rows


def _markdown(summary: dict[str, Any], cases: Any, cli: list[Any], app: list[Any],
              checks: list[Check], hostile: dict[str, list[Any]], notes: list[str]) -> str:
    lines = [
        "# Bad-input reliability (issues #7 and #18)", "",
        f"Written by `{_COMMAND}` ({summary['when']}, {summary['machine']}). It generates the "
        "corpus of `tests/engine/bad_media.py` and `tests/engine/hostile_media.py` (nothing "
        "binary is committed), runs it through "
        "the real CLI and the real app, and judges every item with the rules of "
        "`tests/engine/reliability_cli.py` and `tests/gui/reliability_app.py`; the CI tests "
        "`tests/engine/test_reliability_cli.py` and `tests/gui/test_reliability_app.py` apply "
        "the same rules with fewer frames (and fake detectors in the app).", "",
        f"- **Kinds tried: {summary['n_kinds']}** ({len(cases)} corpus files, {len(checks)} "
        f"read-only-folder checks, {sum(map(len, hostile.values()))} command-line, engine-API "
        f"and app checks). Passed: {summary['n_passed']} of {summary['n_kinds']}.",
        f"- CLI: `forensic-analyze CORPUS --jsonl OUT` (32 frames, every shipped detector): exit "
        f"{summary['cli_exit']}, {summary['cli_lines']} lines for {summary['n_files']} files, "
        f"{summary['cli_wall_s']:.0f} s for the batch (limit {summary['batch_limit_s']:.0f} s).",
        f"- Other items unaffected: the {summary['n_good']} files with faces scored the same "
        f"alone as in the batch: {summary['same_alone']}.",
        f"- App: one batch import of the folder ({summary['import_s']:.1f} s), then each added "
        f"item analysed with the shipped detectors (limit {summary['item_limit_s']:.0f} s each).",
        "- Columns: *expected* is the CLI's expectation; in the app a file refused when probed is "
        "not added and listed with the same reason, and a file that fails later is added and its "
        "analysis reports the error. Times: the CLI's per-file total from its provenance timings, "
        "and the app's wall time from *Analyze* to the frame shown. `$TMP` is the temporary "
        "folder of the run.", "",
        "## Corpus through the CLI and the app", "",
        *_corpus_table(cases, cli, app), "",
        "## Read-only database folder", "", *_checks_table(checks), "",
        "## Hostile command lines (issue #18)", "",
        "The real `forensic-analyze` in a subprocess (`tests/engine/hostile_cli.py`); lines "
        "ending in a complete JSON object are counted as whole.", "",
        *_checks_table(hostile["cli"]), "",
        "## Isolation and integrity through the engine API (issue #18)", "",
        "A face finder that really segfaults, aborts, loops or allocates inside the worker "
        "process (`tests/engine/pool_fakes.py`), as MediaPipe or FFmpeg would; a file changed "
        "from inside the analysis (`tests/engine/hostile_engine.py`).", "",
        *_checks_table(hostile["engine"]), "",
        "## The app (issue #18)", "", *_checks_table(hostile["app"]), "",
        "## Notes", "", *[f"- {n}" for n in notes], "",
    ]
    return "\n".join(lines)


def _print_table(cases: Any, cli: list[Any], app: list[Any], checks: list[Check]) -> None:
    for case, c, a in zip(cases, cli, app, strict=True):
        verdict = "PASS" if c.passed and a.passed else "FAIL"
        print(f"{verdict} {case.name:20} CLI: {c.outcome[:70]:70} | app: {a.outcome[:60]}")
    for check in checks:
        print(f"{'PASS' if check.passed else 'FAIL'} {check.name}: {check.outcome[:100]}")


def _run(args: argparse.Namespace, work: Path) -> int:
    load_tests_package()
    from tests.engine.hostile_media import CORPUS as CASES
    from tests.engine.hostile_media import make_corpus

    start = time.perf_counter()
    corpus = make_corpus(work / "corpus", np.random.default_rng(0))
    gen_s = time.perf_counter() - start
    batch, cli, cli_problems = _cli_section(CASES, corpus, work, args.batch_timeout)
    app_run, app = _app_section(CASES, corpus, work, args.item_timeout)
    checks = [_startup_check(work, False), _startup_check(work, True),
              *_cli_checks(work, corpus["face_photo"])]
    hostile = _hostile_checks(work)
    n_passed = sum(c.passed and a.passed for c, a in zip(cli, app, strict=True))
    n_passed += sum(c.passed for c in [*checks, *(c for h in hostile.values() for c in h)])
    summary = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, Python "
                   f"{platform.python_version()}",
        "n_kinds": len(CASES) + len(checks) + sum(map(len, hostile.values())),
        "n_passed": n_passed,
        "n_files": sum(not p.is_dir() for p in corpus.values()), "cli_exit": batch.returncode,
        "cli_lines": batch.n_lines, "cli_wall_s": batch.wall_s,
        "batch_limit_s": args.batch_timeout, "item_limit_s": args.item_timeout,
        "n_good": sum(c.analysis_status == "ok" for c in CASES),
        "same_alone": "yes" if not cli_problems else "; ".join(cli_problems),
        "import_s": app_run.import_seconds,
    }
    notes = [f"Generating the corpus took {gen_s:.1f} s.", _vfr_timing_note(corpus, batch)]
    _print_table(CASES, cli, app, [*checks, *(c for h in hostile.values() for c in h)])
    text = _markdown(summary, CASES, cli, app, checks, hostile, notes).replace(str(work), "$TMP")
    args.out.write_text(text, encoding="utf-8")
    print(f"{n_passed} of {summary['n_kinds']} passed; wrote {args.out}")
    return 0 if n_passed == summary["n_kinds"] and not cli_problems else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=_REPO / "docs" / "RELIABILITY.md")
    parser.add_argument("--batch-timeout", type=float, default=900.0,
                        help="seconds allowed for the whole CLI batch")
    parser.add_argument("--item-timeout", type=float, default=120.0,
                        help="seconds allowed per item in the app")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="forensic-reliability-") as name:
        return _run(args, Path(name))


if __name__ == "__main__":
    raise SystemExit(main())
