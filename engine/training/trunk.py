"""The frozen part of an encoder, run in ONNX Runtime during CPU training.

With the stem and the first stride groups frozen, their output depends only on the input, so
any faithful runtime may compute it. On this project's CPUs ONNX Runtime runs that trunk about
five times faster than PyTorch (fused conv + BN + activation), which turns into several times
more training images in the same wall time. The trunk is exported from the very modules that
are frozen, checked against torch once, and its taps are handed to the encoder as
:class:`~engine.detectors.backbones.TrunkFeatures`; everything after it trains in torch as usual.
"""

from __future__ import annotations

import io
import logging
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from engine.detectors.backbones import FeatureEncoder, TrunkFeatures

__all__ = ["OnnxTrunk"]

logger = logging.getLogger(__name__)


class OnnxTrunk:
    """Stem + first ``n_stages`` stride groups of ``encoder`` as an ONNX Runtime session.

    Args:
        encoder: the encoder whose frozen trunk is exported (eval mode, current weights).
        n_stages: stride groups covered (must equal the frozen ones).
        input_size: network input side in pixels.
        threads: ONNX Runtime intra-op threads.

    Raises:
        AssertionError: ONNX Runtime and torch disagree on the trunk (atol 1e-3).
    """

    def __init__(
        self, encoder: FeatureEncoder, n_stages: int, input_size: int, *, threads: int
    ) -> None:
        import onnxruntime as ort

        trunk = encoder.trunk(n_stages).eval()
        generator = torch.Generator().manual_seed(0)
        example = torch.randn(2, 3, input_size, input_size, generator=generator)
        names = [f"tap{i}" for i in range(n_stages)]
        buffer = io.BytesIO()
        with warnings.catch_warnings(record=True):
            # NOTE: see engine.runtime.export: the TorchScript exporter's notices are expected.
            warnings.simplefilter("always")
            torch.onnx.export(trunk, (example,), buffer,  # type: ignore[arg-type]
                              opset_version=17, input_names=["input"],
                              output_names=names, dynamo=False,
                              dynamic_axes={n: {0: "batch"} for n in ["input", *names]})
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(buffer.getvalue(), sess_options=options,
                                             providers=["CPUExecutionProvider"])
        with torch.inference_mode():
            expected = trunk(example)
        got = self._session.run(None, {"input": example.numpy()})
        for want, have in zip(expected, got, strict=True):
            np.testing.assert_allclose(have, want.numpy(), atol=1e-3, rtol=1e-3)
        logger.info("frozen trunk (%d stride groups) runs in ONNX Runtime", n_stages)

    def __call__(self, images_nchw: npt.NDArray[Any]) -> TrunkFeatures:
        """Taps of the trunk for a normalised (N, 3, S, S) float32 batch."""
        outs = self._session.run(None, {"input": np.ascontiguousarray(images_nchw, np.float32)})
        return TrunkFeatures(tuple(torch.from_numpy(o) for o in outs))
