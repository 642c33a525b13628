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

import dataclasses
import functools
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
from engine.synthesis.capture import apply_capture, capture_pair, sample_capture_params
from engine.synthesis.parts import sample_part_bi_params, sample_part_sbi_params
from engine.synthesis.result import xray_from_mask
from engine.synthesis.retouch import retouch_face

__all__ = [
    "Batch",
    "PairRecipe",
    "PairSampler",
    "RealFaces",
    "ValSet",
    "draw_weights",
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
        valid_xyxy: (K, 4) float32 part of each crop inside its source image
            (``FaceCache.valid_xyxy``), or ``None`` when not known (the capture chain then
            leaves the crop's margin as it is).
        decoded: ``{index: (S, S, 3) uint8}``, the crops of some faces as an autoencoder
            decoded them (``engine.training.decoded_faces``), or ``None``: for self-blends whose
            source a decoder drew (``PairRecipe.decoder_prob``).
    """

    crops: Any
    landmarks: npt.NDArray[Any]
    groups: npt.NDArray[Any]
    valid_xyxy: npt.NDArray[Any] | None = None
    decoded: dict[int, npt.NDArray[Any]] | None = None

    def __post_init__(self) -> None:
        k = len(self.crops)
        if self.landmarks.shape[0] != k or len(self.groups) != k or k == 0:
            raise ValueError(f"RealFaces needs matching, non-empty arrays; got {k} crops, "
                             f"{self.landmarks.shape[0]} landmarks, {len(self.groups)} groups")
        if self.valid_xyxy is not None and self.valid_xyxy.shape != (k, 4):
            raise ValueError(f"valid_xyxy must be ({k}, 4); got {self.valid_xyxy.shape}")

    def __len__(self) -> int:
        return len(self.crops)

    def subset(self, indices: npt.NDArray[Any]) -> RealFaces:
        """The faces at ``indices`` (loaded into memory)."""
        idx = np.asarray(indices)
        valid = None if self.valid_xyxy is None else self.valid_xyxy[idx]
        decoded = None
        if self.decoded is not None:
            decoded = {new: self.decoded[int(old)] for new, old in enumerate(idx)
                       if int(old) in self.decoded}
        return RealFaces(np.stack([np.asarray(self.crops[int(i)]) for i in idx]),
                         self.landmarks[idx], self.groups[idx], valid, decoded)

    @functools.cached_property
    def decoded_indices(self) -> tuple[int, ...]:
        """The indices of the faces with a decoded twin, in order (sorted once, drawn from for
        every decoder-drawn pair)."""
        return tuple(sorted(self.decoded or {}))

    def valid(self, idx: int) -> tuple[float, float, float, float] | None:
        """The part of crop ``idx`` inside its source image, or ``None`` when not known."""
        if self.valid_xyxy is None:
            return None
        x0, y0, x1, y1 = (float(v) for v in self.valid_xyxy[idx])
        return (x0, y0, x1, y1)


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
    return RealFaces(_CacheCrops(cache, indices), cache.landmarks_batch(indices), groups,
                     _valid_or_none(cache, indices))


def _valid_or_none(cache: Any, indices: npt.NDArray[Any]) -> npt.NDArray[Any] | None:
    """The crops' valid extents, or ``None`` (logged) for a cache that cannot tell them."""
    try:
        return np.asarray(cache.valid_xyxy(indices))
    except FileNotFoundError as exc:
        logger.warning("crop margins unknown, the capture chain keeps them as they are: %s", exc)
        return None


@dataclass(frozen=True, eq=False)
class Batch:
    """A training batch: normalised images, labels (0 real, 1 fake) and X-ray targets."""

    images: npt.NDArray[Any]  # (2n, 3, s, s) float32
    labels: npt.NDArray[Any]  # (2n,) int64
    xray: npt.NDArray[Any]  # (2n, 64, 64) float32


@dataclass(frozen=True)
class PairRecipe:
    """How a training pair is made (the ``TrainConfig`` fields of the same names).

    Attributes:
        p_bi: probability of a donor blend (BI) instead of a self-blend (SBI).
        capture_prob: probability that a pair goes through the capture chain
            (``engine.synthesis.capture``: resampling, noise, the face's own scale, blur,
            sharpening, H.264/JPEG), one draw for both images.
        xray_target: ``"mask"``: B = 4 M (1 - M) of the blending mask M as blended (a
            self-blend with ratio r < 1 then has a face-wide target: its whole face is mixed);
            ``"boundary"``: of M scaled to a peak of 1, i.e. where the blended region ends.
        video_share: share of the draws that are frames of real video clips (0: every face
            equally often, as they come).
        retouch_prob: probability that the real face is retouched (``engine.synthesis.retouch``:
            a beauty filter on the face only) before its fake is made from it, so both members
            carry the retouch and a retouched face is taught as real.
        part_prob: probability that the fake blends face parts only (an eye, the nose, the
            mouth: ``engine.synthesis.parts``) instead of the whole face, as a hand-made
            photo composite does.
        decoder_prob: probability that the pair is made from a face with a decoded twin
            (``RealFaces.decoded``): a self-blend whose source is that twin, as an autoencoder
            face swap pastes a decoder-drawn face (``engine.synthesis.sbi.self_blend``).
    """

    p_bi: float = 0.0
    capture_prob: float = 0.0
    xray_target: str = "mask"
    video_share: float = 0.0
    retouch_prob: float = 0.0
    part_prob: float = 0.0
    decoder_prob: float = 0.0

    def __post_init__(self) -> None:
        for name in ("p_bi", "capture_prob", "video_share", "retouch_prob", "part_prob",
                     "decoder_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1]; got {getattr(self, name)}")
        if self.xray_target not in ("mask", "boundary"):
            raise ValueError(f"xray_target must be 'mask' or 'boundary'; got {self.xray_target!r}")


def synthesize_pair(
    faces: RealFaces, idx: int, rng: np.random.Generator, *, p_bi: float, postaug: bool,
    capture_prob: float = 0.0, xray_target: str = "mask", retouch_prob: float = 0.0,
    part_prob: float = 0.0,
    decoder_prob: float = 0.0,
) -> tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]:
    """``(real_rgb_u8, fake_rgb_u8, fake_xray_64)`` for face ``idx``.

    With ``decoder_prob`` the pair may instead be made from a face with a decoded twin, drawn
    among those (a self-blend of the twin into the face, never retouched or donor-blended).
    Order: (with ``retouch_prob``) a retouch of the real face, the blend (of face parts only
    with ``part_prob``), then (with
    ``capture_prob``) the capture chain, then (``postaug``) SBI's
    post-augmentation, both drawn once for the pair (see :class:`PairRecipe`).

    Raises:
        SynthesisInputError: the face cannot be blended (e.g. degenerate landmarks).
        ValueError: ``decoder_prob`` > 0 and ``faces`` has no decoded twins.
    """
    decoded = None
    # NOTE: no draw at all without decoded sources, so earlier configs replay their exact pairs.
    if decoder_prob > 0.0 and rng.random() < decoder_prob:
        if not faces.decoded:
            raise ValueError("decoder_prob > 0 needs faces with decoded twins "
                             "(engine.training.decoded_faces)")
        keys = faces.decoded_indices
        idx = keys[int(rng.integers(len(keys)))]
        decoded = faces.decoded[idx]
    crop = np.asarray(faces.crops[idx])
    lm = faces.landmarks[idx]
    # NOTE: no draw at all without retouching, so earlier configs replay their exact pairs.
    if decoded is None and retouch_prob > 0.0 and rng.random() < retouch_prob:
        crop = retouch_face(crop, lm, rng)
    # NOTE: likewise no draw without part blends.
    parts = part_prob > 0.0 and rng.random() < part_prob
    if decoded is not None:
        fake = self_blend(crop, lm, rng, params=sample_part_sbi_params(rng) if parts else None,
                          decoded_u8=np.asarray(decoded))
    elif p_bi > 0.0 and rng.random() < p_bi:
        same_group = np.flatnonzero(faces.groups == faces.groups[idx])
        donor = nearest_donor(lm, faces.landmarks, rng, exclude=same_group.tolist())
        fake = blend_with_donor(crop, lm, np.asarray(faces.crops[donor]),
                                faces.landmarks[donor], rng,
                                params=sample_part_bi_params(rng) if parts else None)
    else:
        fake = self_blend(crop, lm, rng, params=sample_part_sbi_params(rng) if parts else None)
    real = fake.target_rgb_u8
    # NOTE: no draw at all without the chain, so earlier configs replay their exact pairs.
    if capture_prob > 0.0 and rng.random() < capture_prob:
        real, fake = capture_pair(real, fake, rng, faces.valid(idx))
    if postaug:
        real, fake = pair_postaug(real, fake, rng)
    target = fake.xray_f32
    if xray_target == "boundary":
        peak = float(fake.mask_f32.max())
        target = xray_from_mask(fake.mask_f32 / peak) if peak > 0 else target
    xray = cv2.resize(target, (XRAY_SIZE, XRAY_SIZE), interpolation=cv2.INTER_AREA)
    return real, fake.image_rgb_u8, np.clip(xray, 0.0, 1.0).astype(np.float32)


class PairSampler:
    """Draws batches of real/fake pairs, epoch by epoch over a shuffled order.

    Args:
        faces: the training faces.
        cfg: the detector config (its preprocessing is applied).
        rng: every random draw (order, synthesis, augmentation).
        p_bi: probability of a donor blend instead of a self-blend.
        recipe: the rest of how pairs are made (default: SBI's post-augmentation only, every
            face equally often); its ``p_bi`` is replaced by ``p_bi``.
    """

    def __init__(
        self, faces: RealFaces, cfg: DetectorCfg, rng: np.random.Generator, *, p_bi: float,
        recipe: PairRecipe | None = None,
    ) -> None:
        self.faces = faces
        self.cfg = cfg
        self.rng = rng
        self.recipe = dataclasses.replace(recipe or PairRecipe(), p_bi=p_bi)
        self.p_bi = p_bi
        self.epoch = 0
        self._weights = draw_weights(faces.groups, self.recipe.video_share)
        self._order = self._new_order()
        self._pos = 0
        self.skipped = 0

    def _new_order(self) -> npt.NDArray[Any]:
        if self._weights is None:
            return self.rng.permutation(len(self.faces))
        # NOTE: an "epoch" stays len(faces) draws, now with replacement at the weights.
        return self.rng.choice(len(self.faces), size=len(self.faces), p=self._weights)

    def _next_index(self) -> int:
        if self._pos >= len(self._order):
            self.epoch += 1
            self._order = self._new_order()
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
                real, fake, xray = synthesize_pair(
                    self.faces, idx, self.rng, p_bi=self.p_bi, postaug=True,
                    capture_prob=self.recipe.capture_prob, xray_target=self.recipe.xray_target,
                    retouch_prob=self.recipe.retouch_prob, part_prob=self.recipe.part_prob,
                    decoder_prob=self.recipe.decoder_prob)
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


def draw_weights(groups: npt.NDArray[Any], video_share: float) -> npt.NDArray[Any] | None:
    """Per-face draw probabilities giving clip frames (groups ``videos_real:...``) the share
    ``video_share`` of the draws, or ``None`` for every face alike (``video_share`` 0).

    Raises:
        ValueError: a share is asked for but there are no clip frames, or only clip frames.
    """
    if video_share <= 0.0:
        return None
    is_video = np.char.startswith(np.asarray(groups).astype(str), "videos_real:")
    n_video = int(is_video.sum())
    if n_video == 0 or n_video == len(is_video):
        raise ValueError(f"video_share {video_share} needs both clip frames and stills; got "
                         f"{n_video} clip frames of {len(is_video)} faces")
    weights = np.where(is_video, video_share / n_video,
                       (1.0 - video_share) / (len(is_video) - n_video))
    return weights / weights.sum()


@dataclass(frozen=True, eq=False)
class ValSet:
    """A fixed validation set: uint8 policy crops, labels (0 real, 1 fake) and, per crop, the
    group (``source:identity``) of the real face it is or was made from."""

    crops: npt.NDArray[Any]
    labels: npt.NDArray[Any]
    groups: npt.NDArray[Any]


def make_val_set(faces: RealFaces, *, p_bi: float, seed: int,
                 capture_prob: float = 0.0) -> ValSet:
    """Every face, untouched, and one deterministic fake of it (no post-augmentation).

    With ``capture_prob`` > 0 that share of the pairs then goes through one draw of the
    capture chain each (its own seeded stream, so the blends are those of the clean set): a
    validation set that looks like casework, for a calibration that holds there.
    """
    rng = np.random.default_rng(seed)
    capture_rng = np.random.default_rng([seed, 1])
    reals: list[npt.NDArray[Any]] = []
    fakes: list[npt.NDArray[Any]] = []
    kept: list[int] = []
    for idx in range(len(faces)):
        try:
            _, fake, _ = synthesize_pair(faces, idx, rng, p_bi=p_bi, postaug=False)
        except SynthesisInputError as exc:
            logger.warning("validation face %d skipped: %s", idx, exc)
            continue
        real = np.asarray(faces.crops[idx])
        if capture_prob > 0.0 and capture_rng.random() < capture_prob:
            params = sample_capture_params(capture_rng)
            real, fake = (apply_capture(img, params, faces.valid(idx)) for img in (real, fake))
        reals.append(real)
        fakes.append(fake)
        kept.append(idx)
    labels = np.repeat(np.array([0, 1], dtype=np.int64), len(reals))
    groups = np.asarray(faces.groups)[kept]
    return ValSet(np.stack(reals + fakes), labels, np.concatenate([groups, groups]))
