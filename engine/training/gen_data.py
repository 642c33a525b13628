"""Training batches of the generated-image detector: pairs from a pack, augmented alike.

Each step draws pairs (real picture, its reconstruction) from a :class:`GenPack` and gives
both members of a pair the SAME augmentation, so the only difference the network can learn is
the generator's trace (as SBI trains on a face and its self-blend):

0. with ``soft_reals``, a third member: the real made softer the ways real pictures are
   (resampled down and up, upscaled, blurred), labelled real. The first run learnt "smooth =
   generated" (our reconstructions lose a little fine detail: a real photo blurred with sigma 1
   or upscaled x2 rose from "real" to "fake"), which called StyleGAN's soft 256 px faces more
   real than real photos; a soft real in every step takes that cue away (docs/MODELS_GEN.md);
1. a random ``crop_px`` window at the same place in both; with ``p_resize`` the window is
   first taken at ``crop_px / s`` and resampled to ``crop_px`` (scale s, random interpolation):
   a resized fake stays a fake, a resized real a real (Corvi et al.'s resize augmentation; the
   0.5x-downscale robustness target);
2. flips and 90-degree rotations;
3. colour (brightness, contrast, saturation), blur (Wang et al.), Gaussian noise;
4. format: a 256-colour palette (GIF frames) with ``p_palette``, then a JPEG round trip with
   ``p_jpeg`` at quality U{jpeg_min..100} with 4:2:0 or 4:4:4 chroma (Pillow, as photos are
   saved), then a one-frame H.264 round trip with ``p_h264`` (as a picture inside a video).
   Both classes go through the same format ("Fake or JPEG?", Grommelt et al. 2024).

The inputs are normalised as the detector's runtime does (``engine.runtime.tiles``), at the
crop's own size. Every draw comes from the sampler's ``np.random.Generator``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from PIL import Image

from engine.runtime.tiles import normalise_tiles
from engine.synthesis.codec import H264_PRESETS, h264_roundtrip
from engine.synthesis.traces import INTERPOLATIONS
from engine.training.config_gen import GenTrainConfig
from engine.training.gen_pack import GenPack

__all__ = ["GenBatch", "GenSampler", "augment_pair", "jpeg_pil", "soften", "val_crops"]


def jpeg_pil(rgb_u8: np.ndarray, quality: int, subsampling: int) -> np.ndarray:
    """JPEG round trip through Pillow (``subsampling`` 0 = 4:4:4, 2 = 4:2:0)."""
    buf = io.BytesIO()
    Image.fromarray(rgb_u8).save(buf, format="JPEG", quality=int(quality),
                                 subsampling=int(subsampling))
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _palette(rgb_u8: np.ndarray) -> np.ndarray:
    img = Image.fromarray(rgb_u8).quantize(colors=256, dither=Image.Dither.FLOYDSTEINBERG)
    return np.asarray(img.convert("RGB"))


def _window(pair: tuple[np.ndarray, np.ndarray], cfg: GenTrainConfig,
            rng: np.random.Generator) -> list[np.ndarray]:
    side = pair[0].shape[0]
    crop = cfg.crop_px
    scale = 1.0
    if rng.random() < cfg.p_resize:
        scale = float(np.exp(rng.uniform(np.log(cfg.resize_min), np.log(cfg.resize_max))))
    src = min(side, max(8, round(crop / scale)))
    y, x = (int(v) for v in rng.integers(0, side - src + 1, 2))
    out = [m[y : y + src, x : x + src] for m in pair]
    if src != crop:
        interp = INTERPOLATIONS[str(rng.choice(sorted(INTERPOLATIONS)))]
        if src < crop and interp == cv2.INTER_AREA:
            interp = cv2.INTER_LINEAR  # NOTE: area upsampling is nearest-like in OpenCV
        out = [cv2.resize(np.ascontiguousarray(m), (crop, crop), interpolation=interp)
               for m in out]
    return out


def soften(rgb_u8: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A real picture made softer the ways real pictures are (same size): resampled down and up
    again (scale U[0.35, 0.9]), or upscaled from a smaller centre (x U[1.2, 2.5]), with random
    interpolations, or blurred (sigma U[0.4, 1.5])."""
    side = rgb_u8.shape[0]
    names = sorted(INTERPOLATIONS)
    kind = int(rng.integers(3))
    if kind == 2:
        return cv2.GaussianBlur(rgb_u8, (0, 0), float(rng.uniform(0.4, 1.5)))
    up = INTERPOLATIONS[str(rng.choice([n for n in names if n != "area"]))]
    if kind == 1:
        small = max(8, round(side / float(rng.uniform(1.2, 2.5))))
        off = (side - small) // 2
        centre = np.ascontiguousarray(rgb_u8[off : off + small, off : off + small])
        return cv2.resize(centre, (side, side), interpolation=up)
    down = INTERPOLATIONS[str(rng.choice(names))]
    small = max(8, round(side * float(rng.uniform(0.35, 0.9))))
    return cv2.resize(cv2.resize(rgb_u8, (small, small), interpolation=down), (side, side),
                      interpolation=up)


def _geometry(images: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    k = int(rng.integers(4))
    flip = rng.random() < 0.5
    return [np.ascontiguousarray(np.rot90(m[:, ::-1] if flip else m, k)) for m in images]


def _colour(images: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    gain = float(rng.uniform(0.8, 1.2))
    bias = float(rng.uniform(-20.0, 20.0))
    sat = float(rng.uniform(0.7, 1.3))
    out = []
    for m in images:
        f = m.astype(np.float32)
        grey = f.mean(axis=2, keepdims=True)
        f = (grey + sat * (f - grey)) * gain + bias
        out.append(np.clip(np.rint(f), 0, 255).astype(np.uint8))
    return out


def augment_pair(pair: tuple[np.ndarray, np.ndarray], cfg: GenTrainConfig,
                 rng: np.random.Generator) -> list[np.ndarray]:
    """The two members of ``pair`` as ``crop_px`` crops, augmented with one set of draws; with
    ``cfg.soft_reals`` a softened copy of the real comes third (same draws after softening), and
    with ``cfg.soft_fakes`` the fake softened by the same draw comes fourth."""
    images = _window(pair, cfg, rng)
    if cfg.soft_fakes:
        soft_seed = int(rng.integers(2**63))
        images += [soften(np.ascontiguousarray(m), np.random.default_rng(soft_seed))
                   for m in images[:2]]
    elif cfg.soft_reals:
        images.append(soften(np.ascontiguousarray(images[0]), rng))
    images = _geometry(images, rng)
    if rng.random() < cfg.p_colour:
        images = _colour(images, rng)
    if rng.random() < cfg.p_blur:
        sigma = float(rng.uniform(0.1, cfg.blur_max))
        images = [cv2.GaussianBlur(m, (0, 0), sigma) for m in images]
    if rng.random() < cfg.p_noise:
        noise = rng.normal(0.0, float(rng.uniform(0.5, cfg.noise_max)), images[0].shape)
        images = [np.clip(np.rint(m + noise), 0, 255).astype(np.uint8) for m in images]
    if rng.random() < cfg.p_palette:
        images = [_palette(m) for m in images]
    if rng.random() < cfg.p_jpeg:
        quality = int(rng.integers(cfg.jpeg_min, 101))
        subsampling = 2 if rng.random() < 0.7 else 0
        images = [jpeg_pil(m, quality, subsampling) for m in images]
    if rng.random() < cfg.p_h264:
        crf = int(rng.integers(cfg.h264_crf_min, cfg.h264_crf_max + 1))
        preset = H264_PRESETS[int(rng.integers(len(H264_PRESETS)))]
        images = [h264_roundtrip(np.ascontiguousarray(m), crf, preset) for m in images]
    return images


@dataclass(frozen=True, eq=False)
class GenBatch:
    """Normalised images (2B, 3, c, c) float32 ([real_0, fake_0, real_1, ...]) and labels."""

    images: np.ndarray
    labels: np.ndarray


@dataclass
class GenSampler:
    """Pairs in a seeded random order, one pass after another (an epoch), augmented alike."""

    pack: GenPack
    cfg: GenTrainConfig
    det_cfg: Any
    rng: np.random.Generator
    epoch: int = 0
    _order: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    _pos: int = 0

    def _next(self) -> int:
        if self._pos >= len(self._order):
            if len(self._order):
                self.epoch += 1
            self._order = self._new_order()
            self._pos = 0
        self._pos += 1
        return int(self._order[self._pos - 1])

    def _new_order(self) -> np.ndarray:
        """A pass over the pack: a permutation, or with ``generator_weights`` as many draws
        (with replacement) weighted by each pair's generator."""
        weights = self.cfg.generator_weights
        if not weights:
            return self.rng.permutation(len(self.pack))
        w = np.array([weights.get(str(g), 1.0) for g in self.pack.generators], dtype=np.float64)
        return self.rng.choice(len(self.pack), size=len(self.pack), p=w / w.sum())

    def sample(self, n_pairs: int) -> GenBatch:
        """``n_pairs`` pairs, each as [real, fake] (or [real, fake, softened real], or
        [real, fake, softened real, softened fake])."""
        crops = []
        for _ in range(n_pairs):
            crops += augment_pair(self.pack.pair(self._next()), self.cfg, self.rng)
        unit = [0, 1] + [0] * self.cfg.soft_reals + [1] * self.cfg.soft_fakes
        labels = np.tile(np.array(unit, dtype=np.int64), n_pairs)
        return GenBatch(normalise_tiles(np.stack(crops), self.det_cfg), labels)

    def state(self) -> dict[str, Any]:
        """Everything needed to resume the exact sequence of batches."""
        return {"rng": self.rng.bit_generator.state, "epoch": self.epoch,
                "order": self._order.tolist(), "pos": self._pos}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state`."""
        self.rng.bit_generator.state = state["rng"]
        self.epoch = int(state["epoch"])
        self._order = np.asarray(state["order"], dtype=np.int64)
        self._pos = int(state["pos"])


def val_crops(pack: GenPack, side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The centre ``side`` px (at most the pair's side) of every pair of a validation pack,
    unaugmented: ``(crops (2N, s, s, 3) [real_0, fake_0, ...], labels (2N,), generator (2N,))``."""
    crops, gens = [], []
    for i in range(len(pack)):
        real, fake = pack.pair(i)
        side = min(side, real.shape[0])
        off = (real.shape[0] - side) // 2
        window = (slice(off, off + side), slice(off, off + side))
        crops += [real[window], fake[window]]
        gens += ["real", str(pack.generators[i])]
    labels = np.tile(np.array([0, 1], dtype=np.int64), len(pack))
    return np.stack(crops), labels, np.array(gens)
