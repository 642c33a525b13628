"""Training data: real face crops and their synthetic fake twins, made on the fly.

Real faces come from the face cache (``engine.data.cache.FaceCache``, built by
``engine.data`` with the one crop policy), so training sees exactly the crops inference sees.
Each batch holds ``n`` real crops and ``n`` fakes synthesised from those same crops: a
self-blend (SBI, Shiohara & Yamasaki 2022) or, with probability ``p_bi``, a blend with the
nearest-landmark donor (BI, Li et al. 2020). The real crop and its fake get one shared
post-augmentation draw (colour, JPEG, flip), so a pair differs only by the blend. Images go
through :func:`engine.runtime.cfg.preprocess`, the function inference uses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from engine.errors import SynthesisInputError
from engine.runtime.cfg import DetectorCfg, preprocess
from engine.synthesis import blend_with_donor, nearest_donor, pair_postaug, self_blend

__all__ = [
    "Batch",
    "PairSampler",
    "RealFaces",
    "ValSet",
    "faces_from_cache",
    "make_val_set",
    "synthesize_pair",
]

logger = logging.getLogger(__name__)

XRAY_SIZE = 64
_MAX_SKIPS = 50


@dataclass(frozen=True, eq=False)
class RealFaces:
    """Real face crops with landmarks (arrays may be memory-mapped).

    Attributes:
        crops: (K, S, S, 3) uint8 RGB policy crops.
        landmarks: (K, 478, 2) float32 landmarks in crop pixels.
        groups: (K,) identity / clip id of each crop (donors never come from the same group).
    """

    crops: Any
    landmarks: npt.NDArray[Any]
    groups: npt.NDArray[Any]

    def __post_init__(self) -> None:
        k = len(self.crops)
        if self.landmarks.shape[0] != k or len(self.groups) != k or k == 0:
            raise ValueError(f"RealFaces needs matching, non-empty arrays; got {k} crops, "
                             f"{self.landmarks.shape[0]} landmarks, {len(self.groups)} groups")

    def __len__(self) -> int:
        return len(self.crops)

    def subset(self, indices: npt.NDArray[Any]) -> RealFaces:
        """The faces at ``indices`` (loaded into memory)."""
        idx = np.asarray(indices)
        return RealFaces(np.stack([np.asarray(self.crops[int(i)]) for i in idx]),
                         self.landmarks[idx], self.groups[idx])


class _CacheCrops:
    """Lazy crop access into a face cache: ``crops[i]`` reads one memory-mapped crop."""

    def __init__(self, cache: Any, indices: npt.NDArray[Any]) -> None:
        self._cache = cache
        self._indices = indices

    def __len__(self) -> int:
        return len(self._indices)

    def __getitem__(self, i: int) -> npt.NDArray[Any]:
        return np.asarray(self._cache.crop(int(self._indices[i])))


def faces_from_cache(
    root: Path, *, split: str, sources: tuple[str, ...], max_faces: int, seed: int
) -> RealFaces:
    """Real faces of one split of the face cache (``engine.data.cache.FaceCache``).

    Args:
        root: the cache folder (``python -m engine.data.prepare --out``).
        split: ``"train"`` or ``"val"`` (identity/clip-disjoint).
        sources: cache source names to use.
        max_faces: keep a seeded random subset of this many (0 = all).
        seed: seed of that subset.

    Raises:
        ValueError: no real face matches.
    """
    from engine.data.cache import FaceCache

    cache = FaceCache(root)
    indices = cache.indices(split=split, source=list(sources), label="real")
    if len(indices) == 0:
        raise ValueError(f"no real faces in {root} for split {split!r} and sources {sources}")
    if 0 < max_faces < len(indices):
        rng = np.random.default_rng(seed)
        indices = np.sort(rng.choice(indices, size=max_faces, replace=False))
    groups = np.array([f"{cache.rows[i].source}:{cache.rows[i].identity}" for i in indices])
    return RealFaces(_CacheCrops(cache, indices), cache.landmarks_batch(indices), groups)


@dataclass(frozen=True, eq=False)
class Batch:
    """A training batch: normalised images, labels (0 real, 1 fake) and X-ray targets."""

    images: npt.NDArray[Any]  # (2n, 3, s, s) float32
    labels: npt.NDArray[Any]  # (2n,) int64
    xray: npt.NDArray[Any]  # (2n, 64, 64) float32


def synthesize_pair(
    faces: RealFaces, idx: int, rng: np.random.Generator, *, p_bi: float, postaug: bool
) -> tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]:
    """``(real_rgb_u8, fake_rgb_u8, fake_xray_64)`` for face ``idx``.

    Raises:
        SynthesisInputError: the face cannot be blended (e.g. degenerate landmarks).
    """
    crop = np.asarray(faces.crops[idx])
    lm = faces.landmarks[idx]
    if p_bi > 0.0 and rng.random() < p_bi:
        same_group = np.flatnonzero(faces.groups == faces.groups[idx])
        donor = nearest_donor(lm, faces.landmarks, rng, exclude=same_group.tolist())
        fake = blend_with_donor(crop, lm, np.asarray(faces.crops[donor]),
                                faces.landmarks[donor], rng)
    else:
        fake = self_blend(crop, lm, rng)
    real = fake.target_rgb_u8
    if postaug:
        real, fake = pair_postaug(real, fake, rng)
    xray = cv2.resize(fake.xray_f32, (XRAY_SIZE, XRAY_SIZE), interpolation=cv2.INTER_AREA)
    return real, fake.image_rgb_u8, np.clip(xray, 0.0, 1.0).astype(np.float32)


class PairSampler:
    """Draws batches of real/fake pairs, epoch by epoch over a shuffled order.

    Args:
        faces: the training faces.
        cfg: the detector config (its preprocessing is applied).
        rng: every random draw (order, synthesis, augmentation).
        p_bi: probability of a donor blend instead of a self-blend.
    """

    def __init__(
        self, faces: RealFaces, cfg: DetectorCfg, rng: np.random.Generator, *, p_bi: float
    ) -> None:
        self.faces = faces
        self.cfg = cfg
        self.rng = rng
        self.p_bi = p_bi
        self.epoch = 0
        self._order = rng.permutation(len(faces))
        self._pos = 0
        self.skipped = 0

    def _next_index(self) -> int:
        if self._pos >= len(self._order):
            self.epoch += 1
            self._order = self.rng.permutation(len(self.faces))
            self._pos = 0
        self._pos += 1
        return int(self._order[self._pos - 1])

    def sample(self, n_reals: int) -> Batch:
        """``n_reals`` real crops and their fakes, preprocessed."""
        reals: list[npt.NDArray[Any]] = []
        fakes: list[npt.NDArray[Any]] = []
        xrays: list[npt.NDArray[Any]] = []
        while len(reals) < n_reals:
            idx = self._next_index()
            try:
                real, fake, xray = synthesize_pair(self.faces, idx, self.rng, p_bi=self.p_bi,
                                                   postaug=True)
            except SynthesisInputError as exc:
                self.skipped += 1
                logger.warning("face %d skipped (%s); %d skipped so far", idx, exc, self.skipped)
                if self.skipped > _MAX_SKIPS:
                    raise
                continue
            reals.append(real)
            fakes.append(fake)
            xrays.append(xray)
        crops = np.stack(reals + fakes)
        zeros = np.zeros((n_reals, XRAY_SIZE, XRAY_SIZE), dtype=np.float32)
        return Batch(
            images=preprocess(crops, self.cfg),
            labels=np.repeat(np.array([0, 1], dtype=np.int64), n_reals),
            xray=np.concatenate([zeros, np.stack(xrays)]),
        )

    def state(self) -> dict[str, Any]:
        """Everything needed to resume the exact sequence of batches."""
        return {"rng": self.rng.bit_generator.state, "epoch": self.epoch,
                "order": self._order.tolist(), "pos": self._pos, "skipped": self.skipped}

    def restore(self, state: dict[str, Any]) -> None:
        """Inverse of :meth:`state`."""
        self.rng.bit_generator.state = state["rng"]
        self.epoch = int(state["epoch"])
        self._order = np.asarray(state["order"], dtype=np.int64)
        self._pos = int(state["pos"])
        self.skipped = int(state["skipped"])


@dataclass(frozen=True, eq=False)
class ValSet:
    """A fixed validation set: uint8 policy crops, labels (0 real, 1 fake) and, per crop, the
    group (``source:identity``) of the real face it is or was made from."""

    crops: npt.NDArray[Any]
    labels: npt.NDArray[Any]
    groups: npt.NDArray[Any]


def make_val_set(faces: RealFaces, *, p_bi: float, seed: int) -> ValSet:
    """Every face, untouched, and one deterministic fake of it (no post-augmentation)."""
    rng = np.random.default_rng(seed)
    reals: list[npt.NDArray[Any]] = []
    fakes: list[npt.NDArray[Any]] = []
    kept: list[int] = []
    for idx in range(len(faces)):
        try:
            _, fake, _ = synthesize_pair(faces, idx, rng, p_bi=p_bi, postaug=False)
        except SynthesisInputError as exc:
            logger.warning("validation face %d skipped: %s", idx, exc)
            continue
        reals.append(np.asarray(faces.crops[idx]))
        fakes.append(fake)
        kept.append(idx)
    labels = np.repeat(np.array([0, 1], dtype=np.int64), len(reals))
    groups = np.asarray(faces.groups)[kept]
    return ValSet(np.stack(reals + fakes), labels, np.concatenate([groups, groups]))
