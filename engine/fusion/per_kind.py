"""Fusion v2: each kind of manipulation graded from its own detectors; the finding names the
kind with the strongest support.

Why per kind. Detectors look for different things: a fully generated face is seen by the
generated-image detector alone, a face swap by the blending detectors. A mean over all of them
(fusion v1) diluted the one detector that saw the manipulation (a generated portrait at 0.99
from its detector read "no support" next to four face-swap detectors at 0.1). Here a detector
only ever counts for the kind it declares (``DetectorCfg.looks_for``), so it never dilutes
another kind's evidence.

For one face, frame, track or file and one kind:

1. score = the mean of the calibrated ``p_fake`` of the kind's detectors that applied (not
   applicable detectors are left out; none applied -> the kind is not applicable);
2. the kind's ``p_fake`` = the rule's Platt calibration of that score (fitted on media made by
   others, equal priors);
3. the grade = the highest grade for which BOTH hold: ``logit(score)`` reaches the grade's
   threshold at this level (``image``, ``video`` or ``frame``), set from real media so each
   grade keeps a known false-alarm rate; and the kind's ``p_fake`` reaches the grade's
   likelihood band (0.50 / 0.75 / 0.90), so fakes of the kind are more likely than real media
   to score so high (``engine.fusion.rules``).

The finding is the kind with the highest grade (ties: the highest kind ``p_fake``, then the
rule's order of kinds); its ``grade`` and ``p_fake`` are that kind's, and every kind's finding is
listed with it. It is a pure function of the per-detector scores, the detectors' declared kinds
and the rule, all stored with each analysis (``Provenance.detectors``, ``Provenance.fusion``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.fusion.findings import check_probability
from engine.fusion.rules import ELEVATED_GRADES, P_BANDS, FusionRule, KindModel
from engine.types import DetectorScore, Finding, Grade, KindFinding

__all__ = ["Fuser", "clears", "fuse_per_kind", "kind_score", "sigmoid"]

_EPS = 1e-12


@dataclass(frozen=True)
class Fuser:
    """A rule bound to the running detectors' declared kinds: ``fuse(scores, level)``.

    Attributes:
        rule: the fusion rule.
        kinds_of: detector name -> the :class:`~engine.types.EvidenceKind` value it looks for.
    """

    rule: FusionRule
    kinds_of: Mapping[str, str]

    def fuse(self, scores: Sequence[DetectorScore], level: str) -> Finding:
        """The finding of one level's per-detector scores (see the module docstring)."""
        return fuse_per_kind(scores, kinds_of=self.kinds_of, rule=self.rule, level=level)


def fuse_per_kind(
    scores: Sequence[DetectorScore],
    *,
    kinds_of: Mapping[str, str],
    rule: FusionRule,
    level: str,
) -> Finding:
    """Fuse one level's scores (one score per detector) per kind.

    Args:
        scores: each detector's calibrated score for the same face, frame, track or file.
        kinds_of: the kind each detector declares; a detector without one is not fused.
        rule: the fusion rule.
        level: ``"image"`` (a still), ``"video"`` (a video or a track) or ``"frame"``.

    Raises:
        ValueError: a detector appears twice, or a ``p_fake`` is not a probability.
    """
    names = [s.detector for s in scores]
    if len(set(names)) != len(names):
        raise ValueError(f"each detector may appear once in a fusion, got {names}")
    for s in scores:
        if s.p_fake is not None:
            check_probability(s.p_fake, f"p_fake of {s.detector}")
    findings = tuple(
        _kind_finding(model, [s for s in scores if kinds_of.get(s.detector) == model.kind], level)
        for model in rule.kinds
    )
    applicable = [f for f in findings if f.grade is not Grade.NOT_APPLICABLE]
    if not applicable:
        return Finding(Grade.NOT_APPLICABLE, None, (), rule.rule_id, None, findings)
    top = max(applicable, key=lambda f: (f.grade.level, f.p_fake))  # max keeps the first on ties
    used = tuple(s.detector for s in scores if any(s.detector in f.applicable_detectors
                                                   for f in applicable))
    return Finding(top.grade, top.p_fake, used, rule.rule_id, top.kind, findings)


def _kind_finding(model: KindModel, mine: Sequence[DetectorScore], level: str) -> KindFinding:
    applicable = [s for s in mine if s.p_fake is not None]
    if not applicable:
        return KindFinding(model.kind, Grade.NOT_APPLICABLE, None, ())
    score = kind_score([s.p_fake for s in applicable])  # type: ignore[misc]
    z = _logit(min(1.0, max(0.0, score)))
    p_fake = score if model.platt is None else sigmoid(model.platt[0] * z + model.platt[1])
    grade = Grade.NO_SUPPORT
    for candidate in ELEVATED_GRADES:
        if all(clears(model, level, candidate, score, p_fake)):
            grade = candidate
    return KindFinding(model.kind, grade, p_fake, tuple(s.detector for s in applicable))


def kind_score(p_fakes: Sequence[float]) -> float:
    """A kind's score: the mean of its applicable detectors' calibrated ``p_fake``."""
    return math.fsum(p_fakes) / len(p_fakes)


def clears(model: KindModel, level: str, grade: Grade, score: float,
           p_fake: float) -> tuple[bool, bool]:
    """Whether a kind's ``score`` reaches ``grade``'s real-media bound at ``level``, and whether
    its calibrated ``p_fake`` reaches the grade's likelihood band (a grade needs both).

    The one test the grading and its explanation (``engine.fusion.explain``) both make.
    """
    z = _logit(min(1.0, max(0.0, score)))
    return z >= model.threshold(level, grade), p_fake >= P_BANDS[grade.name]


def _logit(p: float) -> float:
    q = min(1.0 - _EPS, max(_EPS, p))
    return math.log(q) - math.log1p(-q)


def sigmoid(z: float) -> float:
    """The logistic function (tanh form: no overflow for large ``|z|``); the inverse of the
    logit the grade bounds are on."""
    return 0.5 * (1.0 + math.tanh(0.5 * z))
