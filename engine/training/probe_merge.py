"""Release the mean of two linear probes' calibrated logits as one probe (``gen_probe_effl0``).

    python -m engine.training.probe_merge \\
        --config configs/training/gen_probe_effl0_soft_fakes.toml --data-root /work/cache/gen \\
        --a RUNS/gen_probe_effl0/gen_probe_effl0.json \\
        --b RUNS/gen_probe_effl0_soft_fakes/gen_probe_effl0.json --alpha 0.5 \\
        --out RUNS/gen_probe_effl0_merged

Why: two probes on the same frozen encoder can disagree usefully. The probe trained with soft
reals only (run 3) reads softness as "real" and falls below chance on downscaled GAN pictures;
the one trained with soft fakes too (run 10) does not, but ranks native pictures worse
(docs/MODELS_GEN.md, runs 10 and 11). Their logits' mean keeps most of each (run 11: measured,
not shipped).

Both probes are ``BatchNorm (no affine) -> Linear`` on the same pooled statistics of the same
frozen encoder, so each logit is affine in the pooled vector ``x``: ``z = w . (x - mu) / s + b``
with ``s = sqrt(var + eps)``. A weighted sum ``k_a z_a + k_b z_b + c`` is affine in ``x`` too,
and is written exactly into one probe that keeps probe a's BatchNorm statistics: the merged
network costs what one probe costs. ``k`` is each probe's Platt slope times its weight
(``alpha`` for a), ``c`` the same mix of their Platt intercepts, so the mean is taken of the
two calibrated logits; the merged probe is then calibrated and released like any run
(``engine.training.gen_release``: Platt on the validation pairs, the threshold on held-out real
pictures, ONNX export, card), and its card records both probes' cards and ``alpha``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch

from engine.detectors import registry
from engine.detectors.base import Detector
from engine.detectors.gen_probe import ProbeNet
from engine.training.cli import command_line, log_to
from engine.training.config_gen import GenTrainConfig, load_toml_config

__all__ = ["fold_probes", "main", "merged_detector"]

logger = logging.getLogger(__name__)


def fold_probes(a: ProbeNet, b: ProbeNet, k_a: float, k_b: float,
                offset: float) -> dict[str, torch.Tensor]:
    """The state of one probe whose logit is ``k_a * z_a + k_b * z_b + offset``, exactly.

    The result keeps ``a``'s encoder and BatchNorm statistics; only its linear layer changes.

    Raises:
        ValueError: the probes' encoders differ (their pooled vectors would not be the same).
    """
    sa, sb = a.encoder.state_dict(), b.encoder.state_dict()
    if sa.keys() != sb.keys() or any(not torch.equal(sa[k], sb[k]) for k in sa):
        raise ValueError("the probes' encoders differ: only probes on one frozen encoder fold")
    with torch.no_grad():
        mu_a, mu_b = a.norm.running_mean.double(), b.norm.running_mean.double()  # type: ignore[union-attr]
        s_a = (a.norm.running_var.double() + a.norm.eps).sqrt()  # type: ignore[union-attr,operator]
        s_b = (b.norm.running_var.double() + b.norm.eps).sqrt()  # type: ignore[union-attr,operator]
        w_a, w_b = a.fc.weight.double()[0], b.fc.weight.double()[0]
        b_a, b_b = float(a.fc.bias[0]), float(b.fc.bias[0])
        # NOTE: in a's normalisation, w' / s_a = k_a w_a / s_a + k_b w_b / s_b for x, and the
        # constants collect into the bias (derivation in the module docstring).
        w = k_a * w_a + k_b * w_b * s_a / s_b
        bias = k_a * b_a + k_b * b_b + offset + k_b * float((w_b * (mu_a - mu_b) / s_b).sum())
        state = {k: v.clone() for k, v in a.state_dict().items()}
        state["fc.weight"] = w.to(a.fc.weight.dtype)[None, :]
        state["fc.bias"] = torch.tensor([bias], dtype=a.fc.bias.dtype)
    return state


def _load_probe(card_path: Path) -> tuple[Detector, tuple[float, float], dict[str, Any]]:
    """The probe released next to ``card_path``, its Platt parameters and its card."""
    card = json.loads(card_path.read_text(encoding="utf-8"))
    cfg = card["cfg"]
    detector = registry.create_detector(cfg["name"], pretrained_backbone=False)
    detector.net.load_state_dict(torch.load(card_path.parent / cfg["weights_file"],
                                            map_location="cpu", weights_only=True))
    detector.net.eval()
    if not isinstance(detector.net, ProbeNet):
        raise ValueError(f"{cfg['name']} is not a linear probe")
    slope, intercept = cfg["calibration"]
    return detector, (float(slope), float(intercept)), card


def merged_detector(card_a: Path, card_b: Path, alpha: float) -> tuple[Detector, dict[str, Any]]:
    """Probe a's detector holding the folded mix of a and b; and the record for the card."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1; got {alpha}")
    det_a, (ka, ca), a = _load_probe(card_a)
    det_b, (kb, cb), b = _load_probe(card_b)
    if det_a.cfg.name != det_b.cfg.name:
        raise ValueError(f"two different detectors: {det_a.cfg.name} and {det_b.cfg.name}")
    state = fold_probes(det_a.net, det_b.net, alpha * ka, (1 - alpha) * kb,  # type: ignore[arg-type]
                        alpha * ca + (1 - alpha) * cb)
    det_a.net.load_state_dict(state)
    record = {"alpha": alpha, "rule": "alpha * (calibrated logit of a) + (1 - alpha) * (b's)",
              "a": {"card": str(card_a), "weights_sha256": a["cfg"]["weights_sha256"],
                    "calibration": [ka, ca], "training": a.get("training", {}).get("command")},
              "b": {"card": str(card_b), "weights_sha256": b["cfg"]["weights_sha256"],
                    "calibration": [kb, cb], "training": b.get("training", {}).get("command")}}
    return det_a, record


def main(argv: list[str] | None = None) -> int:
    from engine.training.gen_release import release

    parser = argparse.ArgumentParser(prog="python -m engine.training.probe_merge",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True,
                        help="the training TOML whose packs and tile policy the release uses")
    parser.add_argument("--data-root", type=Path, required=True, help="pair pack folder")
    parser.add_argument("--a", type=Path, required=True, help="card JSON of probe a")
    parser.add_argument("--b", type=Path, required=True, help="card JSON of probe b")
    parser.add_argument("--alpha", type=float, default=0.5, help="weight of probe a")
    parser.add_argument("--out", type=Path, required=True, help="release folder")
    args = parser.parse_args(argv)
    cfg = load_toml_config(GenTrainConfig, args.config)
    args.out.mkdir(parents=True, exist_ok=True)
    log_to(args.out / "merge.log")
    command = command_line(argv, "python -m engine.training.probe_merge")
    detector, record = merged_detector(args.a, args.b, args.alpha)
    logger.info("folded %s and %s at alpha %.2f", args.a, args.b, args.alpha)
    run = SimpleNamespace(detector=detector, train_command=command, elapsed_s=0.0,
                          step=cfg.steps,
                          hardware="no training: two released probes folded on the CPU")
    release(run, cfg, args.data_root, args.out, command=command,
            config_toml=args.config.read_text(encoding="utf-8"), merged=record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
