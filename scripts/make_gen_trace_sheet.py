"""Draw docs/gen_trace_sheet.png: the generator traces gen_nprnet learns from, made visible.

One row per generator of a pair pack (``engine.training.gen_pack``, the validation pack by
default: held-out pictures): two examples of the real 96 px centre, its reconstruction and the
difference amplified x8 around grey, then the mean log-amplitude spectrum of the difference over
every pair of that generator (centre 96 px), where an upsampler's periodic traces show as peaks
at multiples of 1/2, 1/4 and 1/8 cycles per pixel.

Run: python scripts/make_gen_trace_sheet.py --pack /work/cache/gen/gen_pack_val [--out PATH]
(the PNG is palette-quantised to 256 colours to stay small).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from engine.training.gen_pack import GenPack

REPO_ROOT = Path(__file__).resolve().parents[1]
SIDE = 96
LABEL_PX = 18
COLUMNS = ("real", "reconstruction", "difference x8") * 2 + ("mean |FFT(diff)|",)


def _centre(img: np.ndarray) -> np.ndarray:
    off = (img.shape[0] - SIDE) // 2
    return img[off : off + SIDE, off : off + SIDE]


def _difference(real: np.ndarray, fake: np.ndarray) -> np.ndarray:
    diff = fake.astype(np.int16) - real.astype(np.int16)
    return np.clip(128 + 8 * diff, 0, 255).astype(np.uint8)


def _spectrum(pack: GenPack, indices: np.ndarray) -> np.ndarray:
    """Mean log-amplitude spectrum of the grey difference, contrast-stretched, as RGB."""
    acc = np.zeros((SIDE, SIDE))
    for i in indices:
        real, fake = (_centre(m).astype(np.float64).mean(axis=2) for m in pack.pair(int(i)))
        acc += np.abs(np.fft.fftshift(np.fft.fft2((fake - real) * np.hanning(SIDE)[:, None]
                                                  * np.hanning(SIDE)[None, :])))
    log = np.log1p(acc / len(indices))
    lo, hi = np.percentile(log, [1, 99.8])
    grey = np.clip((log - lo) / max(hi - lo, 1e-9) * 255, 0, 255).astype(np.uint8)
    return cv2.applyColorMap(grey, cv2.COLORMAP_INFERNO)[..., ::-1]


def _label(width: int, text: str) -> np.ndarray:
    strip = np.full((LABEL_PX, width, 3), 255, dtype=np.uint8)
    cv2.putText(strip, text, (3, LABEL_PX - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.36, (0, 0, 0), 1,
                cv2.LINE_AA)
    return strip


def draw(pack: GenPack, examples_per_row: int = 2) -> np.ndarray:
    """The sheet as (H, W, 3) uint8 RGB."""
    rng = np.random.default_rng(0)
    header = np.concatenate([_label(SIDE, c) for c in COLUMNS], axis=1)
    rows = [header]
    for name in sorted(set(pack.generators.tolist())):
        indices = np.flatnonzero(pack.generators == name)
        panels = []
        for i in rng.choice(indices, examples_per_row, replace=False):
            real, fake = (_centre(m) for m in pack.pair(int(i)))
            panels += [real, fake, _difference(real, fake)]
        panels.append(_spectrum(pack, indices))
        rows += [_label(header.shape[1], f"{name} ({len(indices)} pairs)"),
                 np.concatenate(panels, axis=1)]
    return np.concatenate(rows, axis=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pack", type=Path, required=True, help="a finished pair pack")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "gen_trace_sheet.png")
    args = parser.parse_args(argv)
    from PIL import Image

    sheet = draw(GenPack(args.pack))
    # NOTE: a 256-colour palette (no dithering) keeps the committed PNG under 200 KB; the
    # difference panels keep their structure (the numbers live in the packs, not here).
    Image.fromarray(sheet).quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                    dither=Image.Dither.NONE).save(args.out, optimize=True)
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]}, "
          f"{args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
