"""Training configuration of the video (MRL) and GAN-image detectors, read from TOML.

These two do not train on (real face, synthetic twin) stills like SBI / Face X-ray / MAT
(``engine.training.config``): MRL trains on clip pairs, the GAN detector on generated
portraits against unrelated real faces. Unknown keys are an error, as there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from engine.training.config_io import config_from_dict, config_to_dict, load_toml_config

__all__ = ["METHODS", "VideoGanConfig", "load_video_gan_config"]

METHODS = ("mrl", "gan")


@dataclass(frozen=True)
class VideoGanConfig:
    """How the MRL or GAN detector is trained.

    Attributes:
        detector: registry name of the detector.
        method: ``"mrl"`` (CE + diversity + consistency on clip pairs) or ``"gan"`` (BCE on
            generated vs real crops with blur/JPEG augmentation).
        seed: seed of every random draw.
        steps: optimiser steps (the cosine schedule spans them).
        batch: per step, real clips (each brings its fake) or real crops (plus as many fakes).
        lr: peak Adam learning rate after ``warmup_steps``, then cosine to 1%.
        warmup_steps: linear warm-up steps.
        weight_decay: Adam weight decay.
        freeze_stages: encoder stem + this many stride groups stay frozen.
        threads: torch intra-op threads.
        max_train_s: training stops early after this much training time (the card says so).
        log_every_steps: the loss is logged this often.
        checkpoint_every_s: a resumable checkpoint is written at least this often.
        still_sources: MRL: still faces for pseudo-clips and donors.
        max_stills: MRL: cap on still faces per split (0 = all).
        p_pseudo: MRL: share of pseudo-clips among training pairs.
        strides: MRL: frame strides of training video clips.
        mode_probs: MRL: probabilities of the fake modes drift / jump / donor, and optionally
            decoded (every frame drawn by a decoder on its own; needs ``clip_bank``).
        clip_bank: MRL: the folder of the decoded pairs (``engine.training.decoded_clips``),
            relative to the run folder's parent.
        od_weight: MRL: weight of the orthogonal diversity loss.
        tc_weight: MRL: weight of the temporal consistency loss.
        val_pseudo: MRL: pseudo-clip pairs of held-out stills in the validation set.
        real_sources: GAN: cache sources of real faces.
        fake_sources: GAN: cache sources of generated faces.
        max_per_source: GAN: cap on faces per source and split (0 = all).
        crop_px: GAN: random training crop side.
        p_blur: GAN: blur probability (sigma ~ U[0, 3]).
        p_jpeg: GAN: JPEG probability (quality ~ U{30..100}).
        p_oval: GAN: background-removal probability.
        p_resample: GAN: down-and-up resampling probability.
        val_per_class: GAN: held-out faces per class in each validation view.
    """

    detector: str
    method: Literal["mrl", "gan"]
    seed: int = 0
    steps: int = 200
    batch: int = 8
    lr: float = 3e-4
    warmup_steps: int = 10
    weight_decay: float = 1e-6
    freeze_stages: int = 2
    threads: int = 1
    max_train_s: float = 1200.0
    log_every_steps: int = 5
    checkpoint_every_s: float = 120.0
    still_sources: tuple[str, ...] = ("utkface", "celeba")
    max_stills: int = 0
    p_pseudo: float = 0.5
    strides: tuple[int, ...] = (1, 2, 3, 4)
    mode_probs: tuple[float, ...] = (0.35, 0.35, 0.3)
    clip_bank: str = ""
    od_weight: float = 0.1
    tc_weight: float = 0.1
    val_pseudo: int = 60
    real_sources: tuple[str, ...] = ("utkface", "celeba", "videos_real")
    fake_sources: tuple[str, ...] = ("generated_photos",)
    max_per_source: int = 0
    crop_px: int = 224
    p_blur: float = 0.5
    p_jpeg: float = 0.5
    p_oval: float = 0.5
    p_resample: float = 0.25
    val_per_class: int = 150

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}; got {self.method!r}")
        for name in ("steps", "batch", "threads", "val_per_class"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        for name in ("p_pseudo", "p_blur", "p_jpeg", "p_oval", "p_resample"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1]")
        if (len(self.mode_probs) not in (3, 4) or min(self.mode_probs) < 0.0
                or abs(sum(self.mode_probs) - 1.0) > 1e-6):
            raise ValueError("mode_probs must be three or four probabilities (drift, jump, donor"
                             "[, decoded]) summing to 1")
        if self.decoded_share > 0.0 and not self.clip_bank:
            raise ValueError("decoded pairs (mode_probs[3] > 0) need clip_bank "
                             "(engine.training.decoded_clips)")
        if self.crop_px % 32:
            raise ValueError("crop_px must be a multiple of 32 (EfficientNet-Lite padding)")

    @property
    def decoded_share(self) -> float:
        """MRL: the share of decoder-drawn pairs (the optional fourth of ``mode_probs``)."""
        return self.mode_probs[3] if len(self.mode_probs) == 4 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for checkpoints and model cards)."""
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VideoGanConfig:
        """Build from a dict; unknown keys raise ``ValueError`` naming them."""
        return config_from_dict(cls, data)


def load_video_gan_config(path: Path) -> VideoGanConfig:
    """Read a TOML config of the MRL or GAN detector.

    Raises:
        ValueError: unknown keys or invalid values (the message names them and the file).
    """
    return load_toml_config(VideoGanConfig, path)
