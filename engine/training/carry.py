"""Small copies of training checkpoints, for moving runs between machines.

    python -m engine.training.carry finished --checkpoint RUN/checkpoint.pt --out OUT.pt
    python -m engine.training.carry trunk --checkpoint RUN/checkpoint.pt \\
        --detector sbi_effl0 --stages 3 --out TRUNK/checkpoint.pt

A GPU machine is often reached through transfers with size caps, and a resumable checkpoint
is about three times its network (Adam keeps two moments per weight). Two copies cover what a
finished GPU run needs to travel:

- ``finished``: a run that has used its whole budget, without the optimiser state. Its
  network, step count, clock, hardware and data notes are all a release needs; rerunning the
  training command (without ``--no-release``) on it releases it, and asking it to train
  further is refused (``engine.training.loop.load_checkpoint``).
- ``trunk``: only the tensors of the frozen trunk (encoder stem + ``stages`` stride groups),
  which is all that another config's ``trunk_from`` reads from it. The model card next to the
  checkpoint, if any, is copied too, so a run using the trunk still records its provenance.
"""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path
from typing import Any

from engine.detectors import registry
from engine.training.loop import read_checkpoint, write_checkpoint

__all__ = ["finished_copy", "main", "trunk_copy"]

logger = logging.getLogger(__name__)


def _save(state: dict[str, Any], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    write_checkpoint(state, out)
    logger.info("wrote %s (%.1f MB)", out, out.stat().st_size / 1e6)
    return out


def finished_copy(checkpoint: Path, out: Path) -> Path:
    """``checkpoint`` without its optimiser state (see the module docstring)."""
    state = read_checkpoint(checkpoint)
    state.pop("optimizer", None)
    state["finished_copy_of"] = str(checkpoint)
    return _save(state, out)


def trunk_copy(checkpoint: Path, detector: str, stages: int, out: Path) -> Path:
    """The trunk tensors of ``checkpoint``'s network, for ``trunk_from``.

    Raises:
        ValueError: the checkpoint's network lacks a trunk tensor of ``detector``.
    """
    net_state = read_checkpoint(checkpoint)["net"]
    names = registry.create_detector(detector).net.trunk_state_keys(stages)
    missing = [n for n in names if n not in net_state]
    if missing:
        raise ValueError(f"{checkpoint} has no {missing[:3]}: not a {detector} checkpoint?")
    state = {"net": {n: net_state[n] for n in names}, "ril": None, "step": 0,
             "trunk_copy_of": str(checkpoint), "trunk_stages": stages}
    _save(state, out)
    for card in [*Path(checkpoint).parent.glob("*.json"), *Path(checkpoint).parent.glob("*.md")]:
        shutil.copy2(card, out.parent / card.name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.training.carry", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    finished = sub.add_parser("finished", help="a finished run without optimiser state")
    trunk = sub.add_parser("trunk", help="the frozen trunk's tensors only")
    for p in (finished, trunk):
        p.add_argument("--checkpoint", type=Path, required=True)
        p.add_argument("--out", type=Path, required=True)
    trunk.add_argument("--detector", required=True, help="registry name of the network")
    trunk.add_argument("--stages", type=int, required=True, help="stride groups in the trunk")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if args.what == "finished":
        finished_copy(args.checkpoint, args.out)
    else:
        trunk_copy(args.checkpoint, args.detector, args.stages, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
