"""The face crops of a labelled benchmark, cut once, to score candidate networks in seconds.

    python -m engine.training.bench_crops extract --index ../shared/data/dev_bench/index.csv \\
        --out /work/cache/devbench_crops
    python -m engine.training.bench_crops score --crops /work/cache/devbench_crops \\
        --models-dir resources/models --detector sbi_effl0 \\
        --checkpoint sbi_effl0=/work/cache/runs/sbi_x/checkpoint.pt

The app's own analysis (``engine.evaluation.bench_scores``) runs face finding on every item for
every set of weights: minutes per pass. Selecting among training checkpoints needs many passes,
and face finding does not depend on the weights, so ``extract`` runs the app's face stage once
(the same frame sampling, ``FaceMeshDetector(max_faces=4)``, tracking and crop policy as
``engine.api.Analyzer`` with default options) and stores each item's crops; ``score`` runs a
network on them and aggregates as the app does (frame = max over usable faces, file = mean over
frames), then prints :mod:`engine.training.transfer_report`. A checkpoint is exported to ONNX and
scored raw (no calibration: a ranking, and false alarms at 0.5 of the raw score); a models
folder is scored with its cards' calibration, as the app would. For a release decision, score
the released weights through the app itself (``bench_scores``).

Selection only: the benchmark is never trained on.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["BenchCrops", "aggregate", "extract", "load_crops", "main"]

logger = logging.getLogger(__name__)

N_FRAMES = 32  # NOTE: the app's default sampling (engine.api.AnalysisOptions.n_frames)
MAX_FACES = 4  # NOTE: engine.api.AnalysisOptions.max_faces
_BATCH = 32


def _entry_name(path: str) -> str:
    return hashlib.sha256(path.encode("utf-8")).hexdigest()[:20] + ".npz"


def extract(items: Sequence[Any], out: Path) -> None:
    """Cut and store the faces of every item not stored yet (resumable, one file per item)."""
    from engine.errors import MediaError
    from engine.faces.crop import CropPolicy
    from engine.faces.mesh import FaceMeshDetector
    from engine.faces.pipeline import detect_faces_in_frames
    from engine.media import sample_frames

    out.mkdir(parents=True, exist_ok=True)
    policy = CropPolicy()
    todo = [it for it in items if not (out / _entry_name(it.path)).is_file()]
    logger.info("%d of %d items to cut", len(todo), len(items))
    with FaceMeshDetector(max_faces=MAX_FACES) as detector:
        for n, it in enumerate(todo, start=1):
            seen: list[int] = []
            try:
                frames = sample_frames(it.path, n_frames=N_FRAMES)
                found = detect_faces_in_frames(_recording(frames, seen), detector, policy)
            except MediaError as exc:
                logger.warning("%s: %s", it.path, exc)
                np.savez(out / _entry_name(it.path), path=it.path, error=str(exc))
                continue
            faces = found.faces
            size = policy.size
            np.savez(
                out / _entry_name(it.path),
                path=it.path,
                frames=np.array(seen, dtype=np.int64),
                crops=(np.stack([f.crop.crop_rgb_u8 for f in faces]) if faces
                       else np.zeros((0, size, size, 3), np.uint8)),
                frame_idx=np.array([f.crop.frame_idx for f in faces], dtype=np.int64),
                track_id=np.array([f.crop.track_id for f in faces], dtype=np.int64),
                usable=np.array([not f.too_small for f in faces], dtype=bool),
                crop_to_frame=np.array([f.crop.crop_to_frame for f in faces]).reshape(-1, 2, 3),
            )
            logger.info("%d/%d %s: %d faces in %d frames", n, len(todo), it.rel_path,
                        len(faces), len(seen))


def _recording(frames: Any, seen: list[int]) -> Any:
    for frame in frames:
        seen.append(frame.frame_idx)
        yield frame


@dataclass(frozen=True, eq=False)
class BenchCrops:
    """Every usable face crop of the items, and which item and frame each belongs to."""

    items: tuple[Any, ...]
    crops: npt.NDArray[np.uint8]  # (N, 256, 256, 3)
    item_of: npt.NDArray[np.int64]  # (N,)
    frame_of: npt.NDArray[np.int64]  # (N,)


def load_crops(items: Sequence[Any], folder: Path) -> BenchCrops:
    """The stored crops of ``items`` (usable faces only; items without one keep no crop).

    Raises:
        FileNotFoundError: an item was not extracted.
    """
    crops, item_of, frame_of = [], [], []
    for i, it in enumerate(items):
        path = folder / _entry_name(it.path)
        if not path.is_file():
            raise FileNotFoundError(f"{it.path} has no stored crops in {folder}; run extract")
        with np.load(path) as data:
            if "crops" not in data:
                continue
            keep = data["usable"]
            crops.append(data["crops"][keep])
            item_of.append(np.full(int(keep.sum()), i, dtype=np.int64))
            frame_of.append(data["frame_idx"][keep])
    return BenchCrops(tuple(items), np.concatenate(crops), np.concatenate(item_of),
                      np.concatenate(frame_of))


def aggregate(bench: BenchCrops, p_fake: npt.NDArray[Any]) -> list[float | None]:
    """Per item: the mean over frames of the max over the frame's faces (``None``: no face)."""
    out: list[float | None] = []
    for i in range(len(bench.items)):
        mine = bench.item_of == i
        if not mine.any():
            out.append(None)
            continue
        frames, p = bench.frame_of[mine], p_fake[mine]
        out.append(float(np.mean([p[frames == f].max() for f in np.unique(frames)])))
    return out


def _predict(loaded: Any, crops: npt.NDArray[np.uint8], *, calibrated: bool,
             flip: bool = False) -> npt.NDArray[Any]:
    """Each crop's score; with ``flip`` the mean logit of the crop and its mirror image (a
    test-time augmentation, measured on the dev bench in docs/MODELS.md and not used by the app)."""
    from engine.fusion.calibration import logit, sigmoid

    def scores(batch: npt.NDArray[np.uint8]) -> npt.NDArray[Any]:
        out = loaded.predict(batch)
        return np.asarray(out.p_fake if calibrated else out.p_fake_raw)

    parts = []
    for start in range(0, len(crops), _BATCH):
        batch = crops[start : start + _BATCH]
        if not flip:
            parts.append(scores(batch))
            continue
        mirror = np.ascontiguousarray(batch[:, :, ::-1])
        mean_logit = (logit(scores(batch)) + logit(scores(mirror))) / 2.0
        parts.append(sigmoid(mean_logit))
    return np.concatenate(parts)


def _network_detector(name: str, net_state: dict[str, Any], *, threads: int,
                      input_size: int | None = None, calibration: Any = None) -> Any:
    """A network state exported to ONNX and loaded as the app loads a detector; raw scores
    unless ``calibration`` (a ``DetectorCfg.calibration`` tuple) is given. ``input_size``
    scores at another resolution than the registered one (the encoders take any multiple of
    32), for resolution experiments."""
    from engine.detectors import registry
    from engine.runtime.export import export_net
    from engine.runtime.loaded import LoadedDetector
    from engine.runtime.onnx_rt import OnnxRuntime

    detector = registry.create_detector(name, pretrained_backbone=False)
    detector.net.load_state_dict(net_state)
    cfg = detector.cfg.replace(calibration=calibration,
                               input_size=input_size or detector.cfg.input_size)
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = export_net(detector.net, cfg, Path(tmp) / f"{name}.onnx")
        runtime = OnnxRuntime(onnx_path.read_bytes(), threads=threads)
    return LoadedDetector(cfg, runtime, runtime_name="onnx", device="cpu")


def _scorers(args: argparse.Namespace) -> dict[str, tuple[Any, bool]]:
    """``label -> (loaded detector, calibrated)`` for the command line's detectors."""
    from engine.runtime import WeightsStore, load_detector
    from engine.training.loop import read_checkpoint

    scorers: dict[str, tuple[Any, bool]] = {}
    store = WeightsStore(args.models_dir)
    for name in args.detector:
        if args.input_size:
            loaded = _network_detector(name, store.load_state_dict(name), threads=args.threads,
                                       input_size=args.input_size,
                                       calibration=store.cfg(name).calibration)
        else:
            loaded = load_detector(name, models_dir=args.models_dir, threads=args.threads)
        scorers[name] = (loaded, True)
    for spec in args.checkpoint:
        name, _, path = spec.partition("=")
        state = read_checkpoint(Path(path))["net"]
        label = f"{name}@{Path(path).parent.name}/{Path(path).stem}"
        scorers[label] = (_network_detector(name, state, threads=args.threads,
                                            input_size=args.input_size), False)
    return scorers


def score(bench: BenchCrops, scorers: dict[str, tuple[Any, bool]], *,
          flip: bool = False) -> list[dict[str, float]]:
    """Per item, ``{label: file score}`` for every ``label -> (loaded detector, calibrated)``
    (``flip``: see :func:`_predict`)."""
    rows: list[dict[str, float]] = [{} for _ in bench.items]
    for label, (loaded, calibrated) in scorers.items():
        per_item = aggregate(bench, _predict(loaded, bench.crops, calibrated=calibrated,
                                             flip=flip))
        for row, value in zip(rows, per_item, strict=True):
            if value is not None:
                row[label] = value
    return rows


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m engine.training.bench_crops",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("extract", help="cut and store the faces of every item")
    ex.add_argument("--index", type=Path, required=True, help="benchmark index.csv")
    ex.add_argument("--out", type=Path, required=True, help="crop folder (outside the repo)")
    sc = sub.add_parser("score", help="score networks on the stored crops and report")
    sc.add_argument("--index", type=Path, default=Path("../shared/data/dev_bench/index.csv"))
    sc.add_argument("--crops", type=Path, required=True, help="the folder of extract")
    sc.add_argument("--models-dir", type=Path, default=None, help="shipped-style models folder")
    sc.add_argument("--detector", action="append", default=[],
                    help="detector of --models-dir to score (calibrated); repeatable")
    sc.add_argument("--checkpoint", action="append", default=[],
                    help="NAME=PATH: a training checkpoint of detector NAME (raw); repeatable")
    sc.add_argument("--input-size", type=int, default=None,
                    help="score at this input size instead of the registered one")
    sc.add_argument("--flip", action="store_true",
                    help="score each crop and its mirror image, mean logit (an experiment)")
    sc.add_argument("--threads", type=int, default=2)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from engine.evaluation.bench_index import read_index_logged
    from engine.training.transfer_report import format_report, transfer_report

    items = read_index_logged(args.index)
    if args.command == "extract":
        extract(items, args.out)
        return 0
    scorers = _scorers(args)
    bench = load_crops(items, args.crops)
    rows = score(bench, scorers, flip=args.flip)
    sys.stdout.write(format_report(transfer_report(items, rows, list(scorers))) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
