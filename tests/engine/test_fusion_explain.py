"""Why a kind got its grade: the reason must agree with the grade, in numbers and in words."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine.api_fusion import explain_for, explain_grades, fuse_for
from engine.fusion.calibration import logit
from engine.fusion.explain import explain_kind, explain_kinds
from engine.fusion.per_kind import fuse_per_kind
from engine.fusion.rules import FusionRule, KindModel
from engine.serialize import result_from_dict, result_to_dict
from engine.types import (
    DetectorProvenance,
    DetectorScore,
    Grade,
    MediaInfo,
    MediaResult,
    Provenance,
)

KINDS = {"sbi": "face_swap", "xray": "face_swap", "mrl": "temporal", "gan": "generated"}


def _z(p: float) -> float:
    return float(logit(np.array([p]))[0])


def _rule(platt: tuple[float, float] | None = None) -> FusionRule:
    """Real-media bounds at score 0.6 / 0.8 / 0.95 for stills, 0.7 / 0.85 / 0.97 for videos."""
    image = {"WEAK": _z(0.6), "MODERATE": _z(0.8), "STRONG": _z(0.95)}
    video = {"WEAK": _z(0.7), "MODERATE": _z(0.85), "STRONG": _z(0.97)}
    reference = {lv: {"mean": -2.0, "std": 1.0, "n": 40} for lv in ("image", "video", "frame")}
    kinds = tuple(KindModel(k, platt, {"image": image, "video": video, "frame": image},
                            reference=reference)
                  for k in ("face_swap", "temporal", "generated"))
    return FusionRule("test rule", kinds,
                      tail_rates={"WEAK": 0.015, "MODERATE": 0.003, "STRONG": 0.0005})


def _s(name: str, p: float | None) -> DetectorScore:
    return DetectorScore(name, p, p, None if p is not None else "no face")


def _explain(scores: list[DetectorScore], level: str = "image",
             rule: FusionRule | None = None):  # type: ignore[no-untyped-def]
    rule = rule or _rule()
    finding = fuse_per_kind(scores, kinds_of=KINDS, rule=rule, level=level)
    return finding, explain_kinds(finding.kinds, scores, rule, level)


def test_real_media_bound_holds_a_likely_score_down() -> None:
    """The DFDC case: a likelihood that favours a fake, under the real videos' bound."""
    rule = _rule(platt=(1.0, 1.0))  # p_fake = sigmoid(logit(score) + 1): above the score
    finding, why = _explain([_s("sbi", 0.66), _s("xray", 0.66)], "video", rule)
    face = why["face_swap"]
    assert finding.kinds[0].grade is Grade.NO_SUPPORT
    assert finding.kinds[0].p_fake > 0.75
    assert face.held_by == "real_media"
    assert face.score == pytest.approx(0.66)
    assert face.bounds["WEAK"] == pytest.approx(0.7)  # the video level's bound, not the still's
    text = face.text()
    assert "under 0.700" in text
    assert "1.5% of real videos" in text
    assert "alone would allow weak support" in text


def test_likelihood_band_holds_a_rare_score_down() -> None:
    """A score real media rarely reach, in a kind whose fakes score no higher: no support."""
    rule = _rule(platt=(0.2, -1.0))  # a flat, low calibration: the detectors do not separate
    finding, why = _explain([_s("gan", 0.9)], "image", rule)
    gen = why["generated"]
    assert finding.kinds[2].grade is Grade.NO_SUPPORT
    assert gen.held_by == "likelihood"
    assert "reaches 0.600" in gen.text()
    assert "not more likely than real media" in gen.text()


def test_strong_support_names_no_next_grade() -> None:
    finding, why = _explain([_s("sbi", 0.99), _s("xray", 0.99)])
    assert finding.grade is Grade.STRONG
    assert why["face_swap"].held_by is None
    assert why["face_swap"].next_grade is None
    assert why["face_swap"].text().split(". ")[-1].startswith("Strong support")


def test_not_applicable_kind_says_so() -> None:
    _, why = _explain([_s("sbi", 0.3), _s("mrl", None)])
    assert why["temporal"].score is None
    assert why["temporal"].held_by is None
    assert "None of the detectors" in why["temporal"].text()


@pytest.mark.parametrize("platt", [None, (1.3, 0.4), (0.5, -0.8)])
def test_reason_always_agrees_with_the_grade(platt: tuple[float, float] | None) -> None:
    """Over a grid of scores: the grade's own bounds hold, and the named reason is true."""
    rule = _rule(platt)
    grid = [0.05, 0.5, 0.6, 0.65, 0.7, 0.8, 0.84, 0.86, 0.95, 0.96, 0.97, 0.999]
    for level, (a, b) in itertools.product(("image", "video"), itertools.product(grid, grid)):
        finding, why = _explain([_s("sbi", a), _s("xray", b)], level, rule)
        kind, reason = finding.kinds[0], why["face_swap"]
        assert reason.grade is kind.grade
        if reason.next_grade is None:
            continue
        nxt = reason.next_grade.name
        under_bound = reason.score < reason.bounds[nxt] - 1e-12
        under_band = kind.p_fake < {"WEAK": 0.5, "MODERATE": 0.75, "STRONG": 0.9}[nxt]
        assert {"real_media": under_bound and not under_band,
                "likelihood": under_band and not under_bound,
                "both": under_bound and under_band}[reason.held_by], (level, a, b)


def test_unknown_kind_is_an_error() -> None:
    rule = FusionRule("one kind", (_rule().kinds[0],))
    finding, _ = _explain([_s("gan", 0.5)])
    with pytest.raises(ValueError, match="no model of kind"):
        explain_kind(finding.kinds[2], [_s("gan", 0.5)], rule, "image")


def _stored_video_result() -> MediaResult:
    """A video's result as the analyzer stores it: scores, finding, the rule in provenance."""
    rule = _rule(platt=(1.0, 0.5))
    scores = (_s("sbi", 0.75), _s("xray", 0.7), _s("mrl", 0.4), _s("gan", 0.2))
    prov = Provenance(
        engine_version="t", runtime="onnx", device="cpu", sampling="s",
        aggregation_rule="a", sampled_frame_indices=(0,), timings_s=(),
        detectors=tuple(DetectorProvenance(n, "1", "0" * 64, 0.5, "platt", k)
                        for n, k in KINDS.items()),
        fusion=rule.to_dict())
    media = MediaInfo("x.mp4", "video", "mp4", 1000, 640, 480, 90, fps=30.0, duration_s=3.0)
    finding = fuse_per_kind(scores, kinds_of=KINDS, rule=rule, level="video")
    return MediaResult("x.mp4", "ok", "ab" * 32, media, scores=scores, finding=finding,
                       provenance=prov)


def test_stored_result_explains_itself_after_a_json_round_trip() -> None:
    """``explain_grades`` reads only the stored scores and the stored rule."""
    result = _stored_video_result()
    again = result_from_dict(result_to_dict(result))
    before, after = explain_grades(result), explain_grades(again)
    assert before == after
    assert set(after) == {"face_swap", "temporal", "generated"}
    assert after["face_swap"].level == "video"
    assert after["face_swap"].to_dict()["text"] == after["face_swap"].text()


def test_a_face_explains_itself_at_its_own_level() -> None:
    """``explain_for`` is ``fuse_for``'s twin: the file's reasons are ``explain_grades``, and one
    face of a video is explained with the frame bounds its grade was made with."""
    result = _stored_video_result()
    assert explain_for(result, result.scores, "media") == explain_grades(result)
    # 0.65 is under the videos' weak bound (0.7) and over the frames' (0.6, the stills' table)
    face_scores = (_s("sbi", 0.65), _s("xray", 0.65), _s("mrl", None), _s("gan", 0.2))
    face_finding = fuse_for(result, face_scores, "face")
    why = explain_for(result, face_scores, "face")
    assert why["face_swap"].level == "frame"
    assert why["face_swap"].grade is face_finding.kinds[0].grade is Grade.WEAK
    assert why["face_swap"].bounds["WEAK"] == pytest.approx(0.6)
    assert explain_for(result, face_scores, "face", face_finding) == why
    assert why["temporal"].grade is Grade.NOT_APPLICABLE


def test_fusion_v1_result_has_no_reasons() -> None:
    result = MediaResult("x.jpg", "ok", "ab" * 32, None)
    assert explain_grades(result) == {}
    assert explain_for(result, (_s("sbi", 0.9),), "face") == {}


def test_a_kind_on_fixed_bands_claims_no_real_media_rate() -> None:
    """A kind that fell back to the fixed bands (other weights than fitted) keeps the rule's
    tail rates in the rule, but its bounds were not set from real media: no rate is claimed."""
    fitted = _rule()
    with_reference = KindModel("face_swap", None, fitted.kinds[0].thresholds,
                               reference={"image": {"mean": -2.0, "std": 1.0, "n": 60}})
    fallback = KindModel("generated", None, fitted.kinds[2].thresholds)  # no reference
    rule = FusionRule("mixed", (with_reference, fitted.kinds[1], fallback),
                      tail_rates=fitted.tail_rates)
    _, why = _explain([_s("sbi", 0.3), _s("gan", 0.3)], "image", rule)
    assert "1.5% of real photos" in why["face_swap"].text()
    assert why["generated"].tail_rates == {}
    assert "a fixed band: this rule was not fitted on real media" in why["generated"].text()
    assert "fixed bounds (not set from real media)" in why["generated"].text()


def test_a_level_without_its_own_bounds_is_explained_with_the_stills() -> None:
    rule = FusionRule("stills only", tuple(
        KindModel(m.kind, None, {"image": m.thresholds["image"]}, reference={"image": {}})
        for m in _rule().kinds), tail_rates=_rule().tail_rates)
    _, why = _explain([_s("sbi", 0.3)], "video", rule)
    assert why["face_swap"].level == "image"
    assert "bounds for real photos" in why["face_swap"].text()
