"""Report flowables for reference comparisons: the item set against genuine footage.

A reference comparison (``engine.api.compare_to_reference``; docs/FINDINGS.md section 6) says how
much higher the item's evidence is than that of footage the analyst holds to be genuine and of
the same source, and how often genuine footage set against genuine footage of one recording
differed as much: a measured false-alarm count, printed with what it was measured on and what it
does not cover, as forensic reporting guidelines ask of any method's result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reportlab.platypus import Flowable, Paragraph, Spacer

from engine.api import ReferenceDelta
from engine.types import EvidenceKind
from forensic_gui.cases.records import ReferenceComparisonRecord
from forensic_gui.cases.report_style import ReportStyles, esc, fmt_time, table

__all__ = ["reference_block"]

_LIMITS = (
    "The count comes from genuine videos cut into two halves: it says how much genuine footage "
    "of one recording varies, not how much footage of another day, camera or encoding does, so "
    "a reference from another recording can differ more for reasons that are not manipulation. "
    "That the reference is genuine and shows the same person is the analyst's judgement, not "
    "the software's. Each frame's score is that of its highest-scoring face."
)


def reference_block(comparisons: Sequence[ReferenceComparisonRecord], st: ReportStyles,
                    width: float, names: Mapping[str, str] | None = None) -> list[Flowable]:
    """One part per comparison of the item with a reference (nothing when there is none);
    ``names`` maps detector ids to the labels the rest of the report uses."""
    if not comparisons:
        return []
    blocks: list[Flowable] = [Paragraph("Comparison with reference footage", st.h2)]
    for record in comparisons:
        c = record.comparison
        blocks += [
            Paragraph(
                f"Set against <b>{esc(record.reference_file_name)}</b> (evidence "
                f"#{record.reference_evidence_id}, SHA-256 {esc(c.reference_sha256)}), named "
                f"genuine footage of the same source by {esc(record.created_by)} on "
                f"{esc(fmt_time(record.created_at_utc))}; analyses #{record.suspect_analysis_id} "
                f"and #{record.reference_analysis_id}, {c.suspect_frames} and "
                f"{c.reference_frames} frames scored.", st.body),
            Spacer(1, 2),
            Paragraph(f"<b>{esc(record.statement)}</b>", st.body),
            *[Paragraph(f"Caution: {esc(caution)}", st.body) for caution in c.cautions],
            Spacer(1, 3),
            table(_rows(c.deltas, st, names or {}),
                  [width * 0.34, width * 0.14, width * 0.14, width * 0.14, width * 0.24]),
            Spacer(1, 3),
            Paragraph(
                f"Scores are means over the scored frames on the logit scale (0 = even odds). "
                f"Genuine-vs-genuine differences: {esc(c.null.measured_on)}, "
                f"{c.null.n_videos} videos, each half set against the other both ways "
                f"({esc(c.null.null_id)}).", st.body),
            Spacer(1, 2),
            Paragraph(esc(_LIMITS), st.body),
            Spacer(1, 6),
        ]
    return blocks


def _rows(deltas: Sequence[ReferenceDelta], st: ReportStyles,
          names: Mapping[str, str]) -> list[list[Flowable]]:
    header = ["Evidence", "this file", "reference", "difference",
              "genuine pairs differing as much"]
    rows: list[list[Flowable]] = [[Paragraph(h, st.cell_bold) for h in header]]
    for d in deltas:
        name = (f"{EvidenceKind(d.kind).phrase} (kind)" if d.kind is not None
                else names.get(d.name, d.name))
        count = ("not measured for these weights" if not d.null_n
                 else f"{d.null_at_least} of {d.null_n}")
        rows.append([Paragraph(esc(name), st.cell_bold if d.kind else st.cell)]
                    + [Paragraph(f"{v:+.2f}", st.cell)
                       for v in (d.suspect_logit, d.reference_logit, d.delta)]
                    + [Paragraph(esc(count), st.cell)])
    return rows
