"""What the benchmark needs of one analysis: labels and per-detector scores, per file and frame.

A :class:`BenchRecord` is read from a stored analysis (``engine.api.result_to_dict`` form), so
every fusion rule can be fitted and checked from the cache without running a network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.evaluation.bench_index import BenchItem
from engine.evaluation.bench_scores import ScoredItem

__all__ = ["BenchRecord", "records_from"]


@dataclass(frozen=True)
class BenchRecord:
    """One benchmark item and its analysis, reduced to what fitting and metrics read.

    Attributes:
        item: the labelled item.
        status: the analysis status (``ok``, ``no_face``, ``error``).
        error: the analysis error message, if any.
        media_kind: ``"image"`` or ``"video"`` as the engine read it (``None`` on error).
        file_scores: detector -> the file's calibrated ``p_fake`` (``None``: not applicable).
        frame_scores: per analysed frame, detector -> calibrated ``p_fake`` (or ``None``).
        kinds_of: detector -> the kind it declares (from the stored provenance).
        detector_sha256: detector -> SHA-256 of the weights that scored.
        finding: the stored finding dict (``engine.serialize.finding_to_dict`` form) or None.
    """

    item: BenchItem
    status: str
    error: str | None
    media_kind: str | None
    file_scores: Mapping[str, float | None]
    frame_scores: Sequence[Mapping[str, float | None]]
    kinds_of: Mapping[str, str]
    detector_sha256: Mapping[str, str]
    finding: Mapping[str, Any] | None

    @property
    def level(self) -> str:
        """The fusion level of the file: ``"video"`` or ``"image"`` (a still)."""
        return "video" if self.media_kind == "video" else "image"


def records_from(scored: Sequence[ScoredItem]) -> list[BenchRecord]:
    """One record per scored item, in order."""
    return [_record(s.item, s.result) for s in scored]


def _record(item: BenchItem, result: Mapping[str, Any]) -> BenchRecord:
    prov = result.get("provenance") or {}
    detectors = prov.get("detectors") or []
    media = result.get("media") or {}
    return BenchRecord(
        item=item,
        status=str(result["status"]),
        error=result.get("error"),
        media_kind=media.get("kind"),
        file_scores=_by_detector(result.get("scores") or []),
        frame_scores=[_by_detector(f["scores"]) for f in result.get("frames") or []],
        kinds_of={d["name"]: d["looks_for"] for d in detectors if d.get("looks_for")},
        detector_sha256={d["name"]: d["weights_sha256"] for d in detectors},
        finding=result.get("finding"),
    )


def _by_detector(scores: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    return {s["detector"]: s["p_fake"] for s in scores}
