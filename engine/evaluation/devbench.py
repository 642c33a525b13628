"""``python -m engine.evaluation.devbench``: the product measured on media made by others.

    python -m engine.evaluation.devbench [--index ../shared/data/dev_bench/index.csv]
        [--out docs/devbench] [--cache ~/.cache/forensic-devbench] [--models-dir DIR]
        [--frames 32] [--rescore] [--fit] [--record-cards]

1. Reads the index (a bad row is reported and skipped; the rest goes on).
2. Analyses every item with the app's own ``Analyzer`` (cached by the models' SHA-256: a rerun
   after a fusion-only change reads the cache and takes seconds).
3. Fits fusion v2 leaving each source out in turn (``engine.evaluation.fit_fusion``), so every
   item is graded by a rule it was not fitted on, and reports per kind and per source: AUC/AP of
   every detector, of every kind's finding and of the file's finding; the grade table; the error
   rates per grade; each detector's false alarms at its own threshold; a reliability diagram.
4. Fits each detector's own threshold on the real items (``engine.evaluation.fit_thresholds``:
   at most 5% of real photos and of real videos reach it), with its leave-one-source-out
   false alarms.
5. ``--fit`` fits the rule on every item and installs it as ``<models>/fusion/fusion.json``
   with the cross-validated error rates, and writes each detector's threshold into its card;
   ``--record-cards`` stores the figures in the cards. Into the shipped models folder they go
   only with the report that documents them (``--out`` left at ``docs/devbench``): a fit whose
   report goes elsewhere must name a copy with ``--models-dir``, so a scratch check cannot
   rewrite what ships (see :func:`check_install_target`).

Outputs in ``--out``: ``README.md`` (the report), ``results.json`` (every item's scores and
findings), ``reliability.png``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.evaluation.bench_index import IndexReadError, read_index

__all__ = ["check_install_target", "install_json", "install_refusal", "main", "shown_path",
           "start_run"]

log = logging.getLogger(__name__)

DEFAULT_INDEX = Path(__file__).resolve().parents[2].parent / "shared/data/dev_bench/index.csv"
DEFAULT_CACHE = Path.home() / ".cache" / "forensic-devbench"
REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS_OUT = REPO_ROOT / "docs" / "devbench"
RULE_PREFIX = "fusion v2 per kind"


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m engine.evaluation.devbench",
        description="Measure the shipped detectors and findings on a labelled real-media index.",
    )
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="index CSV")
    parser.add_argument("--out", type=Path, default=Path("docs/devbench"), help="report folder")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="score cache folder")
    parser.add_argument("--models-dir", type=Path, help="models folder (default: shipped)")
    parser.add_argument("--frames", type=int, default=32, help="frames per video (default 32)")
    parser.add_argument("--rescore", action="store_true", help="ignore cached analyses")
    parser.add_argument("--fit", action="store_true", help="fit and install the fusion rule")
    parser.add_argument("--record-cards", action="store_true", help="store figures in cards")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 on success, 2 on a usage error, 1 when nothing could be scored."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.frames < 1:
        parser.error("--frames must be >= 1")
    problem = check_install_target(args)
    if problem:
        parser.error(problem)
    items, row_errors = start_run(parser, args, "devbench")
    if not items:
        sys.stderr.write("devbench: no usable row in the index\n")
        return 1
    given = list(argv if argv is not None else sys.argv[1:])
    command = " ".join(["python -m engine.evaluation.devbench", *given])
    run = _evaluate(args, items, row_errors, command)
    sys.stdout.write(f"devbench: report in {run['report']}\n")
    return 0


def check_install_target(args: argparse.Namespace) -> str | None:
    """Why this run may not write into the models folder, or ``None`` when it may.

    ``--fit`` and ``--record-cards`` write the fusion rule, the thresholds and the figures into
    the models folder: see :func:`install_refusal`.
    """
    return install_refusal(writes=args.fit or args.record_cards, models_dir=args.models_dir,
                           report=args.out, documented=DOCS_OUT,
                           flags="--fit and --record-cards")


def install_refusal(*, writes: bool, models_dir: Path | None, report: Path, documented: Path,
                    flags: str) -> str | None:
    """Why a run may not write into the shipped models folder, or ``None`` when it may.

    Into the shipped folder (no ``--models-dir`` and no ``FORENSIC_MODELS_DIR``) a command may
    write only together with the report in ``docs/`` that documents what it wrote: a check with
    a scratch report once rewrote every card's provenance to cite a scratch command.
    """
    import os

    if not writes or models_dir is not None or os.environ.get("FORENSIC_MODELS_DIR"):
        return None
    if report.resolve() == documented:
        return None
    shown = documented.relative_to(REPO_ROOT)
    return (f"{flags} write into the shipped models folder (resources/models), so their report "
            f"must be {shown}, the one that documents them; to write with the report at "
            f"{report}, name a copy of the models with --models-dir COPY (or leave out "
            f"{flags} to only measure)")


def start_run(parser: argparse.ArgumentParser, args: argparse.Namespace,
              prog: str) -> tuple[list[Any], list[Any]]:
    """What every command over an index does first: logging (``--verbose``), the models folder
    (``--models-dir``, through ``FORENSIC_MODELS_DIR`` so the app's own loading reads it), and
    the index, whose bad rows are each reported on stderr while the run goes on.

    Returns the usable items and the skipped rows; an unreadable index is a usage error.
    """
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if args.models_dir is not None:
        import os

        os.environ["FORENSIC_MODELS_DIR"] = str(args.models_dir.resolve())
    try:
        items, row_errors = read_index(args.index)
    except IndexReadError as exc:
        parser.error(str(exc))
    for err in row_errors:
        sys.stderr.write(f"{prog}: row {err.row} ({err.rel_path}) skipped: {err.message}\n")
    return items, row_errors


def _evaluate(args: argparse.Namespace, items: list[Any], row_errors: list[Any],
              command: str) -> dict[str, Any]:
    from engine.api import AnalysisOptions
    from engine.evaluation import bench_report
    from engine.evaluation.bench_records import records_from
    from engine.evaluation.bench_scores import score_items
    from engine.evaluation.fit_fusion import FitError, cross_validate, fit_rule, grade_record
    from engine.evaluation.fit_thresholds import DETECTOR_MAX_REAL_RATE, fit_thresholds
    from engine.fusion.rules import uncalibrated_rule

    def progress(done: int, total: int, scored: Any) -> None:
        sys.stderr.write(f"\r  analysed {done}/{total}: {scored.item.rel_path[:60]:60s}")
        if done == total:
            sys.stderr.write("\n")

    options = AnalysisOptions(n_frames=args.frames)
    scored, key = score_items(items, cache_dir=args.cache, options=options,
                              rescore=args.rescore, on_item=progress)
    records = records_from(scored)
    rule_id = f"{RULE_PREFIX} ({_index_tag(args.index)}, fitted {dt.date.today().isoformat()})"
    try:
        oof, oof_frames = cross_validate(records, rule_id=rule_id + ", cross-validated")
        cv_problem = None
    except FitError as exc:  # too few items: report the detectors, grade uncalibrated
        cv_problem = f"no cross-validated rule could be fitted: {exc}"
        sys.stderr.write(f"devbench: {cv_problem}; findings below use the uncalibrated rule\n")
        oof = {r.item.path: grade_record(r, uncalibrated_rule()) for r in records}
        oof_frames = {}
    context = {
        "command": command,
        "index": shown_path(args.index),
        "index_sha256": hashlib.sha256(args.index.read_bytes()).hexdigest(),
        "cache_key": key,
        "row_errors": [vars(e) for e in row_errors],
        "cv_problem": cv_problem,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    detectors = sorted({n for r in records for n in r.file_scores})
    threshold_fits = fit_thresholds(records, detectors, DETECTOR_MAX_REAL_RATE)
    if args.fit and cv_problem is None:
        # NOTE: before the report is built, so its table of real media above each threshold
        # reads the thresholds now installed.
        _install_thresholds(threshold_fits, context)
    report = bench_report.build(records, oof, oof_frames, context)
    report["threshold_fits"] = [f.to_dict() for f in threshold_fits.values()]
    if args.fit and cv_problem is not None:
        raise SystemExit(f"devbench: --fit refused: {cv_problem}")
    if args.fit:
        fitted = {k: context[k] for k in ("command", "index", "index_sha256", "date")}
        fitted["n_items"] = len(records)
        fitted["validation"] = "leave-one-source-out cross-validation"
        rule = fit_rule(records, rule_id=rule_id, fitted=fitted)
        rule = type(rule)(rule.rule_id, rule.kinds, rule.tail_rates, report["error_rates"],
                          rule.fitted)
        _install_rule(rule)
        report["installed_rule"] = rule.to_dict()
    out = bench_report.write(report, args.out)
    if args.record_cards:
        bench_report.record_in_cards(report, command)
    return {"report": out}


def _install_thresholds(fits: dict[str, Any], context: dict[str, Any]) -> None:
    from engine.runtime.weights import WeightsStore
    from engine.training.card import record_threshold

    store = WeightsStore()
    for name, fit in fits.items():
        if name not in store.names():
            continue
        source = {**fit.to_dict(), **{k: context[k] for k in ("command", "index", "index_sha256",
                                                               "date")}}
        record_threshold(store.card_path(name), fit.threshold, source)
        log.info("threshold of %s set to %s%s", name, fit.threshold,
                 "" if fit.rate_met else " (the rate cannot hold: real items at the ceiling)")


def _install_rule(rule: Any) -> None:
    from engine.fusion.rules import rule_file

    install_json(rule_file(), rule.to_dict())
    log.info("installed fusion rule %s", rule_file())


def install_json(target: Path, data: Any, *, indent: int = 2) -> None:
    """Write ``data`` as sorted JSON to ``target`` in the models folder, whole or not at all
    (a temporary file renamed over it: the app never reads half a rule)."""
    from engine.evaluation.bench_scores import atomic_write_text

    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, json.dumps(data, indent=indent, sort_keys=True) + "\n")


def shown_path(path: Path) -> str:
    """``path`` relative to the repository's parent folder when it lies there (no home dirs)."""
    try:
        return str(Path("..") / path.resolve().relative_to(REPO_ROOT.parent))
    except ValueError:
        return str(path)


def _index_tag(index: Path) -> str:
    return index.parent.name or index.name


if __name__ == "__main__":
    sys.exit(main())
