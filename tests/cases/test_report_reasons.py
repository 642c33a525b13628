"""What the report says a grade is worth: why each kind got its grade, and what "no support"
misses, from the stored scores and rule only."""

from __future__ import annotations

import numpy as np
from reportlab.lib.pagesizes import A4

from engine.fusion.calibration import logit
from engine.fusion.per_kind import fuse_per_kind
from engine.fusion.rules import FusionRule, KindModel
from engine.types import (
    DetectorProvenance,
    DetectorScore,
    Grade,
    MediaInfo,
    MediaResult,
    Provenance,
)
from forensic_gui.cases.report_style import make_styles
from forensic_gui.cases.report_validation import kinds_block
from forensic_gui.error_rates import grade_rate_sentence

KINDS = {"sbi": "face_swap", "gan": "generated"}


def _rule() -> FusionRule:
    z = {g: float(logit(np.array([p]))[0])
         for g, p in (("WEAK", 0.7), ("MODERATE", 0.85), ("STRONG", 0.97))}
    counts = {"n": 40, "WEAK": 2, "MODERATE": 1, "STRONG": 0}
    rates = {"method": "cv", "index": "bench", "overall": {
        "real_video": counts, "real_image": {**counts, "n": 60},
        "faceswap_video": {"n": 25, "WEAK": 5, "MODERATE": 1, "STRONG": 0},
        "gan_image": {"n": 47, "WEAK": 13, "MODERATE": 7, "STRONG": 2}}}
    reference = {"image": {"mean": -2.0, "std": 1.0, "n": 60}}
    kinds = tuple(KindModel(k, None, {"image": z}, reference=reference)
                  for k in ("face_swap", "generated"))
    return FusionRule("rule", kinds, tail_rates={"WEAK": 0.015, "MODERATE": 0.003,
                                                 "STRONG": 0.0005}, error_rates=rates)


def _result(sbi: float, gan: float, kind: str = "video") -> MediaResult:
    rule = _rule()
    scores = (DetectorScore("sbi", sbi, sbi), DetectorScore("gan", gan, gan))
    prov = Provenance(
        engine_version="t", runtime="onnx", device="cpu", sampling="s", aggregation_rule="a",
        sampled_frame_indices=(0,), timings_s=(),
        detectors=tuple(DetectorProvenance(n, "1", "0" * 64, 0.5, "platt", k)
                        for n, k in KINDS.items()),
        fusion=rule.to_dict())
    media = MediaInfo("x", kind, "mp4", 10, 64, 64, 1)
    finding = fuse_per_kind(scores, kinds_of=KINDS, rule=rule, level="image")
    return MediaResult("x", "ok", "ab" * 32, media, scores=scores, finding=finding,
                       provenance=prov)


def test_no_support_names_the_fakes_of_its_own_type_that_read_it_too() -> None:
    video = _result(0.3, 0.2, "video")
    assert video.finding is not None
    assert video.finding.grade is Grade.NO_SUPPORT
    text = grade_rate_sentence(video.provenance, video.finding.grade, video.finding.kind, "video")
    assert "No support is not evidence that the file is authentic" in text
    assert "face-swap videos 20/25 (80%; 59%–93%)" in text
    assert "GAN-generated stills" not in text  # a still's rate says nothing about a video
    assert "real videos 2/40 (5.0%; 95% CI 0.6%–17%)" in text
    assert "real photos" not in text
    image = grade_rate_sentence(video.provenance, Grade.NO_SUPPORT, "face_swap", "image")
    assert "GAN-generated stills 34/47" in image
    assert "face-swap videos" not in image


def test_an_elevated_grade_gives_its_false_alarm_rate_not_the_misses() -> None:
    result = _result(0.9, 0.2)
    assert result.finding is not None
    assert result.finding.grade is Grade.MODERATE
    text = grade_rate_sentence(result.provenance, result.finding.grade, result.finding.kind,
                               "video")
    assert "moderate support or above was reached by real videos 1/40 (2.5%; 95% CI" in text
    assert "face-swap videos 1/25" in text
    assert "real photos" not in text
    assert "GAN-generated stills" not in text
    assert "No support is not evidence" not in text


def test_report_explains_each_kinds_grade() -> None:
    result = _result(0.8, 0.2)
    text = " ".join(getattr(f, "text", "") for f in kinds_block(result, make_styles(),
                                                                  A4[0] - 100))
    assert "Why these grades." in text
    assert "Score 0.800" in text
    assert "Not moderate support: the score is under 0.850 (about 0.3% of real photos" in text
    assert "a fully generated face or image" in text


def test_a_supported_face_swap_names_retouching_as_an_alternative() -> None:
    """A face-only beauty filter reads as blending (engine.evaluation.benign_edits): the panel
    and the report say so next to a supported face-swap grade, and only there."""
    from forensic_gui.error_rates import benign_alternative

    result = _result(0.9, 0.2)
    assert result.finding is not None
    assert result.finding.kind == "face_swap"
    text = benign_alternative(result.finding.kind, result.finding.grade)
    assert text.startswith("retouching of the face alone")
    assert "beauty filter" in text
    assert benign_alternative("face_swap", Grade.NO_SUPPORT) == ""
    assert benign_alternative("generated", Grade.STRONG) == ""
    assert benign_alternative(None, Grade.WEAK) == ""


def test_no_support_names_the_composites_the_face_swap_detectors_miss() -> None:
    """Composites of face parts escape the face-swap detectors
    (engine.evaluation.part_composites): said next to "no support" when they applied, and not
    when the face-swap kind did not apply or a grade is supported."""
    from engine.types import Finding, KindFinding
    from forensic_gui.error_rates import unseen_manipulation

    def finding(grade: Grade, face_swap: Grade) -> Finding:
        kinds = (KindFinding("face_swap", face_swap, 0.2, ("sbi_effl0",)),
                 KindFinding("generated", Grade.NO_SUPPORT, 0.1, ("gan_effl0",)))
        return Finding(grade, 0.2, ("sbi_effl0", "gan_effl0"), "test rule", kind="face_swap",
                       kinds=kinds)

    text = unseen_manipulation(finding(Grade.NO_SUPPORT, Grade.NO_SUPPORT))
    assert "largely miss a composite of face parts" in text
    assert unseen_manipulation(finding(Grade.WEAK, Grade.WEAK)) == ""
    assert unseen_manipulation(finding(Grade.NO_SUPPORT, Grade.NOT_APPLICABLE)) == ""
    assert unseen_manipulation(None) == ""


def test_a_whole_picture_score_is_one_row_where_it_is_the_detectors_score() -> None:
    """A generated-image detector that scores no face region has a file score that is its
    whole-picture score: printed twice, it read as two measurements."""
    from forensic_gui.cases.records import ScoreRecord
    from forensic_gui.cases.report_sections import labelled_scores

    def media(name: str, p: float) -> ScoreRecord:
        return ScoreRecord(1, "media", None, None, None, name, p, p / 2, None)

    scores = [media("gan", 0.006), media("probe", 0.961), media("sbi", 0.4),
              ScoreRecord(1, "frame", 3, 0.1, None, "gan", 0.9, 0.9, None)]
    pictures = [DetectorScore("gan", 0.006, 0.003), DetectorScore("probe", 0.95, 0.475),
                DetectorScore("other", 0.2, 0.1)]
    names = {"gan": "GAN", "probe": "Probe"}
    labels = [label for _score, label in labelled_scores(scores, pictures, names)]
    assert labels == ["GAN (whole picture)", "Probe", "sbi", "Probe: whole picture",
                      "other: whole picture"]
