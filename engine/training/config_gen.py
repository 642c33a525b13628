"""Configurations of the generated-image detector's three jobs, read from TOML.

1. ``TraceAeConfig``: train one generator-shaped autoencoder (``engine.training.trace_ae_train``).
2. ``GenPackConfig``: make the offline pairs of real pictures and their reconstructions
   (``engine.training.gen_pack``).
3. ``GenTrainConfig``: train the detector on those pairs (``engine.training.gen_loop``).

As everywhere in ``engine.training``: unknown keys are an error, every field has a meaning.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from engine.training.config_io import config_from_dict, config_to_dict, load_toml_config

__all__ = [
    "GenPackConfig",
    "GenTrainConfig",
    "TraceAeConfig",
    "config_from_dict",
    "config_to_dict",
    "load_toml_config",
]

@dataclass(frozen=True)
class TraceAeConfig:
    """One autoencoder of ``engine.synthesis.trace_ae``, trained on real picture crops.

    Attributes:
        name: the autoencoder's name (the generator name in the pairs, e.g. ``ae_tconv``).
        upsampler: ``tconv``, ``nearest``, ``bilinear`` or ``pixelshuffle``.
        width: channels at full resolution.
        n_blocks: residual blocks at the bottleneck.
        seed: seed of the init and of every draw.
        steps: optimiser steps at most.
        batch: crops per step.
        crop_px: side of the training crops.
        lr: Adam learning rate (cosine to 1%).
        adv_weight: weight of the PatchGAN (LSGAN) loss against L1 (0: L1 only).
        adv_start: fraction of the steps after which the adversarial loss is on.
        threads: torch intra-op threads.
        max_train_s: training stops after this much training time.
        log_every_steps: the loss is logged this often.
        checkpoint_every_s: a resumable checkpoint is written at least this often.
        pool_utkface: UTKFace training files held in memory to draw crops from.
        pool_celeba: CelebA training files held in memory.
        frames_per_video: evenly spaced frames of each training video in the pool.
        device: ``cpu`` (the card records the hardware).
    """

    name: str
    upsampler: str
    width: int = 16
    n_blocks: int = 3
    seed: int = 0
    steps: int = 600
    batch: int = 8
    crop_px: int = 96
    lr: float = 2e-3
    adv_weight: float = 0.05
    adv_start: float = 0.5
    threads: int = 1
    max_train_s: float = 900.0
    log_every_steps: int = 10
    checkpoint_every_s: float = 120.0
    pool_utkface: int = 1200
    pool_celeba: int = 800
    frames_per_video: int = 40
    device: str = "cpu"

    def __post_init__(self) -> None:
        from engine.synthesis.trace_ae import UPSAMPLERS

        if self.upsampler not in UPSAMPLERS:
            raise ValueError(f"upsampler must be one of {UPSAMPLERS}; got {self.upsampler!r}")
        if self.crop_px % 4:
            raise ValueError("crop_px must be a multiple of 4 (two stride-2 stages)")
        _positive(self, "steps", "batch", "threads", "width")


@dataclass(frozen=True)
class GenPackConfig:
    """How the offline pairs (real picture, its reconstruction) are made.

    Attributes:
        seed: seed of every draw (which pictures, where, resampling, which generator).
        generators: generator names: ``taef2`` and autoencoder names of ``ae_dir``.
        ae_dir: folder holding ``<name>/<name>.pt`` of each trained autoencoder, relative to
            the pack's parent folder (where the runs live).
        taef2_dir: folder of the TAEF2 weights, relative to the data root's parent
            (``../shared/models/taef2`` next to ``../shared/data``).
        split: ``train`` or ``val`` pictures (``engine.training.gen_sources``).
        n_utkface: UTKFace files used (seeded subset; 0 = all).
        n_celeba: CelebA files used.
        frames_per_video: evenly spaced frames of each video of the split.
        crops_per_frame: pairs cut from each video frame (at random places).
        pair_px: side of each stored pair.
        context_px: extra picture around the pair given to the generator (its border effects
            stay outside the stored pair).
        p_resample: probability that the picture is first resampled (both pair members: a
            resampled real is a real).
        min_scale: smallest resampling scale.
        max_scale: largest resampling scale.
        threads: torch intra-op threads.
    """

    seed: int = 0
    generators: tuple[str, ...] = ("ae_tconv", "ae_nearest", "ae_bilinear", "ae_pixelshuffle",
                                   "taef2")
    ae_dir: str = "trace_ae"
    taef2_dir: str = "models/taef2"
    split: str = "train"
    n_utkface: int = 4000
    n_celeba: int = 2500
    frames_per_video: int = 60
    crops_per_frame: int = 3
    pair_px: int = 128
    context_px: int = 16
    p_resample: float = 0.5
    min_scale: float = 0.5
    max_scale: float = 2.0
    threads: int = 1

    def __post_init__(self) -> None:
        if self.split not in ("train", "val"):
            raise ValueError("split must be 'train' or 'val'")
        if not 0.0 < self.min_scale <= 1.0 <= self.max_scale:
            raise ValueError("need 0 < min_scale <= 1 <= max_scale")
        if self.context_px % 8 or self.pair_px % 8:
            raise ValueError("pair_px and context_px must be multiples of 8 (TAEF2's grid)")
        _positive(self, "pair_px", "threads")


@dataclass(frozen=True)
class GenTrainConfig:
    """How the generated-image detector is trained on the pairs.

    Attributes:
        detector: registry name.
        method: ``"gen"`` (``python -m engine.training`` dispatches on it).
        seed: seed of the init and of every draw.
        steps: optimiser steps at most.
        batch_pairs: pairs per step (each brings a real and a fake: batch = 2x).
        crop_px: side of the random training crop cut from each pair (the same place in both).
        lr: peak Adam learning rate (warm-up, then cosine to 1%).
        warmup_steps: linear warm-up steps.
        weight_decay: Adam weight decay.
        threads: torch intra-op threads.
        max_train_s: training stops after this much training time.
        log_every_steps: the loss is logged this often.
        val_every_steps: validation AUC on the validation pack is logged this often.
        checkpoint_every_s: a resumable checkpoint is written at least this often.
        train_pack: the training pairs (``gen_pack`` output), relative to the run's parent.
        val_pack: the validation pairs, likewise.
        p_jpeg: probability of a JPEG round trip (both members alike), quality U{jpeg_min..100}.
        jpeg_min: lowest JPEG quality.
        p_h264: probability of a one-frame H.264 round trip (both members alike, after any
            JPEG), CRF U{h264_crf_min..h264_crf_max}, 4:2:0, a random x264 preset
            (``engine.synthesis.codec``): what a picture goes through inside a video.
        h264_crf_min: lowest CRF (best quality) drawn.
        h264_crf_max: highest CRF drawn.
        p_blur: probability of a Gaussian blur with sigma U[0, ``blur_max``].
        blur_max: largest blur sigma.
        p_resize: probability of a resampling of the pair by U[``resize_min``, ``resize_max``]
            with a random interpolation (after generation: a resized fake is still a fake).
        resize_min: smallest scale.
        resize_max: largest scale.
        p_noise: probability of Gaussian noise with sigma U[0, ``noise_max``] grey levels.
        noise_max: largest noise sigma.
        p_palette: probability of a 256-colour palette quantisation (GIF frames).
        p_colour: probability of a brightness / contrast / saturation change.
        generator_weights: relative sampling weight of a generator's pairs (default 1), e.g.
            ``{taef2 = 2.0}`` to show the hardest generator twice as often.
        soft_reals: each pair also brings a softened copy of its real (resampled down and up,
            upscaled, or blurred), labelled real (``engine.training.gen_data``); the loss
            weighs both classes equally.
        soft_fakes: with ``soft_reals``, the fake is softened too, by the same draw as its
            real's soft copy, and comes fourth labelled fake: softness then says nothing about
            the class (docs/MODELS_GEN.md, run 10).
        generators: train, validate and calibrate on these generators' pairs only (of both
            packs); empty: every generator. ``gen_probe_effl0`` takes TAEF2's alone
            (docs/MODELS_GEN.md, "The linear probe").
        tile_policy: how the released detector covers a picture, the fields of
            ``engine.runtime.tiles.TilePolicy`` (written into the card; calibration and the
            threshold are measured with it); empty: ``TilePolicy()``'s defaults (128 px tiles,
            top-25% pooling: ``gen_nprnet``).
        pretrained_backbone: start the encoder from its ImageNet weights (the linear probe on
            frozen features); ``False``: the registry's random init (``gen_nprnet``).
        device: ``cpu`` (the card records the hardware).
    """

    detector: str
    method: str = "gen"
    seed: int = 0
    steps: int = 3000
    batch_pairs: int = 16
    crop_px: int = 96
    lr: float = 1e-3
    warmup_steps: int = 50
    weight_decay: float = 1e-5
    threads: int = 1
    max_train_s: float = 3300.0
    log_every_steps: int = 10
    val_every_steps: int = 250
    checkpoint_every_s: float = 120.0
    train_pack: str = "gen_pack_train"
    val_pack: str = "gen_pack_val"
    p_jpeg: float = 0.6
    jpeg_min: int = 60
    p_h264: float = 0.0
    h264_crf_min: int = 18
    h264_crf_max: int = 32
    p_blur: float = 0.1
    blur_max: float = 1.0
    p_resize: float = 0.3
    resize_min: float = 0.5
    resize_max: float = 1.5
    p_noise: float = 0.1
    noise_max: float = 2.0
    p_palette: float = 0.05
    p_colour: float = 0.3
    generator_weights: dict[str, float] = dataclasses.field(default_factory=dict)
    soft_reals: bool = False
    soft_fakes: bool = False
    generators: tuple[str, ...] = ()
    tile_policy: dict[str, Any] = dataclasses.field(default_factory=dict)
    pretrained_backbone: bool = False
    device: str = "cpu"

    def __post_init__(self) -> None:
        if any(not w > 0 for w in self.generator_weights.values()):
            raise ValueError("generator_weights must be positive")
        if self.method != "gen":
            raise ValueError(f"method must be 'gen'; got {self.method!r}")
        for name in ("p_jpeg", "p_h264", "p_blur", "p_resize", "p_noise", "p_palette",
                     "p_colour"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1]")
        if self.soft_fakes and not self.soft_reals:
            raise ValueError("soft_fakes needs soft_reals (the soft fake shares its real's draw)")
        if not 1 <= self.jpeg_min <= 100:
            raise ValueError("jpeg_min must lie in [1, 100]")
        if not 0 <= self.h264_crf_min <= self.h264_crf_max <= 51:
            raise ValueError("need 0 <= h264_crf_min <= h264_crf_max <= 51")
        if self.crop_px % 16:
            raise ValueError("crop_px must be a multiple of 16 (four stride-2 stages)")
        _positive(self, "steps", "batch_pairs", "threads", "val_every_steps")
        from engine.runtime.tiles import TilePolicy

        try:
            TilePolicy(**self.tile_policy)
        except TypeError as exc:
            raise ValueError(f"tile_policy: {exc}") from exc


def _positive(cfg: Any, *names: str) -> None:
    for name in names:
        if getattr(cfg, name) < 1:
            raise ValueError(f"{name} must be >= 1")
