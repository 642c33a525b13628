"""The error rates of a finding's grade, in words and tables (Qt-free: panel and PDF report).

A grade means what its validation says: how often real media received it and how often fakes
of each kind did. The numbers come from the fusion rule the analysis was made with
(``Provenance.fusion["error_rates"]``, measured by ``python -m engine.evaluation.devbench``
with leave-one-source-out cross-validation), so an old analysis shows the rates of its own
rule. An analysis without them (fusion v1, or an uncalibrated rule) says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.api import rate_text
from engine.types import Finding, Grade, Provenance

__all__ = [
    "BENCH_KIND_WORDS",
    "RateRow",
    "benign_alternative",
    "grade_rate_sentence",
    "rate_rows",
    "real_rows_of_type",
    "unseen_manipulation",
    "validation_note",
]

BENCH_KIND_WORDS = {
    "real_image": "real photos",
    "real_video": "real videos",
    "faceswap_video": "face-swap videos",
    "faceswap_image": "face-swap stills",
    "talking_head_video": "talking-head videos",
    "reenactment_video": "reenactment videos",
    "reenactment_image": "reenactment stills",
    "gan_image": "GAN-generated stills",
    "diffusion_image": "diffusion-generated stills",
}
_REAL = ("real_image", "real_video")
_ELEVATED = (Grade.WEAK, Grade.MODERATE, Grade.STRONG)


@dataclass(frozen=True)
class RateRow:
    """One benchmark group: how many items reached each elevated grade or above."""

    group: str
    n: int
    reached: tuple[int, int, int]  # weak or above, moderate or above, strong

    @property
    def words(self) -> str:
        """The group as a reader says it (``"real photos"``)."""
        return BENCH_KIND_WORDS.get(self.group, self.group)

    def cell(self, grade: Grade, *, label: bool = False) -> str:
        """``"k/n (share; 95% interval)"`` for ``grade`` or above (``label``: say "95% CI").

        The interval is exact (Clopper-Pearson) and computed from ``k`` and ``n`` alone, so an
        analysis stored before intervals were shown gets them too.
        """
        return rate_text(self.reached[_ELEVATED.index(grade)], self.n, label=label)


def rate_rows(provenance: Provenance | None, evidence_kind: str | None = None) -> list[RateRow]:
    """Real groups first, then fakes; ``evidence_kind`` picks that kind's own table."""
    table = _table(provenance, evidence_kind)
    known = [g for g in BENCH_KIND_WORDS if g in table]
    order = known + [g for g in table if g not in BENCH_KIND_WORDS]
    rows = []
    for g in order:
        weak, moderate, strong = (int(table[g][x.name]) for x in _ELEVATED)
        rows.append(RateRow(g, int(table[g]["n"]), (weak, moderate, strong)))
    return rows


def validation_note(provenance: Provenance | None) -> str:
    """Where the rates come from, or why there are none."""
    fusion = provenance.fusion if provenance is not None else None
    if not fusion:
        return ("Made with fusion v1 (one mean over every detector): no error rates on real media "
                "were recorded for it.")
    rates = fusion.get("error_rates") or {}
    if not rates:
        return (f"Rule '{fusion.get('rule_id', '?')}' carries no validation on real media: "
                "its grades have no measured error rates.")
    return (f"Measured on {rates.get('index', 'a benchmark of media made by others')} by "
            f"{rates.get('method', 'cross-validation')}: every item graded by a rule fitted "
            "without its source. Each rate is given as k/n, its share and the share's exact 95% "
            "interval: the groups are small, and any true rate inside the interval agrees with "
            "the count.")


def grade_rate_sentence(provenance: Provenance | None, grade: Grade, kind: str | None,
                        media_kind: str | None = None) -> str:
    """One sentence for a finding's grade: real media and fakes that reached it in validation.

    Only the benchmark groups of the media's own type (``media_kind``: ``"video"`` or
    ``"image"``; every group when ``None``) are named: a rate on stills says nothing about a
    video. For "no support" the sentence gives the other error too: how many fakes of that
    type read no support as well, so the grade is not read as evidence of authenticity.
    """
    rows = rate_rows(provenance, None)
    if not rows:
        return validation_note(provenance)
    if grade.level < 1:
        reals = "; ".join(f"{r.words} {r.cell(Grade.WEAK, label=True)}"
                          for r in real_rows_of_type(rows, media_kind))
        missed = _missed(rows, media_kind)
        return f"In validation, real media graded weak or above: {reals}.{missed}"
    mine = [r for r in rows if _same_type(r, media_kind)]
    reals = "; ".join(f"{r.words} {r.cell(grade, label=True)}"
                      for r in real_rows_of_type(rows, media_kind))
    fakes = "; ".join(f"{r.words} {r.cell(grade)}" for r in mine
                      if r.group not in _REAL and r.n)
    return (f"In validation, {grade.words} or above was reached by {reals}; and by fakes: "
            f"{fakes}.")


def benign_alternative(kind: str | None, grade: Grade) -> str:
    """What else, not a manipulation, reaches a supported grade of ``kind`` ('' if none known):
    the words after "Also consistent with".

    Face-only retouching (a beauty filter, skin smoothing) is a smoothed face blended into its
    own picture: the face-swap detectors read it as blending. Measured on the dev bench's real
    faces (``python -m engine.evaluation.benign_edits``), a mild filter of that kind sent about half
    or more of the real items over each face-swap detector's threshold, while the same
    smoothing of the whole picture did not; each detector's own rate is in its limits.
    """
    if kind != "face_swap" or grade.level < 1:
        return ""
    return ("retouching of the face alone (a beauty filter, skin smoothing), which the "
            "face-swap detectors read as blending; each detector's measured rate is in its "
            "limits. Check whether the source used a filter before relying on this grade.")


def unseen_manipulation(finding: Finding | None) -> str:
    """A manipulation the face-swap detectors largely miss, said next to "no support" ('' when
    the finding has a supported grade or its face-swap kind did not apply).

    Composites of face parts: the detectors learnt blends that end at the face outline, and on
    the dev bench's real faces with another person's eye, nose or mouth pasted in (``python -m
    engine.evaluation.part_composites``) they rank the composites barely above the untouched
    faces; each detector's own figures are in its limits (its model card's part composites).
    """
    if finding is None or finding.grade.level >= 1:
        return ""
    face_swap = next((k for k in finding.kinds if k.kind == "face_swap"), None)
    if face_swap is None or face_swap.grade is Grade.NOT_APPLICABLE:
        return ""
    return ("The face-swap detectors also largely miss a composite of face parts (another "
            "person's eye, nose or mouth pasted in): each detector's measured figures are in "
            "its limits.")


def real_rows_of_type(rows: list[RateRow], media_kind: str | None) -> list[RateRow]:
    """The real-media rows of the media's own type (both types when it is unknown)."""
    return [r for r in rows if r.group in _REAL and _same_type(r, media_kind)]


def _same_type(row: RateRow, media_kind: str | None) -> bool:
    """Whether a benchmark group is of the media's type (every group when it is unknown)."""
    suffix = {"video": "_video", "image": "_image"}.get(media_kind or "")
    return suffix is None or row.group.endswith(suffix)


def _missed(rows: list[RateRow], media_kind: str | None) -> str:
    """" No support is not ...: fakes that also read no support: ..." for the media's modality."""
    fakes = [r for r in rows if r.group not in _REAL and r.n and _same_type(r, media_kind)]
    if not fakes:
        return ""
    missed = "; ".join(f"{r.words} {rate_text(r.n - r.reached[0], r.n)}" for r in fakes)
    return (" No support is not evidence that the file is authentic: in the same validation, "
            f"fakes that read no support too: {missed}.")


def _table(provenance: Provenance | None, evidence_kind: str | None) -> Mapping[str, Any]:
    fusion = provenance.fusion if provenance is not None else None
    rates = (fusion or {}).get("error_rates") or {}
    if evidence_kind is None:
        return rates.get("overall") or {}
    return (rates.get("by_kind") or {}).get(evidence_kind) or {}
