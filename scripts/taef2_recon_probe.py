"""Training-free probe: does TAEF2's reconstruction error tell diffusion pictures from real ones?

AEROBLADE (Ricker et al., CVPR 2024) detects latent-diffusion images without training: an image
that came out of a latent decoder is reconstructed by that autoencoder with a smaller error than
a real photo. TAEF2 (``engine.synthesis.taef2``) is the only latent autoencoder we may use, and
it approximates FLUX.2's, not the SD 1.5 autoencoder behind the dev bench's diffusion faces. The
probe therefore also prints a trivial baseline, the mean absolute Laplacian (how much fine
detail and noise a picture has), and the error divided by it: if the error ranks no better
than the baseline, it measures smoothness, not a decoder's fingerprint.

    python scripts/taef2_recon_probe.py [--index ../shared/data/dev_bench/index.csv]

Each still's central square (at most 512 px, never resized) is scored; AUC of each fake kind
against the real photos. Selection evidence only: nothing is fitted.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

KINDS = ("diffusion_image", "gan_image", "faceswap_image", "real_image")


def _auc(fake: list[float], real: list[float]) -> float:
    from engine.training.metrics import roc_auc

    return float(roc_auc(np.r_[fake, real], np.r_[np.ones(len(fake)), np.zeros(len(real))]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path,
                        default=REPO.parent / "shared/data/dev_bench/index.csv")
    parser.add_argument("--taef2", type=Path, default=REPO.parent / "shared/models/taef2")
    args = parser.parse_args()
    import torch

    from engine.synthesis.taef2 import load_taef2

    torch.set_num_threads(2)
    net = load_taef2(args.taef2)
    features: dict[str, list[tuple[float, float]]] = {k: [] for k in KINDS}
    with args.index.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["kind"] not in features:
                continue
            bgr = cv2.imread(str(args.index.parent / row["path"]), cv2.IMREAD_COLOR)
            if bgr is None:
                print(f"skipped (unreadable): {row['path']}", file=sys.stderr)
                continue
            h, w = bgr.shape[:2]
            side = min(512, h, w)
            y0, x0 = (h - side) // 2, (w - side) // 2
            rgb = np.ascontiguousarray(bgr[y0 : y0 + side, x0 : x0 + side, ::-1])
            error = float(np.abs(rgb.astype(np.float32) - net.reconstruct(rgb)).mean())
            grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
            detail = float(np.abs(cv2.Laplacian(grey, cv2.CV_32F)).mean())
            features[row["kind"]].append((error, detail))
    real = features["real_image"]
    print(f"AUC against {len(real)} real photos (higher = the fakes score as generated)")
    print(f"{'fakes':18s} {'n':>3s} {'low error':>10s} {'low detail':>11s} {'error/detail':>13s}")
    for kind in KINDS[:-1]:
        fake = features[kind]
        if not fake or not real:
            continue
        cells = [_auc([-f[0] for f in fake], [-r[0] for r in real]),
                 _auc([-f[1] for f in fake], [-r[1] for r in real]),
                 _auc([-f[0] / max(f[1], 1e-3) for f in fake],
                      [-r[0] / max(r[1], 1e-3) for r in real])]
        print(f"{kind:18s} {len(fake):3d} " + " ".join(f"{c:>10.3f}" for c in cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
