"""Build an :class:`AnalysisPipeline` from ``AnalysisOptions``: resolve, load, verify, once.

Loading is the expensive part (ONNX sessions, MediaPipe graphs), so it happens here, once per
``Analyzer``, and never per file. Weights are SHA-256-checked by ``engine.runtime`` before they
are deserialised; a bad file stops the build with ``WeightsIntegrityError``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from engine.analysis.detectors import (
    DetectorFactory,
    LoadedDetectorLike,
    RunningDetector,
    running_detector,
)
from engine.analysis.faces_stage import FaceStage
from engine.analysis.pipeline import AnalysisPipeline, PipelineSettings
from engine.analysis.runtime_choice import resolve_runtime

if TYPE_CHECKING:
    from engine.api import AnalysisOptions

__all__ = ["build_pipeline", "load_shipped_detector"]

log = logging.getLogger(__name__)


def load_shipped_detector(name: str, runtime: str, device: str) -> LoadedDetectorLike:
    """The default detector factory: the shipped, verified weights in ``runtime``."""
    from engine.runtime import load_detector

    return load_detector(name, runtime=runtime, device=device)  # type: ignore[arg-type]


def build_pipeline(
    options: AnalysisOptions,
    *,
    detector_factory: DetectorFactory | None = None,
    face_detector: Any = None,
) -> AnalysisPipeline:
    """Load every model ``options`` needs and return a ready pipeline.

    Raises:
        UnknownDetectorError: an unknown detector name.
        WeightsIntegrityError: weights missing or failing their SHA-256 check.
        ValueError: the same detector named twice.
    """
    from engine.faces.crop import CropPolicy

    choice = resolve_runtime(options.runtime)
    names = _detector_names(options)
    if len(set(names)) != len(names):
        raise ValueError(f"a detector is named twice: {list(names)}")
    factory = detector_factory or load_shipped_detector
    loaded = [factory(name, choice.runtime, choice.device) for name in names]
    detectors = _with_shared_groups(loaded)
    log.info("loaded detectors %s on %s/%s", names, choice.runtime, choice.device_label)
    owned = None
    if face_detector is None:
        from engine.faces.mesh import FaceMeshDetector

        face_detector = owned = FaceMeshDetector(max_faces=options.max_faces)
    stage = FaceStage(face_detector, CropPolicy())
    stage.warm_up()
    settings = PipelineSettings(
        fuser=_fuser(detectors),
        n_frames=options.n_frames,
        fps=options.fps,
        want_maps=options.want_maps,
        runtime=choice.runtime,
        device=choice.device_label,
        max_faces=options.max_faces,
        c2pa_trust_list=options.c2pa_trust_list,
    )
    return AnalysisPipeline(detectors, stage, settings, owned_face_detector=owned)


def _fuser(detectors: list[RunningDetector]) -> Any:
    """The shipped fusion rule, checked against these detectors, bound to their kinds."""
    from engine.fusion.per_kind import Fuser
    from engine.fusion.rules import shipped_rule

    provenance = [d.provenance for d in detectors]
    rule = shipped_rule([(p.name, p.weights_sha256, p.looks_for) for p in provenance])
    return Fuser(rule, {p.name: p.looks_for for p in provenance if p.looks_for})


def _with_shared_groups(loaded: list[LoadedDetectorLike]) -> list[RunningDetector]:
    """Wrap the loaded detectors; those that can share one merged graph get its group."""
    from engine.runtime.shared import group_detectors

    group_of = {id(m): g for g in group_detectors(loaded) for m in g.members}
    return [running_detector(d, group_of.get(id(d))) for d in loaded]


def _detector_names(options: AnalysisOptions) -> tuple[str, ...]:
    if options.detectors is not None:
        return tuple(options.detectors)
    from engine.analysis.catalog import default_names

    return tuple(default_names())
