"""Why a kind of manipulation got its grade, in numbers and words.

A kind's grade needs two things (:mod:`engine.fusion.per_kind`): its score (the mean of its
detectors' calibrated ``p_fake``) must reach the grade's **real-media bound** at the media's
level, set so that a known small share of real media reaches it; and the kind's calibrated
``p_fake`` must reach the grade's **likelihood band** (0.50 / 0.75 / 0.90), so that fakes of
the kind are more likely than real media to score so high. Either can hold a grade down, and
then the two numbers an analyst reads look contradictory: a DFDC deepfake reads "no support for
a face swap or blend" with a face-swap p_fake of 0.785, because about 1.5% of real videos are
modelled to score above its 0.781. The analyst needs to see which bound held the grade down and
by how much; this module says it.

Everything is computed from what an analysis stores (its per-detector scores and its whole
fusion rule), so an old analysis explains itself with the rule it was made with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.fusion.per_kind import clears, kind_score, sigmoid
from engine.fusion.rules import ELEVATED_GRADES, P_BANDS, FusionRule, KindModel
from engine.types import DetectorScore, EvidenceKind, Grade, KindFinding

__all__ = ["GradeExplanation", "explain_kind", "explain_kinds"]

_REAL_AT_LEVEL = {"image": "real photos", "video": "real videos", "frame": "frames of real videos"}


@dataclass(frozen=True)
class GradeExplanation:
    """What a kind's grade rests on.

    Attributes:
        kind: the :class:`EvidenceKind` value.
        grade: the grade the finding carries.
        level: ``"image"``, ``"video"`` or ``"frame"``: which real media the bounds come from
            (``"image"`` where the rule grades this level with the stills' bounds).
        score: the kind's score, the mean of its applicable detectors' calibrated ``p_fake``
            (``None`` when not applicable).
        p_fake: the kind's calibrated probability (``None`` when not applicable).
        bounds: per elevated grade (by name), the score at which the grade's real-media bound
            lies (the rule stores it on the logit; here it is a score, as the panel shows them).
        tail_rates: per elevated grade, the share of real media the bound is designed to let
            through (``{}`` where the kind's bounds were not fitted on real media).
        held_by: what kept the grade from the next one: ``"real_media"`` (the score is under
            the next grade's real-media bound), ``"likelihood"`` (the p_fake is under its band),
            ``"both"``, or ``None`` (strong support, or not applicable).
    """

    kind: str
    grade: Grade
    level: str
    score: float | None
    p_fake: float | None
    bounds: Mapping[str, float]
    tail_rates: Mapping[str, float]
    held_by: str | None

    @property
    def next_grade(self) -> Grade | None:
        """The grade above this one, or ``None`` at strong support or when not applicable."""
        if self.grade is Grade.NOT_APPLICABLE or self.grade is Grade.STRONG:
            return None
        return ELEVATED_GRADES[self.grade.level]  # NO_SUPPORT (0) -> WEAK, WEAK (1) -> MODERATE

    def text(self) -> str:
        """Two or three sentences for the findings panel, the report and the CLI."""
        phrase = EvidenceKind(self.kind).phrase
        if self.score is None or self.p_fake is None:
            return f"None of the detectors that look for {phrase} applied."
        real = _REAL_AT_LEVEL.get(self.level, "real media")
        bounds = ", ".join(f"{g.words.split()[0]} {self.bounds[g.name]:.3f}"
                           for g in ELEVATED_GRADES)
        whose = (f"bounds for {real}" if self.tail_rates
                 else "fixed bounds (not set from real media)")
        head = f"Score {self.score:.3f} (mean of its detectors); {whose}: {bounds}."
        nxt = self.next_grade
        if nxt is None:
            strong = Grade.STRONG
            return (f"{head} Strong support: the score reaches {self.bounds[strong.name]:.3f}"
                    f"{self._rate_words(strong, real)} and its likelihood (p_fake "
                    f"{self.p_fake:.3f}) reaches {P_BANDS[strong.name]:.2f}.")
        band, bound = P_BANDS[nxt.name], self.bounds[nxt.name]
        rare = self._rate_words(nxt, real)
        under_band = (f"its likelihood (p_fake {self.p_fake:.3f}) is under {band:.2f}: on the "
                      f"validation media, fakes of this kind were not {_ratio_words(band)} "
                      "real media to score so high")
        if self.held_by == "real_media":
            why = (f"the score is under {bound:.3f}{rare}; its likelihood (p_fake "
                   f"{self.p_fake:.3f}) alone would allow {nxt.words}")
        elif self.held_by == "likelihood":
            why = f"the score reaches {bound:.3f}{rare}, but {under_band}"
        else:
            why = f"the score is under {bound:.3f}{rare}, and {under_band}"
        return f"{head} Not {nxt.words}: {why}."

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form, for the CLI's record of a file."""
        return {
            "grade": self.grade.name,
            "level": self.level,
            "score": self.score,
            "p_fake": self.p_fake,
            "bounds": dict(self.bounds),
            "tail_rates": dict(self.tail_rates),
            "held_by": self.held_by,
            "text": self.text(),
        }

    def _rate_words(self, grade: Grade, real: str) -> str:
        rate = self.tail_rates.get(grade.name)
        if rate is None:
            return " (a fixed band: this rule was not fitted on real media)"
        return f" (about {_pct(rate)} of {real} are modelled to reach it)"


def explain_kind(
    finding: KindFinding,
    scores: Sequence[DetectorScore],
    rule: FusionRule,
    level: str,
) -> GradeExplanation:
    """The explanation of one kind's finding from the scores it was fused from.

    Args:
        finding: the kind's finding (``Finding.kinds``).
        scores: the per-detector scores of the same face, frame, track or file.
        rule: the fusion rule the finding was made with.
        level: the fusion level the finding was made at.

    Raises:
        ValueError: the rule has no model of ``finding.kind``.
    """
    model = rule.model(finding.kind)
    if model is None:
        raise ValueError(f"the rule {rule.rule_id!r} has no model of kind {finding.kind!r}")
    bounds = {g.name: sigmoid(model.threshold(level, g)) for g in ELEVATED_GRADES}
    # NOTE: a level the rule has no thresholds for is graded with the stills' (KindModel), and
    # a kind that fell back to the fixed bands (other weights than fitted: rules.shipped_rule)
    # keeps the rule's tail rates but has no real-media reference: no rate may be claimed.
    shown_level = level if level in model.thresholds else "image"
    tails = dict(rule.tail_rates) if model.reference else {}
    by_name = {s.detector: s.p_fake for s in scores}
    used = [by_name.get(name) for name in finding.applicable_detectors]
    if finding.p_fake is None or not used or any(p is None for p in used):
        return GradeExplanation(finding.kind, finding.grade, shown_level, None, None, bounds,
                                tails, None)
    score = kind_score(used)  # type: ignore[arg-type]
    return GradeExplanation(
        kind=finding.kind,
        grade=finding.grade,
        level=shown_level,
        score=score,
        p_fake=finding.p_fake,
        bounds=bounds,
        tail_rates=tails,
        held_by=_held_by(model, finding, score, level),
    )


def explain_kinds(
    kinds: Sequence[KindFinding],
    scores: Sequence[DetectorScore],
    rule: FusionRule,
    level: str,
) -> dict[str, GradeExplanation]:
    """:func:`explain_kind` of every kind the rule models, by kind."""
    return {k.kind: explain_kind(k, scores, rule, level) for k in kinds
            if rule.model(k.kind) is not None}


def _held_by(model: KindModel, finding: KindFinding, score: float, level: str) -> str | None:
    if finding.grade is Grade.STRONG or finding.grade is Grade.NOT_APPLICABLE:
        return None
    nxt = ELEVATED_GRADES[finding.grade.level]
    # NOTE: the fusion's own test (per_kind.clears), so the reason always agrees with the grade.
    bound_ok, band_ok = clears(model, level, nxt, score, finding.p_fake or 0.0)
    if not bound_ok and not band_ok:
        return "both"
    return "real_media" if not bound_ok else "likelihood"


def _ratio_words(band: float) -> str:
    """``"more likely than"`` (band 0.50) or ``"3 times as likely as"`` (band 0.75)."""
    ratio = band / (1.0 - band)
    if abs(ratio - 1.0) < 1e-9:
        return "more likely than"
    return f"{ratio:.0f} times as likely as"


def _pct(rate: float) -> str:
    """``0.015`` -> ``"1.5%"``, ``0.003`` -> ``"0.3%"``, ``0.0005`` -> ``"0.05%"``."""
    return f"{100.0 * rate:.2g}%"
