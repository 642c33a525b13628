"""Score labelled media with shipped detectors and print AUC / AP / accuracy at the threshold.

    python -m engine.training.evaluate --detector sbi_effl0 \\
        --real ../shared/data/dev_eval/dfdc_face_crops/real \\
        --fake ../shared/data/dev_eval/dfdc_face_crops/fake

Inputs are folders or files (``--real`` / ``--fake``, repeatable) or a CSV with ``path,label``
rows (label ``real``/``fake`` or 0/1). Every file goes through the application's own pipeline:
``engine.media.sample_frames`` (images: one frame; videos: ``--frames`` evenly spaced),
``engine.faces`` detection + tracking + the one crop policy, then the detector through its
runtime (ONNX by default). A file's score is the SBI rule: per frame the max over faces, then
the mean over frames. Files without a usable face are listed and left out, never scored.
``--record KEY`` stores the metrics and this command in each detector's model card.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from engine.faces.mesh import FaceMeshDetector
    from engine.runtime import LoadedDetector

__all__ = ["LabelledFile", "main", "score_files", "video_score"]

logger = logging.getLogger(__name__)

_MEDIA_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff",
                   ".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"}


@dataclass(frozen=True)
class LabelledFile:
    """A media file and its label (0 real, 1 fake)."""

    path: Path
    label: int


def video_score(frame_idx: npt.NDArray[np.int64], p_fake: npt.NDArray[np.float64]) -> float:
    """Mean over frames of the max over faces in each frame (Shiohara & Yamasaki's rule)."""
    frames = np.unique(frame_idx)
    return float(np.mean([p_fake[frame_idx == f].max() for f in frames]))


def _expand(path: Path, label: int) -> list[LabelledFile]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in _MEDIA_SUFFIXES)
        return [LabelledFile(p, label) for p in files]
    if not path.is_file():
        raise FileNotFoundError(f"no such file or folder: {path}")
    return [LabelledFile(path, label)]


def _read_csv(path: Path) -> list[LabelledFile]:
    names = {"real": 0, "0": 0, "fake": 1, "1": 1}
    out = []
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            label = names.get(str(row["label"]).strip().lower())
            if label is None:
                raise ValueError(f"{path}: label must be real/fake/0/1; got {row['label']!r}")
            media = Path(row["path"])
            out += _expand(media if media.is_absolute() else path.parent / media, label)
    return out


def _face_crops(
    path: Path, n_frames: int, mesh: FaceMeshDetector
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """(crops (N, S, S, 3) uint8, frame_idx (N,)) of the usable faces of one file."""
    from engine.faces.crop import CropPolicy
    from engine.faces.pipeline import detect_faces_in_frames
    from engine.media import sample_frames

    found = detect_faces_in_frames(sample_frames(path, n_frames=n_frames), mesh, CropPolicy())
    crops = found.crops
    if not crops:
        return np.zeros((0, 256, 256, 3), np.uint8), np.zeros((0,), np.int64)
    return (np.stack([c.crop_rgb_u8 for c in crops]),
            np.array([c.frame_idx for c in crops], dtype=np.int64))


def score_files(
    files: list[LabelledFile], detectors: dict[str, LoadedDetector], *, n_frames: int
) -> tuple[dict[str, list[float]], list[int], list[Path]]:
    """Score every file with every detector (faces found once per file).

    Returns:
        ``(scores per detector (calibrated p_fake per scored file), labels, files without a
        usable face)``.
    """
    from engine.faces.mesh import FaceMeshDetector

    scores: dict[str, list[float]] = {name: [] for name in detectors}
    labels: list[int] = []
    no_face: list[Path] = []
    with FaceMeshDetector() as mesh:
        for i, item in enumerate(files, start=1):
            crops, frame_idx = _face_crops(item.path, n_frames, mesh)
            if len(crops) == 0:
                no_face.append(item.path)
                logger.warning("no usable face in %s; left out", item.path)
                continue
            labels.append(item.label)
            for name, det in detectors.items():
                out = det.predict(crops)
                scores[name].append(video_score(frame_idx, out.p_fake))
            logger.info("%d/%d %s scored (%d faces)", i, len(files), item.path.name, len(crops))
    return scores, labels, no_face


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m engine.training.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--detector", action="append", required=True, help="repeatable")
    parser.add_argument("--real", type=Path, action="append", default=[])
    parser.add_argument("--fake", type=Path, action="append", default=[])
    parser.add_argument("--csv", type=Path, default=None, help="path,label rows")
    parser.add_argument("--runtime", choices=("onnx", "torch"), default="onnx")
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--frames", type=int, default=32, help="frames sampled per video")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--record", default=None, help="store the metrics in the cards as KEY")
    parser.add_argument("--json-out", type=Path, default=None, help="write per-file scores")
    return parser.parse_args(argv)


def _out(line: str) -> None:
    """The command's result goes to stdout (logging goes to stderr)."""
    sys.stdout.write(line + "\n")


def _report(
    name: str, scores: list[float], labels: list[int], threshold: float
) -> dict[str, Any]:
    from engine.training.metrics import summarize

    metrics: dict[str, Any] = dict(summarize(np.array(scores), np.array(labels), threshold))
    _out(f"{name}: AUC {metrics['auc']:.4f}  AP {metrics['ap']:.4f}  "
          f"accuracy {metrics['accuracy']:.4f} @ {threshold:g}  "
          f"({metrics['n_real']} real, {metrics['n_fake']} fake)")
    return metrics


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from engine.runtime import WeightsStore, load_detector
    from engine.training.card import record_metrics
    from engine.training.cli import command_line

    files = [f for p in args.real for f in _expand(p, 0)]
    files += [f for p in args.fake for f in _expand(p, 1)]
    if args.csv is not None:
        files += _read_csv(args.csv)
    if not files:
        raise SystemExit("nothing to evaluate: give --real/--fake or --csv")
    detectors = {name: load_detector(name, runtime=args.runtime, models_dir=args.models_dir,
                                     threads=args.threads) for name in args.detector}
    scores, labels, no_face = score_files(files, detectors, n_frames=args.frames)
    _out(f"{len(labels)} files scored, {len(no_face)} without a usable face: "
          f"{[p.name for p in no_face]}")
    command = command_line(argv, "python -m engine.training.evaluate")
    for name, det in detectors.items():
        metrics = _report(name, scores[name], labels, det.cfg.threshold)
        metrics["n_no_face"] = len(no_face)
        if args.record:
            card = WeightsStore(args.models_dir).card_path(name)
            record_metrics(card, args.record, metrics, command)
    if args.json_out is not None:
        scored = [str(f.path) for f in files if f.path not in set(no_face)]
        args.json_out.write_text(json.dumps(
            {"files": scored, "labels": labels, "scores": scores}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
