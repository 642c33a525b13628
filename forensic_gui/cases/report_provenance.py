"""Flowables of the case report that make it checkable: provenance, detector limits, audit log.

Provenance comes from the stored analysis (what actually ran), the limits text from the model
cards of the installed detectors; when the installed card is for another version, or missing,
the report says so instead of silently printing a different model's limits.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from engine.types import DetectorProvenance
from forensic_gui.cases.records import AnalysisRecord, AuditEntry, ChainReport
from forensic_gui.cases.report_style import (
    WARN_RED,
    ReportStyles,
    detector_label,
    esc,
    hash_cell,
    kv_table,
    table,
)

__all__ = ["DetectorCard", "audit_section", "limits_block", "provenance_block"]

_PAYLOAD_CHARS = 240
# Entries printed in red: evidence that no longer matches, or an analysis refused for it.
_ALARM_ACTIONS = frozenset({"evidence.hash_mismatch", "evidence.unreadable", "analysis.refused"})
_PART_CHARS = 90


class DetectorCard(Protocol):
    """What the report needs from ``engine.api.DetectorInfo``."""

    @property
    def name(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def weights_sha256(self) -> str: ...
    @property
    def threshold(self) -> float: ...
    @property
    def card_summary(self) -> str: ...


def _detector_table(
    detectors: Sequence[DetectorProvenance], st: ReportStyles, width: float
) -> Table:
    header = ["Detector", "Version", "Threshold", "Calibration", "Weights SHA-256"]
    rows: list[list[Any]] = [[Paragraph(h, st.cell_bold) for h in header]]
    for det in detectors:
        rows.append(
            [
                Paragraph(esc(det.name), st.cell),
                Paragraph(esc(det.version), st.cell),
                Paragraph(f"{det.threshold:.3f}", st.cell),
                Paragraph(esc(det.calibration), st.cell),
                hash_cell(det.weights_sha256, st.mono),
            ]
        )
    widths = [width * 0.2, width * 0.13, width * 0.11, width * 0.22]
    widths.append(width - sum(widths))
    return table(rows, widths)


def provenance_block(
    analysis: AnalysisRecord | None, st: ReportStyles, width: float
) -> list[Flowable]:
    """Engine and detector versions, weights SHA-256, runtime, sampling, aggregation, timings."""
    if analysis is None:
        return []
    prov = analysis.result.provenance
    title = Paragraph("Provenance", st.h2)
    if prov is None:
        return [title, Paragraph("The engine recorded no provenance for this analysis.", st.body)]
    timings = ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in prov.timings_s)
    indices = prov.sampled_frame_indices
    shown = ", ".join(str(i) for i in indices[:40]) + (" ..." if len(indices) > 40 else "")
    facts = kv_table(
        [
            ("Engine version", prov.engine_version),
            ("Runtime / device", f"{prov.runtime} / {prov.device}"),
            ("Frame sampling", prov.sampling),
            ("Aggregation rule", prov.aggregation_rule),
            (f"Sampled frames ({len(indices)})", shown or "-"),
            ("Run time", f"{analysis.elapsed_s:.2f} s total ({timings or 'no stage timings'})"),
            ("Evidence SHA-256 analysed", hash_cell(analysis.sha256, st.mono)),
        ],
        st,
        width,
    )
    return [title, facts, Spacer(1, 4), _detector_table(prov.detectors, st, width)]


def limits_block(
    analysis: AnalysisRecord | None,
    cards: Mapping[str, DetectorCard],
    st: ReportStyles,
    width: float,
) -> list[Flowable]:
    """Each used detector's limits, from its model card summary."""
    if analysis is None or not analysis.detectors:
        return []
    prov = analysis.result.provenance
    ran = {d.name: d.version for d in prov.detectors} if prov else {}
    pairs: list[tuple[str, Any]] = []
    for name in analysis.detectors:
        card = cards.get(name)
        if card is None:
            text = (
                "No model card is installed for this detector, so its limits cannot be "
                "printed; consult the model card of the version named under Provenance."
            )
        else:
            text = card.card_summary or "The model card states no limits."
            if name in ran and ran[name] != card.version:
                text += (
                    f" (Note: this card describes version {card.version}; the analysis "
                    f"used version {ran[name]}.)"
                )
        label = name if card is None else detector_label(card.display_name, name)
        pairs.append((label, text))
    return [
        Paragraph("Limits of the detectors (from their model cards)", st.h2),
        kv_table(pairs, st, width, key_width=150.0),
    ]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _payload_text(entry: AuditEntry) -> str:
    parts = [
        f"{key}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
        for key, value in entry.payload.items()
    ]
    return _short("; ".join(_short(part, _PART_CHARS) for part in parts), _PAYLOAD_CHARS)


def _audit_row(entry: AuditEntry, st: ReportStyles, *, alarm: bool) -> list[Paragraph]:
    def red(style: ParagraphStyle) -> ParagraphStyle:
        return ParagraphStyle(f"{style.name}_red", parent=style, textColor=WARN_RED)

    cell, wrap, mono = (
        (red(st.cell), red(st.wrap), red(st.mono)) if alarm else (st.cell, st.wrap, st.mono)
    )
    return [
        Paragraph(str(entry.seq), cell),
        Paragraph(f"{esc(entry.ts_utc[:10])}<br/>{esc(entry.ts_utc[11:19])}", cell),
        Paragraph(esc(entry.actor), cell),
        Paragraph(esc(entry.action), wrap),
        Paragraph(esc(f"{entry.object_type} {entry.object_id}"), wrap),
        Paragraph(esc(_payload_text(entry)), wrap),
        Paragraph(esc(entry.hash[:16]), mono),
    ]


def _chain_status(chain: ChainReport, st: ReportStyles) -> list[Flowable]:
    blocks: list[Flowable] = []
    if chain.ok:
        blocks.append(
            Paragraph(
                f"Chain verified: all {chain.n_entries} entries of the database's audit log are "
                "intact and in order.",
                st.ok,
            )
        )
    else:
        blocks.append(
            Paragraph(
                f"CHAIN VERIFICATION FAILED ({len(chain.problems)} problem(s)); the audit log of "
                "this database has been tampered with or damaged:",
                st.warn,
            )
        )
        blocks += [Paragraph(f"- {esc(problem)}", st.warn) for problem in chain.problems]
    blocks.append(
        Paragraph(
            f"Chain head at generation ({chain.n_entries} entries): hash <font face='Courier'>"
            f"{esc(chain.head_hash)}</font>. Keep this page: a later rewrite of the log will not "
            "match it. The export of this report is logged as the next entry.",
            st.small,
        )
    )
    return blocks


def audit_section(
    entries: Sequence[AuditEntry], chain: ChainReport, st: ReportStyles, width: float
) -> list[Flowable]:
    """The case's audit entries and the verification status of the whole chain."""
    blocks = [Paragraph("Audit log", st.h1), *_chain_status(chain, st)]
    header = ["#", "Time (UTC)", "Actor", "Action", "Object", "Details", "Entry hash"]
    rows: list[list[Any]] = [[Paragraph(h, st.cell_bold) for h in header]]
    extra: list[tuple[Any, ...]] = []
    for row_idx, entry in enumerate(entries, start=1):
        alarm = entry.action in _ALARM_ACTIONS
        if alarm:
            extra.append(("BOX", (0, row_idx), (-1, row_idx), 1.2, WARN_RED))
        rows.append(_audit_row(entry, st, alarm=alarm))
    widths = [22.0, 50.0, 52.0, 64.0, 52.0, 0.0, 72.0]
    widths[5] = width - sum(widths)
    blocks += [Spacer(1, 4), table(rows, widths, extra=extra)]
    return blocks
