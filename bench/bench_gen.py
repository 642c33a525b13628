"""Speed of the generated-image detector's whole-picture scoring on ONNX Runtime (CPU threads).

    python bench/bench_gen.py [--threads 2] [--repeats 5] [--detector gen_nprnet]

Figures (the issue's targets: a 12 MP photo <= 1.5 s; a 32-frame 1080p video <= 2 s extra):

- ``12 MP photo``: ``engine.runtime.tiles.score_region`` on a decoded 4000 x 3000 picture with
  the card's still-image tile budget (what the analysis adds per photo; decoding, which the
  analysis does anyway, is timed apart: Pillow on a JPEG of the same picture);
- ``32-frame 1080p video``: the same on 32 decoded 1920 x 1080 frames with the per-frame budget,
  plus one 300 px face region per frame with the per-face budget (what the detector adds to a
  video analysis);
- ``50 MP photo``: peak extra memory of scoring an 8660 x 5773 picture (the tiles, never the
  picture, become tensors).

Pictures are synthetic (smooth colour fields plus noise; timing does not depend on content).
Median of ``--repeats`` runs after a warm-up; the load average is printed because on a shared
machine it moves every number.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np

from engine.runtime import load_detector
from engine.runtime.tiles import score_region


def _picture(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(2, h // 64), max(2, w // 64), 3), dtype=np.uint8)
    import cv2

    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(big.astype(np.int16) + rng.integers(-6, 7, (h, w, 3)), 0, 255).astype(np.uint8)


def _median_s(fn: object, repeats: int) -> float:
    fn()  # type: ignore[operator]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _decode_s(rgb: np.ndarray, repeats: int) -> float:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=90)
    data = buf.getvalue()
    return _median_s(lambda: np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--detector", default="gen_nprnet")
    parser.add_argument("--models-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    det = load_detector(args.detector, models_dir=args.models_dir, threads=args.threads)
    policy = det.tile_policy
    if policy is None:
        raise SystemExit(f"{args.detector} is not a native-tile detector")
    print(f"load average before: {os.getloadavg()}; {args.threads} threads; median of "
          f"{args.repeats} runs; {policy}")
    photo = _picture(3000, 4000)
    s_photo = _median_s(lambda: score_region(det, photo, policy=policy,
                                             max_tiles=policy.max_tiles_image), args.repeats)
    print(f"12 MP photo: scoring {s_photo:.3f} s ({policy.max_tiles_image} tiles, "
          f"{1000 * s_photo / policy.max_tiles_image:.1f} ms/tile); JPEG decode (Pillow) "
          f"{_decode_s(photo, args.repeats):.3f} s, done by the analysis anyway")
    frames = [_picture(1080, 1920, seed=k) for k in range(32)]

    def video(faces: bool) -> None:
        for k, frame in enumerate(frames):
            score_region(det, frame, policy=policy, max_tiles=policy.max_tiles_frame, phase=k)
            if faces:
                score_region(det, frame, (800, 300, 1100, 600), policy=policy,
                             max_tiles=policy.max_tiles_face_frame)

    print(f"32-frame 1080p video: whole frames {_median_s(lambda: video(False), args.repeats):.3f}"
          f" s; whole frames + one 300 px face a frame "
          f"{_median_s(lambda: video(True), args.repeats):.3f} s")
    huge = _picture(5773, 8660)
    tracemalloc.start()
    score_region(det, huge, policy=policy, max_tiles=policy.max_tiles_image)
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"50 MP photo ({huge.nbytes / 2**20:.0f} MB decoded): peak extra numpy memory while "
          f"scoring {peak_mb:.1f} MB")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
