"""Synthetic validation AUC of shipped detectors on the whole validation split of the face cache.

    python -m engine.training.synthetic_eval --detector sbi_effl0 --detector xray_effl0 \\
        --detector mat_effl0 --data-root /work/cache/dataset --record synthetic_val_all

A release measures on 300 validation faces (half of them fit the calibration), which resolves
an AUC near 0.97 only to about +-0.01. This command scores every real face of the cache's
validation split (identity/clip-disjoint from training) and one synthetic fake of each, made
exactly as the release made them: the same ``make_val_set``, the fake mix (``p_bi``), sources
and seed of the detector's own training config, read from its model card. The shipped ONNX
graph is what runs. The AUC is that of the calibrated scores, which rank the faces exactly as
the raw ones (calibration is monotonic); the 300 release faces are among these, so accuracy
at the threshold is measured partly on the faces that fitted the calibration (the card says
how many).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["main"]

logger = logging.getLogger(__name__)

_BATCH = 64


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m engine.training.synthetic_eval",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--detector", action="append", required=True, help="repeatable")
    parser.add_argument("--data-root", type=Path, required=True, help="face cache folder")
    parser.add_argument("--max-reals", type=int, default=0, help="0 = the whole split")
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--record", default=None, help="store the metrics in the cards as KEY")
    return parser.parse_args(argv)


def evaluate_detector(name: str, data_root: Path, *, max_reals: int,
                      models_dir: Path | None, threads: int) -> dict[str, Any]:
    """Metrics of one shipped detector on the validation split, as its training made fakes."""
    from engine.runtime import WeightsStore, load_detector
    from engine.training.card import read_card
    from engine.training.datasets import faces_from_cache, make_val_set
    from engine.training.metrics import summarize

    store = WeightsStore(models_dir)
    config = read_card(store.card_path(name)).get("training", {}).get("config")
    if not config:
        raise SystemExit(f"{name}: its model card records no training config")
    faces = faces_from_cache(data_root, split="val", sources=tuple(config["sources"]),
                             max_faces=max_reals, seed=int(config["seed"]))
    val = make_val_set(faces, p_bi=float(config["p_bi"]), seed=int(config["seed"]) + 1)
    detector = load_detector(name, runtime="onnx", models_dir=models_dir, threads=threads)
    p_fake = np.concatenate([detector.predict(val.crops[i : i + _BATCH]).p_fake
                             for i in range(0, len(val.crops), _BATCH)])
    metrics: dict[str, Any] = dict(summarize(p_fake, val.labels, detector.cfg.threshold))
    metrics["auc_by_source"] = auc_by_source(p_fake, val.labels, val.groups)
    metrics["n_release_faces_among_them"] = int(config.get("val_reals", 0))
    metrics["p_bi"] = float(config["p_bi"])
    return metrics


def auc_by_source(p_fake: npt.NDArray[Any], labels: npt.NDArray[Any],
                  groups: npt.NDArray[Any]) -> dict[str, float]:
    """AUC of each source's real faces against their own fakes (``groups`` are
    ``source:identity``): shows which kind of photo the misrankings come from."""
    from engine.training.metrics import roc_auc

    sources = np.array([str(g).split(":", 1)[0] for g in groups])
    return {source: float(roc_auc(p_fake[sources == source], labels[sources == source]))
            for source in sorted(set(sources))}


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from engine.runtime import WeightsStore
    from engine.training.card import record_metrics
    from engine.training.cli import command_line

    command = command_line(argv, "python -m engine.training.synthetic_eval")
    for name in args.detector:
        metrics = evaluate_detector(name, args.data_root, max_reals=args.max_reals,
                                    models_dir=args.models_dir, threads=args.threads)
        sys.stdout.write(f"{name}: AUC {metrics['auc']:.4f}  AP {metrics['ap']:.4f}  "
                         f"accuracy {metrics['accuracy']:.4f} @ {metrics['threshold']:g}  "
                         f"({metrics['n_real']} real, {metrics['n_fake']} fake, "
                         f"p_bi {metrics['p_bi']:g}); by source: "
                         + ", ".join(f"{source} {auc:.4f}"
                                     for source, auc in metrics["auc_by_source"].items())
                         + "\n")
        if args.record:
            record_metrics(WeightsStore(args.models_dir).card_path(name), args.record, metrics,
                           command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
