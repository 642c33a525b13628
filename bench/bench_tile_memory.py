"""Peak memory of the app's analysis of a large photo, per tile batch size of the whole-picture
detectors (``engine.runtime.tiles._BATCH``).

    python bench/bench_tile_memory.py [--batches 4,16] [--repeats 2]

ONNX Runtime's CPU arena keeps the activations of the largest batch a session has run, so the
number of tiles per runtime call sets how much memory the whole-picture detectors hold after a
many-tile photo (a 12 MP photo is 16 tiles for each of them). Each measurement runs in a fresh
process (peak RSS only grows): an in-process ``Analyzer`` with the shipped detectors analyses
the demo clip, then a synthetic 4000 x 3000 JPEG; the figures are the peak RSS after the clip,
the rise the photo adds to it, and the photo's analysis time. Batches are measured in turn,
``--repeats`` rounds, so a busy machine moves them alike; compare them within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "resources" / "sample" / "demo_real.mp4"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _photo(path: Path) -> None:
    import cv2

    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    big = cv2.resize(small, (4000, 3000), interpolation=cv2.INTER_CUBIC)
    noise = rng.normal(0.0, 3.0, big.shape)
    cv2.imwrite(str(path), np.clip(big + noise, 0, 255).astype(np.uint8),
                [cv2.IMWRITE_JPEG_QUALITY, 90])


def measure(batch: int, photo: Path) -> dict[str, float]:
    """One measurement in this process (call it in a fresh one)."""
    import engine.runtime.tiles as tiles
    from engine.api import AnalysisOptions, Analyzer

    tiles._BATCH = batch
    with Analyzer(AnalysisOptions(runtime="onnx"), isolation=None) as analyzer:
        analyzer.analyze(str(CLIP))
        after_clip = _peak_mb()
        start = time.perf_counter()
        analyzer.analyze(str(photo))
        seconds = time.perf_counter() - start
    return {"batch": batch, "after_clip_mb": after_clip, "photo_rise_mb": _peak_mb() - after_clip,
            "photo_s": seconds}


def main(argv: list[str] | None = None) -> int:
    """Measure each batch size ``--repeats`` times, each in a fresh process; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="4,16")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--photo", type=Path, default=Path("/tmp/bench_tile_memory_12mp.jpg"))
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(measure(args.one, args.photo)))
        return 0
    if not args.photo.is_file():
        _photo(args.photo)
    batches = [int(b) for b in args.batches.split(",")]
    print(f"load average {os.getloadavg()[0]:.2f}; photo {args.photo} (4000 x 3000)")
    print("| tiles per call | peak RSS after the clip | rise for the 12 MP photo | photo s |")
    print("|---|---|---|---|")
    for _ in range(args.repeats):
        for batch in batches:
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(batch), "--photo", str(args.photo)],
                capture_output=True, text=True, check=True, cwd=ROOT)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {batch} | {row['after_clip_mb']:.0f} MB | {row['photo_rise_mb']:.0f} MB | "
                  f"{row['photo_s']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
