"""Fitting fusion v2 on media made by others, and checking it by cross-validation.

Per kind of manipulation (``EvidenceKind``), from the benchmark's per-detector file scores:

- **Platt calibration** of the kind's score (mean of the kind's detectors' calibrated
  ``p_fake``) on the real items and the fakes of the kinds listed in :data:`POSITIVES`, both
  classes weighted equally (the intercept is moved by the log of the class ratio), so the
  kind's ``p_fake`` reads at equal priors;
- **reference thresholds** per level from the REAL items only: ``logit(score)`` of real stills
  (level ``image``), of real videos (``video``; tracks use it too) and of every analysed frame
  of real videos (``frame``) is modelled as normal, and each grade's threshold is the upper
  one-sided prediction bound ``mean + t(1 - rate, n - 1) * std * sqrt(1 + 1/n)`` for the
  grade's tail rate (:data:`TAIL_RATES`). The prediction bound (Student's t, not the normal)
  accounts for estimating the mean and spread from few items. Frames of one video are not
  independent: ``n`` for the frame level is the number of videos, not of frames.

:func:`cross_validate` fits the rule without each source in turn (``source_repo``: matched
real/fake pairs share a source, so every pair stays on one side) and grades that source's items
with it, so every item is graded by a rule it was not fitted on. The shipped rule is then fitted
on every item, and carries the cross-validated error rates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from engine.evaluation.bench_records import BenchRecord
from engine.fusion.per_kind import fuse_per_kind
from engine.fusion.rules import LEVELS, FusionRule, KindModel
from engine.types import DetectorScore, EvidenceKind, Finding

__all__ = [
    "MIN_REFERENCE_ITEMS",
    "POSITIVES",
    "TAIL_RATES",
    "FitError",
    "cross_validate",
    "fit_rule",
    "kind_score",
]

# NOTE: which benchmark kinds are fakes OF each kind of manipulation, for the calibration.
# Talking heads and reenactments are animated from one photo by a generator: the whole face
# is generated; every fake video carries frame-to-frame evidence if a temporal model sees it.
POSITIVES: Mapping[str, tuple[str, ...]] = {
    "face_swap": ("faceswap_video", "faceswap_image"),
    "temporal": ("faceswap_video", "talking_head_video", "reenactment_video"),
    "generated": (
        "gan_image",
        "diffusion_image",
        "talking_head_video",
        "reenactment_video",
        "reenactment_image",
    ),
}
# NOTE: the share of real media of one level a kind's threshold lets through, per grade. With
# at most three kinds per file, weak support or above stays under 3 x 1.5% = 4.5% of real
# media by design (the target is 5%); moderate 0.3% per kind, strong 0.05%.
TAIL_RATES: Mapping[str, float] = {"WEAK": 0.015, "MODERATE": 0.003, "STRONG": 0.0005}
MIN_REFERENCE_ITEMS = 8  # fewer real items of a level: that level uses the image thresholds


class FitError(ValueError):
    """The benchmark cannot give a rule (no real items, detectors disagree between items)."""


def kind_score(
    scores: Mapping[str, float | None], kinds_of: Mapping[str, str], kind: str
) -> float | None:
    """The mean calibrated ``p_fake`` of ``kind``'s applicable detectors (``None``: none)."""
    values = [p for name, p in scores.items() if p is not None and kinds_of.get(name) == kind]
    return math.fsum(values) / len(values) if values else None


def fit_rule(
    records: Sequence[BenchRecord], *, rule_id: str, fitted: Mapping[str, Any] | None = None
) -> FusionRule:
    """Fit the per-kind calibration and reference thresholds on ``records``.

    Raises:
        FitError: no real item, or the records were scored by different detector weights.
    """
    kinds_of, shas = _detectors(records)
    declared = {k for k in kinds_of.values()}
    models = []
    for kind in (k.value for k in EvidenceKind if k.value in declared):
        members = {n: shas[n] for n, k in kinds_of.items() if k == kind}
        models.append(_fit_kind(records, kind, kinds_of, members))
    return FusionRule(
        rule_id=rule_id,
        kinds=tuple(models),
        tail_rates=dict(TAIL_RATES),
        fitted=dict(fitted or {}),
    )


def cross_validate(
    records: Sequence[BenchRecord], *, rule_id: str
) -> tuple[dict[str, Finding], dict[str, dict[str, Finding]]]:
    """Leave-one-source-out findings: every item graded by a rule fitted without its source.

    Returns:
        ``(file_findings, frame_findings)``: the file-level finding per item path, and per
        video path its frames' findings keyed by frame position (``"0"``, ``"1"``, ...).
    """
    file_findings: dict[str, Finding] = {}
    frame_findings: dict[str, dict[str, Finding]] = {}
    for source in sorted({r.item.source for r in records}):
        train = [r for r in records if r.item.source != source]
        if not any(r.item.label == 0 for r in train):
            raise FitError(f"without source {source!r} no real item is left to fit on")
        rule = fit_rule(train, rule_id=rule_id)
        for rec in (r for r in records if r.item.source == source):
            file_findings[rec.item.path] = grade_record(rec, rule)
            if rec.level == "video":
                frame_findings[rec.item.path] = {
                    str(i): _fuse(scores, rec.kinds_of, rule, "frame")
                    for i, scores in enumerate(rec.frame_scores)
                }
    return file_findings, frame_findings


def grade_record(rec: BenchRecord, rule: FusionRule) -> Finding:
    """The file-level finding of one record under ``rule``."""
    return _fuse(rec.file_scores, rec.kinds_of, rule, rec.level)


def _fuse(
    scores: Mapping[str, float | None], kinds_of: Mapping[str, str], rule: FusionRule, level: str
) -> Finding:
    as_scores = [DetectorScore(name, p) for name, p in scores.items()]
    return fuse_per_kind(as_scores, kinds_of=kinds_of, rule=rule, level=level)


def _detectors(records: Sequence[BenchRecord]) -> tuple[dict[str, str], dict[str, str]]:
    scored = [r for r in records if r.status != "error" and r.kinds_of]
    if not scored:
        raise FitError("no analysed item declares detector kinds: nothing to fit")
    kinds_of, shas = dict(scored[0].kinds_of), dict(scored[0].detector_sha256)
    for rec in scored[1:]:
        if dict(rec.kinds_of) != kinds_of or dict(rec.detector_sha256) != shas:
            raise FitError(f"{rec.item.rel_path} was scored by other detectors than the rest")
    return kinds_of, {n: shas[n] for n in kinds_of}


def _fit_kind(
    records: Sequence[BenchRecord], kind: str, kinds_of: Mapping[str, str], members: dict[str, str]
) -> KindModel:
    thresholds: dict[str, dict[str, float]] = {}
    reference: dict[str, dict[str, float]] = {}
    for level in LEVELS:
        z, n_eff = _real_logits(records, kind, kinds_of, level)
        if n_eff < MIN_REFERENCE_ITEMS:
            continue
        mean, std = float(np.mean(z)), float(np.std(z, ddof=1))
        reference[level] = {"mean": mean, "std": std, "n": n_eff}
        thresholds[level] = {
            g: _prediction_bound(mean, std, n_eff, rate) for g, rate in TAIL_RATES.items()
        }
    if "image" not in thresholds:
        if not thresholds:
            raise FitError(f"kind {kind}: fewer than {MIN_REFERENCE_ITEMS} real items scored")
        thresholds["image"] = max(thresholds.values(), key=lambda t: t["WEAK"])  # stricter one
    return KindModel(kind, _platt(records, kind, kinds_of), thresholds, reference, members)


def _real_logits(
    records: Sequence[BenchRecord], kind: str, kinds_of: Mapping[str, str], level: str
) -> tuple[np.ndarray, int]:
    """logit(kind score) of the real items of one level, and how many independent items."""
    from engine.fusion.calibration import logit

    reals = [r for r in records if r.item.label == 0 and r.status != "error"]
    values: list[float] = []
    n_items = 0
    for rec in reals:
        if level == "frame":
            if rec.level != "video":
                continue
            frame_values = [kind_score(f, kinds_of, kind) for f in rec.frame_scores]
            kept = [v for v in frame_values if v is not None]
        else:
            one = kind_score(rec.file_scores, kinds_of, kind) if rec.level == level else None
            kept = [] if one is None else [one]
        values.extend(kept)
        n_items += bool(kept)
    return logit(np.asarray(values, dtype=np.float64)), n_items


def _prediction_bound(mean: float, std: float, n: int, tail_rate: float) -> float:
    from scipy.stats import t as student_t

    return float(mean + student_t.ppf(1.0 - tail_rate, n - 1) * std * math.sqrt(1.0 + 1.0 / n))


def _platt(
    records: Sequence[BenchRecord], kind: str, kinds_of: Mapping[str, str]
) -> tuple[float, float] | None:
    """Equal-prior Platt parameters of the kind's score, or ``None`` without both classes."""
    from engine.fusion.calibration import CalibrationError, fit

    scores, labels = [], []
    for rec in records:
        if rec.item.label == 1 and rec.item.kind not in POSITIVES[kind]:
            continue
        score = kind_score(rec.file_scores, kinds_of, kind)
        if score is not None:
            scores.append(score)
            labels.append(rec.item.label)
    y = np.asarray(labels)
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    try:
        cal = fit(np.asarray(scores), y)
    except CalibrationError:
        return None  # scores do not rise with the label: the kind is left uncalibrated
    # NOTE: Platt's smoothed targets put the fitted prior at (n_pos + 1) / (n_neg + 1).
    return (cal.a, cal.b - math.log((n_pos + 1.0) / (n_neg + 1.0)))
