"""The network contract every detector implements, and the ``Detector`` wrapper.

A network is pure (no I/O, no losses, no state between calls):

- ``forward(x) -> logits``: what a classifier returns (``cfg.output`` says how to read it);
- ``forward_with_map(x) -> (logits, map_raw)``: logits plus the raw explanation map, exactly
  the two outputs of the exported ONNX graph;
- ``forward_train(x) -> dict``: everything a training loss needs (``logits`` always, plus the
  method's own tensors, e.g. ``map_logits`` or ``attention``).

The ``Detector`` wrapper owns the preprocessing and the output conventions: ``preprocess`` is
the one function training and inference share, and ``predict`` returns the same
:class:`~engine.runtime.loaded.DetectorOutput` as the runtimes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from engine.detectors.backbones import FeatureEncoder, TrunkFeatures
from engine.fusion.calibration import PlattCalibration
from engine.runtime.cfg import DetectorCfg, preprocess
from engine.runtime.loaded import DetectorOutput, postprocess

__all__ = ["Detector", "DetectorNet", "NetInput", "load_weights_file", "make_detector"]

NetInput = torch.Tensor | TrunkFeatures
"""Images (N, 3, S, S), or the taps of a frozen trunk computed elsewhere (CPU training)."""


class DetectorNet(nn.Module):
    """Base class of detector networks (see the module docstring for the contract)."""

    encoder: FeatureEncoder

    def forward_with_map(self, x: NetInput) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and the raw explanation map."""
        raise NotImplementedError

    def forward_train(self, x: NetInput) -> dict[str, torch.Tensor]:
        """Tensors the training losses need; ``logits`` at least."""
        logits: torch.Tensor = self.forward(x)
        return {"logits": logits}

    def freeze_backbone_stages(self, n_stages: int) -> None:
        """Freeze the encoder's stem and first ``n_stages`` stride groups."""
        self.encoder.freeze_stages(n_stages)

    def trunk_state_keys(self, n_stages: int) -> list[str]:
        """State-dict keys (parameters and BatchNorm buffers) of the encoder's stem and first
        ``n_stages`` stride groups: what another run's trunk replaces (``trunk_from``), and
        what detectors must hold bit for bit to share a merged graph's trunk."""
        names_by_id = {id(t): n for n, t in self.state_dict(keep_vars=True).items()}
        return [names_by_id[id(t)] for module in self.encoder.frozen_modules(n_stages)
                for t in module.state_dict(keep_vars=True).values()]


def load_weights_file(net: nn.Module, path: Path) -> None:
    """Load a user-supplied state-dict file into ``net`` (``weights_only=True``, strict)."""
    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    net.load_state_dict(state)


class Detector:
    """A registered network with the config that describes its inputs and outputs.

    Args:
        cfg: the detector config.
        net: the network (weights already loaded, or random/ImageNet init for training).
        device: where the network runs.
    """

    def __init__(self, cfg: DetectorCfg, net: DetectorNet, device: str = "cpu") -> None:
        self.cfg = cfg
        self.device = torch.device(device)
        self.net = net.to(self.device)

    def preprocess(self, crops_rgb_u8: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """(N, S, S, 3) uint8 policy crops -> (N, 3, s, s) float32 network input."""
        return preprocess(crops_rgb_u8, self.cfg)

    def predict(
        self, batch_nchw_f32: npt.NDArray[Any], *, want_maps: bool = False
    ) -> DetectorOutput:
        """Scores (and maps) of a preprocessed batch, calibrated with ``cfg.calibration``."""
        self.net.eval()
        x = torch.from_numpy(np.ascontiguousarray(batch_nchw_f32, dtype=np.float32))
        with torch.inference_mode():
            logits, map_raw = self.net.forward_with_map(x.to(self.device))
        calibration = PlattCalibration(*self.cfg.calibration) if self.cfg.calibration else None
        return postprocess(logits.float().cpu().numpy(), map_raw.float().cpu().numpy(),
                           self.cfg, calibration, want_maps=want_maps)


def make_detector(
    cfg: DetectorCfg, net: DetectorNet, *, weights: Path | None, device: str
) -> Detector:
    """What every entrypoint ends with: optional user weights, then the wrapper."""
    if weights is not None:
        load_weights_file(net, weights)
    return Detector(cfg, net, device)
