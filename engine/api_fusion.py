"""Findings re-fused from stored scores, re-exported by :mod:`engine.api`.

Kept apart so ``engine.api`` stays one screenful of doorways; the GUI imports these names from
``engine.api`` only.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.types import DetectorScore, Finding, MediaResult, Provenance

__all__ = ["fuse_for", "fuse_scores"]


def fuse_scores(
    scores: Sequence[DetectorScore],
    *,
    provenance: Provenance | None = None,
    level: str = "image",
) -> Finding:
    """The graded finding of one level's per-detector scores.

    Args:
        scores: one score per detector for the same face, frame, track or file.
        provenance: the provenance of the result the scores belong to: its recorded fusion
            rule and detector kinds are used (fusion v1 when ``None`` or when it has no rule).
        level: ``"image"`` (a still), ``"video"`` (a video or a track) or ``"frame"``.
    """
    from engine.fusion.replay import fuser_for

    return fuser_for(provenance)(scores, level)


def fuse_for(result: MediaResult, scores: Sequence[DetectorScore], scope: str) -> Finding:
    """The finding of ``scores`` at ``scope`` (``"media"``, ``"track"``, ``"frame"``,
    ``"face"``) of ``result``, with the fusion rule ``result`` was made with.

    ``fuse_for(r, r.scores, "media") == r.finding`` for any result, stored or fresh.
    """
    from engine.fusion.replay import level_of

    kind = result.media.kind if result.media is not None else None
    return fuse_scores(scores, provenance=result.provenance, level=level_of(kind, scope))
