"""Re-fusing stored scores with the rule their analysis was made with.

A result stores its per-detector scores, the detectors' declared kinds and the whole fusion
rule (``Provenance.detectors``, ``Provenance.fusion``). :func:`fuser_for` rebuilds the fusion
from those, so ``fuser_for(result.provenance)(result.scores, level) == result.finding`` for any
stored result, old (fusion v1: no stored rule) or new, whatever rule is shipped today.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from engine.types import DetectorScore, Finding, MediaKind, Provenance

__all__ = ["FuseFn", "declared_kinds", "fuser_for", "level_of"]

FuseFn = Callable[[Sequence[DetectorScore], str], Finding]


def fuser_for(provenance: Provenance | None) -> FuseFn:
    """``fuse(scores, level)`` with the rule recorded in ``provenance`` (v1 when none is)."""
    if provenance is None or provenance.fusion is None:
        from engine.fusion.findings import fuse_scores

        return lambda scores, level: fuse_scores(scores)
    from engine.fusion.per_kind import Fuser
    from engine.fusion.rules import FusionRule

    return Fuser(FusionRule.from_dict(provenance.fusion), declared_kinds(provenance)).fuse


def declared_kinds(provenance: Provenance | None) -> dict[str, str]:
    """Detector name -> the kind it declared, as the analysis recorded it (none: ``{}``)."""
    if provenance is None:
        return {}
    return {d.name: d.looks_for for d in provenance.detectors if d.looks_for}


def level_of(media_kind: MediaKind | None, scope: str) -> str:
    """The fusion level of a ``scope`` (``"media"``, ``"track"``, ``"frame"``, ``"face"``).

    A still image is one frame: every scope of it is ``"image"``. In a video, the file and
    a track (means over frames) are ``"video"``; a frame or one face in it is ``"frame"``.
    """
    if media_kind != "video":
        return "image"
    return "video" if scope in ("media", "track") else "frame"
