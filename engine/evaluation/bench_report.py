"""The benchmark's figures assembled (:func:`build`) and written out (:func:`write`).

``build`` is pure: records and cross-validated findings in, a JSON-safe dict out. ``write``
renders it as ``README.md`` (tables a person reads), ``results.json`` (everything, per item)
and ``reliability.png``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.evaluation import bench_metrics as bm
from engine.evaluation.bench_records import BenchRecord
from engine.evaluation.fit_fusion import POSITIVES
from engine.types import Finding

__all__ = ["build", "record_in_cards", "write"]

_TARGETS_NOTE = (
    "Targets (issue: findings that hold on real-world media): real photos and real videos "
    "graded weak or above at most 5%; face-swap videos finding AUC >= 0.90 with at least 70% "
    "graded moderate or above; talking-head/reenactment videos AUC >= 0.80."
)


def build(
    records: Sequence[BenchRecord],
    oof: Mapping[str, Finding],
    oof_frames: Mapping[str, Mapping[str, Finding]],
    context: Mapping[str, Any],
) -> dict[str, Any]:
    """Every figure of the report, JSON-safe."""
    detectors = sorted({n for r in records for n in r.file_scores})
    kinds = [k for k in POSITIVES if any(k in r.kinds_of.values() for r in records)]
    fns: dict[str, bm.ScoreFn] = {d: (lambda r, d=d: r.file_scores.get(d)) for d in detectors}
    for kind in kinds:
        fns[f"kind:{kind}"] = lambda r, k=kind: _kind_p(oof[r.item.path], k)
    fns["finding"] = lambda r: oof[r.item.path].p_fake
    return {
        "context": dict(context),
        "n_items": len(records),
        "status": _status_counts(records),
        "detectors": {d: _sha(records, d) for d in detectors},
        "auc_by_kind": bm.auc_table(records, fns, by="kind"),
        "auc_by_source": bm.auc_table(records, fns, by="source"),
        "grades": bm.grade_table(records, oof),
        "error_rates": {
            "method": "leave-one-source-out cross-validation",
            "index": context.get("index"),
            **bm.error_rates(records, oof),
        },
        "real_above_threshold": bm.real_above_threshold(records, _thresholds(detectors)),
        "targets": _targets(records, oof),
        "calibration_points": _calibration_points(records, oof, kinds),
        "items": [_item_row(r, oof[r.item.path], oof_frames.get(r.item.path, {}))
                  for r in records],
    }


def _item_row(rec: BenchRecord, finding: Finding, frames: Mapping[str, Finding]) -> dict[str, Any]:
    """One item, compactly: its file-level scores and its cross-validated finding."""
    return {
        "path": rec.item.rel_path,
        "label": rec.item.label,
        "kind": rec.item.kind,
        "source": rec.item.source,
        "status": rec.status,
        "error": rec.error,
        "scores": {k: _r(v) for k, v in rec.file_scores.items()},
        "finding_cv": {"grade": finding.grade.name, "kind": finding.kind,
                       "p_fake": _r(finding.p_fake)},
        "kinds_cv": {k.kind: [k.grade.name, _r(k.p_fake)] for k in finding.kinds},
        "frames_weak_or_above_cv": sum(f.grade.level >= 1 for f in frames.values()),
    }


def _r(p: float | None) -> float | None:
    return None if p is None else round(float(p), 5)


def write(report: Mapping[str, Any], out_dir: Path) -> Path:
    """Write README.md, results.json and reliability.png into ``out_dir``; returns README."""
    from engine.evaluation.bench_plot import reliability_diagram
    from engine.evaluation.bench_text import render_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    stored = {k: v for k, v in report.items() if k != "calibration_points"}
    (out_dir / "results.json").write_text(
        json.dumps(stored, sort_keys=True, allow_nan=False, separators=(",", ":")) + "\n",
        encoding="utf-8")
    reliability_diagram(
        {k: (v["p_fake"], v["label"]) for k, v in report["calibration_points"].items()},
        out_dir / "reliability.png",
        title="Kind p_fake on the dev bench, leave-one-source-out (numbers: items per bin)",
    )
    readme = out_dir / "README.md"
    readme.write_text(render_markdown(report, _TARGETS_NOTE), encoding="utf-8")
    return readme


def record_in_cards(report: Mapping[str, Any], command: str) -> None:
    """Store each detector's per-kind AUC and real false alarms in its model card."""
    from engine.runtime.weights import WeightsStore
    from engine.training.card import record_metrics

    store = WeightsStore()
    above = {row["detector"]: row for row in report["real_above_threshold"]}
    for name in report["detectors"]:
        metrics: dict[str, Any] = {"by_kind": {}, "error_rates": report["error_rates"]}
        for row in report["auc_by_kind"]:
            cell = row.get(name)
            if cell:
                metrics["by_kind"][row["group"]] = {**cell, "n_fake": row["n_fake"],
                                                    "n_real": row["n_real"]}
        metrics["real_above_threshold"] = above.get(name)
        record_metrics(store.card_path(name), "dev_bench", metrics, command)


def _kind_p(finding: Finding, kind: str) -> float | None:
    return next((k.p_fake for k in finding.kinds if k.kind == kind), None)


def _status_counts(records: Sequence[BenchRecord]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        out[r.status] = out.get(r.status, 0) + 1
    return out


def _sha(records: Sequence[BenchRecord], name: str) -> str:
    return next((r.detector_sha256[name] for r in records if name in r.detector_sha256), "")


def _thresholds(detectors: Sequence[str]) -> dict[str, float]:
    from engine.runtime.weights import WeightsStore

    store = WeightsStore()
    return {d: float(store.cfg(d).threshold) for d in detectors if d in store.names()}


def _targets(records: Sequence[BenchRecord], oof: Mapping[str, Finding]) -> dict[str, Any]:
    reals = [r for r in records if r.item.label == 0]
    weak = sum(oof[r.item.path].grade.level >= 1 for r in reals)
    swaps = [r for r in records if r.item.kind == "faceswap_video"]
    moderate = sum(oof[r.item.path].grade.level >= 2 for r in swaps)
    return {
        "real_weak_or_above": {"k": weak, "n": len(reals)},
        "faceswap_video_moderate_or_above": {"k": moderate, "n": len(swaps)},
    }


def _calibration_points(
    records: Sequence[BenchRecord], oof: Mapping[str, Finding], kinds: Sequence[str]
) -> dict[str, dict[str, list[Any]]]:
    out: dict[str, dict[str, list[Any]]] = {}
    for kind in kinds:
        ps, ys = [], []
        for r in records:
            if r.item.label == 1 and r.item.kind not in POSITIVES[kind]:
                continue
            p = _kind_p(oof[r.item.path], kind)
            if p is not None:
                ps.append(p)
                ys.append(r.item.label)
        out[kind] = {"p_fake": ps, "label": ys}
    return out
