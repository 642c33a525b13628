"""After training: calibrate, measure, save the state dict, export ONNX, write the model card.

The validation faces are split in two halves by face (a real face and its fake stay together):
Platt scaling is fitted on one half, AUC / AP / accuracy at the shipped threshold are measured
on the other, so the reported accuracy is not measured on the data that set the calibration.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from engine.fusion import calibration
from engine.runtime.cfg import DetectorCfg
from engine.runtime.export import ONNX_OPSET, export_net
from engine.runtime.loaded import LoadedDetector
from engine.runtime.onnx_rt import OnnxRuntime
from engine.runtime.weights import CARD_SCHEMA, sha256_file
from engine.training.card import apply_notes, read_card, write_card
from engine.training.config import TrainConfig
from engine.training.datasets import ValSet
from engine.training.loop import TrainRun, hardware_description
from engine.training.metrics import roc_auc, summarize

__all__ = ["SHIPPED_THRESHOLD", "calibrate_and_measure", "previous_stages", "release"]

logger = logging.getLogger(__name__)

# NOTE: 0.5 on the calibrated probability: the calibration half is balanced (one fake per
# real), so this is the threshold that minimises error on it.
SHIPPED_THRESHOLD = 0.5


def calibrate_and_measure(
    p_raw: npt.NDArray[Any], labels: npt.NDArray[Any]
) -> tuple[calibration.PlattCalibration, dict[str, float]]:
    """Fit Platt on even faces, measure on odd faces (crops are [reals..., fakes...])."""
    n = len(labels) // 2
    face = np.r_[np.arange(n), np.arange(n)]
    fit_mask = face % 2 == 0
    platt = calibration.fit(p_raw[fit_mask], labels[fit_mask])
    p_cal = platt.apply(p_raw[~fit_mask])
    metrics = summarize(p_cal, labels[~fit_mask], SHIPPED_THRESHOLD)
    metrics["auc_all_val"] = roc_auc(p_raw, labels)
    return platt, metrics


def _score_with_onnx(onnx_path: Path, cfg: DetectorCfg, val: ValSet) -> npt.NDArray[Any]:
    loaded = LoadedDetector(cfg, OnnxRuntime(onnx_path.read_bytes(), threads=2),
                            runtime_name="onnx", device="cpu")
    return np.concatenate([loaded.predict(val.crops[i : i + 64]).p_fake_raw
                           for i in range(0, len(val.crops), 64)])


def previous_stages(cfg: TrainConfig, out: Path) -> list[dict[str, Any]]:
    """Provenance of the runs this one started from (``init_from`` / ``trunk_from``).

    Each entry carries the other run's command, training time and its own earlier stages, read
    from the model card its release wrote next to its checkpoint, so a card names every command
    needed to reproduce the weights. A run without a card is recorded as such.
    """
    stages: list[dict[str, Any]] = []
    for role, rel in (("init_from", cfg.init_from), ("trunk_from", cfg.trunk_from)):
        if not rel:
            continue
        entry: dict[str, Any] = {"role": role, "checkpoint": rel, "command": None}
        for candidate in sorted((out.parent / rel).parent.glob("*.json")):
            try:
                training = read_card(candidate).get("training", {})
            except (ValueError, KeyError, TypeError):
                continue
            entry.update({key: training.get(key) for key in
                          ("command", "elapsed_s", "steps", "finished_utc", "hardware")})
            entry["previous_stages"] = training.get("previous_stages", [])
            break
        else:
            logger.warning("%s: no model card next to %s; its provenance is not recorded",
                           role, rel)
        stages.append(entry)
    return stages


def release(
    run: TrainRun,
    cfg: TrainConfig,
    val: ValSet,
    out: Path,
    *,
    command: str,
    config_toml: str,
    n_faces: tuple[int, int],
    held_out_clips: list[str] | None = None,
    wise: dict[str, Any] | None = None,
) -> Path:
    """Write ``out/<name>.{pt,onnx,json,md}``; returns the card JSON path.

    ``wise`` records that the network is a WiSE-FT interpolation (``engine.training.wise``).
    """
    detector = run.detector
    name = detector.cfg.name
    weights_path = out / f"{name}.pt"
    torch.save(detector.net.state_dict(), weights_path)
    onnx_path = export_net(detector.net, detector.cfg, out / f"{name}.onnx", opset=ONNX_OPSET)
    # NOTE: the reported numbers come from the exported graph the app will run.
    p_raw = _score_with_onnx(onnx_path, detector.cfg, val)
    platt, measured = calibrate_and_measure(p_raw, val.labels)
    metrics: dict[str, Any] = dict(measured)
    logger.info("%s validation: %s; %s", name, metrics, platt.describe())
    final_cfg = detector.cfg.replace(
        threshold=SHIPPED_THRESHOLD, calibration=platt.as_tuple(),
        weights_file=weights_path.name, weights_sha256=sha256_file(weights_path),
        onnx_file=onnx_path.name, onnx_sha256=sha256_file(onnx_path), onnx_opset=ONNX_OPSET,
    )
    metrics["command"] = command
    training = {
        # NOTE: the command that trained (recorded in the checkpoint), and the one releasing
        # it when that differs (a GPU run released next to the face cache).
        "command": run.train_command or command, "config": cfg.to_dict(),
        "config_toml": config_toml,
        "elapsed_s": run.elapsed_s, "steps": run.step,
        # NOTE: the checkpoint's record: a GPU run may be released on a CPU machine.
        "hardware": run.hardware or hardware_description(cfg),
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "n_train_faces": n_faces[0], "n_val_faces": n_faces[1], "data_note": run.data_note,
        "held_out_clips": held_out_clips or [],
        "previous_stages": previous_stages(cfg, out),
    }
    if run.train_command and run.train_command != command:
        training["release_command"] = command
    if wise is not None:
        training["wise"] = wise
    card: dict[str, Any] = apply_notes(
        {"schema": CARD_SCHEMA, "cfg": final_cfg.to_dict(), "metrics": {"synthetic_val": metrics},
         "training": training}, cfg.method)
    json_path, _ = write_card(out, card)
    return json_path
