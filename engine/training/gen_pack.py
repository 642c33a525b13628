"""Make the offline pairs (real picture, its reconstruction) the generated-image detector trains on.

    python -m engine.training.gen_pack --config configs/training/gen_pack_train.toml \\
        --data-root ../shared/data --out /work/cache/gen/gen_pack_train

Pictures come from ``engine.training.gen_sources`` (UTKFace, CelebA, frames of the real videos;
never ``dev_bench`` or ``faces_gan``); each gives one pair (video frames ``crops_per_frame``),
made by ``engine.synthesis.traces.make_pair`` with a generator assigned in turn from a seeded
shuffle, so every generator gets the same share. Pairs are grouped by generator, and chunks of
a generator whose weights are not there yet are skipped (rerun when they are). Work is cut into
chunks of at most ``CHUNK`` pairs of one generator, whose draws are seeded by (seed, chunk
index): an interrupted run resumes at the first unfinished chunk and produces the same bytes as
an uninterrupted one.

Layout: ``<out>/chunk_NNNN/{real.npy, fake.npy, pairs.json}`` (uint8 (N, P, P, 3) arrays, one
record per pair: source, file, frame, generator, resampling, place), ``<out>/plan.json`` (the
config and the chunk count) and ``<out>/DONE`` when every chunk is written.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.synthesis.traces import load_generators, make_pair, sample_pair_params
from engine.training.cli import command_line, log_to
from engine.training.config_gen import (
    GenPackConfig,
    config_from_dict,
    config_to_dict,
    load_toml_config,
)
from engine.training.gen_sources import RealItem, list_real_items, video_frames

__all__ = ["CHUNK", "GenPack", "chunk_plan", "main", "plan_pairs", "write_chunk"]

logger = logging.getLogger(__name__)

CHUNK = 400


@dataclass(frozen=True)
class PlannedPair:
    """One pair to make: the picture and the generator."""

    item: RealItem
    generator: str


def _subset(items: list[RealItem], source: str, n: int, rng: np.random.Generator) -> list[RealItem]:
    pool = [i for i in items if i.source == source]
    if 0 < n < len(pool):
        pool = [pool[int(k)] for k in np.sort(rng.choice(len(pool), n, replace=False))]
    return pool


def plan_pairs(items: list[RealItem], cfg: GenPackConfig) -> list[PlannedPair]:
    """The pairs of ``cfg``, in reading order (images, then each video's frames in order)."""
    rng = np.random.default_rng([cfg.seed, 1])
    pictures = (_subset(items, "utkface", cfg.n_utkface, rng)
                + _subset(items, "celeba", cfg.n_celeba, rng))
    frames = [i for i in items if i.source == "videos_real"]
    pictures += [f for f in frames for _ in range(cfg.crops_per_frame)]
    gen_idx = rng.permutation(len(pictures)) % len(cfg.generators)
    # NOTE: grouped by generator (stable), so a chunk needs one generator and the chunks of a
    # generator can be made as soon as it is trained.
    order = np.argsort(gen_idx, kind="stable")
    return [PlannedPair(pictures[int(k)], cfg.generators[int(gen_idx[k])]) for k in order]


def chunk_plan(planned: list[PlannedPair]) -> list[list[PlannedPair]]:
    """The pairs cut into chunks of at most ``CHUNK`` pairs of one generator each."""
    chunks: list[list[PlannedPair]] = []
    for pair in planned:
        if not chunks or len(chunks[-1]) == CHUNK or chunks[-1][0].generator != pair.generator:
            chunks.append([])
        chunks[-1].append(pair)
    return chunks


def write_chunk(
    planned: list[PlannedPair], chunk_idx: int, cfg: GenPackConfig, generators: dict[str, Any],
    data_root: Path, out: Path,
) -> None:
    """Make and write one chunk (atomically: a folder renamed into place when complete)."""
    rng = np.random.default_rng([cfg.seed, 2, chunk_idx])
    reals, fakes, records = [], [], []
    todo: dict[tuple[str, int], list[PlannedPair]] = {}
    for pair in planned:
        todo.setdefault((pair.item.rel_path, pair.item.frame_idx), []).append(pair)
    unique = [group[0].item for group in todo.values()]
    for item, rgb in video_frames(data_root, unique):
        for pair in todo[(item.rel_path, item.frame_idx)]:
            params = sample_pair_params(rgb.shape[:2], cfg.pair_px, rng,
                                        p_resample=cfg.p_resample, min_scale=cfg.min_scale,
                                        max_scale=cfg.max_scale)
            real, fake = make_pair(rgb, generators[pair.generator], params,
                                   pair_px=cfg.pair_px, context_px=cfg.context_px)
            reals.append(real)
            fakes.append(fake)
            records.append({"source": item.source, "file": item.rel_path,
                            "frame_idx": item.frame_idx, "generator": pair.generator,
                            **dataclasses.asdict(params)})
    tmp = out / f"chunk_{chunk_idx:04d}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    np.save(tmp / "real.npy", np.stack(reals))
    np.save(tmp / "fake.npy", np.stack(fakes))
    (tmp / "pairs.json").write_text(json.dumps(records) + "\n", encoding="utf-8")
    tmp.rename(out / f"chunk_{chunk_idx:04d}")


class GenPack:
    """A finished pack, memory-mapped: ``real[i]``, ``fake[i]`` and ``records[i]``.

    Args:
        root: the pack's folder.
        generators: keep only these generators' pairs (a view: indices are renumbered);
            empty: every pair.

    Raises:
        FileNotFoundError: the pack is missing or unfinished (no ``DONE``, nor a
            ``DONE.<generator>`` for each of ``generators``).
        ValueError: ``generators`` names a generator the pack does not hold.
    """

    def __init__(self, root: Path, generators: tuple[str, ...] = ()) -> None:
        self.root = Path(root)
        # NOTE: a pack made with --generators is finished for those generators alone
        # (DONE.<generator>), which is all a detector trained on them reads.
        finished = (self.root / "DONE").is_file() or (
            bool(generators) and all((self.root / f"DONE.{g}").is_file() for g in generators))
        if not finished:
            raise FileNotFoundError(f"{self.root} is not a finished pack (python -m "
                                    "engine.training.gen_pack)")
        chunks = sorted(p for p in self.root.glob("chunk_*") if p.is_dir())
        self._real = [np.load(c / "real.npy", mmap_mode="r") for c in chunks]
        self._fake = [np.load(c / "fake.npy", mmap_mode="r") for c in chunks]
        records: list[dict[str, Any]] = []
        for chunk in chunks:
            records += json.loads((chunk / "pairs.json").read_text(encoding="utf-8"))
        sizes = np.array([len(a) for a in self._real])
        self._starts = np.r_[0, np.cumsum(sizes)]
        every = np.array([r["generator"] for r in records])
        unknown = sorted(set(generators) - set(every.tolist()))
        if unknown:
            raise ValueError(f"{self.root} holds no pairs of {unknown}; it has "
                             f"{sorted(set(every.tolist()))}")
        self._index = (np.flatnonzero(np.isin(every, list(generators))) if generators
                       else np.arange(len(records)))
        self.records = [records[int(i)] for i in self._index]
        self.generators = every[self._index]
        self.sources = np.array([r["source"] for r in self.records])
        self.plan = json.loads((self.root / "plan.json").read_text(encoding="utf-8"))

    def __len__(self) -> int:
        return len(self._index)

    def _locate(self, i: int) -> tuple[int, int]:
        j = int(self._index[i])
        chunk = int(np.searchsorted(self._starts, j, side="right") - 1)
        return chunk, j - int(self._starts[chunk])

    def pair(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(real, fake) of pair ``i`` as (P, P, 3) uint8."""
        chunk, row = self._locate(i)
        return np.asarray(self._real[chunk][row]), np.asarray(self._fake[chunk][row])


def build_pack(cfg: GenPackConfig, data_root: Path, out: Path, command: str,
               only: tuple[str, ...] = ()) -> None:
    """Write every missing chunk of ``cfg`` into ``out``, then ``plan.json`` and ``DONE``.

    ``only`` restricts this run to the chunks of those generators (so two processes can make
    different generators' chunks of one pack at once); ``DONE`` is then left to a full run.
    ``DONE.<generator>`` marks each generator whose chunks are all written, so a detector
    trained on some generators (``GenTrainConfig.generators``) can use a pack made for them.
    """
    import torch

    torch.set_num_threads(cfg.threads)
    items = list_real_items(data_root, split=cfg.split, frames_per_video=cfg.frames_per_video,
                            seed=0)
    planned = plan_pairs(items, cfg)
    chunks = chunk_plan(planned)
    n_chunks = len(chunks)
    plan = {"config": config_to_dict(cfg), "n_pairs": len(planned), "n_chunks": n_chunks,
            "command": command, "data_root": str(data_root.resolve())}
    plan_path = out / "plan.json"
    if plan_path.is_file() and config_from_dict(
            GenPackConfig, json.loads(plan_path.read_text())["config"]) != cfg:
        raise ValueError(f"{out} was made with another config; use a new --out folder")
    out.mkdir(parents=True, exist_ok=True)
    plan_path.write_text(json.dumps(plan, indent=2) + "\n", encoding="utf-8")
    logger.info("%d pairs in %d chunks; generators %s", len(planned), n_chunks, cfg.generators)
    generators: dict[str, Any] = {}
    missing: set[str] = set()
    for k, chunk in enumerate(chunks):
        if (out / f"chunk_{k:04d}").is_dir() or (only and chunk[0].generator not in only):
            continue
        names = {p.generator for p in chunk} - set(generators)
        try:
            generators.update(_load(names, cfg, data_root, out))
        except FileNotFoundError as exc:
            logger.warning("chunk %d skipped: %s", k, exc)
            missing |= names
            continue
        t0 = time.perf_counter()
        write_chunk(chunk, k, cfg, generators, data_root, out)
        logger.info("chunk %d/%d written in %.0f s", k + 1, n_chunks, time.perf_counter() - t0)
    for gen in cfg.generators:
        if all((out / f"chunk_{k:04d}").is_dir() for k, chunk in enumerate(chunks)
               if chunk[0].generator == gen):
            (out / f"DONE.{gen}").write_text("done\n", encoding="utf-8")
    if missing or only:
        if missing:
            logger.warning("not finished: generators %s are not trained yet", sorted(missing))
        return
    (out / "DONE").write_text("done\n", encoding="utf-8")


def _load(names: set[str], cfg: GenPackConfig, data_root: Path, out: Path) -> dict[str, Any]:
    return load_generators(tuple(sorted(names)), ae_dir=out.resolve().parent / cfg.ae_dir,
                           taef2_dir=data_root.resolve().parent / cfg.taef2_dir)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m engine.training.gen_pack",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--data-root", type=Path, required=True, help="../shared/data")
    parser.add_argument("--out", type=Path, required=True, help="pack folder")
    parser.add_argument("--generators", default="",
                        help="make only these generators' chunks (comma-separated)")
    args = parser.parse_args(argv)
    cfg = load_toml_config(GenPackConfig, args.config)
    log_to(args.out.with_suffix(".log"))
    command = command_line(argv, "python -m engine.training.gen_pack")
    logger.info("start: %s", command)
    build_pack(cfg, args.data_root, args.out, command,
               only=tuple(g for g in args.generators.split(",") if g))
    logger.info("done: %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
