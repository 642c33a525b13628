"""Report flowables for what a finding means: each kind's grade, cautions, validation rates.

Forensic reporting guidelines (ENFSI's guideline for evaluative reporting, SWGDE) ask that a
method's result be stated with its known error rates and limits. Each item's section therefore
lists every kind of manipulation's own grade, the cautions stored with the analysis (media
outside what the detectors know), and the "validation and error rates" table of the fusion rule
the analysis was made with: how often real media and fakes of each kind reached each grade.
"""

from __future__ import annotations

from reportlab.platypus import Flowable, Paragraph, Spacer

from engine.api import explain_grades
from engine.types import EvidenceKind, Grade, MediaResult
from forensic_gui.cases.records import AnalysisRecord
from forensic_gui.cases.report_style import ReportStyles, esc, fmt_p, table
from forensic_gui.error_rates import rate_rows, validation_note

__all__ = ["cautions_block", "kinds_block", "validation_block"]

_ELEVATED = (Grade.WEAK, Grade.MODERATE, Grade.STRONG)


def kinds_block(result: MediaResult, st: ReportStyles, width: float) -> list[Flowable]:
    """Each kind of manipulation's grade and p_fake, from that kind's detectors only."""
    finding = result.finding
    if finding is None or not finding.kinds:
        return []
    header = ["Kind of manipulation", "Grade", "p_fake", "Detectors combined"]
    rows: list[list[Flowable]] = [[Paragraph(h, st.cell_bold) for h in header]]
    for kind in finding.kinds:
        rows.append([
            Paragraph(esc(EvidenceKind(kind.kind).phrase), st.cell),
            Paragraph(esc(kind.grade.words), st.cell),
            Paragraph(fmt_p(kind.p_fake), st.cell),
            Paragraph(esc(", ".join(kind.applicable_detectors) or "none applied"), st.cell),
        ])
    reasons = explain_grades(result)
    why = "".join(f"<br/>- <b>{esc(EvidenceKind(kind).phrase)}</b>: {esc(r.text())}"
                  for kind, r in reasons.items())
    blocks: list[Flowable] = [
        Spacer(1, 4),
        Paragraph(
            "Each kind of manipulation is graded from the detectors that look for it; the "
            "finding names the kind with the strongest support.", st.body),
        table(rows, [width * 0.34, width * 0.2, width * 0.12, width * 0.34]),
    ]
    if why:
        blocks += [
            Spacer(1, 3),
            Paragraph(
                "<b>Why these grades.</b> A grade needs the kind's score to reach a bound set "
                "from real media of the same type, so that only a stated small share of real "
                "media reaches it, and the kind's likelihood (p_fake) to reach the grade's band "
                f"(0.50, 0.75, 0.90).{why}", st.body),
        ]
    return blocks


def cautions_block(result: MediaResult, st: ReportStyles, width: float) -> list[Flowable]:
    """The analysis's cautions, or nothing when there are none."""
    if not result.cautions:
        return []
    items = "".join(f"<br/>- {esc(c.message)}" for c in result.cautions)
    return [
        Spacer(1, 4),
        Paragraph(
            f"<b>Cautions</b> (the media lies outside what the detectors know; these lower "
            f"confidence in the finding and change no score):{items}", st.body),
    ]


def validation_block(
    analysis: AnalysisRecord | None, st: ReportStyles, width: float
) -> list[Flowable]:
    """The validation and error-rate table of the rule the analysis was made with."""
    if analysis is None:
        return []
    prov = analysis.result.provenance
    blocks: list[Flowable] = [
        Paragraph("Validation and error rates", st.h2),
        Paragraph(esc(validation_note(prov)), st.body),
    ]
    rows = rate_rows(prov)
    if not rows:
        return blocks
    header = ["Items in validation", "weak support or above", "moderate or above", "strong"]
    cells: list[list[Flowable]] = [[Paragraph(h, st.cell_bold) for h in header]]
    for row in rows:
        cells.append([Paragraph(esc(row.words), st.cell)]
                     + [Paragraph(esc(row.cell(g)), st.cell) for g in _ELEVATED])
    blocks += [
        Spacer(1, 3),
        table(cells, [width * 0.34, width * 0.22, width * 0.22, width * 0.22]),
        Spacer(1, 3),
        Paragraph(
            "Read the real-media rows as false-alarm rates (how often media nobody manipulated "
            "got this grade) and the other rows as detection rates for fakes of that kind. The "
            "groups are small and come from a few public sources; rates on other media can "
            "differ.", st.body),
    ]
    return blocks
