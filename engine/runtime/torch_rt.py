"""PyTorch backend: the same raw outputs as the ONNX graph, from the registered network.

Used for training-time validation, for GPUs, and as the reference the ONNX export is tested
against. Every detector network offers ``forward_with_map(x) -> (logits, map_raw)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from engine.detectors.base import DetectorNet

__all__ = ["TorchRuntime"]


class TorchRuntime:
    """Runs a detector network in eval mode without gradients.

    Args:
        net: a detector network (``forward_with_map``).
        device: ``"cpu"`` or a CUDA device string.
    """

    def __init__(self, net: DetectorNet, *, device: str = "cpu") -> None:
        self._device = torch.device(device)
        self._net = net.to(self._device).eval()

    def run(
        self, batch_nchw_f32: npt.NDArray[Any]
    ) -> tuple[npt.NDArray[Any], npt.NDArray[Any] | None]:
        """(logits, raw map) for one normalised batch."""
        x = torch.from_numpy(np.ascontiguousarray(batch_nchw_f32, dtype=np.float32))
        with torch.inference_mode():
            logits, map_raw = self._net.forward_with_map(x.to(self._device))
        return logits.float().cpu().numpy(), map_raw.float().cpu().numpy()
