"""One registration for every detector network that has no offline ImageNet weights.

Two kinds of entrypoint share it:

- the **paper-scale** configuration of each method (SBI and MAT on EfficientNet-B4 at 380 px,
  Face X-ray on an HRNet-W18-style encoder, MRL on B4 at 320 px, the GAN detector's ResNet-50),
  registered next to the shipped Lite0 configuration so that weights trained at the published
  scale (on a GPU, by whoever has one) load into the same wrapper, maps and runtime. They ship
  no weights: :func:`paper_scale_cfg` derives each one from the shipped config, so the two
  differ only where the paper does (name, input side, clip length, ImageNet normalisation);
- networks trained from random initialisation on purpose (``gen_nprnet``).

Either way ``pretrained_backbone=True`` is refused with the reason, instead of silently starting
from random weights the caller did not ask for.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.detectors.base import Detector, DetectorNet, make_detector
from engine.detectors.cfg import IMAGENET_MEAN, IMAGENET_STD, DetectorCfg
from engine.detectors.registry import register_detector

__all__ = ["NO_WEIGHTS_LICENSE", "paper_scale_cfg", "register_without_imagenet"]

NO_WEIGHTS_LICENSE = "No weights shipped; bring your own."


def paper_scale_cfg(
    shipped: DetectorCfg, *, name: str, input_size: int, clip_len: int | None = None
) -> DetectorCfg:
    """The published configuration of ``shipped``'s method: the paper's input side (and clip
    length), ImageNet normalisation, the ``full`` variant, version 0 and no weight files."""
    return shipped.replace(
        name=name, version="0", variant="full", input_size=input_size,
        clip_len=shipped.clip_len if clip_len is None else clip_len,
        mean=IMAGENET_MEAN, std=IMAGENET_STD, weights_file=None, onnx_file=None,
        license=NO_WEIGHTS_LICENSE,
    )


def register_without_imagenet(
    cfg: DetectorCfg, build: Callable[[], DetectorNet], *, refusal: str, summary: str
) -> Callable[..., Detector]:
    """Register ``cfg.name``: ``build()`` from random initialisation or from user weights.

    Args:
        cfg: the detector's config.
        build: a fresh network.
        refusal: the ValueError message for ``pretrained_backbone=True`` (why there are none).
        summary: the entrypoint's first docstring line (what the network is).

    Returns:
        the entrypoint (keyword-only ``weights``, ``device``, ``pretrained_backbone``).
    """

    def entrypoint(
        *, weights: Path | None = None, device: str = "cpu", pretrained_backbone: bool = False
    ) -> Detector:
        if pretrained_backbone:
            raise ValueError(refusal)
        return make_detector(cfg, build(), weights=weights, device=device)

    entrypoint.__name__ = entrypoint.__qualname__ = cfg.name
    entrypoint.__doc__ = (
        f"{summary}\n\n"
        "Args:\n"
        "    weights: a state-dict file to load (shipped weights go through engine.runtime).\n"
        "    device: where to run.\n"
        "    pretrained_backbone: must be False.\n\n"
        "Raises:\n"
        f"    ValueError: ``pretrained_backbone`` ({refusal}).\n"
    )
    return register_detector(cfg)(entrypoint)
