"""Pairs of (real picture, its reconstruction by a generator): the generated-image detector's
training fakes, made from real photos and video frames only.

A pair is cut from one picture: the same window goes through a generator (an autoencoder of
``engine.synthesis.trace_ae`` or TAEF2, ``engine.synthesis.taef2``) and the stored real and fake
are the same ``pair_px`` square of the window and of its reconstruction. The two differ only by
what the generator did, so the detector cannot learn content, identity, size or crop.

Bias controls ("Fake or JPEG?", Grommelt et al. 2024; METHODS.md section 5b):
- the picture is first resampled with probability ``p_resample`` (bilinear, bicubic, Lanczos or
  area; scale U[min_scale, max_scale], up or down) and BOTH members come from the resampled
  picture: a resampled real is a real, so "was resampled" cannot mean "fake";
- pictures smaller than the window are upscaled to fit (bicubic), again for both members;
- both members are stored losslessly; format (JPEG, palette) and post-processing are applied
  to both alike in training (``engine.training.gen_data``).

Every draw comes from the ``np.random.Generator`` passed in: the same seed gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

__all__ = [
    "INTERPOLATIONS",
    "AeGenerator",
    "PairParams",
    "TraceGenerator",
    "load_generators",
    "make_pair",
    "resample",
    "sample_pair_params",
]

# NOTE: the resamplers a photo meets in editors and pipelines; area is OpenCV's box filter
# (its usual downscaler), the others are what "resize" means in most tools.
INTERPOLATIONS: dict[str, int] = {
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
    "lanczos": cv2.INTER_LANCZOS4,
    "area": cv2.INTER_AREA,
}


class TraceGenerator(Protocol):
    """Something that reconstructs a picture: (H, W, 3) uint8 -> (H, W, 3) uint8, aligned."""

    name: str

    def reconstruct(self, rgb_u8: np.ndarray) -> np.ndarray:
        """The generator's version of ``rgb_u8``."""
        ...


@dataclass
class AeGenerator:
    """A generator given by a reconstruct function (an autoencoder, TAEF2, or a test double)."""

    name: str
    fn: Callable[[np.ndarray], np.ndarray]

    def reconstruct(self, rgb_u8: np.ndarray) -> np.ndarray:
        out = self.fn(rgb_u8)
        if out.shape != rgb_u8.shape or out.dtype != np.uint8:
            raise ValueError(f"generator {self.name} returned {out.shape} {out.dtype} for "
                             f"{rgb_u8.shape}")
        return out


@dataclass(frozen=True)
class PairParams:
    """The draws behind one pair (recorded with it).

    Attributes:
        scale: resampling factor of the picture (1.0: none).
        interpolation: name in :data:`INTERPOLATIONS` (``"none"`` when not resampled).
        x: left of the pair in the (resampled) picture.
        y: top of the pair in the (resampled) picture.
    """

    scale: float
    interpolation: str
    x: int
    y: int


def resample(rgb_u8: np.ndarray, scale: float, interpolation: str) -> np.ndarray:
    """``rgb_u8`` scaled by ``scale`` (both axes, at least 1 px) with ``interpolation``."""
    h, w = rgb_u8.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb_u8, size, interpolation=INTERPOLATIONS[interpolation])


def sample_pair_params(
    shape_hw: tuple[int, int], pair_px: int, rng: np.random.Generator, *, p_resample: float,
    min_scale: float, max_scale: float,
) -> PairParams:
    """Draw the resampling and the place of a pair in a picture of ``shape_hw``.

    A picture whose shorter side (after the drawn scale) is under ``pair_px`` is scaled up
    just enough to hold the pair (bicubic unless another interpolation was drawn).
    """
    short = min(shape_hw)
    scale, interp = 1.0, "none"
    if rng.random() < p_resample:
        scale = float(np.exp(rng.uniform(np.log(min_scale), np.log(max_scale))))
        interp = str(rng.choice(sorted(INTERPOLATIONS)))
    if short * scale < pair_px:
        scale = pair_px / short * 1.001  # NOTE: the margin keeps round() from landing short
        interp = "bicubic" if interp in ("none", "area") else interp
    h, w = (max(pair_px, round(d * scale)) for d in shape_hw)
    x = int(rng.integers(0, w - pair_px + 1))
    y = int(rng.integers(0, h - pair_px + 1))
    return PairParams(scale, interp, x, y)


def make_pair(
    rgb_u8: np.ndarray, generator: TraceGenerator, params: PairParams, *, pair_px: int,
    context_px: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``(real, fake)``: the ``pair_px`` square at ``params`` of the (resampled) picture, and the
    same square of the generator's reconstruction of a window ``context_px`` larger on each
    side (clipped to the picture), so the generator's border effects stay outside the pair.
    """
    pic = rgb_u8 if params.interpolation == "none" else resample(rgb_u8, params.scale,
                                                                  params.interpolation)
    if min(pic.shape[:2]) < pair_px:  # round() may leave a side one pixel short
        pic = cv2.resize(pic, (max(pair_px, pic.shape[1]), max(pair_px, pic.shape[0])),
                         interpolation=cv2.INTER_CUBIC)
    h, w = pic.shape[:2]
    x0, y0 = max(0, params.x - context_px), max(0, params.y - context_px)
    x1, y1 = min(w, params.x + pair_px + context_px), min(h, params.y + pair_px + context_px)
    window = np.ascontiguousarray(pic[y0:y1, x0:x1])
    recon = generator.reconstruct(window)
    top, left = params.y - y0, params.x - x0
    real = window[top : top + pair_px, left : left + pair_px].copy()
    fake = recon[top : top + pair_px, left : left + pair_px].copy()
    return real, fake


def load_generators(names: tuple[str, ...], *, ae_dir: Path, taef2_dir: Path) -> dict[str, Any]:
    """The named generators: ``taef2`` (published weights) and trained autoencoders
    (``<ae_dir>/<name>/<name>.pt`` with its ``<name>.json`` naming the upsampler).

    Raises:
        FileNotFoundError: an autoencoder has not been trained yet.
    """
    import json

    import torch

    from engine.synthesis.taef2 import load_taef2
    from engine.synthesis.trace_ae import TraceAutoencoder, reconstruct_u8

    out: dict[str, Any] = {}
    for name in names:
        if name == "taef2":
            taef2 = load_taef2(taef2_dir)
            out[name] = AeGenerator(name, taef2.reconstruct)
            continue
        folder = Path(ae_dir) / name
        if not (folder / f"{name}.pt").is_file():
            raise FileNotFoundError(f"autoencoder {name} is not trained: no {folder}/{name}.pt "
                                    "(python -m engine.training.trace_ae_train)")
        cfg = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))["config"]
        net = TraceAutoencoder(cfg["upsampler"], width=cfg["width"], n_blocks=cfg["n_blocks"])
        net.load_state_dict(torch.load(folder / f"{name}.pt", map_location="cpu",
                                       weights_only=True))
        net.eval()
        out[name] = AeGenerator(name, lambda rgb, net=net: reconstruct_u8(net, rgb))
    return out
