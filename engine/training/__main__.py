"""Train one detector from a TOML config.

    python -m engine.training --config configs/training/sbi_effl0.toml \\
        --data-root /work/cache/dataset --out /work/cache/runs/sbi_effl0

``--data-root`` is the face cache written by ``python -m engine.data.prepare``. Rerunning the
same command resumes from ``<out>/checkpoint.pt``. Progress goes to ``--log`` (default
``<out>/train.log``). The result is ``<out>/<name>.{pt,onnx,json,md}``; copy those into
``resources/models/`` to ship them.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from engine.training.cli import command_line, log_to, parse_args

__all__ = ["main"]

logger = logging.getLogger("engine.training")


def _method(config: Path) -> str:
    import tomllib

    with Path(config).open("rb") as fh:
        return str(tomllib.load(fh).get("method", ""))


def _held_out_clips(data_root: Path, train_groups: object) -> list[str]:
    """Video clips of the cache that this run never trained on (for the video evaluation)."""
    from engine.data.cache import FaceCache

    cache = FaceCache(data_root)
    videos = {f"{r.source}:{r.identity}" for r in cache.rows if r.source == "videos_real"}
    return sorted(videos - set(str(g) for g in train_groups))  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv, __doc__)
    if _method(args.config) in ("mrl", "gan"):  # clip pairs / generated images: own loop
        from engine.training.loop_video_gan import main as video_gan_main

        return video_gan_main(argv)
    from engine.training.config import load_config
    from engine.training.datasets import faces_from_cache
    from engine.training.loop import run_training
    from engine.training.release import release

    cfg = load_config(args.config)
    log_to(args.log or args.out / "train.log")
    command = command_line(argv)
    logger.info("start: %s", command)
    train_faces = faces_from_cache(args.data_root, split="train", sources=cfg.sources,
                                   max_faces=cfg.max_reals, seed=cfg.seed)
    val_faces = faces_from_cache(args.data_root, split="val", sources=cfg.sources,
                                 max_faces=cfg.val_reals, seed=cfg.seed)
    run, val = run_training(cfg, train_faces, val_faces, args.out)
    card = release(run, cfg, val, args.out, command=command,
                   config_toml=args.config.read_text(encoding="utf-8"),
                   n_faces=(len(train_faces), len(val_faces)),
                   held_out_clips=_held_out_clips(args.data_root, train_faces.groups))
    logger.info("done: %s", card)
    return 0


if __name__ == "__main__":
    sys.exit(main())
