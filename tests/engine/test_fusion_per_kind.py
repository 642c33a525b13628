"""Fusion v2: each kind graded from its own detectors, the finding names the strongest kind."""

from __future__ import annotations

import json
import math

import pytest

from engine.fusion.calibration import logit
from engine.fusion.per_kind import Fuser, fuse_per_kind
from engine.fusion.replay import fuser_for, level_of
from engine.fusion.rules import (
    FusionRule,
    FusionRuleError,
    KindModel,
    load_rule,
    shipped_rule,
    uncalibrated_rule,
)
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


def _s(name: str, p: float | None) -> DetectorScore:
    return DetectorScore(name, p, p, None if p is not None else "no face")


def _thresholds(weak: float, moderate: float, strong: float) -> dict[str, dict[str, float]]:
    z = {g: float(logit(_arr(p))[0]) for g, p in
         (("WEAK", weak), ("MODERATE", moderate), ("STRONG", strong))}
    return {"image": z, "video": z, "frame": z}


def _arr(p: float):  # type: ignore[no-untyped-def]
    import numpy as np

    return np.array([p])


def _rule() -> FusionRule:
    """Identity calibration; real-media thresholds at score 0.6 / 0.8 / 0.95 for every kind."""
    kinds = tuple(KindModel(k, None, _thresholds(0.6, 0.8, 0.95))
                  for k in ("face_swap", "temporal", "generated"))
    return FusionRule("test rule", kinds)


def _fuse(scores: list[DetectorScore], level: str = "image", rule: FusionRule | None = None):  # type: ignore[no-untyped-def]
    return fuse_per_kind(scores, kinds_of=KINDS, rule=rule or _rule(), level=level)


def test_a_detector_never_dilutes_another_kind() -> None:
    # Fusion v1 averaged these to 0.33 ("no support"); the generated-image detector alone
    # sees the fully generated face, and nothing else of another kind can pull it down.
    finding = _fuse([_s("sbi", 0.02), _s("xray", 0.01), _s("gan", 0.97)])
    assert finding.kind == "generated"
    assert finding.grade is Grade.STRONG
    assert finding.statement == "strong support for a fully generated face or image"
    assert finding.p_fake == pytest.approx(0.97)
    by_kind = {k.kind: k for k in finding.kinds}
    assert by_kind["face_swap"].grade is Grade.NO_SUPPORT
    assert by_kind["face_swap"].p_fake == pytest.approx(0.015)
    assert by_kind["temporal"].grade is Grade.NOT_APPLICABLE  # no temporal detector scored
    assert finding.applicable_detectors == ("sbi", "xray", "gan")


def test_within_a_kind_the_detectors_are_averaged() -> None:
    finding = _fuse([_s("sbi", 0.9), _s("xray", 0.7), _s("gan", 0.1)])
    assert finding.kind == "face_swap"
    assert finding.p_fake == pytest.approx(0.8)
    assert finding.grade is Grade.MODERATE


def test_a_missing_or_not_applicable_detector_leaves_its_kind_to_the_others() -> None:
    alone = _fuse([_s("xray", 0.85), _s("sbi", None)])
    assert alone.kinds[0].applicable_detectors == ("xray",)
    assert alone.p_fake == pytest.approx(0.85)
    missing = _fuse([_s("xray", 0.85)])
    assert missing == alone.__class__(alone.grade, alone.p_fake, ("xray",), alone.rule,
                                      alone.kind, missing.kinds)


def test_nothing_applicable_is_not_applicable_without_a_number() -> None:
    finding = _fuse([_s("sbi", None), _s("gan", None)])
    assert finding.grade is Grade.NOT_APPLICABLE
    assert finding.p_fake is None
    assert finding.kind is None
    assert all(k.grade is Grade.NOT_APPLICABLE for k in finding.kinds)


def test_an_undeclared_detector_is_not_fused() -> None:
    finding = _fuse([_s("sbi", 0.1), _s("mystery", 0.99)])
    assert finding.grade is Grade.NO_SUPPORT
    assert "mystery" not in finding.applicable_detectors


def test_ties_go_to_the_higher_probability_then_the_rule_order() -> None:
    finding = _fuse([_s("sbi", 0.85), _s("gan", 0.88)])
    assert (finding.kind, finding.grade) == ("generated", Grade.MODERATE)
    same = _fuse([_s("sbi", 0.85), _s("gan", 0.85)])
    assert same.kind == "face_swap"  # first in the rule's order of kinds


def test_a_grade_needs_both_the_real_media_threshold_and_the_likelihood_band() -> None:
    # The calibration maps every score near 0.5 (a kind whose detectors barely separate the
    # classes): however rare the score is among real media, it cannot support manipulation.
    flat = KindModel("face_swap", (0.01, 0.0), _thresholds(0.6, 0.8, 0.95))
    rule = FusionRule("flat", (flat,))
    finding = _fuse([_s("sbi", 0.999)], rule=rule)
    assert finding.kinds[0].p_fake < 0.75
    assert finding.grade is Grade.WEAK  # p >= 0.5 only: weak at most


def test_levels_have_their_own_thresholds() -> None:
    model = KindModel("face_swap", None, {
        "image": _thresholds(0.96, 0.97, 0.99)["image"],
        "video": _thresholds(0.5, 0.55, 0.6)["video"],
    })
    rule = FusionRule("levels", (model,))
    assert _fuse([_s("sbi", 0.95)], "video", rule).grade is Grade.STRONG
    assert _fuse([_s("sbi", 0.95)], "image", rule).grade is Grade.NO_SUPPORT
    assert _fuse([_s("sbi", 0.95)], "frame", rule).grade is Grade.NO_SUPPORT  # image's


def test_rule_round_trips_through_json_and_rejects_bad_files(tmp_path) -> None:
    rule = _rule()
    again = FusionRule.from_dict(json.loads(json.dumps(rule.to_dict())))
    assert again == rule
    assert again.sha256() == rule.sha256()
    bad = rule.to_dict()
    bad["kinds"][0]["thresholds"]["image"]["WEAK"] = 99.0  # above moderate
    with pytest.raises(FusionRuleError, match="rise"):
        FusionRule.from_dict(bad)
    unknown = rule.to_dict()
    unknown["kinds"][0]["kind"] = "lip_sync"
    with pytest.raises(FusionRuleError):
        FusionRule.from_dict(unknown)
    path = tmp_path / "fusion.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(FusionRuleError, match="cannot read"):
        load_rule(path)


def test_no_rule_file_means_the_named_uncalibrated_rule(tmp_path) -> None:
    rule = shipped_rule([("sbi", "a" * 64, "face_swap")], models_dir=tmp_path)
    assert rule == uncalibrated_rule()
    assert "UNCALIBRATED" in rule.rule_id


def test_a_kind_fitted_for_other_weights_loses_its_calibration(tmp_path) -> None:
    model = KindModel("face_swap", (2.0, 1.0), _thresholds(0.6, 0.8, 0.95),
                      detectors={"sbi": "a" * 64})
    fitted = FusionRule("fitted rule", (model,))
    (tmp_path / "fusion").mkdir()
    (tmp_path / "fusion" / "fusion.json").write_text(json.dumps(fitted.to_dict()))
    same = shipped_rule([("sbi", "a" * 64, "face_swap")], models_dir=tmp_path)
    assert same == fitted
    other = shipped_rule([("sbi", "b" * 64, "face_swap")], models_dir=tmp_path)
    assert "UNCALIBRATED for face_swap" in other.rule_id
    assert other.kinds[0].platt is None


def _result(rule: FusionRule, kind: str) -> MediaResult:
    detectors = tuple(DetectorProvenance(n, "1", "c" * 64, 0.5, "none", k)
                      for n, k in KINDS.items())
    prov = Provenance("test", detectors, "onnx", "cpu", "one frame", "rule", (0,), (),
                      fusion=rule.to_dict())
    scores = (_s("sbi", 0.95), _s("xray", 0.97), _s("mrl", None), _s("gan", 0.123456789))
    fuse = Fuser(rule, KINDS)
    info = MediaInfo("x.mp4", kind, "mp4", 1, 10, 10, 1)  # type: ignore[arg-type]
    return MediaResult("x.mp4", "ok", "d" * 64, info, scores=scores,
                       finding=fuse.fuse(scores, level_of(kind, "media")), provenance=prov)


@pytest.mark.parametrize("kind", ["image", "video"])
def test_stored_findings_are_reproduced_with_their_own_rule(kind: str) -> None:
    result = _result(_rule(), kind)
    stored = result_from_dict(json.loads(json.dumps(result_to_dict(result))))
    assert stored.finding == result.finding
    refuse = fuser_for(stored.provenance)
    assert refuse(stored.scores, level_of(kind, "media")) == stored.finding


def test_an_old_analysis_keeps_the_rule_it_was_made_with() -> None:
    old = _result(_rule(), "video")
    stricter = FusionRule("newer rule", tuple(
        KindModel(m.kind, None, _thresholds(0.97, 0.98, 0.99)) for m in _rule().kinds))
    assert Fuser(stricter, KINDS).fuse(old.scores, "video").grade is Grade.NO_SUPPORT
    stored = result_from_dict(result_to_dict(old))
    assert fuser_for(stored.provenance)(stored.scores, "video") == old.finding
    assert old.finding is not None
    assert old.finding.grade is Grade.STRONG


def test_fusion_v1_results_still_load_and_refuse_with_v1() -> None:
    data = result_to_dict(_result(_rule(), "image"))
    data["schema_version"] = 1
    for key in ("kind", "kinds"):
        data["finding"].pop(key)
    data["provenance"].pop("fusion")
    for d in data["provenance"]["detectors"]:
        d.pop("looks_for")
    data.pop("cautions")
    from engine.fusion.findings import fuse_scores

    v1_finding = fuse_scores(result_from_dict(data).scores)
    data["finding"] = {"grade": v1_finding.grade.name, "statement": v1_finding.grade.value,
                       "p_fake": v1_finding.p_fake, "rule": v1_finding.rule,
                       "applicable_detectors": list(v1_finding.applicable_detectors)}
    old = result_from_dict(data)
    assert old.finding is not None
    assert old.finding.kind is None
    assert fuser_for(old.provenance)(old.scores, "image") == old.finding
    assert old.cautions == ()


def test_probabilities_are_checked() -> None:
    with pytest.raises(ValueError, match="probability"):
        _fuse([_s("sbi", math.nan)])
    with pytest.raises(ValueError, match="once"):
        _fuse([_s("sbi", 0.2), _s("sbi", 0.3)])
