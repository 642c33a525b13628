"""Training loop of the video (MRL) and GAN-image detectors: resumable, logged, time-boxed.

    python -m engine.training --config configs/training/gan_effl0.toml \\
        --data-root /work/cache/dataset --out /work/cache/runs/gan_effl0

(``engine.training.__main__`` hands ``method = "mrl" | "gan"`` configs to :func:`main`.) It is the
same shape as ``engine.training.loop``: an ImageNet encoder with frozen early stages, Adam with
warm-up + cosine, a checkpoint every few minutes (rerunning the command resumes), then
Platt calibration on one half of the held-out set and metrics on the other half, the state
dict, the ONNX export and the model card (``engine.training.card``). What differs is the data
(clip pairs, or generated vs real crops) and the losses. Training also stops after
``max_train_s`` seconds (a CPU budget); the card records the steps actually run.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from engine.detectors import registry
from engine.detectors.base import Detector
from engine.training.cli import command_line, log_to, parse_args
from engine.training.config_video_gan import VideoGanConfig, load_video_gan_config
from engine.training.datasets_gan import (
    GanAugment,
    GanSampler,
    LabelledSet,
    gan_faces_from_cache,
    make_gan_views,
    normalise,
)
from engine.training.datasets_video import (
    ClipSampler,
    ClipSpec,
    clip_pair,
    val_clip_specs,
)
from engine.training.decoded_clips import load_clip_bank, mrl_split_data
from engine.training.driver import apply_update, drive
from engine.training.loop import write_checkpoint
from engine.training.losses_mrl import mrl_loss

__all__ = ["VgRun", "VgValidation", "load_run", "main", "save_run", "setup", "train"]

logger = logging.getLogger(__name__)


@dataclass
class VgValidation:
    """Held-out data: GAN views (``policy``/``oval``/``margin0``) or MRL clip specs."""

    views: dict[str, LabelledSet] | None = None
    specs: list[ClipSpec] | None = None
    tracks: Any = None
    stills: Any = None


@dataclass
class VgRun:
    """The mutable state of one run (everything a checkpoint holds)."""

    detector: Detector
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    sampler: Any  # ClipSampler | GanSampler
    generator: torch.Generator
    step: int = 0
    elapsed_s: float = 0.0


def _lr_lambda(cfg: VideoGanConfig) -> Callable[[int], float]:
    """Linear warm-up to the peak, then cosine down to 1% (as ``engine.training.loop``)."""

    def factor(step: int) -> float:
        if step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
        return 0.01 + 0.99 * 0.5 * (1.0 + float(np.cos(np.pi * min(1.0, progress))))

    return factor


def _sampler(cfg: VideoGanConfig, detector: Detector, data_root: Path,
             bank_dir: Path | None) -> Any:
    rng = np.random.default_rng(cfg.seed)
    if cfg.method == "gan":
        faces = gan_faces_from_cache(data_root, split="train", real_sources=cfg.real_sources,
                                     fake_sources=cfg.fake_sources,
                                     max_per_source=cfg.max_per_source, seed=cfg.seed)
        augment = GanAugment(crop_px=cfg.crop_px, p_blur=cfg.p_blur, p_jpeg=cfg.p_jpeg,
                             p_oval=cfg.p_oval, p_resample=cfg.p_resample)
        logger.info("GAN training faces: %d real, %d generated", int((faces.labels == 0).sum()),
                    int((faces.labels == 1).sum()))
        return GanSampler(faces, detector.cfg, augment, rng)
    clip_len = detector.cfg.clip_len
    tracks, stills = mrl_split_data(cfg, data_root, "train", clip_len)
    logger.info("MRL training data: %d video runs (%d frames), %d stills", len(tracks.runs),
                len(tracks.landmarks), len(stills))
    decoded = None
    if cfg.decoded_share > 0.0:
        if bank_dir is None:
            raise ValueError("decoded pairs need the run folder to find clip_bank")
        decoded = load_clip_bank(bank_dir, tracks, stills, clip_len=clip_len, seed=cfg.seed)
        logger.info("decoded pairs: %d video frames, %d stills (%s)", len(decoded.video),
                    len(decoded.pseudo_frames), bank_dir)
    return ClipSampler(tracks, stills, detector.cfg, rng, p_pseudo=cfg.p_pseudo,
                       strides=cfg.strides, mode_probs=tuple(cfg.mode_probs), decoded=decoded)


def validation_data(cfg: VideoGanConfig, clip_len: int, data_root: Path) -> VgValidation:
    """The held-out set of ``cfg.method`` from the cache's ``val`` split."""
    if cfg.method == "gan":
        faces = gan_faces_from_cache(data_root, split="val", real_sources=cfg.real_sources,
                                     fake_sources=cfg.fake_sources, max_per_source=0,
                                     seed=cfg.seed + 1)
        return VgValidation(views=make_gan_views(faces, n_per_class=cfg.val_per_class,
                                                 seed=cfg.seed + 1))
    tracks, stills = mrl_split_data(cfg, data_root, "val", clip_len)
    specs = val_clip_specs(tracks, stills, clip_len, n_pseudo=cfg.val_pseudo, seed=cfg.seed + 1)
    return VgValidation(specs=specs, tracks=tracks, stills=stills)


def setup(cfg: VideoGanConfig, data_root: Path, out: Path | None = None) -> VgRun:
    """Build the detector (ImageNet encoder, seeded new layers), optimiser and sampler.

    ``out`` is the run folder; a config's ``clip_bank`` is read from its parent folder.
    """
    torch.set_num_threads(cfg.threads)
    with torch.random.fork_rng():
        torch.manual_seed(cfg.seed)  # NOTE: seeds only the init of the new layers
        detector = registry.create_detector(cfg.detector, pretrained_backbone=True)
    detector.net.freeze_backbone_stages(cfg.freeze_stages)
    params = [p for p in detector.net.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(cfg))
    bank_dir = out.parent / cfg.clip_bank if out is not None and cfg.clip_bank else None
    return VgRun(detector, optimizer, scheduler, _sampler(cfg, detector, data_root, bank_dir),
                 torch.Generator().manual_seed(cfg.seed))


def train_step(run: VgRun, cfg: VideoGanConfig) -> dict[str, float]:
    """One optimiser step on a fresh batch; returns the loss parts."""
    net = run.detector.net
    net.train()
    batch = run.sampler.sample(cfg.batch)
    x = torch.from_numpy(batch.images)
    y = torch.from_numpy(batch.labels)
    if cfg.method == "gan":
        loss = F.binary_cross_entropy_with_logits(net(x)[:, 0], y.float())
        parts = {"bce": float(loss.detach())}
    else:
        out = net.forward_train(x, run.generator)
        loss, parts = mrl_loss(out, y, od_weight=cfg.od_weight, tc_weight=cfg.tc_weight)
    apply_update(run.optimizer, loss, step=run.step, parts=parts)
    run.scheduler.step()
    return {"loss": float(loss.detach()), **parts}


def save_run(run: VgRun, cfg: VideoGanConfig, path: Path) -> None:
    """Write everything needed to resume, atomically."""
    state = {"config": cfg.to_dict(), "net": run.detector.net.state_dict(),
             "optimizer": run.optimizer.state_dict(), "scheduler": run.scheduler.state_dict(),
             "sampler": run.sampler.state(), "generator": run.generator.get_state(),
             "step": run.step, "elapsed_s": run.elapsed_s}
    write_checkpoint(state, path)
    logger.info("checkpoint at step %d written to %s", run.step, path)


def load_run(run: VgRun, cfg: VideoGanConfig, path: Path) -> None:
    """Resume ``run`` from ``path``.

    Raises:
        ValueError: the checkpoint was written with a different configuration.
    """
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state["config"] != cfg.to_dict():
        raise ValueError(f"{path} was written with another config; use a new --out directory")
    run.detector.net.load_state_dict(state["net"])
    run.optimizer.load_state_dict(state["optimizer"])
    run.scheduler.load_state_dict(state["scheduler"])
    run.sampler.restore(state["sampler"])
    run.generator.set_state(state["generator"])
    run.step = int(state["step"])
    run.elapsed_s = float(state["elapsed_s"])
    logger.info("resumed from %s at step %d (%.0f s trained)", path, run.step, run.elapsed_s)


def train(run: VgRun, cfg: VideoGanConfig, checkpoint: Path) -> None:
    """Train until ``cfg.steps`` or ``cfg.max_train_s``, logging and checkpointing."""
    def on_log(parts: Mapping[str, float], s_per_step: float) -> None:
        logger.info("step %d/%d %s lr %.2e %.2f s/step elapsed %.0f s", run.step, cfg.steps,
                    " ".join(f"{k} {v:.4f}" for k, v in parts.items()),
                    run.scheduler.get_last_lr()[0], s_per_step, run.elapsed_s)

    drive(run, done=lambda: run.step >= cfg.steps or run.elapsed_s >= cfg.max_train_s,
          step=lambda: train_step(run, cfg), log_every=cfg.log_every_steps, on_log=on_log,
          checkpoint_every_s=cfg.checkpoint_every_s, save=lambda: save_run(run, cfg, checkpoint),
          log_last=cfg.steps)
    if run.step < cfg.steps:
        logger.warning("time budget %.0f s reached at step %d of %d", cfg.max_train_s, run.step,
                       cfg.steps)
    save_run(run, cfg, checkpoint)


def score_images(detector: Detector, crops: np.ndarray, *, batch: int = 32) -> np.ndarray:
    """Raw ``p_fake`` of square uint8 crops at their own size (no resizing)."""
    out = [detector.predict(normalise(crops[s : s + batch], detector.cfg)).p_fake_raw
           for s in range(0, len(crops), batch)]
    return np.concatenate(out)


def score_clip_pairs(
    detector: Detector, val: VgValidation, *, pairs_per_batch: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """Raw ``p_fake`` (2K,) of the K validation pairs, ordered [real_0, fake_0, real_1, ...],
    and the matching labels."""
    specs = val.specs or []
    scores = []
    for s in range(0, len(specs), pairs_per_batch):
        clips = []
        for spec in specs[s : s + pairs_per_batch]:
            clips.extend(clip_pair(spec, val.tracks, val.stills, detector.cfg.clip_len,
                                   postaug=False))
        scores.append(detector.predict(detector.preprocess(np.stack(clips))).p_fake_raw)
    labels = np.tile(np.array([0, 1], dtype=np.int64), len(specs))
    return np.concatenate(scores), labels


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``method = "mrl" | "gan"`` configs; returns the exit code."""
    from engine.training.release_video_gan import release

    args = parse_args(argv, __doc__)
    if args.no_release:
        raise SystemExit("--no-release is for the image detectors (sbi, xray, mat) only")
    cfg = load_video_gan_config(args.config)
    log_to(args.log or args.out / "train.log")
    command = command_line(argv)
    logger.info("start: %s", command)
    args.out.mkdir(parents=True, exist_ok=True)
    run = setup(cfg, args.data_root, args.out)
    checkpoint = args.out / "checkpoint.pt"
    if checkpoint.exists():
        load_run(run, cfg, checkpoint)
    train(run, cfg, checkpoint)
    val = validation_data(cfg, run.detector.cfg.clip_len, args.data_root)
    card = release(run, cfg, val, args.out, command=command,
                   config_toml=args.config.read_text(encoding="utf-8"))
    logger.info("done: %s", card)
    return 0


if __name__ == "__main__":
    sys.exit(main())
