"""TAEF2 reconstructions made once and stored in chunks: the slow step of decoder-drawn fakes.

Two recipes train on images a real neural decoder drew: the still detectors' self-blends whose
source is a decoded twin of the face (``engine.training.decoded_faces``) and the video
detector's clips whose frames were each decoded on their own (``engine.training.decoded_clips``).
TAEF2 (``engine.synthesis.taef2``) takes about 1 s for a 256 px crop on one CPU core, far too
slow inside a training loop, so the reconstructions are made here once, before training.

A bank is a folder: ``plan.json`` (the caller's settings, the integer keys of the images and a
SHA-256 of the images themselves) and ``chunk_KKKK.npz`` files of ``CHUNK`` reconstructions
each. A build is resumable (finished chunks are kept) and ``shard``/``shards`` split the chunks
between processes. A bank is read back only for the same settings and the same input images,
and only when every chunk is there, so a training run never pairs images with the wrong twins.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["CHUNK", "add_build_arguments", "build_bank", "images_fingerprint", "load_bank",
           "start_build"]

logger = logging.getLogger(__name__)

CHUNK = 50
_PLAN = "plan.json"

ImageOf = Callable[[int], npt.NDArray[np.uint8]]


def images_fingerprint(image_of: ImageOf, keys: Sequence[int]) -> str:
    """SHA-256 of the images of ``keys``, in order: which images a bank was made from."""
    digest = hashlib.sha256()
    for key in keys:
        digest.update(np.ascontiguousarray(image_of(int(key))).tobytes())
    return digest.hexdigest()


def _chunk_path(out: Path, k: int) -> Path:
    return out / f"chunk_{k:04d}.npz"


def _plan(image_of: ImageOf, keys: Sequence[int], settings: dict[str, Any]) -> dict[str, Any]:
    return {**settings, "indices": [int(k) for k in keys],
            "fingerprint": images_fingerprint(image_of, keys), "decoder": "taef2"}


def build_bank(image_of: ImageOf, keys: Sequence[int], out: Path, *, settings: dict[str, Any],
               taef2_dir: Path, shard: int = 0, shards: int = 1) -> int:
    """Make (or finish) the bank of ``keys`` in ``out``; returns the chunks this shard wrote.

    Raises:
        ValueError: ``out`` holds a bank of other images or settings.
    """
    from engine.synthesis.taef2 import load_taef2

    out.mkdir(parents=True, exist_ok=True)
    plan = _plan(image_of, keys, settings)
    plan_path = out / _PLAN
    if plan_path.exists():
        if json.loads(plan_path.read_text(encoding="utf-8")) != plan:
            raise ValueError(f"{out} holds a bank of other faces or settings; use another folder")
    else:
        plan_path.write_text(json.dumps(plan), encoding="utf-8")
    taef2 = load_taef2(taef2_dir)
    written = 0
    for k in range(shard, -(-len(keys) // CHUNK), shards):
        path = _chunk_path(out, k)
        if path.exists():
            continue
        part = [int(i) for i in keys[k * CHUNK:(k + 1) * CHUNK]]
        decoded = np.stack([taef2.reconstruct(image_of(i)) for i in part])
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, indices=np.asarray(part, dtype=np.int64), decoded=decoded)
        tmp.replace(path)
        written += 1
        logger.info("chunk %d: %d images decoded", k, len(part))
    return written


def load_bank(folder: Path, image_of: ImageOf, *, settings: dict[str, Any],
              what: str = "bank of reconstructions") -> dict[int, npt.NDArray[np.uint8]]:
    """``{key: its reconstruction}`` of a finished bank made from these images and settings.

    Args:
        folder: the bank.
        image_of: the input image of a key (checked against the bank's fingerprint).
        settings: what the caller built the bank with; every entry must match the plan's.
        what: how an error names the bank.

    Raises:
        FileNotFoundError: no bank, or a chunk is missing (the build did not finish).
        ValueError: the bank was made with other settings or from other images.
    """
    plan_path = folder / _PLAN
    if not plan_path.is_file():
        raise FileNotFoundError(f"no {what} in {folder}")
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    for name, value in settings.items():
        if plan.get(name) != value:
            raise ValueError(f"{folder} was made with {name} = {plan.get(name)!r}; these are "
                             f"{value!r} (other faces or settings)")
    keys = [int(i) for i in plan["indices"]]
    if images_fingerprint(image_of, keys) != plan["fingerprint"]:
        raise ValueError(f"{folder} was made from other faces than these (image SHA-256 differs)")
    out: dict[int, npt.NDArray[np.uint8]] = {}
    for k in range(-(-len(keys) // CHUNK)):
        path = _chunk_path(folder, k)
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: the bank's build did not finish")
        with np.load(path) as data:
            for i, twin in zip(data["indices"], data["decoded"], strict=True):
                out[int(i)] = twin
    if sorted(out) != sorted(keys):
        raise ValueError(f"{folder}: its chunks do not hold the planned images")
    return out


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every bank-building command shares (TAEF2's folder, shards, threads)."""
    parser.add_argument("--taef2-dir", type=Path, default=Path("../shared/models/taef2"))
    parser.add_argument("--shard", type=int, default=0, help="this process's share of chunks")
    parser.add_argument("--shards", type=int, default=1, help="processes building the bank")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")


def start_build(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse ``argv``, check the shard, start logging and set torch's threads."""
    args = parser.parse_args(argv)
    if not 0 <= args.shard < args.shards:
        parser.error("--shard must lie in [0, --shards)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    import torch

    torch.set_num_threads(args.threads)
    return args
