"""Per-face inference time of every shipped detector on ONNX Runtime and PyTorch (CPU threads).

    python bench/bench_detectors.py [--threads 2] [--batch 1 8] [--repeats 20] [--models-dir D]

Clip models (``clip_len`` > 1) take (N, T, S, S, 3) clips and are left out by default.
The timed call is ``LoadedDetector.predict(crops, want_maps=True)``: preprocessing (256 px policy
crop -> model input), the runtime, and the postprocessing the app runs. Inputs are random
256 px crops (timing does not depend on the content). Prints a table; the machine's load
average is printed too, because on a shared machine it moves every number.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from timing import median_ms_per_item

from engine.runtime import WeightsStore, load_detector


def _time_per_face(detector: object, batch: int, repeats: int) -> float:
    crops = np.random.default_rng(0).integers(0, 256, (batch, 256, 256, 3), dtype=np.uint8)
    return median_ms_per_item(
        lambda: detector.predict(crops, want_maps=True),  # type: ignore[attr-defined]
        batch, repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--runtimes", nargs="+", default=["onnx", "torch"])
    parser.add_argument("--detectors", nargs="+", default=None,
                        help="default: every shipped per-face detector (clip_len 1)")
    args = parser.parse_args(argv)
    store = WeightsStore(args.models_dir)
    names = args.detectors or [n for n in store.names() if store.cfg(n).clip_len == 1]
    if not names:
        raise SystemExit("no shipped detectors found")
    print(f"load average before: {os.getloadavg()}; {args.threads} threads; median of "
          f"{args.repeats} runs; preprocess + runtime + postprocess (maps on)")
    header = "| detector | runtime | " + " | ".join(f"ms/face @ batch {b}" for b in args.batch)
    print(header + " |")
    print("|---|---|" + "---|" * len(args.batch))
    total = {b: 0.0 for b in args.batch}
    for name in names:
        for runtime in args.runtimes:
            det = load_detector(name, runtime=runtime, models_dir=args.models_dir,
                                threads=args.threads)
            ms = [_time_per_face(det, b, args.repeats) for b in args.batch]
            if runtime == "onnx":
                for b, v in zip(args.batch, ms, strict=True):
                    total[b] += v
            print(f"| {name} | {runtime} | " + " | ".join(f"{v:.1f}" for v in ms) + " |")
    print("ONNX total ms/face (all detectors above): "
          + ", ".join(f"batch {b}: {v:.1f} ({1000.0 / v:.1f} faces/s)" for b, v in total.items()))
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
