"""Findings re-fused from stored scores, re-exported by :mod:`engine.api`.

Kept apart so ``engine.api`` stays one screenful of doorways; the GUI imports these names from
``engine.api`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine.types import DetectorScore, Finding, MediaResult, Provenance

if TYPE_CHECKING:
    from engine.fusion.explain import GradeExplanation

__all__ = ["explain_for", "explain_grades", "fuse_for", "fuse_scores"]


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


def explain_grades(result: MediaResult) -> dict[str, GradeExplanation]:
    """Why each kind of the file's finding got its grade, by kind (``engine.fusion.explain``).

    Made from the result's stored scores and the fusion rule it was made with, so an old
    analysis explains itself with its own rule. Empty for fusion v1 (no rule, no kinds) and for
    a result without a finding.
    """
    if result.finding is None:
        return {}
    return explain_for(result, result.scores, "media", result.finding)


def explain_for(result: MediaResult, scores: Sequence[DetectorScore], scope: str,
                finding: Finding | None = None) -> dict[str, GradeExplanation]:
    """Why each kind of the finding of ``scores`` at ``scope`` got its grade: the twin of
    :func:`fuse_for`, so one face or frame explains itself with the rule and the real-media
    bounds of its own level, as the file does with :func:`explain_grades`.

    ``finding`` is ``fuse_for(result, scores, scope)`` when not given. Empty for fusion v1.
    """
    from engine.fusion.explain import explain_kinds
    from engine.fusion.replay import level_of
    from engine.fusion.rules import FusionRule

    prov = result.provenance
    if prov is None or prov.fusion is None:
        return {}
    finding = finding if finding is not None else fuse_for(result, scores, scope)
    if not finding.kinds:
        return {}
    kind = result.media.kind if result.media is not None else None
    rule = FusionRule.from_dict(prov.fusion)
    return explain_kinds(finding.kinds, scores, rule, level_of(kind, scope))
