"""Extra measurements of the shipped MRL and GAN detectors, recorded in their model cards.

    python -m engine.training.evaluate_video_gan --detector gan_effl0 \\
        --data-root /work/cache/dataset --record

Runs the shipped weights through the application's runtime (ONNX by default) on the face cache's
held-out faces, on the half of them the calibration was NOT fitted on:

- ``gan_effl0``: stress views of both classes alike: background filled with the face's mean
  colour (``oval_meanfill``), both resampled through a 64 px face (``lowres64``), both
  JPEG-compressed at quality 75 (``jpeg75``); and the 11 real DFDC face crops of ``dev_eval``
  (``dev_eval_dfdc_real``: the share wrongly flagged, an unseen real source).
- ``relation_effl0``: held-out real video windows at stride 2 and 4 (frames 4 and 8 video
  frames apart) against their synthetic fakes, and the 2 DFDC deepfake videos of ``dev_eval``
  (8-frame windows of their 32 sampled frames) against stride-4 windows of the held-out real
  videos (``dev_eval_dfdc_videos``: a smoke check, 8 fake clips); with ``--decoded-bank`` (a
  bank of the ``val`` split, ``python -m engine.training.decoded_clips --split val``) also the
  decoder-drawn pairs (``val_decoded_clips``: every non-overlapping 8-frame window of the
  held-out videos and every banked still; ``engine.training.decoded_clips`` says how they are
  made).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from engine.training.metrics import summarize

__all__ = ["gan_stress_views", "main"]

logger = logging.getLogger(__name__)


def _odd_half(labels: np.ndarray) -> np.ndarray:
    """Items NOT used to fit the calibration (the release fits on every other item per class)."""
    keep = np.zeros(len(labels), dtype=bool)
    for value in (0, 1):
        keep[np.flatnonzero(labels == value)[1::2]] = True
    return keep


def gan_stress_views(views: dict[str, Any], landmarks: np.ndarray) -> dict[str, np.ndarray]:
    """``oval_meanfill``, ``lowres64`` and ``jpeg75`` versions of the policy view's crops."""
    from engine.synthesis.color import jpeg_roundtrip
    from engine.training.datasets_gan import remove_background

    crops = views["policy"].crops
    oval_black = views["oval"].crops
    out: dict[str, list[np.ndarray]] = {"oval_meanfill": [], "lowres64": [], "jpeg75": []}
    for crop, lm, black in zip(crops, landmarks, oval_black, strict=True):
        inside = black.any(axis=2)
        fill = tuple(int(v) for v in crop[inside].mean(axis=0))
        out["oval_meanfill"].append(remove_background(crop, lm, fill))
        small = cv2.resize(crop, (64, 64), interpolation=cv2.INTER_AREA)
        out["lowres64"].append(cv2.resize(small, crop.shape[:2][::-1],
                                          interpolation=cv2.INTER_LINEAR))
        out["jpeg75"].append(jpeg_roundtrip(crop, 75))
    return {name: np.stack(items) for name, items in out.items()}


def _score(detector: Any, items: np.ndarray, batch: int = 16) -> np.ndarray:
    return np.concatenate([detector.predict(items[s : s + batch]).p_fake
                           for s in range(0, len(items), batch)])


def _evaluate_gan(detector: Any, card: dict[str, Any], data_root: Path) -> dict[str, Any]:
    from engine.data.cache import FaceCache
    from engine.training.datasets_gan import gan_faces_from_cache, make_gan_views

    cfg = card["training"]["config"]
    faces = gan_faces_from_cache(data_root, split="val", real_sources=tuple(cfg["real_sources"]),
                                 fake_sources=tuple(cfg["fake_sources"]), max_per_source=0,
                                 seed=cfg["seed"] + 1)
    views = make_gan_views(faces, n_per_class=cfg["val_per_class"], seed=cfg["seed"] + 1)
    labels = views["policy"].labels
    order = views["policy"].indices
    keep = _odd_half(labels)
    results: dict[str, Any] = {}
    for name, crops in gan_stress_views(views, faces.landmarks[order]).items():
        p_fake = _score(detector, crops[keep])
        results[f"val_{name}"] = summarize(p_fake, labels[keep], detector.cfg.threshold)
    cache = FaceCache(data_root)
    real_idx = cache.indices(split="dev_eval", source="dfdc_face_crops", label="real")
    p_real = _score(detector, cache.crops(real_idx))
    results["dev_eval_dfdc_real"] = {
        "n_real": len(p_real), "n_fake": 0, "threshold": detector.cfg.threshold,
        "accuracy": float(np.mean(p_real < detector.cfg.threshold)),
        "mean_p_fake": float(np.mean(p_real)),
    }
    return results


def _windows(members: np.ndarray, clip_len: int, stride: int) -> list[np.ndarray]:
    span = (clip_len - 1) * stride + 1
    return [members[s : s + span : stride] for s in range(0, len(members) - span + 1, span)]


def _evaluate_mrl(detector: Any, card: dict[str, Any], data_root: Path,
                  decoded_bank: Path | None = None) -> dict[str, Any]:
    from engine.data.cache import FaceCache
    from engine.training.config_video_gan import VideoGanConfig
    from engine.training.datasets_video import clip_pair, val_clip_specs
    from engine.training.decoded_clips import mrl_split_data

    cfg = card["training"]["config"]
    t = detector.cfg.clip_len
    # NOTE: the held-out clips exactly as the training run (and a decoded bank) read them.
    tracks, stills = mrl_split_data(VideoGanConfig.from_dict(cfg), data_root, "val", t)
    results: dict[str, Any] = {}
    real_by_stride: dict[int, np.ndarray] = {}
    for stride in (2, 4):
        specs = val_clip_specs(tracks, stills, t, n_pseudo=0, seed=cfg["seed"] + 7, stride=stride)
        specs = [s for k, s in enumerate(specs) if k % 2 == 1]  # not the calibration pairs
        clips = [c for s in specs for c in clip_pair(s, tracks, stills, t, postaug=False)]
        p_fake = _score(detector, np.stack(clips), batch=4)
        labels = np.tile([0, 1], len(specs))
        real_by_stride[stride] = p_fake[labels == 0]
        results[f"val_video_clips_stride{stride}"] = summarize(p_fake, labels,
                                                               detector.cfg.threshold)
    cache = FaceCache(data_root)
    fake_clips = [cache.crops(w) for members in cache.clips(
        split="dev_eval", source="dfdc_fake_videos", min_len=t).values()
        for w in _windows(members, t, 1)]
    p_dfdc = _score(detector, np.stack(fake_clips), batch=4)
    p_real = real_by_stride[4]
    results["dev_eval_dfdc_videos"] = summarize(
        np.r_[p_real, p_dfdc], np.r_[np.zeros(len(p_real)), np.ones(len(p_dfdc))],
        detector.cfg.threshold)
    if decoded_bank is not None:
        results["val_decoded_clips"] = _decoded_pairs(detector, decoded_bank, tracks, stills,
                                                      int(cfg["seed"]))
    return results


def _decoded_pairs(detector: Any, bank_dir: Path, tracks: Any, stills: Any,
                   seed: int) -> dict[str, Any]:
    """Scores of the held-out decoder-drawn pairs (none was used for the calibration)."""
    from engine.training.datasets_video import ClipSpec, clip_pair
    from engine.training.decoded_clips import load_clip_bank

    t = detector.cfg.clip_len
    bank = load_clip_bank(bank_dir, tracks, stills, clip_len=t, seed=seed)
    specs = [ClipSpec("video", tuple(int(i) for i in w), "decoded", 0)
             for run in tracks.runs for w in _windows(run, t, 1)]
    specs += [ClipSpec("pseudo", (s,), "decoded", 0) for s in bank.stills()]
    clips = [c for s in specs for c in clip_pair(s, tracks, stills, t, postaug=False,
                                                 decoded=bank)]
    p_fake = _score(detector, np.stack(clips), batch=4)
    return summarize(p_fake, np.tile([0, 1], len(specs)), detector.cfg.threshold)


_EVALUATIONS = {"gan": _evaluate_gan, "mrl": _evaluate_mrl}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m engine.training.evaluate_video_gan",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--detector", required=True, help="gan_effl0 or relation_effl0")
    parser.add_argument("--data-root", type=Path, required=True, help="face cache folder")
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--runtime", choices=("onnx", "torch"), default="onnx")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--record", action="store_true", help="store the metrics in the card")
    parser.add_argument("--decoded-bank", type=Path, default=None,
                        help="MRL: a decoded-clip bank of the val split (val_decoded_clips)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from engine.runtime import WeightsStore, load_detector
    from engine.training.card import record_metrics
    from engine.training.cli import command_line

    store = WeightsStore(args.models_dir)
    card = store.card(args.detector)
    detector = load_detector(args.detector, runtime=args.runtime, models_dir=args.models_dir,
                             threads=args.threads)
    method = card.get("training", {}).get("config", {}).get("method")
    if method not in _EVALUATIONS:
        raise SystemExit(f"{args.detector} was not trained by the MRL/GAN loop (method "
                         f"{method!r}); use python -m engine.training.evaluate")
    if args.decoded_bank is not None and method != "mrl":
        raise SystemExit("--decoded-bank is for the MRL detector")
    extra = {"decoded_bank": args.decoded_bank} if method == "mrl" else {}
    results = _EVALUATIONS[method](detector, card, args.data_root, **extra)
    command = command_line(argv, "python -m engine.training.evaluate_video_gan")
    sys.stdout.write(json.dumps(results, indent=1) + "\n")
    if args.record:
        for key, metrics in results.items():
            record_metrics(store.card_path(args.detector), key, metrics, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
