"""The "Media provenance" section of an item in the case report.

What the file says about its own origin, as stored with the analysis: the C2PA Content
Credentials (state, signer, actions with generative AI shown first, validation failures, the
trust anchors used), the inconsistencies to look at, metadata highlights, GPS with its privacy
note, JPEG and container facts, problems met while reading, and the forensic filters' "how to
read this / what not to conclude" texts. A missing manifest is printed as "provenance unknown";
nothing in this section is presented as proof of manipulation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.platypus import Flowable, Paragraph, Spacer

from engine.api import FileProvenance, FilterInfo
from forensic_gui.cases.records import AnalysisRecord
from forensic_gui.cases.report_style import (
    OK_GREEN,
    WARN_RED,
    ReportStyles,
    esc,
    kv_table,
    table,
)

__all__ = ["media_provenance_block"]

_STATE_WORDS = {
    "absent": "No Content Credentials (provenance unknown)",
    "valid": "Valid (signer not on a trust list used)",
    "trusted": "Valid and trusted",
    "invalid": "FAILS VALIDATION",
    "unreadable": "Present but unreadable",
    "not_checked": "Not checked",
}
_STATE_COLOURS = {"invalid": WARN_RED.hexval()[2:], "unreadable": WARN_RED.hexval()[2:],
                  "trusted": OK_GREEN.hexval()[2:]}
_SEVERITY_WORDS = {"look_first": "LOOK AT THIS FIRST", "look": "look at this", "note": "note"}
_MAX_HIGHLIGHTS = 24
_MAX_CODES = 12
_INTRO = ("What the file itself says about where it came from, read from the analysed bytes "
          "before decoding. Metadata can be written, stripped or forged by anyone with the "
          "file: each item below is a reason to look, never proof of manipulation, and missing "
          "metadata or Content Credentials prove nothing either.")


def media_provenance_block(analysis: AnalysisRecord | None, filters: Sequence[FilterInfo],
                           st: ReportStyles, width: float) -> list[Flowable]:
    """The section for one item (a one-line note when the analysis has no provenance)."""
    blocks: list[Flowable] = [Paragraph("Media provenance", st.h2)]
    record = None if analysis is None else analysis.result.file_provenance
    if record is None:
        why = ("not analysed" if analysis is None else
               "this analysis was made before media provenance was read; analyse it again")
        return [*blocks, Paragraph(f"Not available: {esc(why)}.", st.small)]
    blocks += [Paragraph(esc(_INTRO), st.small), Spacer(1, 3)]
    blocks += _credentials(record, st, width)
    blocks += _inconsistencies(record, st, width)
    blocks += _facts(record, st, width)
    blocks += _filters(filters, st)
    return blocks


def _credentials(record: FileProvenance, st: ReportStyles, width: float) -> list[Flowable]:
    c2pa = record.c2pa
    colour = _STATE_COLOURS.get(c2pa.state)
    state = esc(_STATE_WORDS.get(c2pa.state, c2pa.state))
    state_text = f'<font color="#{colour}"><b>{state}</b></font>' if colour else f"<b>{state}</b>"
    pairs: list[tuple[str, Any]] = [("Content Credentials", Paragraph(state_text, st.cell)),
                                    ("Summary", c2pa.summary)]
    if c2pa.ai_generated:
        pairs.append(("Generative AI", Paragraph(
            f'<font color="#{WARN_RED.hexval()[2:]}"><b>The manifest declares generative-AI '
            "content</b></font> (the maker's own declaration, not a detector finding)",
            st.cell)))
    for label, value in (("Signer", c2pa.signer), ("Signed at", c2pa.signed_at),
                         ("Claim generator", c2pa.claim_generator),
                         ("Remote manifest (not fetched)", c2pa.remote_url)):
        if value:
            pairs.append((label, value))
    if c2pa.actions:
        pairs.append(("Actions", "; ".join(
            f"{a.action}" + (f" [{a.digital_source_type.rsplit('/', 1)[-1]}]"
                             if a.digital_source_type else "")
            + (f" by {a.software_agent}" if a.software_agent else "") for a in c2pa.actions)))
    if c2pa.ingredients:
        pairs.append(("Ingredients", "; ".join(
            f"{i.title} ({i.relationship or 'ingredient'})" for i in c2pa.ingredients)))
    failures = [c for c in c2pa.codes if c.outcome == "failure"][:_MAX_CODES]
    if failures:
        pairs.append(("Validation failures", "; ".join(f"{c.code}: {c.explanation}"
                                                       for c in failures)))
    if c2pa.trust is not None:
        pairs.append(("Trust anchors used", c2pa.trust.note))
    return [kv_table(pairs, st, width), Spacer(1, 4)]


def _inconsistencies(record: FileProvenance, st: ReportStyles, width: float) -> list[Flowable]:
    if not record.inconsistencies:
        return [Paragraph("Inconsistencies to look at: none found by the rules (which does not "
                          "mean the file is unedited).", st.small), Spacer(1, 4)]
    rows: list[list[Any]] = [[Paragraph(h, st.cell_bold) for h in
                              ("Severity", "What", "What it may mean", "Found")]]
    for item in record.inconsistencies:
        severity = esc(_SEVERITY_WORDS[item.severity])
        if item.severity == "look_first":
            severity = f'<font color="#{WARN_RED.hexval()[2:]}"><b>{severity}</b></font>'
        rows.append([Paragraph(severity, st.cell), Paragraph(esc(item.title), st.cell_bold),
                     Paragraph(esc(item.explanation), st.cell),
                     Paragraph(esc("; ".join(item.evidence)[:400]), st.cell)])
    widths = [62.0, 100.0, width - 62.0 - 100.0 - 130.0, 130.0]
    return [Paragraph("Inconsistencies to look at", st.h2), table(rows, widths), Spacer(1, 4)]


def _facts(record: FileProvenance, st: ReportStyles, width: float) -> list[Flowable]:
    pairs: list[tuple[str, Any]] = [(f"{h.group}: {h.key}", h.value)
                                    for h in record.highlights[:_MAX_HIGHLIGHTS]]
    if record.gps is not None:
        gps = record.gps
        alt = f", altitude {gps.alt_m:.0f} m" if gps.alt_m is not None else ""
        pairs.append(("GPS", f"{gps.lat_deg:.6f}, {gps.lon_deg:.6f}{alt} ({gps.source}). "
                             f"{gps.privacy_note}"))
    if record.jpeg is not None:
        jpeg = record.jpeg
        pairs.append(("JPEG double compression", f"{jpeg.double_compression}. "
                                                  f"{jpeg.double_compression_detail}"))
    if record.thumbnail is not None:
        pairs.append(("EXIF thumbnail", f"{record.thumbnail.verdict}: {record.thumbnail.detail}"))
    if record.container is not None and record.container.edit_lists:
        pairs.append(("Edit lists", "; ".join(
            f"track {e.track_id}: {e.segment_duration_s:.2f} s from "
            + ("(empty)" if e.media_time_s is None else f"{e.media_time_s:.2f} s")
            for e in record.container.edit_lists[:8])))
    pairs.append(("Read", f"{record.format_family}, {record.size_bytes} bytes; "
                          f"{record.same_bytes}; {len(record.metadata)} metadata entries"))
    for note in record.notes[:8]:
        pairs.append(("Reading problem", note))
    return [Paragraph("Metadata highlights", st.h2), kv_table(pairs, st, width, 150.0),
            Spacer(1, 4)]


def _filters(filters: Sequence[FilterInfo], st: ReportStyles) -> list[Flowable]:
    if not filters:
        return []
    blocks: list[Flowable] = [Paragraph("Forensic filters in the app: how to read them", st.h2)]
    for info in filters:
        text = esc(info.guidance).replace("\n", "<br/>")
        blocks.append(Paragraph(f"<b>{esc(info.title)}</b> ({esc(info.summary)}). {text}",
                                st.small))
    return blocks
