"""Detectors that see the same input run as one merged ONNX graph: the shared trunk runs once.

A :class:`SharedGroup` holds detectors on ONNX Runtime whose inputs are made the same way
(input size, normalisation, face margin, single frames) and whose graphs
``engine.runtime.merge`` could merge with shared nodes. ``predict_all`` preprocesses the crops
once, runs the merged session once, and gives each member exactly the ``DetectorOutput`` its
own ``predict`` would have given (same graph outputs, same postprocessing; a test checks it).
For the shipped SBI, Face X-ray and MAT models this cuts the CPU time of the three by about
40% (docs/PERFORMANCE.md).

Grouping is an optimisation, never a change of results: detectors that cannot be grouped
(torch runtime, clip models, another input size) keep running alone. A grouped member's own
``predict`` keeps working (it runs the merged graph and reads its outputs), so its separate
session is freed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.runtime.cfg import preprocess
from engine.runtime.loaded import DetectorOutput, LoadedDetector, postprocess

__all__ = ["SharedGroup", "group_detectors", "input_key"]

log = logging.getLogger(__name__)


def input_key(loaded: Any) -> tuple[Any, ...] | None:
    """What makes two detectors' network inputs identical; ``None`` if it cannot be shared.

    Native-tile detectors (``gan_effl0``, ``gen_probe_effl0``) are never shared: each scores
    its own tiles of a picture through ``engine.runtime.tiles``, one detector at a time, so a
    merged graph would compute every member's outputs for each of them.
    """
    from engine.runtime.onnx_rt import OnnxRuntime

    cfg = getattr(loaded, "cfg", None)
    runtime = getattr(loaded, "runtime", None)
    if cfg is None or not isinstance(runtime, OnnxRuntime) or int(cfg.clip_len) != 1:
        return None
    if cfg.input_mode == "native_tiles":
        return None
    return (cfg.input_size, tuple(cfg.mean), tuple(cfg.std), cfg.face_margin,
            runtime.device, runtime.threads)


class SharedGroup:
    """Several frame detectors answered by one merged ONNX Runtime session.

    Args:
        members: loaded ONNX detectors with the same :func:`input_key`.
    """

    def __init__(self, members: Sequence[LoadedDetector]) -> None:
        from engine.runtime.merge import merge_graphs
        from engine.runtime.onnx_rt import OnnxRuntime

        keys = {input_key(m) for m in members}
        if len(members) < 2 or len(keys) != 1 or None in keys:
            raise ValueError("a shared group needs two or more ONNX detectors with equal inputs")
        self.members = tuple(members)
        first = members[0].runtime
        assert isinstance(first, OnnxRuntime)  # input_key checked it
        merged = merge_graphs({m.cfg.name: m.runtime.model_bytes for m in members})  # type: ignore[attr-defined]
        self.n_nodes_alone, self.n_nodes_merged = merged.n_nodes_alone, merged.n_nodes_merged
        self._outputs = merged.outputs
        self._session = OnnxRuntime(merged.model_bytes, device=first.device, threads=first.threads,
                                    merged=True)
        for member in members:  # their own sessions are no longer needed: free the memory
            member.use_runtime(_MemberView(self._session, self._outputs[member.cfg.name]))
        log.info("detectors %s share one graph: %d nodes instead of %d", self.names,
                 self.n_nodes_merged, self.n_nodes_alone)

    @property
    def names(self) -> tuple[str, ...]:
        """The members' detector names, in order."""
        return tuple(m.cfg.name for m in self.members)

    def predict_all(
        self, crops_rgb_u8: npt.NDArray[Any], *, want_maps: bool = False
    ) -> dict[str, DetectorOutput]:
        """Every member's output for (N, S, S, 3) uint8 crops, as its ``predict`` gives it."""
        crops = np.asarray(crops_rgb_u8)
        if crops.ndim >= 4 and crops.shape[0] == 0:
            return {m.cfg.name: m.predict(crops, want_maps=want_maps) for m in self.members}
        raw = self._session.run_all(preprocess(crops, self.members[0].cfg))
        out = {}
        for member in self.members:
            names = self._outputs[member.cfg.name]
            map_raw = raw[names[1]] if len(names) > 1 else None
            out[member.cfg.name] = postprocess(raw[names[0]], map_raw, member.cfg,
                                               member.calibration, want_maps=want_maps)
        return out


class _MemberView:
    """One member's outputs of the merged graph, so ``member.predict`` still works alone."""

    def __init__(self, session: Any, output_names: tuple[str, ...]) -> None:
        self._session = session
        self._names = output_names
        self.model_bytes = None  # the member's own graph is gone; it cannot be merged again

    def run(
        self, batch_nchw_f32: npt.NDArray[Any]
    ) -> tuple[npt.NDArray[Any], npt.NDArray[Any] | None]:
        raw = self._session.run_all(batch_nchw_f32)
        return raw[self._names[0]], (raw[self._names[1]] if len(self._names) > 1 else None)


def group_detectors(loaded: Sequence[Any]) -> list[SharedGroup]:
    """Groups of two or more detectors in ``loaded`` that can share one merged graph."""
    by_key: dict[tuple[Any, ...], list[Any]] = {}
    for det in loaded:
        key = input_key(det)
        if key is not None:
            by_key.setdefault(key, []).append(det)
    groups = []
    for members in by_key.values():
        if len(members) < 2:
            continue
        group = SharedGroup(members)
        groups.append(group)
    return groups
