"""Which pooling of tile logits separates generated from real pictures best: the evidence
behind ``TilePolicy.top_fraction``, from the cache of ``engine.training.gen_eval``.

    python -m engine.training.gen_pooling --cache /work/cache/gen/eval [--models-dir DIR]

For every picture of the cache (native view), the raw tile logits of the whole picture are
pooled by each rule (mean of all, mean of the top half, of the top quarter, the maximum), and
the AUC of each group of fakes against all real pictures is printed (calibration is monotonic,
so it does not change an AUC). Per video frame the tiles are few; the rules differ most on
large stills.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from engine.training.metrics import roc_auc

__all__ = ["POOLING_RULES", "main", "pooled"]

POOLING_RULES = {"mean": 1.0, "top50": 0.5, "top25": 0.25, "max": 0.0}


def pooled(logits: list[float], fraction: float) -> float:
    """Mean of the top ``fraction`` of ``logits`` (at least one; 0 means the maximum)."""
    z = np.sort(np.asarray(logits, dtype=np.float64))[::-1]
    k = max(1, math.ceil(fraction * len(z)))
    return float(z[:k].mean())


def main(argv: list[str] | None = None) -> int:
    """Entry point; prints a Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m engine.training.gen_pooling",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--detector", default="gen_nprnet")
    parser.add_argument("--models-dir", type=Path, default=None,
                        help="where the weights whose cached scores to read are")
    args = parser.parse_args(argv)
    from engine.runtime import load_detector
    from engine.training.gen_eval import _scores_path

    pictures = {p["key"]: p for p in json.loads((args.cache / "pictures.json").read_text())}
    path = _scores_path(args.cache, load_detector(args.detector, models_dir=args.models_dir))
    rows = [r for r in map(json.loads, path.read_text().splitlines())
            if r["view"] == "native" and r.get("whole_tiles")]
    reals = [r for r in rows if pictures[r["key"]]["label"] == 0]
    groups: dict[str, list[dict[str, object]]] = {}
    for r in rows:
        pic = pictures[r["key"]]
        if pic["label"] == 1 and pic["kind"] in ("gan", "diffusion"):
            groups.setdefault(pic["group"], []).append(r)
    sys.stdout.write("| group | n | " + " | ".join(POOLING_RULES) + " |\n")
    sys.stdout.write("|---|---|" + "---|" * len(POOLING_RULES) + "\n")
    for group, fakes in sorted(groups.items()):
        cells = []
        for fraction in POOLING_RULES.values():
            z_fake = [pooled(r["whole_tiles"], fraction) for r in fakes]  # type: ignore[arg-type]
            z_real = [pooled(r["whole_tiles"], fraction) for r in reals]  # type: ignore[arg-type]
            labels = np.r_[np.ones(len(z_fake)), np.zeros(len(z_real))]
            cells.append(f"{roc_auc(np.r_[z_fake, z_real], labels):.3f}")
        sys.stdout.write(f"| {group} | {len(fakes)} | " + " | ".join(cells) + " |\n")
    sys.stdout.write(f"\n{len(reals)} real pictures (real photos, real video frames, held-out "
                     f"pictures) from {path.name}.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
