"""A detector with its weights loaded in one runtime, and the ONE postprocessing of its outputs.

Both runtimes (torch, ONNX Runtime) only turn a normalised NCHW batch into raw graph outputs:
``logits`` and ``map_raw``. Everything that gives those numbers meaning (which logit is
"fake", calibration, how a map is scaled into [0, 1]) happens here, once, in numpy, so the two
runtimes cannot drift apart and the app needs no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from engine.fusion.calibration import PlattCalibration
from engine.fusion.calibration import apply as apply_calibration
from engine.runtime.cfg import DetectorCfg, preprocess

__all__ = ["DetectorOutput", "LoadedDetector", "Runtime", "normalise_maps", "postprocess"]

_TINY = 1e-12


@dataclass(frozen=True, eq=False)
class DetectorOutput:
    """One batch's scores and explanation maps.

    Attributes:
        p_fake_raw: (N,) float64 uncalibrated probability of "fake".
        p_fake: (N,) float64 calibrated probability (equals ``p_fake_raw`` without calibration).
        maps: (N, h, w) float32 in [0, 1], aligned to the whole crop (resize it to the crop
            size), or ``None`` when maps were not requested or the method has none.
        part_maps: (N, M, h, w) float32 in [0, 1], the individual attention maps of a
            multi-attention model (MAT), else ``None``.
    """

    p_fake_raw: npt.NDArray[Any]
    p_fake: npt.NDArray[Any]
    maps: npt.NDArray[Any] | None
    part_maps: npt.NDArray[Any] | None = None


class Runtime(Protocol):
    """What a runtime does: normalised (N, 3, S, S) float32 -> (logits, raw map or None)."""

    def run(
        self, batch_nchw_f32: npt.NDArray[Any]
    ) -> tuple[npt.NDArray[Any], npt.NDArray[Any] | None]:
        """Raw graph outputs for one batch."""
        ...


def _scale_by_max(maps: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """ReLU, then divide each (h, w) map by its own maximum (all-zero maps stay zero)."""
    pos = np.maximum(maps, 0.0)
    peak = pos.max(axis=(-2, -1), keepdims=True)
    return np.asarray(pos / np.maximum(peak, _TINY), dtype=np.float32)


def normalise_maps(
    map_raw: npt.NDArray[Any], cfg: DetectorCfg
) -> tuple[npt.NDArray[Any] | None, npt.NDArray[Any] | None]:
    """Raw map output -> ``(maps (N, h, w), part_maps (N, M, h, w) or None)`` in [0, 1].

    - ``gradcam``: class activation map of the fake log-odds; ReLU and per-face max scaling,
      as Grad-CAM is usually shown (the scale is relative: read it with ``p_fake``).
    - ``xray``: the predicted blending boundary is already a probability per pixel; kept
      absolute, so a real face shows an (almost) empty map.
    - ``attention``: each attention map scaled by its max; the face map is their mean, scaled
      again (the summed attention the MAT paper pools its global feature with). Heads are
      on axis -3, so clip models ((N, T, M, h, w)) get one map per frame.
    """
    kind = cfg.map_kind
    if kind == "none":
        return None, None
    if kind == "gradcam":
        return _scale_by_max(map_raw), None
    if kind == "xray":
        return np.clip(map_raw, 0.0, 1.0).astype(np.float32), None
    parts = _scale_by_max(map_raw)
    # NOTE: axis -3 is the head axis of (N, M, h, w) and of clip maps (N, T, M, h, w).
    return _scale_by_max(parts.mean(axis=-3)), parts


def _p_fake_from_logits(logits: npt.NDArray[Any], cfg: DetectorCfg) -> npt.NDArray[Any]:
    z = np.asarray(logits, dtype=np.float64)
    if cfg.output == "softmax2":
        if z.ndim != 2 or z.shape[1] != 2:
            raise ValueError(f"{cfg.name}: softmax2 expects (N, 2) logits; got {z.shape}")
        z = z[:, 1] - z[:, 0]  # softmax over two classes == sigmoid of the difference
    else:
        z = z.reshape(z.shape[0])
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)


def postprocess(
    logits: npt.NDArray[Any],
    map_raw: npt.NDArray[Any] | None,
    cfg: DetectorCfg,
    calibration: PlattCalibration | None,
    *,
    want_maps: bool,
) -> DetectorOutput:
    """Raw outputs of either runtime -> :class:`DetectorOutput`."""
    p_raw = _p_fake_from_logits(logits, cfg)
    maps = parts = None
    if want_maps and map_raw is not None:
        maps, parts = normalise_maps(np.asarray(map_raw, dtype=np.float32), cfg)
    return DetectorOutput(p_raw, apply_calibration(p_raw, calibration), maps, parts)


class LoadedDetector:
    """A detector ready to score face crops.

    Attributes:
        cfg: the config that travels with the weights (threshold, calibration, hashes).
        calibration: the Platt calibration, or ``None``.
        runtime_name: ``"onnx"`` or ``"torch"``.
        device: where it runs.
        tile_policy: how a native-tile detector covers a picture
            (``engine.runtime.tiles.TilePolicy``, from its card), else ``None``.
    """

    def __init__(
        self, cfg: DetectorCfg, runtime: Runtime, *, runtime_name: str, device: str,
        tile_policy: Any = None,
    ) -> None:
        self.cfg = cfg
        self.calibration = PlattCalibration(*cfg.calibration) if cfg.calibration else None
        self.runtime_name = runtime_name
        self.device = device
        self.tile_policy = tile_policy
        self._runtime = runtime

    @property
    def runtime(self) -> Runtime:
        """The backend that runs the graph (``OnnxRuntime`` or ``TorchRuntime``)."""
        return self._runtime

    def use_runtime(self, runtime: Runtime) -> None:
        """Run through ``runtime`` from now on (a shared graph's view; frees the old one)."""
        self._runtime = runtime

    def predict(self, crops_rgb_u8: npt.NDArray[Any], *, want_maps: bool = False) -> DetectorOutput:
        """Score (N, S, S, 3) uint8 RGB crops made with ``engine.faces.crop.CropPolicy()``."""
        crops = np.asarray(crops_rgb_u8)
        if crops.ndim >= 4 and crops.shape[0] == 0:  # (0, S, S, 3) crops or (0, T, ...) clips
            empty = np.zeros((0,), dtype=np.float64)
            return DetectorOutput(empty, empty.copy(), None)
        logits, map_raw = self._runtime.run(preprocess(crops, self.cfg))
        return postprocess(logits, map_raw, self.cfg, self.calibration, want_maps=want_maps)

    def __repr__(self) -> str:
        return (f"LoadedDetector({self.cfg.name!r}, version={self.cfg.version!r}, "
                f"runtime={self.runtime_name!r}, device={self.device!r})")
