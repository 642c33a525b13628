"""Train one generator-shaped autoencoder (``engine.synthesis.trace_ae``) on real pictures.

    python -m engine.training.trace_ae_train --config configs/training/trace_ae_tconv.toml \\
        --data-root ../shared/data --out /work/cache/gen/trace_ae/ae_tconv

L1 to the input from the start, plus a PatchGAN (LSGAN) loss after ``adv_start`` of the steps
(AutoGAN's recipe, sized for a CPU): the adversarial term pushes the decoder to make up high
frequencies with its upsampler, which is where generator traces come from. Training crops come
from a pool of training-split pictures held in memory (UTKFace, CelebA, frames of the training
videos). Rerunning the command resumes from ``<out>/checkpoint.pt``; the result is
``<out>/<name>.pt`` (the autoencoder's state dict) and ``<out>/<name>.json`` (config, steps,
time, hardware, command, and the PSNR of held-out reconstructions).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from engine.synthesis.trace_ae import PatchDiscriminator, TraceAutoencoder, reconstruct_u8
from engine.training.cli import command_line, log_to
from engine.training.config_gen import TraceAeConfig, config_to_dict, load_toml_config
from engine.training.gen_sources import list_real_items, video_frames
from engine.training.loop import hardware_description, read_checkpoint, write_checkpoint

__all__ = ["AeRun", "build_pool", "main", "sample_crops", "train_ae"]

logger = logging.getLogger(__name__)

_FRAME_CROP_PX = 256  # NOTE: video frames are kept as two random 256 px crops (memory)


@dataclass
class AeRun:
    """Everything a checkpoint holds."""

    net: TraceAutoencoder
    disc: PatchDiscriminator
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    rng: np.random.Generator
    step: int = 0
    elapsed_s: float = 0.0
    hardware: str = ""
    command: str = ""


def _subset(items: list[Any], source: str, n: int, rng: np.random.Generator) -> list[Any]:
    pool = [i for i in items if i.source == source]
    if 0 < n < len(pool):
        pool = [pool[int(k)] for k in np.sort(rng.choice(len(pool), n, replace=False))]
    return pool


def build_pool(data_root: Path, cfg: TraceAeConfig, split: str) -> list[np.ndarray]:
    """Pictures of ``split`` to draw crops from, each at least ``crop_px`` on both sides
    (smaller ones are upscaled to fit: they are rare)."""
    import cv2

    rng = np.random.default_rng([cfg.seed, 17])
    items = list_real_items(data_root, split=split, frames_per_video=cfg.frames_per_video)
    chosen = (_subset(items, "utkface", cfg.pool_utkface, rng)
              + _subset(items, "celeba", cfg.pool_celeba, rng)
              + [i for i in items if i.source == "videos_real"])
    pool = []
    for item, rgb in video_frames(data_root, chosen):
        if min(rgb.shape[:2]) < cfg.crop_px:
            scale = cfg.crop_px / min(rgb.shape[:2])
            size = (max(cfg.crop_px, round(rgb.shape[1] * scale)),
                    max(cfg.crop_px, round(rgb.shape[0] * scale)))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)
        if item.source != "videos_real" or min(rgb.shape[:2]) <= _FRAME_CROP_PX:
            pool.append(np.ascontiguousarray(rgb))
            continue
        for _ in range(2):
            y, x = (int(rng.integers(0, d - _FRAME_CROP_PX + 1)) for d in rgb.shape[:2])
            pool.append(rgb[y : y + _FRAME_CROP_PX, x : x + _FRAME_CROP_PX].copy())
    logger.info("%s pool: %d pictures", split, len(pool))
    return pool


def sample_crops(pool: list[np.ndarray], n: int, crop_px: int,
                 rng: np.random.Generator) -> torch.Tensor:
    """``n`` random crops (random flips) as (n, 3, crop, crop) float32 in [-1, 1]."""
    out = np.empty((n, crop_px, crop_px, 3), dtype=np.uint8)
    for k in range(n):
        img = pool[int(rng.integers(len(pool)))]
        y = int(rng.integers(0, img.shape[0] - crop_px + 1))
        x = int(rng.integers(0, img.shape[1] - crop_px + 1))
        crop = img[y : y + crop_px, x : x + crop_px]
        out[k] = crop[:, ::-1] if rng.random() < 0.5 else crop
    return torch.from_numpy(out).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def _lr_factor(cfg: TraceAeConfig, step: int, elapsed_s: float) -> float:
    done = min(1.0, max(step / cfg.steps, elapsed_s / cfg.max_train_s))
    return 0.01 + 0.99 * 0.5 * (1.0 + float(np.cos(np.pi * done)))


def _step(run: AeRun, cfg: TraceAeConfig, x: torch.Tensor) -> dict[str, float]:
    factor = _lr_factor(cfg, run.step, run.elapsed_s)
    for opt in (run.opt_g, run.opt_d):
        for group in opt.param_groups:
            group["lr"] = cfg.lr * factor
    adversarial = cfg.adv_weight > 0 and run.step >= cfg.adv_start * cfg.steps
    y = run.net(x)
    l1 = F.l1_loss(y, x)
    loss = l1
    parts = {"l1": float(l1.detach())}
    if adversarial:
        g_adv = ((run.disc(y) - 1.0) ** 2).mean()
        loss = loss + cfg.adv_weight * g_adv
        parts["g_adv"] = float(g_adv.detach())
    run.opt_g.zero_grad(set_to_none=True)
    loss.backward()  # type: ignore[no-untyped-call]
    run.opt_g.step()
    if adversarial:
        d_loss = 0.5 * ((run.disc(x) - 1.0) ** 2).mean() + 0.5 * (run.disc(y.detach()) ** 2).mean()
        run.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()  # type: ignore[no-untyped-call]
        run.opt_d.step()
        parts["d"] = float(d_loss.detach())
    return parts


def _save(run: AeRun, cfg: TraceAeConfig, path: Path) -> None:
    write_checkpoint({"config": config_to_dict(cfg), "net": run.net.state_dict(),
                      "disc": run.disc.state_dict(), "opt_g": run.opt_g.state_dict(),
                      "opt_d": run.opt_d.state_dict(), "rng": run.rng.bit_generator.state,
                      "step": run.step, "elapsed_s": run.elapsed_s, "hardware": run.hardware,
                      "command": run.command}, path)


def _resume(run: AeRun, cfg: TraceAeConfig, path: Path) -> None:
    state = read_checkpoint(path)
    if state["config"] != config_to_dict(cfg):
        raise ValueError(f"{path} was written with another config; use a new --out directory")
    run.net.load_state_dict(state["net"])
    run.disc.load_state_dict(state["disc"])
    run.opt_g.load_state_dict(state["opt_g"])
    run.opt_d.load_state_dict(state["opt_d"])
    run.rng.bit_generator.state = state["rng"]
    run.step, run.elapsed_s = int(state["step"]), float(state["elapsed_s"])
    run.hardware, run.command = str(state["hardware"]), str(state["command"])
    logger.info("resumed from %s at step %d (%.0f s trained)", path, run.step, run.elapsed_s)


def train_ae(run: AeRun, cfg: TraceAeConfig, pool: list[np.ndarray], checkpoint: Path) -> None:
    """Train until ``cfg.steps`` or ``cfg.max_train_s``, logging and checkpointing."""
    run.net.train()
    run.disc.train()
    last_save = time.monotonic()
    while run.step < cfg.steps and run.elapsed_s < cfg.max_train_s:
        t0 = time.perf_counter()
        parts = _step(run, cfg, sample_crops(pool, cfg.batch, cfg.crop_px, run.rng))
        run.step += 1
        run.elapsed_s += time.perf_counter() - t0
        if run.step % cfg.log_every_steps == 0:
            logger.info("step %d/%d %s elapsed %.0f s", run.step, cfg.steps,
                        " ".join(f"{k} {v:.4f}" for k, v in parts.items()), run.elapsed_s)
        if time.monotonic() - last_save >= cfg.checkpoint_every_s:
            _save(run, cfg, checkpoint)
            last_save = time.monotonic()
    _save(run, cfg, checkpoint)


def held_out_psnr(net: TraceAutoencoder, pool: list[np.ndarray], n: int = 48) -> float:
    """Mean PSNR (dB) of the reconstructions of ``n`` held-out pictures (128 px centres)."""
    values = []
    for img in pool[:: max(1, len(pool) // n)][:n]:
        h, w = img.shape[:2]
        side = min(128, h, w) // 4 * 4
        crop = img[(h - side) // 2 : (h + side) // 2, (w - side) // 2 : (w + side) // 2]
        err = (reconstruct_u8(net, crop).astype(np.float64) - crop) ** 2
        values.append(10.0 * np.log10(255.0**2 / max(float(err.mean()), 1e-6)))
    return float(np.mean(values))


def _parse(argv: list[str] | None) -> Any:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m engine.training.trace_ae_train",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--data-root", type=Path, required=True, help="../shared/data")
    parser.add_argument("--out", type=Path, required=True, help="run folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = _parse(argv)
    cfg = load_toml_config(TraceAeConfig, args.config)
    args.out.mkdir(parents=True, exist_ok=True)
    log_to(args.out / "train.log")
    command = command_line(argv, "python -m engine.training.trace_ae_train")
    logger.info("start: %s", command)
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    net, disc = TraceAutoencoder(cfg.upsampler, width=cfg.width, n_blocks=cfg.n_blocks), \
        PatchDiscriminator()
    # NOTE: Adam's default betas for the autoencoder (its L1 phase is plain regression);
    # pix2pix's beta1 = 0.5 for the discriminator.
    run = AeRun(net, disc, torch.optim.Adam(net.parameters(), lr=cfg.lr),
                torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=(0.5, 0.999)),
                np.random.default_rng(cfg.seed), command=command,
                hardware=hardware_description(cfg))  # type: ignore[arg-type]
    checkpoint = args.out / "checkpoint.pt"
    if checkpoint.exists():
        _resume(run, cfg, checkpoint)
    train_ae(run, cfg, build_pool(args.data_root, cfg, "train"), checkpoint)
    psnr = held_out_psnr(run.net, build_pool(args.data_root, cfg, "val")[:400])
    torch.save(run.net.state_dict(), args.out / f"{cfg.name}.pt")
    summary = {"config": config_to_dict(cfg), "steps": run.step, "elapsed_s": run.elapsed_s,
               "hardware": run.hardware, "command": run.command, "val_psnr_db": psnr,
               "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (args.out / f"{cfg.name}.json").write_text(json.dumps(summary, indent=2) + "\n",
                                               encoding="utf-8")
    logger.info("done: %s, held-out PSNR %.2f dB", cfg.name, psnr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
