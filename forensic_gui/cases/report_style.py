"""Shared look of the case report: paragraph styles, table styles, escaping, hash formatting.

Every piece of user or stored text goes through :func:`esc` before it reaches a reportlab
``Paragraph`` (which parses a small XML markup language), so a title like ``"A & B <1>"``
prints as typed instead of breaking the build.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.platypus import Paragraph, Table, TableStyle

from forensic_gui.probability_text import fmt_p

__all__ = [
    "GRID_GREY",
    "OK_GREEN",
    "WARN_RED",
    "ReportStyles",
    "detector_label",
    "esc",
    "fmt_p",
    "fmt_time",
    "hash_cell",
    "kv_table",
    "make_styles",
    "table",
]

WARN_RED = colors.HexColor("#B00020")
OK_GREEN = colors.HexColor("#1B7F3B")
GRID_GREY = colors.HexColor("#9E9E9E")
_HEADER_BG = colors.HexColor("#E8EAF0")


@dataclass(frozen=True)
class ReportStyles:
    """The paragraph styles one report uses."""

    title: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    mono: ParagraphStyle
    wrap: ParagraphStyle
    warn: ParagraphStyle
    ok: ParagraphStyle
    opinion_title: ParagraphStyle
    opinion_verdict: ParagraphStyle


def make_styles() -> ReportStyles:
    """Styles derived from reportlab's sample sheet (Helvetica; Courier for hashes)."""
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontSize=9, leading=11.5)
    cell = ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9, spaceBefore=0)
    return ReportStyles(
        title=ParagraphStyle("title", parent=base["Title"], fontSize=17, leading=21),
        h1=ParagraphStyle("h1", parent=base["Heading1"], fontSize=13, leading=16, spaceBefore=8),
        h2=ParagraphStyle(
            "h2",
            parent=base["Heading2"],
            fontSize=10.5,
            leading=13,
            spaceBefore=8,
            spaceAfter=3,
            keepWithNext=1,
        ),
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5),
        cell=cell,
        cell_bold=ParagraphStyle("cell_bold", parent=cell, fontName="Helvetica-Bold"),
        mono=ParagraphStyle(
            "mono", parent=cell, fontName="Courier", fontSize=6.5, leading=8, wordWrap="CJK"
        ),
        # NOTE: CJK wrapping breaks anywhere, so long paths and hashes cannot overflow a cell.
        wrap=ParagraphStyle("wrap", parent=cell, fontSize=6.5, leading=8, wordWrap="CJK"),
        warn=ParagraphStyle("warn", parent=body, textColor=WARN_RED, fontName="Helvetica-Bold"),
        ok=ParagraphStyle("ok", parent=body, textColor=OK_GREEN, fontName="Helvetica-Bold"),
        opinion_title=ParagraphStyle(
            "opinion_title", parent=body, fontName="Helvetica-Bold", fontSize=10, leading=13
        ),
        opinion_verdict=ParagraphStyle(
            "opinion_verdict", parent=body, fontName="Helvetica-Bold", fontSize=12, leading=15
        ),
    )


def esc(value: Any) -> str:
    """Text made safe for reportlab's paragraph markup."""
    return escape(str(value))


def detector_label(display_name: str, name: str) -> str:
    """``"Display name (id)"``, or the id alone when the card gives it no other name."""
    return name if not display_name or display_name == name else f"{display_name} ({name})"


def fmt_time(value: datetime | str) -> str:
    """A UTC time as ``YYYY-MM-DD HH:MM:SS UTC``."""
    if isinstance(value, str):
        return value.replace("T", " ").replace("Z", " UTC")
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def hash_cell(digest: str | None, style: ParagraphStyle, *, color: str | None = None) -> Paragraph:
    """A 64-digit hash on two lines of 32, monospaced, optionally coloured."""
    if not digest:
        return Paragraph("-", style)
    text = "<br/>".join(esc(digest[i : i + 32]) for i in range(0, len(digest), 32))
    if color:
        text = f'<font color="{color}">{text}</font>'
    return Paragraph(text, style)


def table(
    rows: Sequence[Sequence[Any]],
    col_widths: Sequence[float],
    *,
    header: bool = True,
    extra: Sequence[tuple[Any, ...]] = (),
) -> Table:
    """A grid table with a shaded header row that repeats across pages."""
    result = Table(
        [list(row) for row in rows], colWidths=list(col_widths), repeatRows=1 if header else 0
    )
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, GRID_GREY),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), _HEADER_BG))
    result.setStyle(TableStyle([*commands, *extra]))
    return result


def kv_table(
    pairs: Sequence[tuple[str, Any]], styles: ReportStyles, width: float, key_width: float = 110.0
) -> Table:
    """A two-column "label: value" table; values that are not flowables are escaped text."""
    rows = [
        [
            Paragraph(esc(key), styles.cell_bold),
            value if not isinstance(value, str) else Paragraph(esc(value), styles.cell),
        ]
        for key, value in pairs
    ]
    return table(rows, [key_width, width - key_width], header=False)
