"""``python -m engine.evaluation.compare``: is run B better than run A on the same items?

    python -m engine.evaluation.compare A/results.json B/results.json \\
        [--score finding] [--score kind:face_swap] [--score sbi_effl0] [--by kind|source]
        [--n-boot 2000]

Both files are ``results.json`` of ``python -m engine.evaluation.devbench`` (the shipped weights
and a candidate, each with ``--out``). For every fake kind against the real items of the same
modality, it prints each run's AUC, the difference and its **paired** bootstrap 95% interval:
items are resampled (fakes and reals separately) and both runs are scored on the same resample,
so the variation both runs share (which videos happen to be in the bench) cancels. It also
counts the real items graded weak or above by each run and the items whose grade changed.

Why: candidates are chosen on 9-61 items per kind, mostly from one or two sources. A change of
0.03 AUC on 25 face-swap videos can be resampling noise; this says how often the sign holds.
It does not make the bench larger: a candidate that wins here still has to win on media the
bench does not hold.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.evaluation.intervals import auc_rows
from engine.types import Grade

__all__ = ["KindComparison", "compare", "main", "score_of"]

_REAL = {"image": "real_image", "video": "real_video"}


@dataclass(frozen=True)
class KindComparison:
    """One fake kind, two runs, one score.

    Attributes:
        kind: the fake kind (``"faceswap_video"``), or ``"<kind> / <source>"`` per source;
            compared with every real item of its modality.
        n_fake, n_real: items in both runs.
        auc_a, auc_b: each run's AUC on them (a missing score counts as the lowest).
        delta_ci: paired bootstrap 95% interval of ``auc_b - auc_a``.
        p_b_better: share of resamples where B's AUC is higher (ties count one half).
    """

    kind: str
    n_fake: int
    n_real: int
    auc_a: float
    auc_b: float
    delta_ci: tuple[float, float]
    p_b_better: float


def score_of(item: Mapping[str, Any], score: str) -> float | None:
    """An item's score in a ``results.json``: ``finding``, ``kind:<kind>`` or a detector name."""
    if score == "finding":
        return (item.get("finding_cv") or {}).get("p_fake")
    if score.startswith("kind:"):
        cell = (item.get("kinds_cv") or {}).get(score[5:])
        return None if not cell else cell[1]
    return (item.get("scores") or {}).get(score)


def compare(
    items_a: Sequence[Mapping[str, Any]], items_b: Sequence[Mapping[str, Any]], score: str,
    *, n_boot: int = 2000, seed: int = 0, by: str = "kind",
) -> list[KindComparison]:
    """Per fake kind (``by="source"``: per kind and source), the two runs' AUCs and the paired
    bootstrap interval of the difference; fakes are always compared with every real item of
    their modality.

    Only items present (by path) in both runs count; a score missing from one run counts as
    the lowest score there, as in the dev bench report.

    Raises:
        ValueError: ``by`` is neither ``"kind"`` nor ``"source"``.
    """
    if by not in ("kind", "source"):
        raise ValueError(f"by must be 'kind' or 'source', got {by!r}")
    by_a = {it["path"]: it for it in items_a}
    common = [(by_a[it["path"]], it) for it in items_b if it["path"] in by_a]
    rng = np.random.default_rng(seed)
    groups: dict[str, list[tuple[Mapping[str, Any], Mapping[str, Any]]]] = {}
    for a, b in common:
        if int(a["label"]) == 1:
            key = a["kind"] if by == "kind" else f"{a['kind']} / {a.get('source') or '?'}"
            groups.setdefault(key, []).append((a, b))
    out = []
    for key, fakes in sorted(groups.items()):
        kind = fakes[0][0]["kind"]
        real_kind = _REAL["video" if kind.endswith("_video") else "image"]
        reals = [(a, b) for a, b in common if a["kind"] == real_kind]
        if not reals:
            continue
        fa, fb = _scores(fakes, score)
        ra, rb = _scores(reals, score)
        fi = rng.integers(0, len(fakes), size=(n_boot, len(fakes)))
        ri = rng.integers(0, len(reals), size=(n_boot, len(reals)))
        delta = auc_rows(fb[fi], rb[ri]) - auc_rows(fa[fi], ra[ri])
        lo, hi = np.quantile(delta, [0.025, 0.975])
        out.append(KindComparison(
            kind=key, n_fake=len(fakes), n_real=len(reals),
            auc_a=float(auc_rows(fa[None], ra[None])[0]),
            auc_b=float(auc_rows(fb[None], rb[None])[0]),
            delta_ci=(float(lo), float(hi)),
            p_b_better=float(np.mean(delta > 0) + 0.5 * np.mean(delta == 0)),
        ))
    return out


def grade_changes(
    items_a: Sequence[Mapping[str, Any]], items_b: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Real items graded weak or above by each run, and per kind the items whose grade moved."""
    def level(item: Mapping[str, Any]) -> int:
        return Grade[(item.get("finding_cv") or {}).get("grade", "NOT_APPLICABLE")].level

    by_a = {it["path"]: it for it in items_a}
    real_a = real_b = 0
    moved: dict[str, dict[str, int]] = {}
    for b in items_b:
        a = by_a.get(b["path"])
        if a is None:
            continue
        la, lb = level(a), level(b)
        if int(a["label"]) == 0:
            real_a += la >= 1
            real_b += lb >= 1
        row = moved.setdefault(a["kind"], {"up": 0, "down": 0})
        row["up"] += lb > la
        row["down"] += lb < la
    return {"real_weak_or_above": (real_a, real_b), "moved": moved}


def render(rows: Sequence[KindComparison], score: str, names: tuple[str, str]) -> str:
    """A Markdown table of one score's comparison."""
    lines = [f"**{score}** (A = {names[0]}, B = {names[1]}; paired bootstrap 95% interval)", "",
             "| fakes | n fake / real | AUC A | AUC B | B - A | 95% interval | B higher in |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.kind} | {r.n_fake} / {r.n_real} | {r.auc_a:.3f} | {r.auc_b:.3f} | "
                     f"{r.auc_b - r.auc_a:+.3f} | {r.delta_ci[0]:+.3f} to {r.delta_ci[1]:+.3f} | "
                     f"{100 * r.p_b_better:.0f}% |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """The command; exit status 2 when a file cannot be read."""
    ap = argparse.ArgumentParser(prog="python -m engine.evaluation.compare",
                                 description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("a", type=Path, help="results.json of run A (e.g. the shipped weights)")
    ap.add_argument("b", type=Path, help="results.json of run B (the candidate)")
    ap.add_argument("--score", action="append", default=None,
                    help="finding, kind:<kind> or a detector name (repeatable; default finding)")
    ap.add_argument("--by", choices=("kind", "source"), default="kind",
                    help="one row per fake kind, or per kind and source (a candidate that "
                         "wins on one source only shows it there)")
    ap.add_argument("--n-boot", type=int, default=2000)
    args = ap.parse_args(argv)
    try:
        items_a = _items(args.a)
        items_b = _items(args.b)
    except (OSError, ValueError, KeyError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    names = (str(args.a), str(args.b))
    missing = len({i["path"] for i in items_a} ^ {i["path"] for i in items_b})
    if missing:
        sys.stdout.write(f"{missing} item(s) are in only one run and are left out.\n\n")
    for score in args.score or ["finding"]:
        rows = compare(items_a, items_b, score, n_boot=args.n_boot, by=args.by)
        sys.stdout.write(render(rows, score, names) + "\n\n")
    changes = grade_changes(items_a, items_b)
    ra, rb = changes["real_weak_or_above"]
    moved = "; ".join(f"{k} {v['up']}/{v['down']}" for k, v in sorted(changes["moved"].items()))
    sys.stdout.write(f"Real items graded weak or above: A {ra}, B {rb}. Items whose finding's "
                     f"grade moved (up / down): {moved}\n")
    return 0


def _items(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    items = data["items"]
    if not isinstance(items, list):
        raise ValueError(f"{path}: 'items' is not a list")
    return items


def _scores(pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
            score: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    def arr(side: int) -> npt.NDArray[np.float64]:
        vals = [score_of(p[side], score) for p in pairs]
        return np.array([-1.0 if v is None else float(v) for v in vals], dtype=np.float64)

    return arr(0), arr(1)


if __name__ == "__main__":
    raise SystemExit(main())
