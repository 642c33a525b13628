"""Transfer figures of the face-swap detectors on a labelled benchmark (the dev bench).

Used to select checkpoints and recipes, never to train: the dev bench is a development set
(``../shared/data/dev_bench/README.md``). From one score per item and detector it computes:

- the AUC of each fake kind against the real items of the same modality (videos against real
  videos, stills against real photos), and of each fake source (``source_repo``) likewise, so
  one source that improves cannot hide the others;
- the share of real photos and of real videos at or above 0.5 (one operating point for every
  candidate: a raw checkpoint has no real-media threshold yet; the shipped detectors' own
  thresholds and their false alarms are in the dev-bench report, docs/devbench);
- the paired win rate: for matched pairs (same stream, only the face differs), how often the
  fake scores above its own real twin.

The AUCs and false-alarm shares are computed by ``engine.evaluation.bench_metrics``, the code
behind the dev-bench report (a missing score ranks lowest, as there), so a candidate network and
the released product are measured the same way; this module adds the paired win rate and a
plain-text layout. The scores come from ``engine.evaluation.bench_scores`` (the app's Analyzer)
or from ``engine.training.bench_crops`` (the same crops, scored by a candidate network before
it is released).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "KindRow",
    "TransferReport",
    "format_report",
    "item_scores_from_result",
    "paired_wins",
    "transfer_report",
]

# NOTE: the dev bench's matched DeepFaceLive pairs: faceswap/deepfacelive__X__swap.mp4 with
# real_videos/deepfacelive__X__input.mp4 (README "Matched pairs").
_PAIR_FAKE = re.compile(r"deepfacelive__(?P<key>.+)__swap\.mp4$")
_PAIR_REAL = re.compile(r"deepfacelive__(?P<key>.+)__input\.mp4$")


@dataclass(frozen=True)
class KindRow:
    """AUC of one group of fakes against the reals of their modality, per detector."""

    group: str
    n_fake: int
    n_real: int
    auc: dict[str, float | None]


@dataclass(frozen=True)
class TransferReport:
    """Everything :func:`format_report` prints."""

    detectors: tuple[str, ...]
    kinds: tuple[KindRow, ...]
    sources: tuple[KindRow, ...]
    false_alarms: dict[str, dict[str, float]]  # modality -> detector -> share >= threshold
    n_reals: dict[str, int]
    pairs: dict[str, tuple[int, int]]  # detector -> (fake above its twin, pairs)
    threshold: float = 0.5  # the bar of false_alarms


def item_scores_from_result(result: Mapping[str, Any]) -> dict[str, float]:
    """Per-detector file ``p_fake`` of an ``engine.api.result_to_dict`` result (applicable
    detectors only)."""
    return {s["detector"]: float(s["p_fake"]) for s in result.get("scores", [])
            if s.get("p_fake") is not None}


def _records(items: Sequence[Any], scores: Sequence[Mapping[str, float]]) -> list[Any]:
    """The items and their file scores as the dev-bench metrics read them."""
    from engine.evaluation.bench_records import BenchRecord

    return [BenchRecord(item=it, status="ok", error=None, media_kind=it.modality,
                        file_scores=dict(sc), frame_scores=(), kinds_of={}, detector_sha256={},
                        finding=None)
            for it, sc in zip(items, scores, strict=True)]


def _group_rows(records: Sequence[Any], detectors: Sequence[str], by: str) -> list[KindRow]:
    from engine.evaluation.bench_metrics import auc_table

    fns = {d: (lambda r, d=d: r.file_scores.get(d)) for d in detectors}
    return [KindRow(row["group"], row["n_fake"], row["n_real"],
                    {d: None if row[d] is None else row[d]["auc"] for d in detectors})
            for row in auc_table(records, fns, by=by)]


def paired_wins(items: Sequence[Any], scores: Sequence[Mapping[str, float]],
                detector: str) -> tuple[int, int]:
    """``(fake above its real twin, pairs)`` over the matched DeepFaceLive pairs."""
    real_by_key: dict[str, int] = {}
    fake_by_key: dict[str, int] = {}
    for i, it in enumerate(items):
        for pattern, table in ((_PAIR_FAKE, fake_by_key), (_PAIR_REAL, real_by_key)):
            m = pattern.search(it.path)
            if m:
                table[m["key"]] = i
    wins = total = 0
    for key, fi in fake_by_key.items():
        ri = real_by_key.get(key)
        if ri is None or detector not in scores[fi] or detector not in scores[ri]:
            continue
        total += 1
        wins += int(scores[fi][detector] > scores[ri][detector])
    return wins, total


def transfer_report(items: Sequence[Any], scores: Sequence[Mapping[str, float]],
                    detectors: Sequence[str], *, threshold: float = 0.5) -> TransferReport:
    """The figures of the module docstring for ``items`` (``BenchItem``-like: ``label``,
    ``kind``, ``modality``, ``source``, ``path``) and their per-detector ``scores``."""
    from engine.evaluation.bench_metrics import real_above_threshold

    if len(items) != len(scores):
        raise ValueError(f"{len(items)} items but {len(scores)} score rows")
    records = _records(items, scores)
    n_reals = {m: sum(it.label == 0 and it.modality == m for it in items)
               for m in ("image", "video")}
    false_alarms: dict[str, dict[str, float]] = {"image": {}, "video": {}}
    for row in real_above_threshold(records, {d: threshold for d in detectors}):
        for modality in ("image", "video"):
            counted = row[modality]
            if counted["n"]:
                false_alarms[modality][row["detector"]] = counted["above"] / counted["n"]
    return TransferReport(
        detectors=tuple(detectors),
        kinds=tuple(_group_rows(records, detectors, "kind")),
        sources=tuple(_group_rows(records, detectors, "source")),
        false_alarms=false_alarms,
        threshold=threshold,
        n_reals=n_reals,
        pairs={d: paired_wins(items, scores, d) for d in detectors},
    )


def _fmt(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def format_report(report: TransferReport) -> str:
    """The report as plain-text tables (columns ``c1``... when the labels are long; a legend
    names them)."""
    dets = report.detectors
    short = all(len(d) <= 9 for d in dets)
    cols = list(dets) if short else [f"c{i + 1}" for i in range(len(dets))]
    lines = [] if short else [f"  {c} = {d}" for c, d in zip(cols, dets, strict=True)]
    head = f"{'group':44s} " + " ".join(f"{c:>9s}" for c in cols) + "  n_fake n_real"
    lines += ["AUC per fake kind (vs reals of the same modality)", head]
    for title, rows in (("", report.kinds), ("AUC per fake source", report.sources)):
        if title:
            lines += ["", title, head]
        for r in rows:
            lines.append(f"{r.group[:44]:44s} " + " ".join(f"{_fmt(r.auc[d]):>9s}" for d in dets)
                         + f"  {r.n_fake:6d} {r.n_real:6d}")
    lines += ["", f"reals at or above {report.threshold:.2f} (the same bar for every column)"]
    for modality, shares in report.false_alarms.items():
        lines.append(f"  real {modality}s ({report.n_reals[modality]}): "
                     + ", ".join(f"{c} {shares[d]:.1%}"
                                 for c, d in zip(cols, dets, strict=True) if d in shares))
    lines.append("DeepFaceLive pairs, fake above its real twin: "
                 + ", ".join(f"{c} {report.pairs[d][0]}/{report.pairs[d][1]}"
                             for c, d in zip(cols, dets, strict=True)))
    return "\n".join(lines)
