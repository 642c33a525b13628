"""Video detector data: T-frame clips of one real face and their synthetic fake twins.

Real clips come from two places (docs/MODELS_VIDEO_GAN.md says why):

- tracked faces of the real videos in the face cache (``FaceCache.clips``): T consecutive
  cached frames, or every 2nd/3rd/4th one (``strides``), because the application analyses
  sampled frames whose spacing depends on the video length; a track is cut into runs wherever
  a face was missed;
- pseudo-clips of still faces (UTKFace, CelebA): one crop repeated T times under a small random
  walk of shift / scale / rotation (the jitter of a tracked crop in a nearly still video). The
  few real videos show about twenty people; the stills add thousands of identities, ages and
  skin tones. They carry no motion, but neither does their fake twin, so motion cannot become a
  cue.

Every real clip brings its fake twin, synthesised from the same frames
(``engine.synthesis.temporal``): a self-blend whose parameters drift (``"drift"``) or jump
(``"jump"``) over time, a donor face blended into every frame (``"donor"``), or, with a bank of
TAEF2 reconstructions (``engine.training.decoded_clips``), every frame drawn by a decoder on its
own (``"decoded"``: the shimmer of a frame-by-frame generator). In the first three, outside the
face a fake frame equals its real frame. The pair then gets ONE shared draw of flip, brightness /
contrast and JPEG quality, so the two clips differ only by the manipulation. Frames go through
:func:`engine.runtime.cfg.preprocess`, the function inference uses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from engine.errors import SynthesisInputError
from engine.runtime.cfg import DetectorCfg, preprocess
from engine.synthesis import nearest_donor, temporal_donor_blend, temporal_self_blend
from engine.synthesis.color import brightness_contrast, jpeg_roundtrip
from engine.training.datasets import RealFaces

if TYPE_CHECKING:
    from engine.training.decoded_clips import DecodedClips

__all__ = [
    "FAKE_MODES",
    "SYNTH_MODES",
    "ClipBatch",
    "ClipSampler",
    "ClipSpec",
    "VideoTracks",
    "clip_pair",
    "jitter_walk",
    "pseudo_clip",
    "tracks_from_cache",
    "val_clip_specs",
    "warp_crop",
]

logger = logging.getLogger(__name__)

SYNTH_MODES = ("drift", "jump", "donor")  # made from the frames alone, no bank needed
FAKE_MODES = (*SYNTH_MODES, "decoded")
_MAX_SKIPS = 50


@dataclass(frozen=True, eq=False)
class VideoTracks:
    """Runs of consecutive cached frames of tracked real faces.

    Attributes:
        crops: indexable (K, S, S, 3) uint8 crops (lazily read).
        landmarks: (K, 478, 2) float32 landmarks in crop pixels.
        runs: frame-ordered local indices, one array per run without a missed frame.
        groups: the video of each run.
    """

    crops: Any
    landmarks: np.ndarray
    runs: tuple[np.ndarray, ...]
    groups: tuple[str, ...]


class _LazyCrops:
    def __init__(self, cache: Any, indices: np.ndarray) -> None:
        self._cache = cache
        self._indices = indices

    def __len__(self) -> int:
        return len(self._indices)

    def __getitem__(self, i: int) -> np.ndarray:
        return np.asarray(self._cache.crop(int(self._indices[i])))


def tracks_from_cache(
    root: Path, *, split: str, min_len: int, source: str = "videos_real"
) -> VideoTracks:
    """Runs of at least ``min_len`` frames of one split's face tracks.

    A run ends where the gap to the next cached frame of the track exceeds the cache's
    ``video_step`` (a frame where the face was missed).

    Raises:
        ValueError: no run is long enough.
    """
    from engine.data.cache import FaceCache

    cache = FaceCache(root)
    config = cache.info.get("config", {})
    step = int(config.get("video_step", 1)) if isinstance(config, dict) else 1
    indices: list[int] = []
    runs: list[np.ndarray] = []
    groups: list[str] = []
    for clip_id, members in cache.clips(split=split, source=source, min_len=min_len).items():
        frames = np.array([cache.rows[int(i)].frame_idx for i in members])
        cuts = np.flatnonzero(np.diff(frames) > step) + 1
        for run in np.split(members, cuts):
            if len(run) >= min_len:
                runs.append(np.arange(len(indices), len(indices) + len(run)))
                indices.extend(int(i) for i in run)
                groups.append(clip_id.split("/")[0])
    if not runs:
        raise ValueError(f"no {source} track of {min_len}+ frames in split {split!r} of {root}")
    idx = np.array(indices, dtype=np.int64)
    return VideoTracks(_LazyCrops(cache, idx), cache.landmarks_batch(idx), tuple(runs),
                       tuple(groups))


def jitter_walk(
    side: int, clip_len: int, rng: np.random.Generator,
    *, shift_px: float = 0.6, scale_step: float = 0.003, angle_deg: float = 0.25,
) -> list[np.ndarray]:
    """``clip_len`` 2x3 similarity transforms of a ``side`` px crop: a small random walk.

    Each frame moves from the previous one by N(0, ``shift_px``) pixels, a scale step of
    N(0, ``scale_step``) and a rotation of N(0, ``angle_deg``) degrees about the crop centre;
    the first transform is the identity.
    """
    centre = (side - 1) / 2.0
    steps = rng.normal(0.0, 1.0, size=(clip_len, 4)) * [shift_px, shift_px, scale_step,
                                                         angle_deg]
    steps[0] = 0.0
    out = []
    for dx, dy, ds, da in np.cumsum(steps, axis=0):
        m = cv2.getRotationMatrix2D((centre, centre), float(da), float(1.0 + ds))
        m[:, 2] += (dx, dy)
        out.append(m)
    return out


def warp_crop(crop_rgb_u8: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``crop_rgb_u8`` moved by the 2x3 transform ``m`` (bilinear, edges replicated)."""
    side = crop_rgb_u8.shape[0]
    return cv2.warpAffine(crop_rgb_u8, m, (side, side), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def pseudo_clip(
    crop_rgb_u8: np.ndarray, landmarks_xy: np.ndarray, clip_len: int, rng: np.random.Generator,
    *, shift_px: float = 0.6, scale_step: float = 0.003, angle_deg: float = 0.25,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``clip_len`` copies of one crop under a random walk of small similarity transforms
    (:func:`jitter_walk`); landmarks move with the pixels. Returns (frames, landmarks)."""
    walk = jitter_walk(crop_rgb_u8.shape[0], clip_len, rng, shift_px=shift_px,
                       scale_step=scale_step, angle_deg=angle_deg)
    lm = np.asarray(landmarks_xy, dtype=np.float64)
    frames = [warp_crop(crop_rgb_u8, m) for m in walk]
    lms = [(lm @ m[:, :2].T + m[:, 2]).astype(np.float32) for m in walk]
    return frames, lms


def _shared_postaug(
    real: list[np.ndarray], fake: list[np.ndarray], rng: np.random.Generator
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """One draw of flip (p=0.5), brightness/contrast +-0.2 (p=0.3), JPEG 40-100 (p=0.5)."""
    flip = rng.random() < 0.5
    bc = rng.uniform(-0.2, 0.2, size=2) if rng.random() < 0.3 else None
    quality = int(rng.integers(40, 101)) if rng.random() < 0.5 else None

    def apply(frame: np.ndarray) -> np.ndarray:
        out = frame[:, ::-1] if flip else frame
        if bc is not None:
            out = brightness_contrast(np.ascontiguousarray(out), float(bc[0]), float(bc[1]))
        if quality is not None:
            out = jpeg_roundtrip(np.ascontiguousarray(out), quality)
        return np.ascontiguousarray(out)

    return [apply(f) for f in real], [apply(f) for f in fake]


@dataclass(frozen=True)
class ClipSpec:
    """A reproducible clip pair: where the real clip comes from and how its fake is made.

    Attributes:
        kind: ``"video"`` (frames of a run) or ``"pseudo"`` (a jittered still).
        items: local frame indices (video) or the one still index (pseudo).
        mode: fake mode, one of ``FAKE_MODES``.
        seed: seed of every random draw of this pair.
    """

    kind: str
    items: tuple[int, ...]
    mode: str
    seed: int


def clip_pair(
    spec: ClipSpec, tracks: VideoTracks | None, stills: RealFaces, clip_len: int,
    *, postaug: bool, decoded: DecodedClips | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(real clip, fake clip), each (T, S, S, 3) uint8, as ``spec`` describes.

    Raises:
        SynthesisInputError: the frames cannot be blended (e.g. degenerate landmarks).
        ValueError: a ``"decoded"`` spec without the bank that holds its frames.
    """
    rng = np.random.default_rng(spec.seed)
    if spec.mode == "decoded":
        frames, fake_frames = _decoded_pair(spec, tracks, stills, clip_len, decoded)
    else:
        frames, fake_frames = _synth_pair(spec, tracks, stills, clip_len, rng)
    if postaug:
        frames, fake_frames = _shared_postaug(frames, fake_frames, rng)
    return np.stack(frames), np.stack(fake_frames)


def _decoded_pair(
    spec: ClipSpec, tracks: VideoTracks | None, stills: RealFaces, clip_len: int,
    decoded: DecodedClips | None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A ``"decoded"`` pair (``engine.training.decoded_clips`` says why it is made so)."""
    if decoded is None:
        raise ValueError("a decoded clip spec needs a decoded-clip bank")
    if spec.kind == "video":
        if tracks is None:
            raise ValueError("a video clip spec needs tracks")
        missing = [i for i in spec.items if i not in decoded.video]
        if missing:
            raise ValueError(f"the decoded-clip bank has no reconstruction of frames {missing}")
        return ([np.asarray(tracks.crops[i]) for i in spec.items],
                [decoded.video[i] for i in spec.items])
    from engine.training.decoded_clips import walk_seed

    still = spec.items[0]
    if still not in decoded.pseudo_frames:
        raise ValueError(f"the decoded-clip bank has no pseudo pair of still {still}")
    redrawn = decoded.pseudo_frames[still]
    walk = jitter_walk(redrawn.shape[1], clip_len,
                       np.random.default_rng(walk_seed(decoded.seed, still)))
    # One reconstruction moved by the walk, against a fresh one per frame moved the same way.
    return ([warp_crop(redrawn[0], m) for m in walk],
            [warp_crop(frame, m) for frame, m in zip(redrawn, walk, strict=True)])


def _synth_pair(
    spec: ClipSpec, tracks: VideoTracks | None, stills: RealFaces, clip_len: int,
    rng: np.random.Generator,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A self-blend (drift / jump) or donor pair made from the frames."""
    if spec.kind == "video":
        if tracks is None:
            raise ValueError("a video clip spec needs tracks")
        frames = [np.asarray(tracks.crops[i]) for i in spec.items]
        lms = [tracks.landmarks[i] for i in spec.items]
        exclude: np.ndarray = np.zeros(0, dtype=np.int64)
    else:
        still = spec.items[0]
        frames, lms = pseudo_clip(np.asarray(stills.crops[still]), stills.landmarks[still],
                                  clip_len, rng)
        exclude = np.flatnonzero(stills.groups == stills.groups[still])
    if spec.mode == "donor":
        donor = nearest_donor(lms[0], stills.landmarks, rng, exclude=exclude)
        fakes = temporal_donor_blend(frames, lms, np.asarray(stills.crops[donor]),
                                     stills.landmarks[donor], rng)
    else:
        fakes = temporal_self_blend(frames, lms, rng, mode=spec.mode)
    return frames, [r.image_rgb_u8 for r in fakes]


@dataclass(frozen=True, eq=False)
class ClipBatch:
    """Normalised clips (2n, T, 3, s, s) float32, n reals then their n fakes; labels (2n,)."""

    images: np.ndarray
    labels: np.ndarray


@dataclass
class ClipSampler:
    """Draws random clip-pair specs and materialises them into training batches.

    Args:
        tracks: real video runs (``None``: pseudo-clips only).
        stills: still faces for pseudo-clips and donors.
        cfg: the detector config (clip length, preprocessing).
        rng: every random draw.
        p_pseudo: probability that a pair is a pseudo-clip.
        strides: frame strides a video clip may use (drawn uniformly among those that fit).
        mode_probs: probabilities of the first ``len(mode_probs)`` of ``FAKE_MODES`` (three:
            no decoded pairs, drawn exactly as before the fourth mode existed).
        decoded: the bank of ``"decoded"`` pairs (needed when that mode's probability is > 0).
    """

    tracks: VideoTracks | None
    stills: RealFaces
    cfg: DetectorCfg
    rng: np.random.Generator
    p_pseudo: float = 0.5
    strides: tuple[int, ...] = (1, 2, 3, 4)
    mode_probs: tuple[float, ...] = (0.35, 0.35, 0.3)
    decoded: DecodedClips | None = None
    epoch: int = 0
    skipped: int = field(default=0)

    def next_spec(self) -> ClipSpec:
        """A random pair spec (its own seed comes from this sampler's generator)."""
        probs = np.asarray(self.mode_probs)
        mode = FAKE_MODES[int(self.rng.choice(len(probs), p=probs))]
        seed = int(self.rng.integers(2**62))
        t = self.cfg.clip_len
        if self.tracks is None or self.rng.random() < self.p_pseudo:
            if mode == "decoded":
                banked = self._bank().stills()
                return ClipSpec("pseudo", (banked[int(self.rng.integers(len(banked)))],), mode,
                                seed)
            return ClipSpec("pseudo", (int(self.rng.integers(len(self.stills))),), mode, seed)
        stride = int(self.rng.choice(self.strides))
        spans = np.array([len(r) - (t - 1) * stride for r in self.tracks.runs])
        while not (spans > 0).any():  # no run long enough for this stride
            stride -= 1
            spans = np.array([len(r) - (t - 1) * stride for r in self.tracks.runs])
        weights = np.clip(spans, 0, None).astype(np.float64)
        run = self.tracks.runs[int(self.rng.choice(len(weights), p=weights / weights.sum()))]
        start = int(self.rng.integers(len(run) - (t - 1) * stride))
        return ClipSpec("video", tuple(int(i) for i in run[start::stride][:t]), mode, seed)

    def sample(self, n_pairs: int) -> ClipBatch:
        """``n_pairs`` real clips and their fakes, preprocessed."""
        reals, fakes = [], []
        while len(reals) < n_pairs:
            spec = self.next_spec()
            try:
                real, fake = clip_pair(spec, self.tracks, self.stills, self.cfg.clip_len,
                                       postaug=True, decoded=self.decoded)
            except SynthesisInputError as exc:
                self.skipped += 1
                logger.warning("clip %s skipped (%s); %d skipped so far", spec, exc, self.skipped)
                if self.skipped > _MAX_SKIPS:
                    raise
                continue
            reals.append(real)
            fakes.append(fake)
        clips = np.stack(reals + fakes)
        return ClipBatch(preprocess(clips, self.cfg),
                         np.repeat(np.array([0, 1], dtype=np.int64), n_pairs))

    def _bank(self) -> DecodedClips:
        if self.decoded is None:
            raise ValueError("mode_probs gives decoded pairs a share but no bank was given "
                             "(clip_bank; engine.training.decoded_clips)")
        return self.decoded

    def describe(self) -> dict[str, int]:
        """Counts of the training data (for the model card)."""
        runs = self.tracks.runs if self.tracks is not None else ()
        n_frames = sum(len(r) for r in runs)
        out = {"n_items": n_frames + len(self.stills), "video_runs": len(runs),
               "video_frames": n_frames, "stills": len(self.stills)}
        if self.decoded is not None:
            out["decoded_video_frames"] = len(self.decoded.video)
            out["decoded_stills"] = len(self.decoded.pseudo_frames)
        return out

    def state(self) -> dict[str, Any]:
        """Everything needed to resume the exact sequence of batches."""
        return {"rng": self.rng.bit_generator.state, "epoch": self.epoch,
                "skipped": self.skipped}

    def restore(self, state: dict[str, Any]) -> None:
        """Inverse of :meth:`state`."""
        self.rng.bit_generator.state = state["rng"]
        self.epoch = int(state["epoch"])
        self.skipped = int(state["skipped"])


def val_clip_specs(
    tracks: VideoTracks | None, stills: RealFaces | None, clip_len: int, *, n_pseudo: int,
    seed: int, stride: int = 1,
) -> list[ClipSpec]:
    """Deterministic held-out pairs: every non-overlapping ``stride`` window of every run,
    then ``n_pseudo`` pseudo-clips of still faces; fake modes cycle through ``SYNTH_MODES``
    (the validation every run is compared on; decoded pairs are measured apart)."""
    specs: list[ClipSpec] = []
    span = (clip_len - 1) * stride + 1
    for run in tracks.runs if tracks is not None else ():
        for start in range(0, len(run) - span + 1, span):
            items = tuple(int(i) for i in run[start : start + span : stride])
            specs.append(ClipSpec("video", items, SYNTH_MODES[len(specs) % 3], seed + len(specs)))
    if stills is not None and n_pseudo > 0:
        rng = np.random.default_rng(seed)
        picks = rng.choice(len(stills), size=min(n_pseudo, len(stills)), replace=False)
        for k, still in enumerate(np.sort(picks)):
            specs.append(ClipSpec("pseudo", (int(still),), SYNTH_MODES[k % 3],
                                  seed + 100_000 + k))
    return specs
