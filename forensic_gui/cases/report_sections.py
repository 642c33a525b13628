"""Flowables of the case report: case data, evidence, machine findings, the analyst's opinion.

Machine findings and the analyst's opinion are deliberately built by different functions and
drawn differently: the opinion sits in its own framed, tinted box that says it is a person's
opinion, and no sentence ever merges the two (METHODS: findings are shown next to the analyst's
verdict, never instead of it).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, Image, KeepTogether, Paragraph, Spacer, Table, TableStyle

from engine.evaluation.fit_thresholds import THRESHOLD_MEANING
from engine.types import DetectorScore
from forensic_gui.cases.records import (
    AnalysisRecord,
    CaseRecord,
    EvidenceCheck,
    EvidenceRecord,
    FindingRecord,
    KeyFrameRecord,
    ReferenceComparisonRecord,
    ScoreRecord,
    VerdictRecord,
)
from forensic_gui.cases.report_plot import frame_spans, timeline_drawing, timeline_series
from forensic_gui.cases.report_style import (
    WARN_RED,
    ReportStyles,
    esc,
    fmt_p,
    fmt_time,
    hash_cell,
    kv_table,
    table,
)
from forensic_gui.error_rates import (
    benign_alternative,
    grade_rate_sentence,
    unseen_manipulation,
)

__all__ = [
    "ItemData",
    "case_section",
    "evidence_section",
    "findings_block",
    "key_frames_block",
    "timeline_block",
    "verdict_box",
]

_OPINION_BG = colors.HexColor("#FFF6DA")
_OPINION_BORDER = colors.HexColor("#8A6D00")


@dataclass(frozen=True)
class ItemData:
    """Everything the report shows about one evidence item, read from the store."""

    evidence: EvidenceRecord
    check: EvidenceCheck
    analysis: AnalysisRecord | None
    findings: tuple[FindingRecord, ...]
    scores: tuple[ScoreRecord, ...]
    key_frames: tuple[KeyFrameRecord, ...]
    verdicts: tuple[VerdictRecord, ...]
    comparisons: tuple[ReferenceComparisonRecord, ...] = ()
    """The item's comparisons with reference footage (the item as the suspect), oldest first."""


def case_section(
    case: CaseRecord, *, generated_at: datetime, actor: str, st: ReportStyles, width: float
) -> list[Flowable]:
    """Title, case data and how to read the report."""
    facts = kv_table(
        [
            ("Case number", case.number),
            ("Title", case.title),
            ("Lead analyst", case.analyst),
            ("Status", case.status.value),
            ("Opened", fmt_time(case.created_at_utc)),
            ("Notes", case.notes or "-"),
            ("Report generated", f"{fmt_time(generated_at)} by {actor}"),
        ],
        st,
        width,
    )
    reading = (
        "Machine findings are calibrated probabilities from automated detectors and a graded "
        "fusion of them; they support, but do not replace, an examiner's judgement. The "
        "analyst's own verdict is shown separately, in a framed box labelled as an opinion. "
        "Every evidence file was re-hashed when this report was generated."
    )
    return [
        Paragraph(f"Case report: {esc(case.number)}", st.title),
        facts,
        Spacer(1, 6),
        Paragraph(esc(reading), st.small),
    ]


def evidence_section(items: Sequence[ItemData], st: ReportStyles, width: float) -> list[Flowable]:
    """The evidence table with the SHA-256 re-verified at export time (mismatch in red)."""
    header = ["#", "File", "Size (bytes)", "SHA-256 at acquisition", "Check at export"]
    rows: list[list[Any]] = [[Paragraph(h, st.cell_bold) for h in header]]
    extra: list[tuple[Any, ...]] = []
    for i, item in enumerate(items, start=1):
        check = item.check
        if check.ok:
            verdict: list[Flowable] = [Paragraph("<b>OK</b>: matches", st.cell)]
        else:
            verdict = [
                Paragraph(
                    f'<font color="{WARN_RED.hexval()}"><b>MISMATCH</b>: '
                    f"{esc(check.problem or '')}</font>",
                    st.cell,
                ),
                hash_cell(check.actual, st.mono, color=WARN_RED.hexval()),
            ]
            extra.append(("BOX", (4, i), (4, i), 1.2, WARN_RED))
        rows.append(
            [
                Paragraph(str(i), st.cell),
                Paragraph(esc(item.evidence.file_name), st.wrap),
                Paragraph(f"{item.evidence.size_bytes:,}", st.cell),
                hash_cell(item.evidence.sha256, st.mono),
                verdict,
            ]
        )
    widths = [16.0, width * 0.28, 58.0, 142.0]
    widths.append(width - sum(widths))
    return [Paragraph("Evidence", st.h1), table(rows, widths, extra=extra)]


def labelled_scores(
    scores: Sequence[ScoreRecord], pictures: Sequence[DetectorScore], names: dict[str, str]
) -> list[tuple[ScoreRecord | DetectorScore, str]]:
    """The detector table's rows: each file-level score with its detector's name, and a
    whole-picture detector's score of the pictures alone where it differs from its main row.

    A whole-picture detector's main row is the max of faces and picture, frame by frame; one
    that scores no face region (the shipped generated-image detectors) has a main row that *is*
    its whole-picture score, which the table printed twice, as if two things were measured: it
    is one row then, named for what it scored.
    """
    media = {s.detector: s for s in scores if s.scope == "media"}
    picture = {s.detector: s for s in pictures}
    rows: list[tuple[ScoreRecord | DetectorScore, str]] = []
    for score in media.values():
        name = names.get(score.detector, score.detector)
        alone = picture.get(score.detector)
        same = alone is not None and _same_score(score, alone)
        rows.append((score, f"{name} (whole picture)" if same else name))
    rows += [(s, f"{names.get(s.detector, s.detector)}: whole picture") for s in pictures
             if s.detector not in media or not _same_score(media[s.detector], s)]
    return rows


def _same_score(a: ScoreRecord | DetectorScore, b: DetectorScore) -> bool:
    def close(x: float | None, y: float | None) -> bool:
        return (x is None and y is None) or (
            x is not None and y is not None and math.isclose(x, y, rel_tol=0.0, abs_tol=1e-9))
    return close(a.p_fake, b.p_fake) and close(a.p_fake_raw, b.p_fake_raw)


def _detector_rows(
    item: ItemData, st: ReportStyles, thresholds: dict[str, float], names: dict[str, str]
) -> list[Any]:
    header = ["Detector", "Calibrated p_fake", "Threshold", "Applicable", "Raw output"]
    rows: list[Any] = [[Paragraph(h, st.cell_bold) for h in header]]
    pictures = item.analysis.result.picture_scores if item.analysis is not None else ()
    for score, label in labelled_scores(item.scores, pictures, names):
        applicable = "yes" if score.p_fake is not None else f"no: {score.reason or 'not stated'}"
        threshold = thresholds.get(score.detector)
        rows.append(
            [
                Paragraph(esc(label), st.cell),
                Paragraph(fmt_p(score.p_fake), st.cell),
                Paragraph("-" if threshold is None else f"{threshold:.3f}", st.cell),
                Paragraph(esc(applicable), st.cell),
                Paragraph(fmt_p(score.p_fake_raw), st.cell),
            ]
        )
    return rows


def _fused_pairs(item: ItemData, analysis: AnalysisRecord) -> list[tuple[str, Any]]:
    fused = analysis.result.finding  # the stored result's finding: statement and kind included
    pairs: list[tuple[str, Any]] = [
        ("Finding", fused.statement if fused else "no finding recorded"),
        ("p_fake", fmt_p(fused.p_fake) if fused else "n/a"),
    ]
    if fused is not None and fused.p_fake is not None:
        media = analysis.result.media
        pairs.append(("Error rates", grade_rate_sentence(
            analysis.result.provenance, fused.grade, fused.kind,
            media.kind if media is not None else None)))
        alternative = benign_alternative(fused.kind, fused.grade)
        if alternative:
            pairs.append(("Also consistent with", alternative[:1].upper() + alternative[1:]))
        unseen = unseen_manipulation(fused)
        if unseen:
            pairs.append(("Not seen well", unseen))
    pairs += [
        ("Detectors used", ", ".join(fused.applicable_detectors) if fused else "-"),
        ("Fusion rule", fused.rule if fused else "-"),
        (
            "Analysis",
            f"#{analysis.id}, {fmt_time(analysis.created_at_utc)}, "
            f"run by {analysis.analysed_by}, status {analysis.status}",
        ),
    ]
    if analysis.result.error:
        pairs.append(("Engine error", analysis.result.error))
    return pairs


def findings_block(
    item: ItemData,
    st: ReportStyles,
    width: float,
    thresholds: dict[str, float],
    names: dict[str, str],
) -> list[Flowable]:
    """The fused grade and each detector's calibrated score and applicability.

    ``names`` maps detector ids to display names (from the model cards) where known.
    """
    analysis = item.analysis
    if analysis is None:
        return [
            Paragraph("Machine findings", st.h2),
            Paragraph("This item has not been analysed.", st.body),
        ]
    from forensic_gui.cases.report_validation import cautions_block, kinds_block

    fused_pairs = _fused_pairs(item, analysis)
    rows = _detector_rows(item, st, thresholds, names)
    blocks: list[Flowable] = [
        Paragraph("Machine findings (automated, probabilistic)", st.h2),
        kv_table(fused_pairs, st, width),
        *kinds_block(analysis.result, st, width),
        *cautions_block(analysis.result, st, width),
        Spacer(1, 4),
    ]
    if len(rows) > 1:
        blocks.append(
            table(rows, [width * 0.3, width * 0.17, width * 0.13, width * 0.25, width * 0.15])
        )
        blocks.append(Paragraph(esc(f"Threshold: {THRESHOLD_MEANING}"), st.small))
    else:
        blocks.append(Paragraph("No per-detector score was recorded.", st.body))
    return blocks


def timeline_block(
    item: ItemData, st: ReportStyles, width: float, thresholds: dict[str, float]
) -> list[Flowable]:
    """The per-frame plot, or a sentence saying why there is none."""
    frame_findings = [f for f in item.findings if f.scope == "frame"]
    series = timeline_series(item.scores, frame_findings, thresholds)
    n_points = max((sum(len(run) for run in s.runs) for s in series), default=0)
    title = Paragraph(
        "Timeline (per-frame scores: max over faces, and over the whole picture for a "
        "generated-image detector; the frame's finding in black)", st.h2)
    if n_points < 2:
        reason = (
            "Still image or a single analysed frame: no timeline."
            if item.analysis
            else "Not analysed: no timeline."
        )
        return [title, Paragraph(reason, st.body)]
    drawing = timeline_drawing(series, width_pt=width, spans=frame_spans(frame_findings))
    return [KeepTogether([title, drawing])]


def key_frames_block(item: ItemData, st: ReportStyles, width: float) -> list[Flowable]:
    """Key frames with overlays as stored at analysis time, two per row with captions."""
    if not item.key_frames:
        return []
    cell_w = (width - 12) / 2
    cells: list[list[Flowable]] = []
    for frame in item.key_frames:
        img_w, img_h = ImageReader(io.BytesIO(frame.image_bytes)).getSize()
        scale = min(cell_w / img_w, 170.0 / img_h)
        cells.append(
            [
                Image(io.BytesIO(frame.image_bytes), width=img_w * scale, height=img_h * scale),
                Paragraph(
                    esc(_key_frame_caption(frame.frame_idx, frame.t_sec, frame.caption)), st.small
                ),
            ]
        )
    rows = [cells[i : i + 2] for i in range(0, len(cells), 2)]
    if len(rows[-1]) == 1:
        rows[-1].append([])
    grid = Table(rows, colWidths=[cell_w + 6, cell_w + 6])
    grid.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    return [
        Paragraph("Key frames (with detector overlays, rendered at analysis time)", st.h2),
        grid,
    ]


def verdict_box(item: ItemData, st: ReportStyles, width: float) -> Flowable:
    """The analyst's verdict in a framed, tinted box, labelled as the analyst's opinion."""
    inner: list[Flowable] = [
        Paragraph(
            "ANALYST'S OPINION - the examiner's own conclusion, not a machine finding",
            st.opinion_title,
        ),
    ]
    current = next((v for v in item.verdicts if v.is_current), None)
    if current is None:
        inner.append(Paragraph("No verdict has been recorded by an analyst.", st.body))
    else:
        inner += [
            Paragraph(f"Verdict: {esc(current.verdict.value.upper())}", st.opinion_verdict),
            Paragraph(f"By {esc(current.analyst)} on {fmt_time(current.created_at_utc)}", st.small),
            Paragraph(f"<b>Rationale:</b> {esc(current.rationale)}", st.body),
        ]
    for old in (v for v in item.verdicts if not v.is_current):
        inner.append(
            Paragraph(
                f"Superseded: {esc(old.verdict.value)} by {esc(old.analyst)} on "
                f"{fmt_time(old.created_at_utc)}: {esc(old.rationale)}",
                st.small,
            )
        )
    box = Table([[inner]], colWidths=[width])
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.5, _OPINION_BORDER),
                ("BACKGROUND", (0, 0), (-1, -1), _OPINION_BG),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return KeepTogether([Spacer(1, 8), box, Spacer(1, 4)])


def _key_frame_caption(frame_idx: int, t_sec: float | None, caption: str) -> str:
    """The stored caption, led by the frame and time unless it already starts with them.

    Captions made by ``forensic_gui.keyframes`` name their frame and time themselves
    ("Frame 7 (t = 0.47 s): fused p_fake ..."); prefixing them again printed both.
    """
    if caption.startswith(f"Frame {frame_idx} ") or caption.startswith(f"Frame {frame_idx}:"):
        return caption
    time = "" if t_sec is None else f" (t = {t_sec:.2f} s)"
    return f"Frame {frame_idx}{time}: {caption}"
