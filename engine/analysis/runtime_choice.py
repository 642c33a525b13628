"""Which runtime and device an analysis uses.

ONNX Runtime on the CPU is the default: the packaged app has no torch. PyTorch is used when the
user asks for it, or, with ``"auto"``, when a CUDA GPU is present. Whether CUDA is present is
asked without importing torch when no NVIDIA driver is installed: importing torch costs seconds
and hundreds of MB, which a CPU-only analysis must not pay.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass

__all__ = ["RUNTIMES", "RuntimeChoice", "resolve_runtime"]

RUNTIMES = ("auto", "onnx", "torch")


@dataclass(frozen=True)
class RuntimeChoice:
    """``runtime`` ("onnx" | "torch"), ``device`` to load on ("cpu" | "cuda"), and a label."""

    runtime: str
    device: str
    device_label: str


def resolve_runtime(requested: str) -> RuntimeChoice:
    """Turn ``"auto" | "onnx" | "torch"`` into a concrete runtime and device.

    Raises:
        ValueError: an unknown runtime name.
        ModuleNotFoundError: ``"torch"`` was asked for and torch is not installed.
    """
    if requested not in RUNTIMES:
        raise ValueError(f"unknown runtime {requested!r}; choose one of {', '.join(RUNTIMES)}")
    if requested == "onnx":
        return RuntimeChoice("onnx", "cpu", "cpu")
    if requested == "torch" and importlib.util.find_spec("torch") is None:
        raise ModuleNotFoundError(
            "the torch runtime needs PyTorch, which is not installed; use --runtime onnx"
        )
    cuda_name = _cuda_device_name()
    if cuda_name is not None:
        return RuntimeChoice("torch", "cuda", f"cuda:0 ({cuda_name})")
    if requested == "torch":
        return RuntimeChoice("torch", "cpu", "cpu")
    return RuntimeChoice("onnx", "cpu", "cpu")


def _cuda_device_name() -> str | None:
    """The first CUDA device's name, or ``None`` (torch is imported only if a driver exists)."""
    if importlib.util.find_spec("torch") is None or not _nvidia_driver_present():
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    return str(torch.cuda.get_device_name(0))


def _nvidia_driver_present() -> bool:
    return os.path.exists("/proc/driver/nvidia/version") or shutil.which("nvidia-smi") is not None
