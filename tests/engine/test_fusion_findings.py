"""The fusion rule: mean of applicable calibrated p_fake, graded on fixed bands."""

from __future__ import annotations

import math

import pytest

from engine.fusion.findings import FUSION_RULE, fuse_scores, grade_for
from engine.types import DetectorScore, Grade


def _s(name: str, p_fake: float | None, reason: str | None = None) -> DetectorScore:
    return DetectorScore(name, p_fake, None if p_fake is None else p_fake, reason)


def test_mean_of_applicable_scores_only() -> None:
    finding = fuse_scores([_s("a", 0.9), _s("b", None, "no face"), _s("c", 0.6)])
    assert finding.p_fake == pytest.approx(0.75)
    assert finding.applicable_detectors == ("a", "c")
    assert finding.grade is Grade.MODERATE
    assert finding.rule == FUSION_RULE


def test_no_applicable_detector_is_not_applicable_not_a_number() -> None:
    finding = fuse_scores([_s("a", None, "no face"), _s("b", None, "face too small")])
    assert finding.grade is Grade.NOT_APPLICABLE
    assert finding.p_fake is None
    assert finding.applicable_detectors == ()


def test_zero_detectors_is_not_applicable() -> None:
    assert fuse_scores([]).grade is Grade.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("p_fake", "grade"),
    [
        (0.0, Grade.NO_SUPPORT),
        (math.nextafter(0.5, 0.0), Grade.NO_SUPPORT),
        (0.5, Grade.WEAK),
        (math.nextafter(0.75, 0.0), Grade.WEAK),
        (0.75, Grade.MODERATE),
        (math.nextafter(0.9, 0.0), Grade.MODERATE),
        (0.9, Grade.STRONG),
        (1.0, Grade.STRONG),
    ],
)
def test_grade_bands_have_inclusive_lower_bounds(p_fake: float, grade: Grade) -> None:
    assert grade_for(p_fake) is grade
    assert fuse_scores([_s("a", p_fake)]).grade is grade


def test_one_detector_alone_cannot_make_strong_support_against_disagreement() -> None:
    finding = fuse_scores([_s("a", 1.0), _s("b", 0.1), _s("c", 0.1)])
    assert finding.grade is Grade.NO_SUPPORT


def test_finding_is_a_pure_function_of_the_scores() -> None:
    scores = [_s("a", 0.123456789), _s("b", 0.987654321), _s("c", 0.5)]
    assert fuse_scores(scores) == fuse_scores(list(scores))


@pytest.mark.parametrize("bad", [float("nan"), -0.01, 1.01])
def test_non_probability_is_rejected(bad: float) -> None:
    with pytest.raises(ValueError, match="probability"):
        fuse_scores([_s("a", bad)])


def test_duplicate_detector_is_rejected() -> None:
    with pytest.raises(ValueError, match="once"):
        fuse_scores([_s("a", 0.2), _s("a", 0.3)])
