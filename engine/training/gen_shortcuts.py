"""Does the generated-image detector read softness or resolution as "generated"? A check.

    python -m engine.training.gen_shortcuts --data-root ../shared/data --models-dir DIR

Real pictures (``dev_bench`` real photos and our held-out stills) and other people's generated
faces (``dev_bench`` StyleGAN) are scored as they are and after four operations that change
sharpness or scale but not the label: Gaussian blur (sigma 1), bicubic upscaling x2, area
downscaling x0.5 and x0.25. For each group and operation the table gives the median change of
the pooled logit. A detector that learnt generator traces moves little; one that learnt
"smooth = generated" jumps up under blur and upscaling, which is what the first run did
(docs/MODELS_GEN.md, log).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

__all__ = ["OPERATIONS", "main"]

OPERATIONS = {
    "blur1": lambda x: cv2.GaussianBlur(x, (0, 0), 1.0),
    "up2": lambda x: cv2.resize(x, (x.shape[1] * 2, x.shape[0] * 2),
                                interpolation=cv2.INTER_CUBIC),
    "down2": lambda x: cv2.resize(x, (max(1, x.shape[1] // 2), max(1, x.shape[0] // 2)),
                                  interpolation=cv2.INTER_AREA),
    "down4": lambda x: cv2.resize(x, (max(1, x.shape[1] // 4), max(1, x.shape[0] // 4)),
                                  interpolation=cv2.INTER_AREA),
}
GROUPS = ("real_photo", "heldout_real", "gan:NVlabs/stylegan")


def _logit(detector: object, rgb: np.ndarray) -> float | None:
    from engine.runtime.tiles import score_region

    policy = detector.tile_policy  # type: ignore[attr-defined]
    score = score_region(detector, rgb, policy=policy, max_tiles=policy.max_tiles_image)
    if score is None:
        return None
    p = min(max(score.p_fake_raw, 1e-9), 1 - 1e-9)
    return float(np.log(p / (1.0 - p)))


def main(argv: list[str] | None = None) -> int:
    """Entry point; prints a Markdown table."""
    from engine.runtime import load_detector
    from engine.training.gen_eval_data import list_pictures, read_picture

    parser = argparse.ArgumentParser(prog="python -m engine.training.gen_shortcuts",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--detector", default="gen_nprnet")
    parser.add_argument("--per-group", type=int, default=15)
    args = parser.parse_args(argv)
    detector = load_detector(args.detector, models_dir=args.models_dir, threads=2)
    pictures = list_pictures(args.data_root, frames_per_video=1, n_heldout_stills=args.per_group)
    rows = []
    for group in GROUPS:
        chosen = [p for p in pictures if (p.group == group or p.kind == group)
                  and p.media == "image"][: args.per_group]
        changes: dict[str, list[float]] = {op: [] for op in OPERATIONS}
        for pic in chosen:
            rgb = read_picture(args.data_root, pic)
            base = _logit(detector, rgb)
            for op, fn in OPERATIONS.items():
                moved = _logit(detector, np.ascontiguousarray(fn(rgb)))
                if base is not None and moved is not None:
                    changes[op].append(moved - base)
        rows.append((group, len(chosen), {op: float(np.median(v)) if v else None
                                          for op, v in changes.items()}))
    sys.stdout.write("| pictures | n | " + " | ".join(OPERATIONS) + " |\n")
    sys.stdout.write("|---|---|" + "---|" * len(OPERATIONS) + "\n")
    for group, n, medians in rows:
        cells = ["-" if v is None else f"{v:+.2f}" for v in medians.values()]
        sys.stdout.write(f"| {group} | {n} | " + " | ".join(cells) + " |\n")
    sys.stdout.write("\nMedian change of the pooled logit; " + json.dumps(
        {"detector": args.detector, "weights": detector.cfg.onnx_sha256}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
