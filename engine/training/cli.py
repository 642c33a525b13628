"""The command line shared by both training entry points (image detectors, video/GAN models).

``python -m engine.training`` dispatches on the config's ``method``; both loops take the same
arguments and log the same way, so a run folder looks alike whichever loop wrote it. The
evaluation commands record themselves in model cards with :func:`command_line` too.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path

__all__ = ["command_line", "log_to", "parse_args"]


def parse_args(argv: list[str] | None, description: str | None) -> argparse.Namespace:
    """``--config``, ``--data-root``, ``--out`` and ``--log`` of ``python -m engine.training``."""
    parser = argparse.ArgumentParser(prog="python -m engine.training", description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True, help="training TOML")
    parser.add_argument("--data-root", type=Path, required=True, help="face cache folder")
    parser.add_argument("--out", type=Path, required=True, help="run folder")
    parser.add_argument("--log", type=Path, default=None, help="log file (default out/train.log)")
    parser.add_argument("--no-release", action="store_true",
                        help="train and checkpoint only (image detectors): rerun the command "
                             "without it, e.g. where the full face cache is, to calibrate, "
                             "export and write the model card")
    return parser.parse_args(argv)


def log_to(path: Path) -> None:
    """Send INFO and above of every logger to ``path`` (created with its folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def command_line(argv: list[str] | None, program: str = "python -m engine.training") -> str:
    """The command as a user would retype it (``program`` + the arguments); it goes into the
    model card next to what it produced."""
    return f"{program} " + shlex.join(sys.argv[1:] if argv is None else argv)
