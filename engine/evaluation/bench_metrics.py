"""Benchmark figures: ranking per detector and per kind/source, grade tables, error rates.

Every fake kind is compared with the real items of the SAME modality (face-swap videos against
real videos, GAN stills against real photos), because the pipeline treats a video (mean over
32 frames) and a still (one frame) differently and the benchmark's real photos and videos
differ in size and compression. An item where a score does not exist (no face, an analysis
error) counts as the lowest score: for a fake that is a miss, as it is for the analyst.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from engine.evaluation.bench_records import BenchRecord
from engine.evaluation.intervals import auc_interval
from engine.fusion.rules import ELEVATED_GRADES
from engine.training.metrics import average_precision, roc_auc
from engine.types import Finding, Grade

__all__ = [
    "GRADE_ORDER",
    "auc_table",
    "error_rates",
    "grade_table",
    "real_above_threshold",
    "real_group",
]

GRADE_ORDER = (Grade.NOT_APPLICABLE, Grade.NO_SUPPORT, Grade.WEAK, Grade.MODERATE, Grade.STRONG)
ScoreFn = Callable[[BenchRecord], float | None]


def real_group(rec: BenchRecord) -> str:
    """``"real_image"`` / ``"real_video"`` for reals; the fake kind otherwise."""
    return rec.item.kind


def auc_table(
    records: Sequence[BenchRecord], score_fns: Mapping[str, ScoreFn], *, by: str = "kind"
) -> list[dict[str, Any]]:
    """Per fake kind (or ``kind / source``), AUC and AP of each score vs same-modality reals.

    Args:
        records: the benchmark records.
        score_fns: column name -> function giving an item's score (``None``: no score).
        by: ``"kind"`` or ``"source"`` (one row per kind and source of the fakes).
    """
    rows = []
    for key, fakes in _fake_groups(records, by).items():
        modality = fakes[0].item.modality
        reals = [r for r in records if r.item.label == 0 and r.item.modality == modality]
        row: dict[str, Any] = {"group": key, "n_fake": len(fakes), "n_real": len(reals)}
        for name, fn in score_fns.items():
            row[name] = _auc_ap(fakes, reals, fn)
        rows.append(row)
    return rows


def grade_table(
    records: Sequence[BenchRecord], findings: Mapping[str, Finding]
) -> list[dict[str, Any]]:
    """Per benchmark kind, how many items received each grade (``findings`` by item path)."""
    rows = []
    for kind in _kinds_in_order(records):
        members = [r for r in records if r.item.kind == kind]
        counts = {g.name: 0 for g in GRADE_ORDER}
        for rec in members:
            counts[findings[rec.item.path].grade.name] += 1
        rows.append({"kind": kind, "n": len(members), **counts})
    return rows


def error_rates(
    records: Sequence[BenchRecord], findings: Mapping[str, Finding]
) -> dict[str, Any]:
    """How many items of each benchmark kind reached each elevated grade or above.

    Returns:
        ``{"overall": {kind: {"n": n, "WEAK": k, "MODERATE": k, "STRONG": k}},
        "by_kind": {evidence kind: {benchmark kind: {...}}}}`` (``k`` of ``n``), for the
        finding and for each kind of manipulation's own finding.
    """
    overall: dict[str, dict[str, int]] = {}
    by_kind: dict[str, dict[str, dict[str, int]]] = {}
    for kind in _kinds_in_order(records):
        members = [findings[r.item.path] for r in records if r.item.kind == kind]
        overall[kind] = _reached(members, lambda f: f.grade)
        evidence_kinds = {k.kind for f in members for k in f.kinds}
        for ev in sorted(evidence_kinds):
            by_kind.setdefault(ev, {})[kind] = _reached(
                members, lambda f, ev=ev: next((k.grade for k in f.kinds if k.kind == ev),
                                               Grade.NOT_APPLICABLE))
    return {"overall": overall, "by_kind": by_kind}


def real_above_threshold(
    records: Sequence[BenchRecord], thresholds: Mapping[str, float]
) -> list[dict[str, Any]]:
    """Per detector, the share of real photos and real videos at or above its own threshold."""
    rows = []
    for name, threshold in thresholds.items():
        row: dict[str, Any] = {"detector": name, "threshold": threshold}
        for modality in ("image", "video"):
            values = [r.file_scores.get(name) for r in records
                      if r.item.label == 0 and r.item.modality == modality]
            scored = [v for v in values if v is not None]
            row[modality] = {"n": len(scored), "above": sum(v >= threshold for v in scored)}
        rows.append(row)
    return rows


def _reached(findings: Sequence[Finding], grade_of: Callable[[Finding], Grade]) -> dict[str, int]:
    out = {"n": len(findings)}
    for grade in ELEVATED_GRADES:
        out[grade.name] = sum(grade_of(f).level >= grade.level for f in findings)
    return out


def _auc_ap(fakes: Sequence[BenchRecord], reals: Sequence[BenchRecord], fn: ScoreFn) -> Any:
    if not fakes or not reals:
        return None
    scores = [fn(r) for r in list(fakes) + list(reals)]
    missing = sum(s is None for s in scores)
    s = np.array([-1.0 if v is None else v for v in scores], dtype=np.float64)
    y = np.array([1] * len(fakes) + [0] * len(reals))
    ci = auc_interval(s, y)
    return {"auc": roc_auc(s, y),
            "auc_ci": None if ci is None else [round(ci[0], 4), round(ci[1], 4)],
            "ap": average_precision(s, y), "missing": missing}


def _fake_groups(records: Sequence[BenchRecord], by: str) -> dict[str, list[BenchRecord]]:
    groups: dict[str, list[BenchRecord]] = {}
    for kind in _kinds_in_order(records):
        for rec in (r for r in records if r.item.kind == kind and r.item.label == 1):
            key = kind if by == "kind" else f"{kind} / {rec.item.source or '?'}"
            groups.setdefault(key, []).append(rec)
    return groups


def _kinds_in_order(records: Sequence[BenchRecord]) -> list[str]:
    from engine.evaluation.bench_index import FAKE_KINDS, REAL_KINDS

    present = {r.item.kind for r in records}
    return [k for k in FAKE_KINDS + REAL_KINDS if k in present]
