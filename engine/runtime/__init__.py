"""Run detectors with their shipped weights: ONNX Runtime (the app) or PyTorch.

``load_detector(name, runtime=..., device=...)`` reads the card that travels with the weights,
checks the SHA-256 of the weights before deserialising them, and returns a
:class:`LoadedDetector` whose ``predict(crops_rgb_u8, want_maps=...)`` gives calibrated
``p_fake`` and [0, 1] maps. The ONNX path imports neither torch nor ``engine.detectors``.
"""

from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import Any, Literal

from engine.errors import WeightsIntegrityError
from engine.runtime.cfg import DetectorCfg, preprocess
from engine.runtime.loaded import DetectorOutput, LoadedDetector, Runtime, postprocess
from engine.runtime.tiles import TilePolicy
from engine.runtime.weights import WeightsStore, default_models_dir

__all__ = [
    "DetectorCfg",
    "DetectorOutput",
    "LoadedDetector",
    "Runtime",
    "WeightsStore",
    "default_models_dir",
    "list_shipped",
    "load_detector",
    "postprocess",
    "preprocess",
]


# NOTE: one ONNX Runtime session per graph, device and thread count in a process. Two detectors
# that read the same network (gen_probe_effl0 on whole pictures, gen_probe_face_effl0 on face
# regions) then hold one session, and the second costs no memory (docs/PERFORMANCE.md). A
# session keeps no state between runs, and ONNX Runtime's run() may be called from several
# threads. Weak values: the session goes when the last detector holding it does.
_SESSIONS: weakref.WeakValueDictionary[tuple[str, str, int | None], Any] = (
    weakref.WeakValueDictionary())
_SESSIONS_LOCK = threading.Lock()


def list_shipped(models_dir: Path | None = None) -> list[str]:
    """Detectors with weights in ``models_dir`` (default: the shipped models), sorted."""
    return WeightsStore(models_dir).names()


def load_detector(
    name: str,
    *,
    runtime: Literal["onnx", "torch"] = "onnx",
    device: str = "cpu",
    models_dir: Path | None = None,
    threads: int | None = None,
) -> LoadedDetector:
    """Load ``name``'s verified weights into a runtime.

    Args:
        name: detector id (see :func:`list_shipped`).
        runtime: ``"onnx"`` (no torch needed) or ``"torch"``.
        device: ``"cpu"`` or ``"cuda"``.
        models_dir: where the weights are; default :func:`default_models_dir`.
        threads: intra-op CPU threads (``None``: the runtime's default).

    Raises:
        UnknownDetectorError: no such detector (lists the valid ones).
        WeightsIntegrityError: weights missing or failing the SHA-256 check.
        ValueError: an unknown runtime or device.
    """
    store = WeightsStore(models_dir)
    if runtime == "onnx":
        from engine.runtime.onnx_rt import OnnxRuntime

        cfg = store.cfg(name)
        model_bytes = store.read_verified(name, "onnx")  # checked even when a session exists
        key = (cfg.onnx_sha256 or "", device, threads)
        with _SESSIONS_LOCK:
            backend: Runtime | None = _SESSIONS.get(key)
            if backend is None:
                backend = OnnxRuntime(model_bytes, device=device, threads=threads)
                _SESSIONS[key] = backend
    elif runtime == "torch":
        cfg, backend = _torch_backend(name, store, device, threads)
    else:
        raise ValueError(f"unknown runtime {runtime!r}; use 'onnx' or 'torch'")
    return LoadedDetector(cfg, backend, runtime_name=runtime, device=device,
                          tile_policy=_tile_policy(store, cfg))


def _tile_policy(store: WeightsStore, cfg: DetectorCfg) -> TilePolicy | None:
    """A native-tile detector's tile policy, from its card (calibration was fitted with it)."""
    if cfg.input_mode != "native_tiles":
        return None
    try:
        return TilePolicy(**store.card(cfg.name)["tile_policy"])
    except (KeyError, TypeError, ValueError) as exc:
        raise WeightsIntegrityError(f"the card of {cfg.name!r} has no valid tile_policy: "
                                    f"{exc}") from exc


def _torch_backend(
    name: str, store: WeightsStore, device: str, threads: int | None
) -> tuple[DetectorCfg, Runtime]:
    import torch

    from engine.detectors import registry
    from engine.runtime.torch_rt import TorchRuntime

    code_cfg = registry.get_cfg(name)  # raises UnknownDetectorError with the valid names
    if name not in store.names():
        raise WeightsIntegrityError(
            f"detector {name!r} is registered but has no weights in {store.root} "
            f"(train it with python -m engine.training, or pass models_dir)"
        )
    cfg = store.cfg(name)
    if (cfg.input_size, cfg.variant, cfg.output) != (
        code_cfg.input_size, code_cfg.variant, code_cfg.output
    ):
        raise WeightsIntegrityError(f"weights of {name!r} were trained for another network cfg")
    if threads is not None:
        torch.set_num_threads(threads)
    detector = registry.create_detector(name, pretrained_backbone=False)
    detector.net.load_state_dict(store.load_state_dict(name))
    return cfg, TorchRuntime(detector.net, device=device)
