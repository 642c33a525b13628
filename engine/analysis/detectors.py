"""The detectors an analysis runs: loaded once, described for provenance, asked in batches.

The orchestrator talks to a loaded detector only through :class:`LoadedDetectorLike` (what
``engine.runtime.load_detector`` returns): ``cfg`` (name, version, clip_len, threshold,
weights_sha256) and ``predict(crops_rgb_u8, want_maps=...)``. Tests inject fakes of this shape
through ``Analyzer(detector_factory=...)``; the application never does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from engine.types import DetectorProvenance

__all__ = [
    "DetectorFactory",
    "DetectorOutputLike",
    "LoadedDetectorLike",
    "RunningDetector",
    "describe_calibration",
    "running_detector",
]


class DetectorOutputLike(Protocol):
    """One batch's output: (N,) raw and calibrated p_fake, and (N, h, w) maps or ``None``."""

    p_fake_raw: np.ndarray
    p_fake: np.ndarray
    maps: np.ndarray | None


class LoadedDetectorLike(Protocol):
    """A detector with weights loaded in a runtime, ready to score face crops or clips."""

    cfg: Any

    def predict(self, crops_rgb_u8: np.ndarray, *, want_maps: bool = False) -> Any:
        """Score (N, S, S, 3) uint8 crops, or (N, T, S, S, 3) clips when ``cfg.clip_len > 1``."""
        ...


DetectorFactory = Callable[[str, str, str], LoadedDetectorLike]
"""``factory(name, runtime, device) -> LoadedDetectorLike``; the default loads real weights."""


@dataclass(frozen=True, eq=False)
class RunningDetector:
    """A loaded detector with what the orchestrator needs to know about it."""

    name: str
    clip_len: int
    loaded: LoadedDetectorLike
    provenance: DetectorProvenance
    group: Any = None
    """A ``engine.runtime.shared.SharedGroup`` this detector runs in, or ``None`` (alone)."""


def running_detector(loaded: LoadedDetectorLike, group: Any = None) -> RunningDetector:
    """Wrap a loaded detector, reading its name, clip length and provenance from its cfg."""
    cfg = loaded.cfg
    clip_len = int(getattr(cfg, "clip_len", 1))
    if clip_len < 1:
        raise ValueError(f"detector {cfg.name!r} has clip_len {clip_len}; must be >= 1")
    provenance = DetectorProvenance(
        name=str(cfg.name),
        version=str(cfg.version),
        weights_sha256=_loaded_weights_sha256(loaded),
        threshold=float(cfg.threshold),
        calibration=describe_calibration(loaded),
        looks_for=_looks_for(cfg),
    )
    return RunningDetector(str(cfg.name), clip_len, loaded, provenance, group)


def _looks_for(cfg: Any) -> str:
    """The kind of manipulation the detector declares (``DetectorCfg.looks_for``).

    Raises:
        ValueError: the cfg declares none or an unknown one (its scores could not be fused).
    """
    from engine.types import EvidenceKind

    looks_for = getattr(cfg, "looks_for", None)
    if looks_for not in {k.value for k in EvidenceKind}:
        raise ValueError(f"detector {cfg.name!r} declares no known looks_for: {looks_for!r}")
    return str(looks_for)


def _loaded_weights_sha256(loaded: LoadedDetectorLike) -> str:
    """SHA-256 of the file actually loaded: the ONNX graph under ONNX Runtime, else the .pt."""
    cfg = loaded.cfg
    if getattr(loaded, "runtime_name", None) == "onnx" and getattr(cfg, "onnx_sha256", None):
        return str(cfg.onnx_sha256)
    return str(cfg.weights_sha256)


def describe_calibration(loaded: LoadedDetectorLike) -> str:
    """A one-line description of how the detector's raw output is calibrated."""
    calibration = getattr(loaded, "calibration", None)
    if calibration is None:
        return "none (p_fake = raw output)"
    describe = getattr(calibration, "describe", None)
    return str(describe()) if callable(describe) else repr(calibration)
