"""Export a detector to ONNX: fixed opset, dynamic batch, outputs ``logits`` and ``map``.

The graph is ``forward_with_map`` of the registered network: the logits and the raw explanation
map (SBI's class activation map, Face X-ray's boundary probabilities, MAT's attention maps), so
the ONNX Runtime path needs no gradient and no torch. After export the graph is checked with
``onnx.checker`` and run once in ONNX Runtime against torch on the same input.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.detectors.base import DetectorNet
from engine.runtime.cfg import DetectorCfg

__all__ = ["ONNX_OPSET", "export_net", "export_onnx"]

logger = logging.getLogger(__name__)

# NOTE: opset 17 is supported by every onnxruntime >= 1.14 the app may ship with, and by the
# onnx 1.17 checker (newer onnx needs protobuf 6, which mediapipe cannot use).
ONNX_OPSET = 17


class _Graph(nn.Module):
    def __init__(self, net: DetectorNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net.forward_with_map(x)


def export_net(
    net: DetectorNet, cfg: DetectorCfg, out: Path, *, opset: int = ONNX_OPSET, atol: float = 1e-4
) -> Path:
    """Write ``net`` as ONNX to ``out`` and check it against torch.

    Raises:
        AssertionError: ONNX Runtime and torch disagree by more than ``atol``.
    """
    import onnx

    net = net.cpu().eval()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(0)
    frame = (3, cfg.input_size, cfg.input_size)
    shape = (2, cfg.clip_len, *frame) if cfg.clip_len > 1 else (2, *frame)  # clips: NTCHW
    example = torch.randn(*shape, generator=generator)
    with warnings.catch_warnings(record=True) as caught:
        # NOTE: the TorchScript exporter is deliberate: the dynamo exporter needs onnxscript,
        # which needs onnx >= 1.18 and protobuf 6, which mediapipe cannot use. Its deprecation
        # and constant-folding notices are routed to the log instead of raised; the export is
        # then verified numerically below, which is what matters.
        warnings.simplefilter("always")
        torch.onnx.export(
            _Graph(net).eval(), (example,), str(out), opset_version=opset, input_names=["input"],
            output_names=["logits", "map"],
            dynamic_axes=_dynamic_axes(cfg),
            do_constant_folding=True, dynamo=False,
        )
    for item in caught:
        logger.debug("onnx export of %s: %s: %s", cfg.name, item.category.__name__, item.message)
    onnx.checker.check_model(onnx.load(str(out)))
    _check_parity(net, out, example, atol)
    logger.info("exported %s to %s (opset %d)", cfg.name, out, opset)
    return out


def _dynamic_axes(cfg: DetectorCfg) -> dict[str, dict[int, str]]:
    """Batch is dynamic; so are height and width of a native-tile detector, whose tiles keep
    their own size (an image smaller than a tile is one smaller tile, never resized)."""
    if cfg.input_mode == "native_tiles":
        return {"input": {0: "batch", 2: "height", 3: "width"}, "logits": {0: "batch"},
                "map": {0: "batch", 1: "map_height", 2: "map_width"}}
    return {"input": {0: "batch"}, "logits": {0: "batch"}, "map": {0: "batch"}}


def _check_parity(net: DetectorNet, onnx_path: Path, example: torch.Tensor, atol: float) -> None:
    from engine.runtime.onnx_rt import OnnxRuntime

    with torch.inference_mode():
        ref_logits, ref_map = net.eval().forward_with_map(example)
    ort_logits, ort_map = OnnxRuntime(onnx_path.read_bytes(), threads=2).run(example.numpy())
    np.testing.assert_allclose(ort_logits, ref_logits.numpy(), atol=atol, rtol=1e-3)
    assert ort_map is not None, "the exported graph has no map output"
    np.testing.assert_allclose(ort_map, ref_map.numpy(), atol=atol, rtol=1e-3)


def export_onnx(name: str, weights: Path | None, out: Path, opset: int = ONNX_OPSET) -> Path:
    """Export registered detector ``name`` with a state-dict file (``None``: random init)."""
    from engine.detectors import registry

    detector = registry.create_detector(name, weights=weights)
    return export_net(detector.net, detector.cfg, out, opset=opset)
