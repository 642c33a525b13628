"""Decoder-made twins of training faces, for self-blends whose source a decoder drew.

An autoencoder face swap (DeepFaceLab and DeepFaceLive, FaceForensics++'s Deepfakes) pastes a
face that a neural decoder drew into the real frame. SBI's source transform stands in for that
face with a down/up-scaled or sharpened copy (``engine.synthesis.sbi.source_transform``); a
*decoded* copy, the face encoded and decoded again by TAEF2 (``engine.synthesis.taef2``), carries
a real decoder's texture and upsampling instead, aligned pixel for pixel with the face, so the
self-blend's only evidence is still what the blend leaves (``decoder_prob`` of
``engine.training.config.TrainConfig``).

TAEF2 takes about 1 s for a 256 px crop on one CPU core, far too slow inside the training loop,
so the twins of a seeded sample of the training faces are made once here and stored in chunks
(``engine.training.decoded_bank``: resumable; ``--shard``/``--shards`` split the chunks between
processes)::

    python -m engine.training.decoded_faces --config configs/training/CONFIG.toml \\
        --data-root /root/.cache/forensic-dataset --out /work/cache/decoded_faces --n 1600

The sample is drawn as training draws faces (``video_share``), without replacement. A run reads
the folder named by its config's ``decoder_bank``; :func:`load_decoded` refuses a folder made
from other faces (a SHA-256 of the sampled crops), so a bank is never paired with the wrong
faces.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.training.datasets import RealFaces, draw_weights
from engine.training.decoded_bank import (
    ImageOf,
    add_build_arguments,
    build_bank,
    images_fingerprint,
    load_bank,
    start_build,
)

__all__ = ["build", "load_decoded", "main", "plan_indices", "sample_fingerprint"]


def plan_indices(faces: RealFaces, n: int, *, seed: int, video_share: float) -> list[int]:
    """``n`` distinct face indices, drawn as training draws faces (seeded)."""
    if not 1 <= n <= len(faces):
        raise ValueError(f"n must lie in [1, {len(faces)}]; got {n}")
    weights = draw_weights(faces.groups, video_share)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(faces), size=n, replace=False, p=weights)
    return sorted(int(i) for i in chosen)


def sample_fingerprint(faces: RealFaces, indices: list[int]) -> str:
    """SHA-256 of the crops at ``indices``, in order: which faces a bank was made from."""
    return images_fingerprint(_crop_of(faces), indices)


def _crop_of(faces: RealFaces) -> ImageOf:
    return lambda i: np.asarray(faces.crops[i])


def _settings(faces: RealFaces, *, seed: int, video_share: float) -> dict[str, Any]:
    return {"n_faces": len(faces), "seed": seed, "video_share": video_share}


def build(faces: RealFaces, out: Path, *, n: int, seed: int, video_share: float,
          taef2_dir: Path, shard: int = 0, shards: int = 1) -> int:
    """Make (or finish) the bank in ``out``; returns the number of chunks this shard wrote."""
    indices = plan_indices(faces, n, seed=seed, video_share=video_share)
    return build_bank(_crop_of(faces), indices, out,
                      settings=_settings(faces, seed=seed, video_share=video_share),
                      taef2_dir=taef2_dir, shard=shard, shards=shards)


def load_decoded(folder: Path, faces: RealFaces) -> dict[int, npt.NDArray[np.uint8]]:
    """``{face index: its decoded twin}`` of a finished bank made from ``faces``.

    Raises:
        FileNotFoundError: no bank, or a chunk is missing (the build did not finish).
        ValueError: the bank was made from other faces.
    """
    return load_bank(folder, _crop_of(faces), settings={"n_faces": len(faces)},
                     what="decoded-face bank (python -m engine.training.decoded_faces)")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m engine.training.decoded_faces",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True,
                        help="the training config whose training faces are sampled")
    parser.add_argument("--data-root", type=Path, required=True, help="the face cache")
    parser.add_argument("--out", type=Path, required=True, help="bank folder (outside the repo)")
    parser.add_argument("--n", type=int, default=1600, help="faces to decode")
    parser.add_argument("--seed", type=int, default=0)
    add_build_arguments(parser)
    args = start_build(parser, argv)
    from engine.training.config import load_config
    from engine.training.face_pack import config_faces

    cfg = load_config(args.config)
    faces = config_faces(args.data_root, cfg)["train"]
    build(faces, args.out, n=args.n, seed=args.seed, video_share=cfg.video_share,
          taef2_dir=args.taef2_dir, shard=args.shard, shards=args.shards)
    return 0


if __name__ == "__main__":
    sys.exit(main())
