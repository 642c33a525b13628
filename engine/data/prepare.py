"""Run the face pipeline once over the training/evaluation data and cache the crops.

    python -m engine.data.prepare --data-root ../shared/data --out /work/cache/dataset --size 256

Training reads crops, landmarks and affines from the cache (``engine.data.cache.FaceCache``)
instead of running MediaPipe in every epoch. Every face is cut with THE crop policy
(``engine.faces.crop``), so training sees exactly what inference sees. Image sources keep the
largest face of each file; video sources keep tracked faces of consecutive frames (every
``video_step``-th frame, at most ``max_per_track`` per track) so a video model can take T-frame
clips; the dev_eval fake videos keep 32 evenly spaced frames. Inputs without a usable face are
listed in ``rejected.csv`` with a reason.

The run is resumable: each part (a chunk of images, or one video) is written atomically with a
done marker, and a rerun skips finished parts and sources. It is single-process on purpose (a
shared 2-core machine); the manifest and its split are rebuilt at the end of every run.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.data.extract import FaceExtractor
from engine.data.manifest import SplitPlan
from engine.data.parts import PartBuffer, is_done
from engine.data.sources import SOURCES, Part, Source, plan_parts, source_by_name
from engine.data.summary import build_manifest
from engine.faces.crop import CropPolicy
from engine.faces.pipeline import MIN_FACE_PX

__all__ = ["PrepareConfig", "main", "prepare"]

log = logging.getLogger(__name__)

CACHE_FORMAT_VERSION = 1


@dataclass(frozen=True)
class PrepareConfig:
    """What goes into the cache. A cache folder is only ever extended with the same config.

    Attributes:
        size: crop side in pixels.
        margin: crop policy margin (``CropPolicy.margin``).
        limit: keep only the first ``limit`` files of each source (tests, trials).
        chunk_size: image files per part.
        video_step: take every ``video_step``-th frame of the real videos.
        max_video_frames: frames taken per real video at most.
        max_per_track: crops kept per face track at most.
        min_face_px: faces with a smaller landmark box are flagged ``too_small``.
    """

    size: int = 256
    margin: float = CropPolicy().margin
    limit: int | None = None
    chunk_size: int = 1000
    video_step: int = 2
    max_video_frames: int = 300
    max_per_track: int = 300
    min_face_px: float = MIN_FACE_PX


def prepare(
    data_root: Path,
    out: Path,
    config: PrepareConfig,
    *,
    sources: tuple[Source, ...] = SOURCES,
    split: SplitPlan | None = None,
    show_progress: bool = True,
) -> dict[str, object]:
    """Fill ``out`` with the cache of ``sources``; return the summary written to cache.json.

    Raises:
        ValueError: ``out`` holds a cache made with another config.
        FileNotFoundError: a source folder is missing under ``data_root``.
    """
    out.mkdir(parents=True, exist_ok=True)
    _check_config(out, config)
    policy = CropPolicy(margin=config.margin, size=config.size)
    with FaceExtractor(data_root, policy, config, show_progress=show_progress) as extractor:
        for source in sources:
            _prepare_source(data_root, out, source, config, extractor)
    summary = build_manifest(out, SOURCES, split or SplitPlan())
    # NOTE: the data root lets readers go back to the source files (their frame sizes:
    # ``FaceCache.frame_sizes``); it is not part of the config, so a moved data root is fine.
    summary.update(format_version=CACHE_FORMAT_VERSION, config=asdict(config),
                   data_root=str(Path(data_root).resolve()))
    (out / "cache.json").write_text(json.dumps(summary, indent=1))
    return summary


def _check_config(out: Path, config: PrepareConfig) -> None:
    path = out / "config.json"
    wanted = {"format_version": CACHE_FORMAT_VERSION, **asdict(config)}
    if path.is_file():
        found = json.loads(path.read_text())
        if found != wanted:
            diff = sorted(k for k in wanted if found.get(k) != wanted[k])
            raise ValueError(
                f"{out} holds a cache made with other settings ({', '.join(diff)}); "
                "use another --out folder or delete this one"
            )
        return
    path.write_text(json.dumps(wanted, indent=1))


def _prepare_source(
    data_root: Path, out: Path, source: Source, config: PrepareConfig, extractor: FaceExtractor
) -> None:
    folder = out / "parts" / source.name
    marker = folder / "DONE.json"
    parts = plan_parts(data_root, source, limit=config.limit, chunk_size=config.chunk_size)
    names = [p.name for p in parts]
    if marker.is_file() and json.loads(marker.read_text()).get("parts") == names:
        log.info("%s: done before, skipped", source.name)
        return
    for stale in folder.glob("*.tmp"):
        shutil.rmtree(stale)
    todo = [p for p in parts if not is_done(folder / p.name)]
    log.info("%s: %d parts, %d to do", source.name, len(parts), len(todo))
    t0 = time.monotonic()
    with extractor.progress_bar(source, todo) as bar:
        for part in todo:
            buffer = extractor.run_part(part, bar)
            _write(buffer, folder / part.name, part)
    folder.mkdir(parents=True, exist_ok=True)
    for orphan in sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in names):
        log.info("%s: removing %s, which is no longer part of the plan", source.name, orphan)
        shutil.rmtree(orphan)
    marker.write_text(json.dumps({"parts": names, "seconds": round(time.monotonic() - t0, 1)}))


def _write(buffer: PartBuffer, folder: Path, part: Part) -> None:
    buffer.write(folder, {"files": len(part.files)})
    log.info(
        "%s/%s: %d crops, %d rejected",
        part.source.name,
        part.name,
        len(buffer.rows),
        len(buffer.rejected),
    )


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m engine.data.prepare", description=__doc__.split("\n")[0]
    )
    p.add_argument("--data-root", type=Path, required=True, help="folder with faces_real/ etc.")
    p.add_argument("--out", type=Path, required=True, help="cache folder (outside the repo)")
    p.add_argument("--size", type=int, default=256, help="crop side in pixels")
    p.add_argument("--sources", default=",".join(s.name for s in SOURCES), help="comma list")
    p.add_argument("--limit", type=int, default=None, help="first N files of each source")
    p.add_argument("--seed", type=int, default=0, help="seed of the train/val split")
    p.add_argument("--val-fraction", type=float, default=0.1, help="image identities in val")
    p.add_argument("--video-step", type=int, default=2, help="take every N-th video frame")
    p.add_argument("--max-video-frames", type=int, default=300, help="frames per video")
    p.add_argument("--max-per-track", type=int, default=300, help="crops per face track")
    p.add_argument("--chunk-size", type=int, default=1000, help="image files per part")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        sources = tuple(source_by_name(n.strip()) for n in args.sources.split(",") if n.strip())
        config = PrepareConfig(
            size=args.size,
            limit=args.limit,
            chunk_size=args.chunk_size,
            video_step=args.video_step,
            max_video_frames=args.max_video_frames,
            max_per_track=args.max_per_track,
        )
        split = SplitPlan(seed=args.seed, val_fraction=args.val_fraction)
        summary = prepare(
            args.data_root,
            args.out,
            config,
            sources=sources,
            split=split,
            show_progress=not args.no_progress,
        )
    except (KeyError, ValueError, FileNotFoundError) as exc:
        log.error("%s", exc.args[0] if exc.args else exc)
        return 2
    log.info("cache ready in %s: %s", args.out, json.dumps(summary["counts"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
