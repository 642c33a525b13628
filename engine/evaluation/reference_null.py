"""``python -m engine.evaluation.reference_null``: what a reference comparison means on real media.

    python -m engine.evaluation.reference_null [--index ../shared/data/dev_bench/index.csv]
        [--pairs docs/devbench/reference_pairs.csv] [--report docs/devbench/reference.md]
        [--cache ~/.cache/forensic-devbench] [--models-dir DIR] [--frames 32]
        [--min-frames 12] [--install] [--record-cards]

A reference comparison (``engine.fusion.reference``) sets a suspect video against genuine
footage of the same source. Its false-alarm rate is measured here, never modelled:

1. **The null.** Every genuine video of the index (``real_video``) is analysed with the app's own
   ``Analyzer`` (the dev bench's cache: nothing is analysed twice) and its sampled frames are cut
   into a first and a second half. Each half is set against the other, both ways round, with
   the very function the app uses (:func:`engine.fusion.reference.compare_to_reference`): the
   deltas of genuine footage against genuine footage of the same recording.
2. **The check.** Each ``--pairs`` row (a fake video and genuine footage of its source) is set
   against it the same way: the fake's second half against the genuine video's first half, so
   the two never share a frame. The report says, per kind and per detector, how many fakes
   stand out against the null at 5% and at 1%.

``--install`` writes the null to ``<models>/fusion/reference_null.json``, which the app reads;
``--record-cards`` stores each detector's row, and its kind's, in its model card.
A half is used only when it has at least ``--min-frames`` scored frames; that number is stored
as the least a compared file must have. Never run it on media the detectors were trained on.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.evaluation.devbench import (
    DEFAULT_CACHE,
    DEFAULT_INDEX,
    REPO_ROOT,
    install_json,
    install_refusal,
    shown_path,
    start_run,
)

__all__ = ["main", "measure_null", "split_halves", "summarize"]

log = logging.getLogger(__name__)

DEFAULT_PAIRS = Path("docs/devbench/reference_pairs.csv")
DEFAULT_REPORT = Path("docs/devbench/reference.md")
RATES = (0.05, 0.01)


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m engine.evaluation.reference_null",
        description="Measure genuine-vs-genuine differences for reference comparisons.",
    )
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="index CSV")
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS,
                        help="CSV of suspect,reference paths (relative to the index) to check")
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="Markdown report")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="score cache folder")
    parser.add_argument("--models-dir", type=Path, help="models folder (default: shipped)")
    parser.add_argument("--frames", type=int, default=32, help="frames per video (default 32)")
    parser.add_argument("--min-frames", type=int, default=12,
                        help="scored frames a half needs to count (default 12)")
    parser.add_argument("--install", action="store_true",
                        help="write the null to <models>/fusion/reference_null.json")
    parser.add_argument("--record-cards", action="store_true",
                        help="store each detector's figures in its model card")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    return parser


def split_halves(result: Any) -> tuple[Any, Any]:
    """The first and second half of a video's analysed frames, each as its own result (the
    halves' ``sha256`` are marked so the comparison does not take them for the same bytes)."""
    frames = sorted(result.frames, key=lambda f: f.frame_idx)
    h = len(frames) // 2
    first = dataclasses.replace(result, frames=tuple(frames[:h]), sha256=f"{result.sha256}:1")
    second = dataclasses.replace(result, frames=tuple(frames[h:]), sha256=f"{result.sha256}:2")
    return first, second


def measure_null(results: Mapping[str, Any], *, min_frames: int, null_id: str,
                 measured_on: str, command: str) -> tuple[Any, list[str]]:
    """The null of ``results`` (path -> genuine video ``MediaResult``) and the paths left out.

    Every detector and kind gets each usable video's two deltas (both ways round).
    """
    from engine.fusion.reference import ReferenceError, ReferenceNull, compare_to_reference

    empty = ReferenceNull(null_id, measured_on, command, 0, min_frames, (), {})
    samples: list[dict[str, float]] = []
    weights: dict[str, str] = {}
    used, skipped = 0, []
    for path, result in sorted(results.items()):
        try:
            first, second = split_halves(result)
            pair = [compare_to_reference(a, b, empty) for a, b in ((second, first),
                                                                   (first, second))]
        except ReferenceError as exc:
            skipped.append(f"{path}: {exc}")
            continue
        used += 1
        samples += [{d.name: d.delta for d in comparison.deltas} for comparison in pair]
        weights.update({d.name: d.weights_sha256 for d in result.provenance.detectors})
    null = ReferenceNull(null_id, measured_on, command, used, min_frames, tuple(samples),
                         weights)
    return null, skipped


def main(argv: Sequence[str] | None = None) -> int:
    """Run it; 0 on success, 2 on a usage error, 1 when no genuine video could be used."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.frames < 2 or args.min_frames < 1:
        parser.error("--frames must be >= 2 and --min-frames >= 1")
    problem = install_refusal(writes=args.install or args.record_cards,
                              models_dir=args.models_dir, report=args.report,
                              documented=REPO_ROOT / DEFAULT_REPORT,
                              flags="--install and --record-cards")
    if problem:
        parser.error(problem)
    items, _row_errors = start_run(parser, args, "reference_null")
    pairs, pair_errors = _read_pairs(args.pairs, {it.rel_path: it for it in items})
    for problem in pair_errors:
        sys.stderr.write(f"reference_null: {problem}\n")
    wanted = [it for it in items if it.kind == "real_video"]
    wanted += [it for it in items if any(it.rel_path == s for s, _ in pairs)]
    if not any(it.kind == "real_video" for it in wanted):
        sys.stderr.write("reference_null: the index has no real_video row\n")
        return 1
    given = list(argv if argv is not None else sys.argv[1:])
    command = " ".join(["python -m engine.evaluation.reference_null", *given])
    results, key = _analyse(wanted, args)
    genuine = {it.rel_path: results[it.rel_path] for it in wanted if it.kind == "real_video"}
    null, skipped = measure_null(
        genuine, min_frames=args.min_frames, command=command,
        null_id=f"split halves of genuine videos ({args.index.parent.name}, cache {key[:16]})",
        measured_on=f"the two halves of each real video of {shown_path(args.index)}")
    for problem in skipped:
        sys.stderr.write(f"reference_null: left out {problem}\n")
    if null.n_videos == 0:
        sys.stderr.write("reference_null: no genuine video had two usable halves\n")
        return 1
    checks = _check_pairs(pairs, results, null)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(_report(null, checks, skipped, pair_errors, key), encoding="utf-8")
    if args.install:
        _install(null)
    if args.record_cards:
        _record_cards(null, [c for _, _, c in checks if not isinstance(c, str)], args.pairs)
    sys.stdout.write(f"reference_null: {null.n_videos} genuine videos; report in {args.report}\n")
    return 0


def _read_pairs(path: Path, by_rel: Mapping[str, Any]) -> tuple[list[tuple[str, str]],
                                                                list[str]]:
    """``(suspect, reference)`` rows whose two files are videos of the index; problems apart."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [], [f"cannot read the pairs {path}: {exc}"]
    pairs, problems = [], []
    for n, row in enumerate(rows, start=2):
        s, r = (row.get("suspect") or "").strip(), (row.get("reference") or "").strip()
        missing = [p for p in (s, r) if p not in by_rel]
        if missing:
            problems.append(f"pairs row {n} skipped: not an item of the index: {missing}")
        elif by_rel[r].kind != "real_video" or by_rel[s].modality != "video":
            problems.append(f"pairs row {n} skipped: needs a video and a real_video")
        else:
            pairs.append((s, r))
    return pairs, problems


def _analyse(items: Sequence[Any], args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from engine.api import AnalysisOptions, result_from_dict
    from engine.evaluation.bench_scores import score_items

    scored, key = score_items(items, cache_dir=args.cache,
                              options=AnalysisOptions(n_frames=args.frames))
    return {s.item.rel_path: result_from_dict(s.result) for s in scored}, key


def _check_pairs(pairs: Sequence[tuple[str, str]], results: Mapping[str, Any],
                 null: Any) -> list[tuple[str, str, Any]]:
    """Each pair's comparison (the fake's second half against the genuine first half), or the
    reason it could not be made."""
    from engine.fusion.reference import ReferenceError, compare_to_reference

    out = []
    for s, r in pairs:
        try:
            comparison = compare_to_reference(split_halves(results[s])[1],
                                              split_halves(results[r])[0], null)
        except ReferenceError as exc:
            comparison = str(exc)
        out.append((s, r, comparison))
    return out


def _report(null: Any, checks: Sequence[tuple[str, str, Any]], skipped: Sequence[str],
            pair_errors: Sequence[str], key: str) -> str:
    made = [c for _, _, c in checks if not isinstance(c, str)]
    names = null.names()
    kind_names = [n for n in names if n.startswith("kind:")]
    lines = [
        "# Reference comparisons on the dev bench: genuine against genuine, fakes against "
        "their source",
        "",
        "Made by `" + null.command + "` (cache key `" + key[:16] + "`). What a reference "
        "comparison is and how to read it: docs/FINDINGS.md section 6.",
        "",
        f"**The null**: {null.measured_on}, each half set against the other both ways round: "
        f"{null.n_videos} videos, {2 * null.n_videos} differences per row; a half needs "
        f"{null.min_frames} scored frames. Deltas are in logit units (suspect minus reference).",
        "",
        "| evidence | genuine: 95th percentile | 99th | largest | fakes compared | fakes "
        "reached by at most 5% of genuine | at most 1% |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in summarize(null, made).items():
        lines.append(f"| {name} | {r['genuine_q95']:+.2f} | {r['genuine_q99']:+.2f}"
                     f" | {r['genuine_max']:+.2f} | {r['n_fakes']} | {r['fakes_at_5pct']} | "
                     f"{r['fakes_at_1pct']} |")
    heads = [c for c in made if c.headline_n]
    hits = [sum(1 for c in heads if c.headline_at_least / c.headline_n <= rate) for rate in RATES]
    lines += [
        "",
        f"**The statement** (the kind that stands out most, with the count of genuine "
        f"comparisons that showed a difference as unusual on some kind, so picking the kind is "
        f"counted too): {hits[0]} of {len(heads)} fakes at a count of at most 5% of the genuine "
        f"comparisons, {hits[1]} at most 1%.",
        "", "## Each fake against its source (second half against first half)", "",
        "| suspect | reference | statement | " + " | ".join(kind_names) + " |",
        "|---|---|---|" + "---|" * len(kind_names)]
    for s, r, c in checks:
        if isinstance(c, str):
            lines.append(f"| {s} | {r} | not compared: {c} |" + " |" * len(kind_names))
            continue
        by_name = {d.name: d for d in c.deltas}
        cells = [_cell(by_name.get(n)) for n in kind_names]
        head = "-" if not c.headline_n else f"{c.headline_at_least}/{c.headline_n}"
        lines.append(f"| {s} | {r} | {head} | " + " | ".join(cells) + " |")
    lines += ["", "Each cell: delta (genuine differences at least as large / all of them).", ""]
    if skipped or pair_errors:
        lines += ["## Left out", ""] + [f"- {p}" for p in [*skipped, *pair_errors]] + [""]
    return "\n".join(lines)


def summarize(null: Any, comparisons: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Per detector and kind of the null: the genuine differences' 95th and 99th percentiles
    and largest value, and how many of ``comparisons`` (fakes set against their source) genuine
    footage reached at most 5% and at most 1% of the time (the report's table, the cards' rows).
    """
    out: dict[str, dict[str, Any]] = {}
    for name in null.names():
        values = null.values(name)
        row = [d for c in comparisons for d in c.deltas if d.name == name and d.null_n]
        hits = [sum(1 for d in row if d.null_at_least / d.null_n <= rate) for rate in RATES]
        q95, q99 = (float(q) for q in np.quantile(values, [0.95, 0.99]))
        out[name] = {"genuine_q95": q95, "genuine_q99": q99, "genuine_max": values[-1],
                     "n_genuine": len(values), "n_fakes": len(row),
                     "fakes_at_5pct": hits[0], "fakes_at_1pct": hits[1]}
    return out


def _record_cards(null: Any, comparisons: Sequence[Any], pairs_csv: Path) -> None:
    """Each shipped detector's row (and its kind's) in its model card (``reference_comparison``)."""
    from engine.runtime.weights import WeightsStore
    from engine.training.card import record_card_entry

    rows = summarize(null, comparisons)
    store = WeightsStore()
    for name in store.names():
        if name not in rows:
            continue
        kind = store.cfg(name).looks_for
        record_card_entry(store.card_path(name), "reference_comparison", {
            "command": null.command, "measured_on": null.measured_on,
            "n_videos": null.n_videos,
            "pairs": shown_path(pairs_csv) if pairs_csv.is_absolute() else str(pairs_csv),
            "detector": rows[name],
            "kind": {"name": kind, **rows[f"kind:{kind}"]} if f"kind:{kind}" in rows else None,
        })


def _cell(d: Any) -> str:
    if d is None:
        return "-"
    if not d.null_n:
        return f"{d.delta:+.2f}"
    return f"{d.delta:+.2f} ({d.null_at_least}/{d.null_n})"


def _install(null: Any) -> None:
    from engine.fusion.reference import null_file

    install_json(null_file(), null.to_dict(), indent=1)
    log.info("installed the reference null %s", null_file())


if __name__ == "__main__":
    sys.exit(main())
