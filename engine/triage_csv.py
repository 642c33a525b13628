"""The ``--csv`` triage export: one row per file, for sorting a batch in a spreadsheet.

Columns: path, sha256, kind, status, error, the overall graded finding (its grade, the kind of
manipulation it names, and its p_fake), why it got that grade (``overall_reason``: the kind's
score against the bounds set from real media, ``engine.fusion.explain``), every kind's own grade
(``per_kind_grades``, e.g. ``face_swap=MODERATE; temporal=NOT_APPLICABLE;
generated=NO_SUPPORT``), the C2PA state,
whether Content Credentials declare generative AI, the signer, how many inconsistencies are
marked "look at this first", and the top three inconsistencies. With ``--reference`` three
columns follow (``REFERENCE_COLUMNS``): the row's ``role`` (``reference``, the first row, or
``suspect``), the comparison's statement (or ``not compared: why``) and its cautions, so a
spreadsheet sorted by the finding still shows what the reference footage said. Without it the
table is as before. Rows are written and flushed
as results arrive, so an interrupted batch leaves a complete file of what was done. Every text
cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab
or carriage return) is prefixed with an apostrophe: file names and metadata are
attacker-controlled.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.provenance.model import SEVERITY_LABELS
from engine.types import MediaResult

__all__ = ["COLUMNS", "REFERENCE_COLUMNS", "TriageCsv", "csv_line", "kind_grades",
           "reference_cells", "triage_row"]

COLUMNS = (
    "path", "sha256", "kind", "status", "error", "overall_grade", "overall_kind", "overall_p_fake",
    "overall_reason", "per_kind_grades", "c2pa_state", "c2pa_ai_declared", "c2pa_signer",
    "n_look_first", "top_inconsistencies",
)
REFERENCE_COLUMNS = ("role", "reference_statement", "reference_cautions")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TOP_N = 3


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def kind_grades(result: MediaResult) -> str:
    """``"face_swap=MODERATE; temporal=NOT_APPLICABLE; ..."``, or ``""`` without per-kind
    findings (results fused with fusion v1)."""
    finding = result.finding
    if finding is None:
        return ""
    return "; ".join(f"{k.kind}={k.grade.name}" for k in finding.kinds)


def _reason(result: MediaResult) -> str:
    """Why the finding's kind got its grade, in words; ``""`` without per-kind findings."""
    from engine.api_fusion import explain_grades

    finding = result.finding
    why = explain_grades(result).get(finding.kind or "") if finding is not None else None
    return "" if why is None else why.text()


def triage_row(result: MediaResult) -> dict[str, Any]:
    """The row of one result (cells not yet made formula-safe)."""
    finding = result.finding
    prov = result.file_provenance
    c2pa = prov.c2pa if prov is not None else None
    top = prov.inconsistencies[:_TOP_N] if prov is not None else ()
    return {
        "path": result.path,
        "sha256": result.sha256 or "",
        "kind": result.media.kind if result.media is not None else "",
        "status": result.status,
        "error": result.error or "",
        "overall_grade": finding.grade.name if finding else "",
        "overall_kind": (finding.kind or "") if finding else "",
        "overall_p_fake": "" if finding is None or finding.p_fake is None
        else f"{finding.p_fake:.3f}",
        "overall_reason": _reason(result),
        "per_kind_grades": kind_grades(result),
        "c2pa_state": c2pa.state if c2pa else "not read",
        "c2pa_ai_declared": ("yes" if c2pa.ai_generated else "no") if c2pa else "",
        "c2pa_signer": (c2pa.signer or "") if c2pa else "",
        "n_look_first": sum(i.severity == "look_first" for i in prov.inconsistencies)
        if prov is not None else "",
        "top_inconsistencies": " | ".join(
            f"[{SEVERITY_LABELS[i.severity]}] {i.title}" for i in top),
    }


def reference_cells(role: str, comparison: Mapping[str, Any] | None) -> dict[str, str]:
    """The :data:`REFERENCE_COLUMNS` of a row: ``comparison`` is the JSON line's
    ``reference_comparison`` (a comparison's summary, or ``{"error": why}``), ``None`` for the
    reference itself."""
    if comparison is None:
        return {"role": role, "reference_statement": "", "reference_cautions": ""}
    if "error" in comparison:
        return {"role": role, "reference_statement": f"not compared: {comparison['error']}",
                "reference_cautions": ""}
    return {"role": role, "reference_statement": str(comparison["statement"]),
            "reference_cautions": " | ".join(str(c) for c in comparison.get("cautions", ()))}


class TriageCsv:
    """Writes the header at once, then one row per :meth:`write`, each as one whole line.

    Args:
        write_line: writes one complete text line, whole or not at all (the CLI passes
            ``engine.cli_io.JsonlWriter.write_line``, so a full disk never leaves half a row).
        with_reference: add :data:`REFERENCE_COLUMNS` (a batch run with ``--reference``).
    """

    def __init__(self, write_line: Callable[[str], None], *, with_reference: bool = False) -> None:
        self._write_line = write_line
        self._columns = COLUMNS + REFERENCE_COLUMNS if with_reference else COLUMNS
        self._write_line(csv_line(self._columns))

    def write(self, result: MediaResult, *, role: str = "suspect",
              comparison: Mapping[str, Any] | None = None) -> None:
        """Append the row of ``result``; ``role`` and ``comparison`` fill the reference columns
        (see :func:`reference_cells`) when the table has them."""
        from engine.pathtext import printable_tree

        row = printable_tree({**triage_row(result), **reference_cells(role, comparison)})
        self._write_line(csv_line([_safe(row[c]) for c in self._columns]))


def csv_line(values: Sequence[Any]) -> str:
    """One CSV record as text, newline included (a cell may hold quoted newlines)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()
