"""One registration for every detector built on EfficientNet-Lite, shipped or candidate.

Every shipped face detector is a network on EfficientNet-Lite0 with the same entrypoint:
optional ImageNet weights for training, optional user weights, the wrapper. This module writes
that entrypoint once (:func:`register_lite`), so the detector modules only say how to build
their network on an encoder.

Issue 19 asks to try a larger input and a larger backbone within the app's speed budget.
:func:`register_with_candidates` registers a shipped face-swap configuration and, derived from
it, the larger candidates (``bench/bench_backbones.py`` measures what each costs the merged
SBI + X-ray + MAT graph; docs/MODELS.md, "Larger backbones and inputs"):

- ``<method>_effl0_256``: the same Lite0 at 256 px, the side of the app's policy face crop and
  of the training face cache, so nothing is upsampled (1.7x the shipped graph's time);
- ``<method>_effl2_256``: Lite2 at 256 px (2.4x).

Candidates are registered like any detector (training configs name them) but ship no weights
until one beats the shipped networks on the dev bench.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.detectors.backbones import EfficientNetLite, load_imagenet_lite
from engine.detectors.base import Detector, DetectorNet, make_detector
from engine.detectors.cfg import LITE_MEAN, LITE_STD
from engine.detectors.registry import register_detector
from engine.runtime.cfg import DetectorCfg, LooksFor, MapKind, OutputKind

__all__ = ["LARGER_CANDIDATES", "register_lite", "register_with_candidates", "shipped_lite_cfg"]

BuildNet = Callable[[EfficientNetLite], DetectorNet]

# (name suffix, EfficientNet-Lite variant, input size) of the larger candidates.
LARGER_CANDIDATES: tuple[tuple[str, int, int], ...] = (("effl0_256", 0, 256),
                                                       ("effl2_256", 2, 256))


def shipped_lite_cfg(
    name: str,
    *,
    map_kind: MapKind,
    looks_for: LooksFor,
    paper: str,
    license: str,
    input_size: int = 192,
    output: OutputKind = "softmax2",
    clip_len: int = 1,
) -> DetectorCfg:
    """The code config of a shipped CPU detector on EfficientNet-Lite: version 1, the Lite
    checkpoints' normalisation, the 0.25 face margin, and weight files named after it
    (``<name>.pt``, ``<name>.onnx``); its card may fill in trained values."""
    return DetectorCfg(
        name=name, version="1", variant="cpu", input_size=input_size, mean=LITE_MEAN,
        std=LITE_STD, face_margin=0.25, clip_len=clip_len, output=output, map_kind=map_kind,
        looks_for=looks_for, weights_file=f"{name}.pt", onnx_file=f"{name}.onnx", paper=paper,
        license=license,
    )


def register_lite(
    cfg: DetectorCfg, build: BuildNet, *, variant: int = 0, head: bool = False
) -> Callable[..., Detector]:
    """Register ``cfg.name``: ``build`` on an EfficientNet-Lite``variant`` encoder.

    Args:
        cfg: the detector's config (its ``input_size`` is the network's input side).
        build: the network on the encoder.
        variant: 0, 1 or 2.
        head: the encoder ends with the ImageNet 1x1 head to 1280 channels.

    Returns:
        the entrypoint (keyword-only ``weights``, ``device``, ``pretrained_backbone``).
    """

    def entrypoint(
        *, weights: Path | None = None, device: str = "cpu", pretrained_backbone: bool = False
    ) -> Detector:
        encoder = EfficientNetLite(variant, head=head)
        if pretrained_backbone:
            load_imagenet_lite(encoder)
        return make_detector(cfg, build(encoder), weights=weights, device=device)

    entrypoint.__name__ = entrypoint.__qualname__ = cfg.name
    entrypoint.__doc__ = (
        f"{cfg.name}: EfficientNet-Lite{variant} at {cfg.input_size} px.\n\n"
        "Args:\n"
        "    weights: a state-dict file to load (shipped weights go through engine.runtime).\n"
        "    device: where to run.\n"
        f"    pretrained_backbone: start the encoder from the ImageNet Lite{variant} checkpoint "
        "(training).\n"
    )
    return register_detector(cfg)(entrypoint)


def register_with_candidates(
    shipped: DetectorCfg, build: BuildNet, *, head: bool = False
) -> Callable[..., Detector]:
    """Register a shipped Lite0 face detector and its larger candidates; returns the shipped
    entrypoint. Each candidate is ``shipped`` renamed ``<method>_<suffix>``, at its own input
    size and variant, without weights."""
    method = shipped.name.removesuffix("_effl0")
    for suffix, variant, size in LARGER_CANDIDATES:
        candidate = shipped.replace(name=f"{method}_{suffix}", version="0", input_size=size,
                                    weights_file=None, onnx_file=None,
                                    license="No weights shipped: a candidate of issue 19.")
        register_lite(candidate, build, variant=variant, head=head)
    return register_lite(shipped, build, head=head)
