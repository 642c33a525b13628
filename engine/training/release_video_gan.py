"""After training the MRL or GAN detector: calibrate, measure, save, export, write the card.

The held-out set is split in two halves: Platt scaling (``engine.fusion.calibration``) is fitted
on one, the metrics are measured on the other (MRL: a real clip and its fake stay in the same
half; GAN: alternate faces of each class). The GAN detector is measured on three views of the
same held-out faces: the policy crop, the crop with its background removed and the margin-0
centre crop (the grey-background check, docs/MODELS_VIDEO_GAN.md); calibration is fitted on
the policy view only, the one inference sees.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.fusion import calibration
from engine.runtime.export import ONNX_OPSET, export_net
from engine.runtime.weights import CARD_SCHEMA, sha256_file
from engine.training.card import write_card
from engine.training.config_video_gan import VideoGanConfig
from engine.training.loop_video_gan import VgRun, VgValidation, score_clip_pairs, score_images
from engine.training.metrics import average_precision, roc_auc, summarize

__all__ = ["SHIPPED_THRESHOLD", "measure_gan", "measure_mrl", "release"]

logger = logging.getLogger(__name__)

# NOTE: 0.5 on the calibrated probability; both calibration halves are (nearly) balanced.
SHIPPED_THRESHOLD = 0.5

GAN_TERMS = (
    "Generated faces: `faces_gan/generated_photos` (1,500 StyleGAN-style portraits, 'Generated "
    "Photos' style; redistribution terms not documented: research use). Real faces: UTKFace "
    "`crop_part1` (non-commercial research only; copyright stays with the photo owners), "
    "CelebA crops (non-commercial research only) and frames of `videos_real` (research demo "
    "use). No image is shipped; the weights are for research use only."
)
MRL_TERMS = (
    "Real clips: tracked faces of `videos_real` (research demo use: MIT/Apache code "
    "repositories, clips from the internet, Pexels licence) and pseudo-clips of UTKFace / "
    "CelebA stills (non-commercial research only; copyright stays with the photo owners). "
    "Fakes: synthesised on the fly from those reals (`engine.synthesis.temporal`). No image is "
    "shipped; the weights are for research use only."
)


def _halves_by_class(labels: np.ndarray) -> np.ndarray:
    """Boolean fit mask: every other item of each class (the rest is measured)."""
    fit = np.zeros(len(labels), dtype=bool)
    for value in (0, 1):
        idx = np.flatnonzero(labels == value)
        fit[idx[::2]] = True
    return fit


def _measure(p_raw: np.ndarray, labels: np.ndarray, fit: np.ndarray,
             platt: calibration.PlattCalibration) -> dict[str, Any]:
    p_cal = platt.apply(p_raw[~fit])
    metrics: dict[str, Any] = summarize(p_cal, labels[~fit], SHIPPED_THRESHOLD)
    metrics["auc_all_val"] = roc_auc(p_raw, labels)
    metrics["ap_all_val"] = average_precision(p_raw, labels)
    metrics["n_all_val"] = len(labels)
    return metrics


def measure_gan(run: VgRun, val: VgValidation) -> tuple[calibration.PlattCalibration,
                                                       dict[str, dict[str, Any]]]:
    """Platt fitted on the policy view; metrics of every view on the measuring half."""
    views = val.views or {}
    scores = {name: score_images(run.detector, view.crops) for name, view in views.items()}
    labels = views["policy"].labels
    fit = _halves_by_class(labels)
    platt = calibration.fit(scores["policy"][fit], labels[fit])
    return platt, {f"val_{name}": _measure(scores[name], labels, fit, platt) for name in views}


def measure_mrl(run: VgRun, val: VgValidation) -> tuple[calibration.PlattCalibration,
                                                       dict[str, dict[str, Any]]]:
    """Platt fitted on the even pairs; metrics per clip kind on the odd pairs, and AUC per mode
    on all pairs of video clips."""
    specs = val.specs or []
    p_raw, labels = score_clip_pairs(run.detector, val)
    pair = np.repeat(np.arange(len(specs)), 2)
    fit = pair % 2 == 0
    platt = calibration.fit(p_raw[fit], labels[fit])
    kinds = np.repeat(np.array([s.kind for s in specs]), 2)
    modes = np.repeat(np.array([s.mode for s in specs]), 2)
    metrics: dict[str, dict[str, Any]] = {}
    for kind in ("video", "pseudo"):
        keep = kinds == kind
        if keep.any():
            m = _measure(p_raw[keep], labels[keep], fit[keep], platt)
            # a pair's real and fake clip share the pair's mode, so each mode is a balanced set
            m["auc_by_mode_all_val"] = {
                mode: roc_auc(p_raw[keep & (modes == mode)], labels[keep & (modes == mode)])
                for mode in sorted(set(modes[keep].tolist()))
            }
            metrics[f"val_{kind}_clips"] = m
    return platt, metrics


def _hardware() -> str:
    cpu = platform.processor() or platform.machine()
    return (f"{cpu}, {os.cpu_count()} logical CPUs shared with other jobs, "
            f"torch {torch.__version__} with {torch.get_num_threads()} threads, no GPU")


_GAN_CARD_TEXT = {
    "display_name": "GAN-generated image (CNNDetection)",
    "scope": "image",
    "data_terms": GAN_TERMS,
    "summary": (
        "Binary classifier of generated vs real faces (Wang et al. 2020 recipe: blur + "
        "JPEG augmentation, random crops, no resizing at test time) on EfficientNet-"
        "Lite0. Scores whole pictures in native 256 px tiles (engine.runtime.tiles; "
        "the card's tile_policy)."),
    "limitations": (
        "Trained on ONE family of generated portraits (StyleGAN-style, frontal, grey "
        "studio background): other generators, diffusion models and face swaps are not "
        "covered by its measurements. Real faces are web photos and a few videos; their "
        "resolution and background differ from the generated set (val_oval and "
        "val_margin0 measure it without background). It still separates the classes "
        "when both are reduced to a 64 px face (val_lowres64), where little of a "
        "generator's pixel-level trace survives: it also uses the look of this "
        "generated set (studio-lit, frontal, young adults), so expect false alarms on "
        "real studio portraits and misses on other generators. Not validated on "
        "in-the-wild generated images."),
    "metrics_note": (
        "val_* = held-out generated portraits vs held-out real faces (UTKFace, CelebA, "
        "frames of held-out videos), measured on the half not used for calibration: "
        "policy = the crop inference sees; oval = background outside the face "
        "silhouette set to black (oval_meanfill: to the face's mean colour); margin0 = "
        "central 160 px (landmark box, no margin); lowres64 / jpeg75 = both classes "
        "resampled through 64 px / JPEG quality 75. dev_eval_dfdc_real = share of 11 "
        "unseen real DFDC faces below the threshold."),
}

_MRL_CARD_TEXT = {
    "display_name": "Masked Relation Learning (video)",
    "scope": "clip",
    "data_terms": MRL_TERMS,
    "summary": (
        "Video detector: N = 4 attention heads pick facial regions in each of T = 8 frames "
        "of one face track, a masked relation graph links them, a GCN + graph GRU follows "
        "them over time (Yang et al. 2023). Input: clips (N, 8, 256, 256, 3) of policy "
        "crops, resized to 160 px. Map: per-frame, per-head region attention."),
    "metrics_note": (
        "val_*_clips = held-out real clips (videos never trained on; pseudo-clips of "
        "held-out stills) vs their synthetic temporal fakes (drift / jump / donor), on the "
        "pairs not used for calibration; stride2 / stride4 = windows of every 2nd / 4th "
        "cached frame. dev_eval_dfdc_videos = 8-frame windows of the 2 DFDC deepfake "
        "videos vs stride-4 windows of held-out real videos: a smoke check, not a "
        "benchmark."),
    "limitations": (
        "Trained only on synthetic temporal fakes (drifting or jumping self-blends, donor "
        "blends) made from about twenty real people's videos and pseudo-clips of stills; "
        "its validation AUC says it learnt those artefacts, not how it does on real "
        "deepfake videos. Clips are T consecutive analysed frames: their spacing depends on "
        "the sampling (trained with strides 1-4 of every 2nd video frame)."),
}


def _card_text(cfg: VideoGanConfig) -> dict[str, str]:
    """The card's display name, scope, terms, summary, limitations and metrics note."""
    if cfg.method == "gan":
        return dict(_GAN_CARD_TEXT)
    text = dict(_MRL_CARD_TEXT)
    decoded_share = cfg.decoded_share
    if decoded_share > 0.0:
        text["limitations"] = (
            "Trained only on synthetic fakes made from about twenty real people's videos and "
            "pseudo-clips of stills: temporal self-blends that drift or jump and donor blends "
            f"({1.0 - decoded_share:.0%} of the pairs), and decoder-drawn clips "
            f"({decoded_share:.0%}; engine.training.decoded_clips): a clip against each frame's "
            "own TAEF2 reconstruction, and a still's one reconstruction moved by a jitter walk "
            "against a fresh reconstruction per frame moved the same way. Its validation AUC "
            "says it learnt those artefacts; how it does on real deepfake and talking-head "
            "videos is in the card's dev-bench section. Clips are T consecutive analysed frames: "
            "their spacing depends on the sampling (trained with strides 1-4 of every 2nd "
            "video frame).")
        text["data_terms"] += (
            " Decoder-drawn fakes: reconstructions by TAEF2 (MIT licence; madebyollin/taesd, "
            "weights in ../shared/models/taef2), made once before training; none is shipped.")
        text["metrics_note"] += (
            " val_decoded_clips = held-out decoder-drawn pairs (every non-overlapping window of "
            "the held-out videos and every held-out still of the validation bank; "
            "evaluate_video_gan --decoded-bank), none used for calibration.")
    return text


def release(run: VgRun, cfg: VideoGanConfig, val: VgValidation, out: Path, *, command: str,
            config_toml: str) -> Path:
    """Write ``out/<name>.{pt,onnx,json,md}``; returns the card JSON path."""
    detector = run.detector
    name = detector.cfg.name
    platt, metrics = (measure_gan if cfg.method == "gan" else measure_mrl)(run, val)
    for value in metrics.values():
        value["command"] = command
    logger.info("%s validation: %s; %s", name, metrics, platt.describe())
    weights_path = out / f"{name}.pt"
    torch.save(detector.net.state_dict(), weights_path)
    onnx_path = export_net(detector.net, detector.cfg, out / f"{name}.onnx", opset=ONNX_OPSET)
    final_cfg = detector.cfg.replace(
        threshold=SHIPPED_THRESHOLD, calibration=platt.as_tuple(),
        weights_file=weights_path.name, weights_sha256=sha256_file(weights_path),
        onnx_file=onnx_path.name, onnx_sha256=sha256_file(onnx_path), onnx_opset=ONNX_OPSET,
    )
    n_val = len(val.specs or []) * 2 or len(next(iter((val.views or {}).values())).labels)
    card: dict[str, Any] = {
        "schema": CARD_SCHEMA,
        "cfg": final_cfg.to_dict(),
        "metrics": metrics,
        "training": {
            "command": command, "config": cfg.to_dict(), "config_toml": config_toml,
            "elapsed_s": run.elapsed_s, "steps": run.step, "hardware": _hardware(),
            "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "stopped_by_time_budget": run.step < cfg.steps,
            "train_data": run.sampler.describe(),
            # NOTE: the keys the shared card renderer prints (faces, or frames + stills).
            "n_train_faces": run.sampler.describe()["n_items"],
            "n_val_faces": n_val,
        },
        **_card_text(cfg),
    }
    json_path, _ = write_card(out, card)
    return json_path
