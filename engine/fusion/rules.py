"""Fusion rules as values: what a finding was made with, stored whole with every analysis.

A :class:`FusionRule` (fusion v2) grades each kind of manipulation (:class:`EvidenceKind`) from
the detectors that declare that kind, and nothing else. Per kind it holds:

- a **Platt calibration** of the kind's score (the mean of its detectors' calibrated
  ``p_fake``), fitted on media made by others with both classes weighted equally, so the kind's
  ``p_fake`` is a probability at equal priors (``p / (1 - p)`` estimates a likelihood ratio);
- **likelihood bands** on the kind's ``p_fake`` (:data:`P_BANDS`: 0.50 / 0.75 / 0.90, i.e. a
  likelihood ratio of at least 1, 3 and 9 at equal priors): a grade needs fakes of the kind to
  be more likely than real media to score so high;
- **reference thresholds** per level (``image``: a still photo; ``video``: a whole video or a
  face track; ``frame``: one frame of a video) on the logit of the kind's score: the grade
  boundaries, set where the real media of that level would reach a grade at the stated
  tail rates (:attr:`FusionRule.tail_rates`). Grades therefore mean what the rule says about
  false alarms on real media, whatever the detectors' own calibration. A grade needs both: the
  finding's grade is the lower of the two;
- the **error rates** measured on the benchmark with cross-validation (display only).

The rule is fitted by ``python -m engine.evaluation.devbench --fit`` and shipped as
``<models dir>/fusion/fusion.json``. Analyses store it whole in ``Provenance.fusion``, so an
old analysis is always re-fused and explained with the rule it was made with. Without a shipped
rule, :func:`uncalibrated_rule` grades each kind on its plain mean with fusion v1's bands, and
says so in its id.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.types import EvidenceKind, Grade

__all__ = [
    "ELEVATED_GRADES",
    "LEVELS",
    "P_BANDS",
    "FusionRule",
    "FusionRuleError",
    "KindModel",
    "load_rule",
    "rule_file",
    "shipped_rule",
    "uncalibrated_rule",
]

log = logging.getLogger(__name__)

LEVELS = ("image", "video", "frame")
ELEVATED_GRADES = (Grade.WEAK, Grade.MODERATE, Grade.STRONG)
RULE_SCHEMA = 1
# NOTE: a kind's calibrated p_fake at equal priors: p / (1 - p) = 1, 3, 9 (fusion v1's bands).
P_BANDS = {"WEAK": 0.5, "MODERATE": 0.75, "STRONG": 0.9}


class FusionRuleError(ValueError):
    """A fusion rule file is unreadable or inconsistent."""


@dataclass(frozen=True)
class KindModel:
    """How one kind's evidence is calibrated and graded.

    Attributes:
        kind: the :class:`EvidenceKind` value.
        platt: ``(a, b)``: the kind's ``p_fake = sigmoid(a * logit(score) + b)``; ``None``
            leaves the kind's score as it is.
        thresholds: per level (``"image"``, ``"video"``, ``"frame"``), the lower bound of each
            elevated grade (``WEAK``, ``MODERATE``, ``STRONG`` by name) on ``logit(score)``;
            a level missing here is graded with the ``"image"`` level's thresholds.
        reference: per level, ``{"mean", "std", "n"}`` of ``logit(score)`` over the real media
            the thresholds come from (for reports).
        detectors: the detectors of this kind the rule was fitted with, by name, each with
            the SHA-256 of its weights (a kind is only calibrated for those weights).
    """

    kind: str
    platt: tuple[float, float] | None
    thresholds: Mapping[str, Mapping[str, float]]
    reference: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    detectors: Mapping[str, str] = field(default_factory=dict)

    def threshold(self, level: str, grade: Grade) -> float:
        """The lower bound of ``grade`` on ``logit(score)`` at ``level``."""
        by_level = self.thresholds.get(level) or self.thresholds["image"]
        return float(by_level[grade.name])


@dataclass(frozen=True)
class FusionRule:
    """A complete fusion rule (see the module docstring).

    Attributes:
        rule_id: the name findings carry in ``Finding.rule``.
        kinds: one model per kind, in the order findings list them.
        tail_rates: the share of real media the thresholds let through per grade, by grade
            name (e.g. ``{"WEAK": 0.015, ...}``), as designed (``{}`` when not fitted).
        error_rates: measured rates for reports (``engine.evaluation``'s table), or ``{}``.
        fitted: how and on what the rule was fitted (command, index, date), or ``{}``.
    """

    rule_id: str
    kinds: tuple[KindModel, ...]
    tail_rates: Mapping[str, float] = field(default_factory=dict)
    error_rates: Mapping[str, Any] = field(default_factory=dict)
    fitted: Mapping[str, Any] = field(default_factory=dict)

    def model(self, kind: str) -> KindModel | None:
        """The model of ``kind``, or ``None`` when the rule has none."""
        return next((m for m in self.kinds if m.kind == kind), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; :meth:`from_dict` reverses it exactly."""
        return {
            "schema": RULE_SCHEMA,
            "rule_id": self.rule_id,
            "kinds": [_kind_to_dict(m) for m in self.kinds],
            "tail_rates": dict(self.tail_rates),
            "error_rates": _plain(self.error_rates),
            "fitted": _plain(self.fitted),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FusionRule:
        """Rebuild a rule from :meth:`to_dict` output.

        Raises:
            FusionRuleError: another schema, a missing key, an unknown kind or level.
        """
        if data.get("schema") != RULE_SCHEMA:
            raise FusionRuleError(f"unsupported fusion rule schema {data.get('schema')!r}")
        try:
            kinds = tuple(_kind_from_dict(k) for k in data["kinds"])
            return cls(
                rule_id=str(data["rule_id"]),
                kinds=kinds,
                tail_rates={str(k): float(v) for k, v in data.get("tail_rates", {}).items()},
                error_rates=dict(data.get("error_rates", {})),
                fitted=dict(data.get("fitted", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise FusionRuleError(f"fusion rule is malformed: {exc!r}") from exc

    def sha256(self) -> str:
        """SHA-256 of the rule's canonical JSON (what a stored analysis can be checked by)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def uncalibrated_rule() -> FusionRule:
    """Per-kind grading without a real-media calibration (no rule file is installed).

    Each kind's score is the plain mean of its detectors' calibrated ``p_fake``, graded on
    fusion v1's bands (0.50 / 0.75 / 0.90) at every level. The id says so in every finding.
    """
    from engine.fusion.calibration import logit

    thresholds = {g: float(logit(_np_array(p))[0]) for g, p in P_BANDS.items()}
    kinds = tuple(
        KindModel(kind=k.value, platt=None, thresholds={"image": thresholds}) for k in EvidenceKind
    )
    return FusionRule(
        rule_id="fusion v2 per kind, UNCALIBRATED on real media (mean of the kind's "
        "detectors; bands 0.50/0.75/0.90)",
        kinds=kinds,
    )


def rule_file(models_dir: Path | None = None) -> Path:
    """Where the shipped rule lives: ``<models dir>/fusion/fusion.json``."""
    from engine.runtime.weights import default_models_dir

    return (models_dir or default_models_dir()) / "fusion" / "fusion.json"


def load_rule(path: Path) -> FusionRule:
    """Read a rule file.

    Raises:
        FusionRuleError: unreadable or malformed.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FusionRuleError(f"cannot read the fusion rule {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise FusionRuleError(f"fusion rule {path} is not a JSON object")
    return FusionRule.from_dict(data)


def shipped_rule(
    detectors: Sequence[tuple[str, str, str | None]], models_dir: Path | None = None
) -> FusionRule:
    """The installed rule, checked against the detectors that will run.

    Args:
        detectors: ``(name, weights_sha256, looks_for)`` of every running detector.
        models_dir: where to look (default: the models directory).

    Returns:
        The shipped rule; a kind whose running detectors are not exactly the ones the rule
        was fitted with (other weights, one missing or added) loses its calibration and its
        thresholds fall back to the uncalibrated rule's, which the rule id then names. With no
        rule file at all, :func:`uncalibrated_rule`.

    Raises:
        FusionRuleError: the rule file exists but cannot be used.
    """
    path = rule_file(models_dir)
    if not path.is_file():
        log.warning("no fusion rule at %s: findings are graded uncalibrated", path)
        return uncalibrated_rule()
    rule = load_rule(path)
    fallback = uncalibrated_rule()
    kinds = []
    stale = []
    for model in rule.kinds:
        running = {name: sha for name, sha, kind in detectors if kind == model.kind}
        if running and dict(model.detectors) != running:
            stale.append(model.kind)
            kinds.append(fallback.model(model.kind) or model)
        else:
            kinds.append(model)
    if not stale:
        return rule
    log.warning("fusion rule %s was fitted for other %s detectors: uncalibrated", path, stale)
    return FusionRule(
        rule_id=f"{rule.rule_id}; UNCALIBRATED for {', '.join(stale)} (other weights than fitted)",
        kinds=tuple(kinds),
        tail_rates=rule.tail_rates,
        fitted=rule.fitted,
    )


def _kind_to_dict(model: KindModel) -> dict[str, Any]:
    return {
        "kind": model.kind,
        "platt": None if model.platt is None else [float(v) for v in model.platt],
        "thresholds": {lv: dict(t) for lv, t in model.thresholds.items()},
        "reference": {lv: dict(r) for lv, r in model.reference.items()},
        "detectors": dict(model.detectors),
    }


def _kind_from_dict(data: Mapping[str, Any]) -> KindModel:
    kind = EvidenceKind(data["kind"]).value  # ValueError on an unknown kind
    thresholds = {
        str(level): {Grade[g].name: float(v) for g, v in by_grade.items()}
        for level, by_grade in data["thresholds"].items()
    }
    unknown = set(thresholds) - set(LEVELS)
    if unknown or "image" not in thresholds:
        raise ValueError(f"kind {kind}: levels must be {LEVELS} with 'image'; got {thresholds}")
    for by_grade in thresholds.values():
        if set(by_grade) != {g.name for g in ELEVATED_GRADES}:
            raise ValueError(f"kind {kind}: thresholds need WEAK, MODERATE and STRONG")
        if not by_grade["WEAK"] <= by_grade["MODERATE"] <= by_grade["STRONG"]:
            raise ValueError(f"kind {kind}: thresholds must rise with the grade")
    platt = data.get("platt")
    return KindModel(
        kind=kind,
        platt=None if platt is None else (float(platt[0]), float(platt[1])),
        thresholds=thresholds,
        reference={str(lv): dict(r) for lv, r in data.get("reference", {}).items()},
        detectors={str(k): str(v) for k, v in data.get("detectors", {}).items()},
    )


def _plain(value: Any) -> Any:
    """A JSON round trip, so stored and in-memory rules compare equal."""
    return json.loads(json.dumps(value))


def _np_array(p: float) -> Any:
    import numpy as np

    return np.array([p], dtype=np.float64)
