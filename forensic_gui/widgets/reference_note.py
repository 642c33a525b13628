"""The findings panel's note on an item's comparisons with reference footage (rich text).

Kept apart from the panel so the text can be checked without a window: each comparison's
statement, the kinds' differences with their genuine-vs-genuine counts, and the assumption it
rests on, as the report prints them (``forensic_gui.cases.report_reference``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from engine.types import EvidenceKind
from forensic_gui.cases.records import ReferenceComparisonRecord

__all__ = ["reference_html"]

_ASSUMES = ("Measured against genuine videos cut in two halves: a reference from another "
            "recording can differ more for reasons that are not manipulation.")


def reference_html(records: Sequence[ReferenceComparisonRecord]) -> str:
    """The note for ``records`` (``""`` when there is none)."""
    if not records:
        return ""
    parts = ["<b>Compared with reference footage</b> (chosen as genuine by the analyst)"]
    for record in records:
        kinds = "; ".join(
            f"{html.escape(EvidenceKind(d.kind).phrase)} {d.delta:+.2f}"
            + (f" ({d.null_at_least} of {d.null_n} genuine pairs as large)" if d.null_n else "")
            for d in record.comparison.deltas if d.kind is not None)
        parts.append(
            f"<p style='margin: 2px 0'>vs <b>{html.escape(record.reference_file_name)}</b> "
            f"({html.escape(record.created_by)}, "
            f"{record.created_at_utc.strftime('%Y-%m-%d %H:%M UTC')}): "
            f"{html.escape(record.statement)}<br/><span style='color: #5f6368'>{kinds}</span>"
            + "".join(f"<br/><span style='color: #b06000'>{html.escape(c)}</span>"
                      for c in record.comparison.cautions)
            + "</p>")
    parts.append(f"<span style='color: #5f6368'>{html.escape(_ASSUMES)}</span>")
    return "".join(parts)
