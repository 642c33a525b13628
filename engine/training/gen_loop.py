"""Training loop of the generated-image detector (``gen_nprnet``): resumable, logged, time-boxed.

    python -m engine.training --config configs/training/gen_nprnet.toml \\
        --data-root /work/cache/gen --out /work/cache/gen/runs/gen_nprnet

(``engine.training.__main__`` hands ``method = "gen"`` configs to :func:`main`.) ``--data-root``
is the folder holding the pair packs of ``engine.training.gen_pack`` (``train_pack`` and
``val_pack`` of the config). The network starts from a seeded random init (no ImageNet weights
fit a network without early downsampling); Adam with warm-up and a cosine schedule over
whichever of ``steps`` and ``max_train_s`` runs out first; binary cross-entropy on batches of
pairs (each real with its reconstruction); validation AUC on the validation pack (each
generator separately too) every ``val_every_steps``; a checkpoint every few minutes (rerunning
the command resumes). ``engine.training.gen_release`` then calibrates, measures, exports and
writes the model card.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from engine.detectors import registry
from engine.detectors.base import Detector
from engine.training.cli import command_line, log_to, parse_args
from engine.training.config_gen import (
    GenTrainConfig,
    config_from_dict,
    config_to_dict,
    load_toml_config,
)
from engine.training.driver import apply_update, drive, seeded
from engine.training.gen_data import GenSampler, normalise_tiles, val_crops
from engine.training.gen_pack import GenPack
from engine.training.loop import hardware_description, read_checkpoint, write_checkpoint
from engine.training.metrics import roc_auc

__all__ = [
    "GenRun",
    "learning_rate",
    "load_run",
    "main",
    "save_run",
    "score_crops",
    "setup",
    "train",
    "train_step",
    "validate",
]

logger = logging.getLogger(__name__)


@dataclass
class GenRun:
    """The mutable state of one run (everything a checkpoint holds)."""

    detector: Detector
    optimizer: torch.optim.Optimizer
    sampler: GenSampler
    generator: torch.Generator
    step: int = 0
    elapsed_s: float = 0.0
    hardware: str = ""
    train_command: str = ""


def learning_rate(run: GenRun, cfg: GenTrainConfig) -> float:
    """Linear warm-up, then cosine to 1% over whichever of steps and time runs out first."""
    if run.step < cfg.warmup_steps:
        return cfg.lr * (run.step + 1) / cfg.warmup_steps
    done = min(1.0, max(run.step / cfg.steps, run.elapsed_s / cfg.max_train_s))
    return float(cfg.lr * (0.01 + 0.99 * 0.5 * (1.0 + np.cos(np.pi * done))))


def setup(cfg: GenTrainConfig, data_root: Path) -> GenRun:
    """Build the detector (seeded init), optimiser and sampler."""
    torch.set_num_threads(cfg.threads)
    with torch.random.fork_rng():
        torch.manual_seed(cfg.seed)
        detector = registry.create_detector(cfg.detector,
                                            pretrained_backbone=cfg.pretrained_backbone)
    trainable = [p for p in detector.net.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=cfg.lr,
                                 weight_decay=cfg.weight_decay)
    pack = GenPack(data_root / cfg.train_pack, cfg.generators)
    sampler = GenSampler(pack, cfg, detector.cfg, np.random.default_rng(cfg.seed))
    logger.info("training pairs: %d (%s)", len(pack),
                dict(zip(*np.unique(pack.generators, return_counts=True), strict=True)))
    return GenRun(detector, optimizer, sampler, torch.Generator().manual_seed(cfg.seed),
                  hardware=hardware_description(cfg))  # type: ignore[arg-type]


def train_step(run: GenRun, cfg: GenTrainConfig) -> dict[str, float]:
    """One optimiser step on a fresh batch; returns the loss and the learning rate."""
    net = run.detector.net
    net.train()
    batch = run.sampler.sample(cfg.batch_pairs)
    x = torch.from_numpy(batch.images)
    y = torch.from_numpy(batch.labels).float()
    # NOTE: both classes weigh the same whatever their counts (soft reals make two reals a pair)
    n_fake = float(y.sum())
    weight = torch.where(y > 0, 0.5 / n_fake, 0.5 / (len(y) - n_fake)) * len(y)
    loss = seeded(run.generator, lambda: F.binary_cross_entropy_with_logits(
        net(x)[:, 0], y, weight=weight))
    lr = learning_rate(run, cfg)
    apply_update(run.optimizer, loss, step=run.step, lr=lr)
    return {"bce": float(loss.detach()), "lr": lr}


def score_crops(detector: Detector, crops: np.ndarray, *, batch: int = 64) -> np.ndarray:
    """Raw logits of (N, h, w, 3) uint8 crops (eval mode, no resizing)."""
    net = detector.net.eval()
    out = []
    for s in range(0, len(crops), batch):
        x = torch.from_numpy(normalise_tiles(crops[s : s + batch], detector.cfg))
        with torch.inference_mode():
            out.append(net(x)[:, 0].double().numpy())
    return np.concatenate(out)


def validate(detector: Detector,
             val: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict[str, float]:
    """AUC on the validation pairs, overall and for each generator against all reals."""
    crops, labels, gens = val
    z = score_crops(detector, crops)
    out = {"all": roc_auc(z, labels)}
    for name in sorted(set(gens.tolist()) - {"real"}):
        keep = (gens == name) | (labels == 0)
        out[name] = roc_auc(z[keep], labels[keep])
    return out


def save_run(run: GenRun, cfg: GenTrainConfig, path: Path) -> None:
    """Write everything needed to resume, atomically."""
    write_checkpoint({"config": config_to_dict(cfg), "net": run.detector.net.state_dict(),
                      "optimizer": run.optimizer.state_dict(), "sampler": run.sampler.state(),
                      "generator": run.generator.get_state(), "step": run.step,
                      "elapsed_s": run.elapsed_s, "hardware": run.hardware,
                      "train_command": run.train_command}, path)
    logger.info("checkpoint at step %d written to %s", run.step, path)


def load_run(run: GenRun, cfg: GenTrainConfig, path: Path) -> None:
    """Resume ``run`` from ``path``.

    Raises:
        ValueError: the checkpoint was written with a different configuration.
    """
    state = read_checkpoint(path)
    if config_from_dict(GenTrainConfig, state["config"]) != cfg:
        raise ValueError(f"{path} was written with another config; use a new --out directory")
    run.detector.net.load_state_dict(state["net"])
    run.optimizer.load_state_dict(state["optimizer"])
    run.sampler.restore(state["sampler"])
    run.generator.set_state(state["generator"])
    run.step, run.elapsed_s = int(state["step"]), float(state["elapsed_s"])
    run.hardware, run.train_command = str(state["hardware"]), str(state["train_command"])
    logger.info("resumed from %s at step %d (%.0f s trained)", path, run.step, run.elapsed_s)


def train(run: GenRun, cfg: GenTrainConfig, checkpoint: Path, val: Any) -> None:
    """Train until ``cfg.steps`` or ``cfg.max_train_s``, logging, validating, checkpointing."""
    def on_log(parts: Mapping[str, float], s_per_step: float) -> None:
        logger.info("step %d/%d bce %.4f lr %.2e %.2f s/step elapsed %.0f s epoch %d",
                    run.step, cfg.steps, parts["bce"], parts["lr"], s_per_step, run.elapsed_s,
                    run.sampler.epoch)

    def after_step() -> None:
        if run.step % cfg.val_every_steps == 0:
            aucs = validate(run.detector, val)
            logger.info("step %d validation AUC %s", run.step,
                        " ".join(f"{k} {v:.4f}" for k, v in aucs.items()))

    drive(run, done=lambda: run.step >= cfg.steps or run.elapsed_s >= cfg.max_train_s,
          step=lambda: train_step(run, cfg), log_every=cfg.log_every_steps, on_log=on_log,
          checkpoint_every_s=cfg.checkpoint_every_s, save=lambda: save_run(run, cfg, checkpoint),
          after_step=after_step)
    if run.step < cfg.steps:
        logger.warning("time budget %.0f s reached at step %d of %d", cfg.max_train_s, run.step,
                       cfg.steps)
    save_run(run, cfg, checkpoint)


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``method = "gen"`` configs; returns the exit code."""
    from engine.training.gen_release import release

    args = parse_args(argv, __doc__)
    cfg = load_toml_config(GenTrainConfig, args.config)
    log_to(args.log or args.out / "train.log")
    command = command_line(argv)
    logger.info("start: %s", command)
    args.out.mkdir(parents=True, exist_ok=True)
    run = setup(cfg, args.data_root)
    run.train_command = command
    checkpoint = args.out / "checkpoint.pt"
    if checkpoint.exists():
        load_run(run, cfg, checkpoint)
    val = val_crops(GenPack(args.data_root / cfg.val_pack, cfg.generators),
                    run.detector.cfg.input_size)
    train(run, cfg, checkpoint, val)
    if args.no_release:
        logger.info("trained to step %d; --no-release: %s is ready to release", run.step,
                    checkpoint)
        return 0
    card = release(run, cfg, args.data_root, args.out, command=command,
                   config_toml=args.config.read_text(encoding="utf-8"))
    logger.info("done: %s", card)
    return 0


if __name__ == "__main__":
    sys.exit(main())
