"""Train one detector from a TOML config.

    python -m engine.training --config configs/training/sbi_effl0.toml \\
        --data-root /work/cache/dataset --out /work/cache/runs/sbi_effl0

``--data-root`` is the face cache written by ``python -m engine.data.prepare``, or for the
image detectors a face pack of this config (``python -m engine.training.face_pack``: the same
faces in a file small enough to carry to a GPU machine). Rerunning the same command resumes
from ``<out>/checkpoint.pt``. Progress goes to ``--log`` (default ``<out>/train.log``). The
result is ``<out>/<name>.{pt,onnx,json,md}``; copy those into ``resources/models/`` to ship
them. ``--no-release`` stops after training: a GPU run is trained where the GPU is, and its
``checkpoint.pt`` is released by the same command, without the flag, next to the face cache.
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


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv, __doc__)
    if _method(args.config) in ("mrl", "gan"):  # clip pairs / generated images: own loop
        from engine.training.loop_video_gan import main as video_gan_main

        return video_gan_main(argv)
    if _method(args.config) == "gen":  # generated-image traces: pairs from gen_pack packs
        from engine.training.gen_loop import main as gen_main

        return gen_main(argv)
    from engine.training.config import load_config
    from engine.training.face_pack import (
        config_faces,
        faces_from_pack,
        held_out_clips,
        is_pack,
        pack_note,
    )
    from engine.training.loop import run_training
    from engine.training.release import release

    cfg = load_config(args.config)
    log_to(args.log or args.out / "train.log")
    command = command_line(argv)
    logger.info("start: %s", command)
    if is_pack(args.data_root):
        faces = {split: faces_from_pack(args.data_root, split) for split in ("train", "val")}
        data_note = pack_note(args.data_root)
    else:
        faces = config_faces(args.data_root, cfg)
        data_note = ""
    run, val = run_training(cfg, faces["train"], faces["val"], args.out, data_note=data_note,
                            command=command)
    if args.no_release:
        logger.info("trained to step %d; --no-release: %s is ready to release",
                    run.step, args.out / "checkpoint.pt")
        return 0
    card = release(run, cfg, val, args.out, command=command,
                   config_toml=args.config.read_text(encoding="utf-8"),
                   n_faces=(len(faces["train"]), len(faces["val"])),
                   held_out_clips=held_out_clips(args.data_root, faces["val"].groups))
    logger.info("done: %s", card)
    return 0


if __name__ == "__main__":
    sys.exit(main())
