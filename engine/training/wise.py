"""Release a weight-space ensemble of a finished run and the run it started from (WiSE-FT).

    python -m engine.training.wise --config configs/training/sbi_effl0_stage5_gpu.toml \\
        --data-root /work/cache/dataset --run /work/cache/runs/sbi_effl0_stage5_gpu \\
        --alpha 0.5 --out /work/cache/runs/sbi_effl0_stage5_wise

Wortsman et al., "Robust fine-tuning of zero-shot models" (CVPR 2022): after fine-tuning, the
weights ``alpha * theta_finetuned + (1 - alpha) * theta_start`` keep most of the fine-tuning's
gain on its own distribution and lose less on shifted data than the fine-tuned weights do. A
long stage on synthetic blends can become over-confident on real footage it never saw; the
interpolation with the stage it started from (the config's ``init_from``, so both networks
share their lineage) is the cheap, training-free remedy. Every floating-point tensor is
interpolated, batch-norm statistics included; integer buffers come from the finished run.

The result is released like any run (Platt calibration on one validation half, metrics on the
other, ONNX export, model card); the card records ``alpha``, both networks and this command.
Detectors that must share a trunk bit for bit stay so when each is interpolated with the same
``alpha`` between endpoints that shared it: the arithmetic is elementwise and deterministic.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import torch

from engine.training.cli import command_line, log_to
from engine.training.config import TrainConfig, load_config
from engine.training.loop import (
    TrainRun,
    load_checkpoint,
    progress,
    read_checkpoint,
    setup,
    untrained_detector,
    validation_set,
)

__all__ = ["interpolate_state", "main", "wise_run"]

logger = logging.getLogger(__name__)


def interpolate_state(finished: dict[str, torch.Tensor], start: dict[str, torch.Tensor],
                      alpha: float) -> dict[str, torch.Tensor]:
    """``alpha * finished + (1 - alpha) * start`` for floating tensors; others from ``finished``.

    Raises:
        ValueError: ``alpha`` outside [0, 1], or the two states differ in keys or shapes.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1]; got {alpha}")
    differ = sorted(set(finished) ^ set(start))
    if differ:
        raise ValueError(f"the networks differ in tensors: {differ[:3]}")
    out = {}
    for key, value in finished.items():
        if value.shape != start[key].shape:
            raise ValueError(f"{key}: shape {tuple(value.shape)} vs {tuple(start[key].shape)}")
        out[key] = (alpha * value + (1.0 - alpha) * start[key]
                    if value.dtype.is_floating_point else value.clone())
    return out


def wise_run(run: TrainRun, cfg: TrainConfig, run_dir: Path, alpha: float) -> dict[str, Any]:
    """Interpolate ``run``'s network with its ``init_from`` network in place; returns the
    provenance record for the card."""
    if not cfg.init_from:
        raise ValueError("WiSE-FT interpolates with the network a run started from; "
                         "this config has no init_from")
    start = read_checkpoint(run_dir.parent / cfg.init_from)["net"]
    net = run.detector.net
    net.load_state_dict(interpolate_state(net.state_dict(), start, alpha))
    logger.info("interpolated %s with %s at alpha %.3f", run_dir, cfg.init_from, alpha)
    return {"alpha": alpha, "start": cfg.init_from}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.training.wise", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True, help="the finished run's TOML")
    parser.add_argument("--data-root", type=Path, required=True, help="face cache folder")
    parser.add_argument("--run", type=Path, required=True,
                        help="the finished run's folder (its init_from is found beside it)")
    parser.add_argument("--alpha", type=float, required=True, help="weight of the finished run")
    parser.add_argument("--out", type=Path, required=True,
                        help="folder for the release (beside --run, so the card finds the "
                             "earlier stages' cards)")
    args = parser.parse_args(argv)
    from engine.training.face_pack import config_faces, held_out_clips
    from engine.training.release import release

    cfg = load_config(args.config)
    args.out.mkdir(parents=True, exist_ok=True)
    log_to(args.out / "wise.log")
    command = command_line(argv, "python -m engine.training.wise")
    faces = config_faces(args.data_root, cfg)
    run = setup(cfg, faces["train"], factory=untrained_detector)
    load_checkpoint(run, cfg, args.run / "checkpoint.pt")
    if progress(run, cfg) < 1.0:
        parser.error(f"{args.run} has not finished its training budget; finish it first")
    record = wise_run(run, cfg, args.run, args.alpha)
    release(run, cfg, validation_set(cfg, faces["val"]), args.out, command=command,
            config_toml=args.config.read_text(encoding="utf-8"),
            n_faces=(len(faces["train"]), len(faces["val"])),
            held_out_clips=held_out_clips(args.data_root, faces["val"].groups), wise=record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
