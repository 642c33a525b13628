"""Findings re-fused from stored scores, re-exported by :mod:`engine.api`.

Kept apart so ``engine.api`` stays one screenful of doorways; the GUI imports these names from
``engine.api`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.types import DetectorScore, Finding, MediaResult, Provenance

if TYPE_CHECKING:
    from engine.fusion.explain import GradeExplanation
    from engine.fusion.reference import ReferenceComparison, ReferenceNull

__all__ = ["compare_to_reference", "explain_for", "explain_grades", "fuse_for", "fuse_scores",
           "reference_comparison_from_dict"]


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


def compare_to_reference(suspect: MediaResult, reference: MediaResult, *,
                         null: ReferenceNull | None = None) -> ReferenceComparison:
    """``suspect`` set against genuine footage of the same source (``engine.fusion.reference``):
    per kind and per detector, how much higher its evidence is, and how often genuine footage
    set against genuine footage of one recording differed as much (docs/FINDINGS.md section 6).

    ``null`` defaults to the shipped one (``<models>/fusion/reference_null.json``).

    Raises:
        ReferenceError: the two cannot be compared (not both analysed videos, the same bytes,
            other detectors, too few frames, no null installed); the message says why.
    """
    from engine.fusion import reference as comparison

    return comparison.compare_to_reference(
        suspect, reference, null if null is not None else comparison.load_null())


def reference_comparison_from_dict(data: dict[str, Any]) -> ReferenceComparison:
    """A stored comparison read back (``ReferenceComparison.to_dict``'s inverse).

    Raises:
        ValueError: not a comparison record.
    """
    from engine.fusion.reference import ReferenceComparison

    return ReferenceComparison.from_dict(data)
