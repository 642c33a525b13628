"""Gather the finished parts into ``manifest.csv`` and ``rejected.csv`` and count them.

The manifest lists every cached crop once, sources in ``SOURCES`` order, parts in their planned
order; its row number is the crop's global index in :class:`engine.data.cache.FaceCache`. The
split is assigned here (from the seed), so changing the seed only rebuilds these files.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from engine.data.manifest import CropRow, RejectedRow, SplitPlan, assign_splits, write_rows
from engine.data.parts import read_part_rows
from engine.data.sources import Source

__all__ = ["build_manifest", "reason_kind"]


def build_manifest(out: Path, sources: tuple[Source, ...], plan: SplitPlan) -> dict[str, object]:
    """Write ``manifest.csv`` and ``rejected.csv`` of every finished source; return counts."""
    rows: list[CropRow] = []
    rejected: list[RejectedRow] = []
    finished = []
    for source in sources:
        marker = out / "parts" / source.name / "DONE.json"
        if not marker.is_file():
            continue
        finished.append(source.name)
        for part_name in json.loads(marker.read_text())["parts"]:
            part_rows, part_rejected = read_part_rows(out / "parts" / source.name / part_name)
            rows += part_rows
            rejected += part_rejected
    rows = assign_splits(rows, plan, [s.name for s in sources if s.dev_eval])
    write_rows(out / "manifest.csv", rows, CropRow)
    write_rows(out / "rejected.csv", rejected, RejectedRow)
    return {
        "sources": finished,
        "split_plan": {
            "seed": plan.seed,
            "val_fraction": plan.val_fraction,
            "n_val_liveportrait": plan.n_val_liveportrait,
            "n_val_ghost": plan.n_val_ghost,
        },
        "val_clips": sorted({r.identity for r in rows if r.split == "val" and r.clip_id}),
        "n_items": len(rows),
        "n_rejected": len(rejected),
        "counts": _counts(rows),
        "too_small": dict(Counter(r.source for r in rows if r.too_small)),
        "rejected": _rejected_counts(rejected),
        "bytes": sum(p.stat().st_size for p in (out / "parts").rglob("*.npy")),
    }


def reason_kind(reason: str) -> str:
    """A rejection reason without its numbers, for counting ("face box without landmarks")."""
    return re.sub(r"\d+(\.\d+)?", "N", reason.split(" (")[0])


def _counts(rows: list[CropRow]) -> dict[str, dict[str, dict[str, int]]]:
    counts: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for r in rows:
        counts[r.source][r.split][r.label] += 1
    return {s: {sp: dict(c) for sp, c in by_split.items()} for s, by_split in counts.items()}


def _rejected_counts(rejected: list[RejectedRow]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rejected:
        counts[r.source][reason_kind(r.reason)] += 1
    return {s: dict(c) for s, c in counts.items()}
