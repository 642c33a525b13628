"""GAN-image detector data: generated portraits against real faces, both from the face cache.

Wang et al. (CVPR 2020) train a plain classifier with Gaussian blur (sigma ~ U[0, 3]) and JPEG
(quality ~ U{30..100}), each with p = 0.5, on random crops, and test without resizing. We do
the same on policy face crops (``engine.faces.crop``, 256 px), with two additions that target
the shortcuts of OUR data (documented in docs/MODELS_VIDEO_GAN.md):

- background removal (p = ``p_oval``, both classes): every generated portrait has the same grey
  studio background while the real crops show edge-replicated borders or real scenes, so a
  classifier can separate them without looking at the face. Filling everything outside the
  Face Mesh silhouette (``FACE_OVAL``) with a random flat colour takes that cue away in training;
  the same operation with a fixed black fill is one of the measured validation views.
- resolution jitter (p = ``p_resample``, both classes): the real crops are often upsampled
  small faces (CelebA faces are about 80 px), the portraits are downsampled 512 px images; a
  random down-and-up resampling of either class keeps "soft = real" from being learnt.

Validation views (:func:`make_gan_views`): ``policy`` (the 256 px crop, as inference sees it),
``oval`` (background removed, black fill) and ``margin0`` (the central 160 px of the crop: the
landmark box with no margin, slightly cut; no resizing). Batches are normalised with the
detector's own :func:`engine.runtime.cfg.preprocess`, at the crop's size (no resizing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from engine.faces.crop import CropPolicy
from engine.faces.landmark_sets import FACE_OVAL
from engine.runtime.cfg import DetectorCfg, preprocess
from engine.synthesis import blur_jpeg

__all__ = [
    "GAN_VIEWS",
    "GanAugment",
    "GanSampler",
    "LabelledFaces",
    "LabelledSet",
    "center_crop",
    "gan_faces_from_cache",
    "make_gan_views",
    "normalise",
    "remove_background",
]

GAN_VIEWS = ("policy", "oval", "margin0")
POLICY_MARGIN = CropPolicy().margin
MARGIN0_PX = 160  # NOTE: 256 * (0.5 / 0.75) = 171 px is the margin-0 box; 160 = 5 * 32.


@dataclass(frozen=True, eq=False)
class LabelledFaces:
    """Face crops with landmarks and labels (crops may be lazily read from the cache).

    Attributes:
        crops: (K, S, S, 3) uint8 RGB policy crops (indexable).
        landmarks: (K, 478, 2) float32 landmarks in crop pixels.
        labels: (K,) int64, 0 = real, 1 = fake.
        sources: (K,) cache source of each crop (used to balance the real sources).
    """

    crops: Any
    landmarks: np.ndarray
    labels: np.ndarray
    sources: np.ndarray

    def __post_init__(self) -> None:
        k = len(self.crops)
        if not (self.landmarks.shape[0] == len(self.labels) == len(self.sources) == k > 0):
            raise ValueError(f"LabelledFaces needs matching, non-empty arrays; got {k} crops")
        if not {0, 1} <= set(np.unique(self.labels).tolist()):
            raise ValueError("LabelledFaces needs both real (0) and fake (1) crops")

    def __len__(self) -> int:
        return len(self.crops)


class _LazyCrops:
    def __init__(self, cache: Any, indices: np.ndarray) -> None:
        self._cache = cache
        self._indices = indices

    def __len__(self) -> int:
        return len(self._indices)

    def __getitem__(self, i: int) -> np.ndarray:
        return np.asarray(self._cache.crop(int(self._indices[i])))


def gan_faces_from_cache(
    root: Path, *, split: str, real_sources: tuple[str, ...], fake_sources: tuple[str, ...],
    max_per_source: int, seed: int,
) -> LabelledFaces:
    """Real and generated faces of one split of the face cache.

    Args:
        root: the cache folder (``python -m engine.data.prepare --out``).
        split: ``"train"`` or ``"val"`` (identity/clip-disjoint).
        real_sources: cache sources of real faces.
        fake_sources: cache sources of generated faces.
        max_per_source: seeded random subset per source (0 = all).
        seed: seed of the subsets.

    Raises:
        ValueError: a source has no faces in the split.
    """
    from engine.data.cache import FaceCache

    cache = FaceCache(root)
    rng = np.random.default_rng(seed)
    chosen, labels, sources = [], [], []
    for label, names in ((0, real_sources), (1, fake_sources)):
        for name in names:
            idx = cache.indices(split=split, source=name, label="fake" if label else "real")
            if len(idx) == 0:
                raise ValueError(f"no {name} faces in split {split!r} of {root}")
            if 0 < max_per_source < len(idx):
                idx = np.sort(rng.choice(idx, size=max_per_source, replace=False))
            chosen.append(idx)
            labels.append(np.full(len(idx), label, dtype=np.int64))
            sources.append(np.full(len(idx), name))
    indices = np.concatenate(chosen)
    return LabelledFaces(_LazyCrops(cache, indices), cache.landmarks_batch(indices),
                         np.concatenate(labels), np.concatenate(sources))


def remove_background(
    crop_rgb_u8: np.ndarray, landmarks_xy: np.ndarray, fill_rgb: tuple[int, int, int]
) -> np.ndarray:
    """The crop with everything outside the Face Mesh silhouette set to ``fill_rgb``."""
    mask = np.zeros(crop_rgb_u8.shape[:2], dtype=np.uint8)
    contour = np.round(np.asarray(landmarks_xy)[list(FACE_OVAL)]).astype(np.int32)
    cv2.fillPoly(mask, [contour], 1)
    out = np.empty_like(crop_rgb_u8)
    out[:] = np.asarray(fill_rgb, dtype=np.uint8)
    inside = mask.astype(bool)
    out[inside] = crop_rgb_u8[inside]
    return out


def center_crop(rgb_u8: np.ndarray, side: int) -> np.ndarray:
    """The central ``side`` x ``side`` pixels (no resizing)."""
    h, w = rgb_u8.shape[:2]
    if side > min(h, w):
        raise ValueError(f"cannot cut {side} px from a {h}x{w} image")
    top, left = (h - side) // 2, (w - side) // 2
    return rgb_u8[top : top + side, left : left + side]


def _resample(rgb_u8: np.ndarray, scale: float) -> np.ndarray:
    """Down-scale by ``scale`` (area) and back up (bilinear): a smaller face, upsampled."""
    h, w = rgb_u8.shape[:2]
    small = cv2.resize(rgb_u8, (max(8, round(w * scale)), max(8, round(h * scale))),
                       interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


@dataclass(frozen=True)
class GanAugment:
    """Training augmentation of one crop (see the module docstring).

    Attributes:
        crop_px: side of the random training crop (the paper's 224).
        p_blur: probability of the Gaussian blur, sigma ~ U[0, ``max_sigma``].
        max_sigma: largest blur sigma in pixels.
        p_jpeg: probability of the JPEG round trip, quality ~ U{``min_quality``..100}.
        min_quality: lowest JPEG quality.
        p_oval: probability of background removal (random flat fill colour).
        p_resample: probability of a down-and-up resampling by U[``min_scale``, 1].
        min_scale: smallest resampling scale.
    """

    crop_px: int = 224
    p_blur: float = 0.5
    max_sigma: float = 3.0
    p_jpeg: float = 0.5
    min_quality: int = 30
    p_oval: float = 0.5
    p_resample: float = 0.25
    min_scale: float = 0.35

    def apply(self, crop: np.ndarray, lm: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One augmented ``crop_px`` view of ``crop`` (uint8)."""
        out = np.asarray(crop)
        if rng.random() < self.p_oval:
            out = remove_background(out, lm, tuple(int(v) for v in rng.integers(0, 256, 3)))
        if rng.random() < self.p_resample:
            out = _resample(out, float(rng.uniform(self.min_scale, 1.0)))
        out = blur_jpeg(out, rng, p_blur=self.p_blur, sigma=(0.0, self.max_sigma),
                        p_jpeg=self.p_jpeg, quality=(self.min_quality, 100))
        side = out.shape[0]
        top, left = (int(v) for v in rng.integers(0, side - self.crop_px + 1, 2))
        out = out[top : top + self.crop_px, left : left + self.crop_px]
        return out[:, ::-1] if rng.random() < 0.5 else out


def normalise(crops_rgb_u8: np.ndarray, cfg: DetectorCfg) -> np.ndarray:
    """NCHW float32 input of crops of any (multiple of 32) size, normalised, not resized."""
    crops = np.ascontiguousarray(crops_rgb_u8)
    # NOTE: the full policy margin makes preprocess keep the whole crop, so nothing is resized.
    return preprocess(crops, cfg.replace(input_size=crops.shape[1], face_margin=POLICY_MARGIN))


@dataclass(frozen=True, eq=False)
class GanBatch:
    """A training batch: normalised images and labels (0 real, 1 fake)."""

    images: np.ndarray
    labels: np.ndarray


@dataclass
class GanSampler:
    """Balanced batches: half real (sources drawn uniformly), half generated, augmented.

    Args:
        faces: training faces.
        cfg: the detector config (normalisation).
        augment: the augmentation.
        rng: every random draw.
    """

    faces: LabelledFaces
    cfg: DetectorCfg
    augment: GanAugment
    rng: np.random.Generator
    epoch: int = 0
    _pools: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _fake_order: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    _fake_pos: int = 0

    def __post_init__(self) -> None:
        real = self.faces.labels == 0
        for name in sorted(set(self.faces.sources[real].tolist())):
            self._pools[name] = np.flatnonzero(real & (self.faces.sources == name))
        self._fakes = np.flatnonzero(self.faces.labels == 1)
        if len(self._fake_order) == 0:
            self._fake_order = self.rng.permutation(self._fakes)

    def _next_fake(self) -> int:
        if self._fake_pos >= len(self._fake_order):
            self.epoch += 1
            self._fake_order = self.rng.permutation(self._fakes)
            self._fake_pos = 0
        self._fake_pos += 1
        return int(self._fake_order[self._fake_pos - 1])

    def _next_real(self) -> int:
        names = sorted(self._pools)
        pool = self._pools[names[int(self.rng.integers(len(names)))]]
        return int(pool[int(self.rng.integers(len(pool)))])

    def sample(self, n_per_class: int) -> GanBatch:
        """``n_per_class`` real and ``n_per_class`` generated augmented crops."""
        idx = [self._next_real() for _ in range(n_per_class)]
        idx += [self._next_fake() for _ in range(n_per_class)]
        views = np.stack([self.augment.apply(self.faces.crops[i], self.faces.landmarks[i],
                                             self.rng) for i in idx])
        return GanBatch(normalise(views, self.cfg), self.faces.labels[np.array(idx)])

    def describe(self) -> dict[str, int]:
        """Counts of the training data (for the model card)."""
        counts = {f"real_{name}": len(pool) for name, pool in self._pools.items()}
        return {"n_items": len(self.faces), **counts, "generated": len(self._fakes)}

    def state(self) -> dict[str, Any]:
        """Everything needed to resume the exact sequence of batches."""
        return {"rng": self.rng.bit_generator.state, "epoch": self.epoch,
                "order": self._fake_order.tolist(), "pos": self._fake_pos}

    def restore(self, state: dict[str, Any]) -> None:
        """Inverse of :meth:`state`."""
        self.rng.bit_generator.state = state["rng"]
        self.epoch = int(state["epoch"])
        self._fake_order = np.asarray(state["order"], dtype=np.int64)
        self._fake_pos = int(state["pos"])


@dataclass(frozen=True, eq=False)
class LabelledSet:
    """A fixed evaluation set: uint8 crops (any square size), labels (0 real, 1 fake) and, for
    views of a ``LabelledFaces``, the index of each crop's face in it."""

    crops: np.ndarray
    labels: np.ndarray
    indices: np.ndarray | None = None


def make_gan_views(
    faces: LabelledFaces, *, n_per_class: int, seed: int
) -> dict[str, LabelledSet]:
    """Balanced held-out views ``policy``, ``oval`` and ``margin0`` of the same faces.

    Crops are ordered [reals..., fakes...]; reals are a seeded sample spread evenly over the
    real sources. No augmentation.
    """
    rng = np.random.default_rng(seed)
    fakes = np.flatnonzero(faces.labels == 1)
    n = min(n_per_class, len(fakes))
    fakes = np.sort(rng.choice(fakes, size=n, replace=False))
    real_names = sorted(set(faces.sources[faces.labels == 0].tolist()))
    reals = []
    for k, name in enumerate(real_names):
        pool = np.flatnonzero((faces.labels == 0) & (faces.sources == name))
        want = n // len(real_names) + (1 if k < n % len(real_names) else 0)
        reals.append(rng.choice(pool, size=min(want, len(pool)), replace=False))
    order = np.concatenate([np.sort(np.concatenate(reals)), fakes])
    labels = faces.labels[order]
    policy = np.stack([np.asarray(faces.crops[int(i)]) for i in order])
    oval = np.stack([remove_background(c, faces.landmarks[i], (0, 0, 0))
                     for c, i in zip(policy, order, strict=True)])
    margin0 = np.stack([center_crop(c, MARGIN0_PX) for c in policy])
    return {"policy": LabelledSet(policy, labels, order), "oval": LabelledSet(oval, labels, order),
            "margin0": LabelledSet(np.ascontiguousarray(margin0), labels, order)}
