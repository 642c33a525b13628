"""Fusion v1: one mean over every detector (kept to re-check analyses made with it).

New analyses use fusion v2 (``engine.fusion.per_kind``): each kind of manipulation is graded
from its own detectors. This module stays so an analysis stored with fusion v1 is re-checked
with the rule it was made with; the text below is v1's original rationale.

Why this rule. Every detector's ``p_fake`` is calibrated on held-out data (see
``engine.fusion.calibration``), so the numbers of different detectors are on one scale and can
be averaged. The fused ``p_fake`` of a face, frame, track or file is the **mean of the calibrated
``p_fake`` of the detectors that applied** (rule :data:`FUSION_RULE`); detectors that did not
apply (no face, face too small, clip too short) are left out, never counted as 0. With no
applicable detector the finding is :attr:`Grade.NOT_APPLICABLE` and carries no number.

We chose the mean over the max on purpose: the finding must not accuse on the strength of one
noisy detector. With five detectors that each raise a false alarm on some real faces, the max
raises an alarm whenever any of them does; the mean needs the detectors to agree. The price is
that a manipulation only one detector can see (a fully generated face seen only by the GAN
detector) is diluted; that is why the finding is always shown next to each detector's own
calibrated score and threshold, never instead of them (docs/FINDINGS.md).

Grade bands on the fused ``p_fake`` (lower bound inclusive). With calibration at equal priors
``p / (1 - p)`` is a likelihood ratio, so the bands read as LR < 1, 1-3, 3-9 and >= 9:

=======================  ===================
fused p_fake             grade
=======================  ===================
< 0.50                   no support
0.50 - 0.75              weak support
0.75 - 0.90              moderate support
>= 0.90                  strong support
=======================  ===================

The finding is a pure function of the per-detector scores it is given, so a stored result can be
checked by calling :func:`fuse_scores` on its stored scores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from engine.types import DetectorScore, Finding, Grade

__all__ = ["FUSION_RULE", "GRADE_BANDS", "check_probability", "fuse_scores", "grade_for"]

FUSION_RULE = "mean of applicable calibrated p_fake; bands 0.50/0.75/0.90 (fusion v1)"

# NOTE: (lower bound, grade), highest first; see the module docstring for why these bounds.
GRADE_BANDS: tuple[tuple[float, Grade], ...] = (
    (0.90, Grade.STRONG),
    (0.75, Grade.MODERATE),
    (0.50, Grade.WEAK),
    (0.0, Grade.NO_SUPPORT),
)


def grade_for(p_fake: float) -> Grade:
    """The verbal grade of a fused calibrated ``p_fake`` in [0, 1]."""
    check_probability(p_fake, "fused p_fake")
    for lower, grade in GRADE_BANDS:
        if p_fake >= lower:
            return grade
    raise AssertionError("unreachable: the last band starts at 0")  # pragma: no cover


def fuse_scores(scores: Sequence[DetectorScore]) -> Finding:
    """Fuse one level's per-detector scores (one score per detector) into a finding.

    Args:
        scores: each detector's calibrated score for the same face, frame, track or file;
            not-applicable scores (``p_fake is None``) are allowed and left out.

    Returns:
        The finding: grade, fused ``p_fake`` (``None`` when no detector applied), the names of
        the detectors that were fused, in the order given, and the rule.

    Raises:
        ValueError: a detector appears twice, or a ``p_fake`` is not a probability.
    """
    names = [s.detector for s in scores]
    if len(set(names)) != len(names):
        raise ValueError(f"each detector may appear once in a fusion, got {names}")
    applicable = [s for s in scores if s.p_fake is not None]
    if not applicable:
        return Finding(Grade.NOT_APPLICABLE, None, (), FUSION_RULE)
    for s in applicable:
        check_probability(s.p_fake, f"p_fake of {s.detector}")
    p_fused = math.fsum(s.p_fake for s in applicable) / len(applicable)  # type: ignore[misc]
    p_fused = min(1.0, max(0.0, p_fused))  # fsum/len can overshoot 1.0 by one ulp
    return Finding(
        grade=grade_for(p_fused),
        p_fake=p_fused,
        applicable_detectors=tuple(s.detector for s in applicable),
        rule=FUSION_RULE,
    )


def check_probability(p: float | None, what: str) -> None:
    """Raise ``ValueError`` unless ``p`` is a probability in [0, 1] (NaN is not)."""
    if p is None or not (0.0 <= p <= 1.0):  # also rejects NaN
        raise ValueError(f"{what} must be a probability in [0, 1], got {p!r}")
