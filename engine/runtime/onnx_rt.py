"""ONNX Runtime backend: the packaged app's default, torch-free.

Every exported detector graph has one input ``input`` (N, 3, S, S) float32 and two outputs:
``logits`` and ``map`` (see ``engine.runtime.export``). The session is built from verified
bytes, never from a path that could change after the hash check.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["OnnxRuntime", "providers_for"]


def providers_for(device: str) -> list[str]:
    """ONNX Runtime execution providers for ``"cpu"`` or ``"cuda"``/``"cuda:N"``.

    Raises:
        ValueError: an unknown device, or CUDA requested but not available in this build.
    """
    import onnxruntime as ort

    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device.startswith("cuda"):
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise ValueError("device 'cuda' needs onnxruntime-gpu; this build has only "
                             f"{ort.get_available_providers()}")
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    raise ValueError(f"unknown device {device!r}; use 'cpu' or 'cuda'")


class OnnxRuntime:
    """Runs one exported detector graph.

    Args:
        model_bytes: the verified ``.onnx`` file content.
        device: ``"cpu"`` or ``"cuda"``.
        threads: intra-op threads (``None`` lets ONNX Runtime choose).
        merged: the graph is several detectors merged by ``engine.runtime.merge`` (outputs
            ``"<name>/logits"``, ``"<name>/map"``; read them with :meth:`run_all`).
    """

    def __init__(self, model_bytes: bytes, *, device: str = "cpu", threads: int | None = None,
                 merged: bool = False):
        import onnxruntime as ort

        self.model_bytes = model_bytes  # kept so detectors can be merged (engine.runtime.shared)
        self.device = device
        self.threads = threads
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # NOTE: ONNX Runtime's idle worker threads spin by default. Our pipeline alternates
        # MediaPipe, NumPy and several sessions, so spinning threads burn the cores the next
        # stage (and the GUI thread) needs: images/s more than doubled without it (see
        # docs/PERFORMANCE.md). Scores are unchanged.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            model_bytes, sess_options=options, providers=providers_for(device)
        )
        self._outputs = [o.name for o in self._session.get_outputs()]
        # NOTE: a merged graph (engine.runtime.shared) names its outputs "<detector>/logits";
        # it is read with run_all only, and the merge checked its outputs.
        if not merged and self._outputs[:1] != ["logits"]:
            raise ValueError(f"ONNX graph must output 'logits' first; has {self._outputs}")

    def run_all(self, batch_nchw_f32: npt.NDArray[Any]) -> dict[str, npt.NDArray[Any]]:
        """Every output of the graph by name (a merged graph has several detectors' outputs)."""
        outs = self._session.run(self._outputs, {"input": batch_nchw_f32.astype(np.float32)})
        return dict(zip(self._outputs, outs, strict=True))

    def run(
        self, batch_nchw_f32: npt.NDArray[Any]
    ) -> tuple[npt.NDArray[Any], npt.NDArray[Any] | None]:
        """(logits, raw map or None) for one normalised batch."""
        outs = self._session.run(self._outputs, {"input": batch_nchw_f32.astype(np.float32)})
        return outs[0], (outs[1] if len(outs) > 1 else None)
