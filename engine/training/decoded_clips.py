"""Decoder-drawn fake clips for the video detector (MRL): every frame drawn on its own.

A talking-head or reenactment generator (LivePortrait, AniPortrait, V-Express) draws every frame
of its video through a neural decoder. What a decoder makes up (the fine texture of skin, hair,
teeth) is not tied from one frame to the next, so it shimmers even where the face holds still;
a camera's texture moves with the face. The ``"decoded"`` fake mode of
``engine.training.datasets_video`` stands in for that with TAEF2 (``engine.synthesis.taef2``),
each frame encoded and decoded on its own. Two kinds of pair:

- **video**: the real clip is the tracked frames; its fake is each frame's own reconstruction.
- **pseudo** (one still under a jitter walk, ``datasets_video.jitter_walk``): the still is
  reconstructed T times, each time seen by the decoder at another phase of its 8 px latent grid
  (the still shifted by whole pixels inside an edge-padded window, and the reconstruction
  shifted back exactly), so each draw is aligned with the still but its made-up texture differs.
  The real clip is the first draw moved by the walk (a decoder's texture that moves with the
  face); the fake moves draw t to frame t. Both clips carry the decoder's texture and go through
  the same one bilinear warp per frame, so what tells them apart is only whether the texture
  holds from frame to frame: the temporal cue alone, with no "decoder texture means fake" and no
  "sharper than its twin" shortcut. (Reconstructing each warped frame instead, as a first bank
  did, left the real clip's texture softened by the warp and the fake's crisp.)

TAEF2 takes about 1 s per 256 px crop on one CPU core, so the reconstructions are made once
(``engine.training.decoded_bank``), for every frame of the split's tracks and for ``--stills``
seeded stills (T reconstructions each)::

    python -m engine.training.decoded_clips --config configs/training/CONFIG.toml \\
        --data-root /root/.cache/forensic-dataset --out /work/cache/runs/BANK --stills 200 \\
        [--split train] [--shard K --shards N]

The bank holds ``video/`` and ``pseudo/`` (each refused when made from other images or
settings). A run names it with ``clip_bank`` in its config, relative to the run's parent folder.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.training.datasets import RealFaces
from engine.training.decoded_bank import (
    ImageOf,
    add_build_arguments,
    build_bank,
    load_bank,
    start_build,
)

__all__ = ["GRID", "DecodedClips", "build_clip_bank", "load_clip_bank", "main", "mrl_split_data",
           "phase_offsets", "walk_seed"]

logger = logging.getLogger(__name__)


GRID = 8  # TAEF2's latent grid: a shift by a multiple of it redraws nothing


def walk_seed(seed: int, still: int) -> int:
    """The seed of the jitter walk of ``still`` in a bank made with ``seed``."""
    return seed * 1_000_003 + still


def phase_offsets(seed: int, still: int, clip_len: int) -> np.ndarray:
    """(T, 2) whole-pixel (dy, dx) offsets in [0, GRID) of each draw of ``still``, all different
    (a repeated phase would redraw the same texture); the first is (0, 0)."""
    rng = np.random.default_rng([seed, still, 1])
    cells = np.concatenate([[0], rng.permutation(GRID * GRID - 1)[: clip_len - 1] + 1])
    return np.stack([cells // GRID, cells % GRID], axis=1)


@dataclass(frozen=True, eq=False)
class DecodedClips:
    """Reconstructions of one split's clips.

    Attributes:
        video: ``{local track frame index: its own reconstruction}`` for every frame of the
            split's runs (``VideoTracks``).
        pseudo_frames: ``{still index: (T, S, S, 3) reconstructions of the still}``, each aligned
            with it and drawn at another grid phase (``phase_offsets``).
        seed: the seed of the jitter walks (``walk_seed``) and of the phases.
    """

    video: dict[int, npt.NDArray[np.uint8]]
    pseudo_frames: dict[int, npt.NDArray[np.uint8]]
    seed: int

    def stills(self) -> list[int]:
        """The still indices that have pseudo pairs, sorted."""
        return sorted(self.pseudo_frames)


def _still_keys(stills: RealFaces, n: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return sorted(int(i) for i in rng.choice(len(stills), size=min(n, len(stills)),
                                             replace=False))


def _pseudo_image_of(stills: RealFaces, clip_len: int, seed: int) -> ImageOf:
    """Key ``s * T + t``: the window the decoder sees for draw ``t`` of still ``s``.

    The still is edge-padded by ``GRID`` px and a (S + GRID) window cut so that the still's
    first pixel sits at the draw's offset; :func:`_aligned` cuts the still's region back out.
    """

    def image_of(key: int) -> npt.NDArray[np.uint8]:
        still, t = divmod(key, clip_len)
        crop = np.asarray(stills.crops[still])
        dy, dx = phase_offsets(seed, still, clip_len)[t]
        padded = np.pad(crop, ((GRID, GRID), (GRID, GRID), (0, 0)), mode="edge")
        side = crop.shape[0] + GRID
        return padded[GRID - dy:GRID - dy + side, GRID - dx:GRID - dx + side]

    return image_of


def _aligned(window: npt.NDArray[np.uint8], offset: np.ndarray) -> npt.NDArray[np.uint8]:
    dy, dx = (int(v) for v in offset)
    side = window.shape[0] - GRID
    return np.ascontiguousarray(window[dy:dy + side, dx:dx + side])


def _track_image_of(tracks: Any) -> ImageOf:
    return lambda i: np.asarray(tracks.crops[i])


def _video_settings(tracks: Any) -> dict[str, Any]:
    return {"part": "video", "n_frames": len(tracks.landmarks), "n_runs": len(tracks.runs)}


def _pseudo_settings(stills: RealFaces, clip_len: int, seed: int) -> dict[str, Any]:
    return {"part": "pseudo", "n_stills": len(stills), "clip_len": clip_len, "seed": seed,
            "draws": "grid phases"}


def build_clip_bank(tracks: Any, stills: RealFaces, out: Path, *, clip_len: int, n_stills: int,
                    seed: int, taef2_dir: Path, shard: int = 0, shards: int = 1) -> int:
    """Make (or finish) both parts of the bank in ``out``; returns the chunks written."""
    written = 0
    if tracks is not None:
        keys = list(range(len(tracks.landmarks)))
        written += build_bank(_track_image_of(tracks), keys, out / "video",
                              settings=_video_settings(tracks), taef2_dir=taef2_dir,
                              shard=shard, shards=shards)
    if n_stills > 0:
        keys = [s * clip_len + t for s in _still_keys(stills, n_stills, seed)
                for t in range(clip_len)]
        written += build_bank(_pseudo_image_of(stills, clip_len, seed), keys, out / "pseudo",
                              settings=_pseudo_settings(stills, clip_len, seed),
                              taef2_dir=taef2_dir, shard=shard, shards=shards)
    return written


def load_clip_bank(folder: Path, tracks: Any, stills: RealFaces, *, clip_len: int,
                   seed: int) -> DecodedClips:
    """The finished bank in ``folder`` made from these tracks and stills.

    Raises:
        FileNotFoundError: a part is missing or unfinished.
        ValueError: the bank was made from other images or settings.
    """
    what = "decoded-clip bank (python -m engine.training.decoded_clips)"
    video: dict[int, npt.NDArray[np.uint8]] = {}
    if tracks is not None:
        video = load_bank(folder / "video", _track_image_of(tracks),
                          settings=_video_settings(tracks), what=what)
    flat = load_bank(folder / "pseudo", _pseudo_image_of(stills, clip_len, seed),
                     settings=_pseudo_settings(stills, clip_len, seed), what=what)
    pseudo = {}
    for still in sorted({k // clip_len for k in flat}):
        offsets = phase_offsets(seed, still, clip_len)
        pseudo[still] = np.stack([_aligned(flat[still * clip_len + t], offsets[t])
                                  for t in range(clip_len)])
    return DecodedClips(video=video, pseudo_frames=pseudo, seed=seed)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m engine.training.decoded_clips",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True, help="the MRL training config")
    parser.add_argument("--data-root", type=Path, required=True, help="the face cache")
    parser.add_argument("--out", type=Path, required=True, help="bank folder (outside the repo)")
    parser.add_argument("--split", choices=("train", "val"), default="train")
    parser.add_argument("--stills", type=int, default=200, help="stills with pseudo pairs")
    parser.add_argument("--no-video", action="store_true", help="pseudo pairs only")
    add_build_arguments(parser)
    args = start_build(parser, argv)
    from engine.detectors import registry
    from engine.training.config_video_gan import load_video_gan_config

    cfg = load_video_gan_config(args.config)
    clip_len = registry.get_cfg(cfg.detector).clip_len
    tracks, stills = mrl_split_data(cfg, args.data_root, args.split, clip_len)
    build_clip_bank(None if args.no_video else tracks, stills, args.out, clip_len=clip_len,
                    n_stills=args.stills, seed=cfg.seed, taef2_dir=args.taef2_dir,
                    shard=args.shard, shards=args.shards)
    return 0


def mrl_split_data(cfg: Any, data_root: Path, split: str, clip_len: int) -> tuple[Any, RealFaces]:
    """The video runs and still faces the MRL loop reads for ``split`` (seeds as it uses them)."""
    from engine.training.datasets import faces_from_cache
    from engine.training.datasets_video import tracks_from_cache

    tracks = tracks_from_cache(data_root, split=split, min_len=clip_len)
    stills = faces_from_cache(data_root, split=split, sources=cfg.still_sources,
                              max_faces=cfg.max_stills,
                              seed=cfg.seed if split == "train" else cfg.seed + 1)
    return tracks, stills


if __name__ == "__main__":
    sys.exit(main())
