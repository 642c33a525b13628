"""The evidence table's rows: built from the store when a case opens, updated from events.

The integrity column comes from the audit log, the permanent record of every hash check, so a
mismatch found yesterday is still shown in red today. After that, single rows are updated from
what the controller announces (a check, an analysis, a verdict) without re-reading the case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from engine.types import Finding, Grade, MediaResult
from forensic_gui.cases.records import (
    AnalysisSummary,
    AuditEntry,
    EvidenceCheck,
    EvidenceRecord,
    VerdictRecord,
)
from forensic_gui.cases.repository import CaseStore
from forensic_gui.probability_text import fmt_p
from forensic_gui.widgets.evidence_list import EvidenceRow

__all__ = [
    "INTEGRITY_ACTIONS",
    "build_evidence_rows",
    "finding_summary",
    "last_integrity_checks",
    "summary_text",
    "with_check",
    "with_result",
    "with_verdicts",
]

INTEGRITY_ACTIONS = ("evidence.verified", "evidence.hash_mismatch", "evidence.unreadable")
_INTEGRITY_TEXT = {"evidence.hash_mismatch": "HASH MISMATCH",
                   "evidence.unreadable": "FILE MISSING OR UNREADABLE"}


def last_integrity_checks(entries: Sequence[AuditEntry]) -> dict[int, AuditEntry]:
    """The newest hash-check audit entry per evidence id."""
    last: dict[int, AuditEntry] = {}
    for entry in entries:
        if entry.object_type == "evidence" and entry.action in INTEGRITY_ACTIONS:
            last[int(entry.object_id)] = entry
    return last


def finding_summary(result: MediaResult | None) -> str:
    """The machine finding in a few words, e.g. ``"moderate support for a face swap or blend
    (0.812)"``."""
    if result is None:
        return "not analysed"
    finding = result.finding
    return _finding_text(result.status, result.error,
                         None if finding is None else finding.grade,
                         None if finding is None else finding.p_fake,
                         None if finding is None else finding.kind)


def summary_text(summary: AnalysisSummary | None) -> str:
    """:func:`finding_summary` of a stored analysis, from its summary row."""
    if summary is None:
        return "not analysed"
    return _finding_text(summary.status, summary.error, summary.grade, summary.p_fake,
                         summary.kind)


def build_evidence_rows(store: CaseStore, case_id: int) -> list[EvidenceRow]:
    """One row per evidence item of the case, in the order they were added."""
    checks = last_integrity_checks(store.audit_entries(case_id))
    summaries = store.latest_analysis_summaries(case_id)
    rows = []
    for item in store.list_evidence(case_id):
        row = _base_row(item, summary_text(summaries.get(item.id)))
        entry = checks.get(item.id)
        if entry is not None:
            row = _with_integrity(row, entry.action, entry.ts_utc[:16].replace("T", " "))
        rows.append(with_verdicts(row, store.verdicts(item.id)))
    return rows


def with_check(row: EvidenceRow, check: EvidenceCheck) -> EvidenceRow:
    """The row after a hash check."""
    if check.ok:
        action = "evidence.verified"
    else:
        action = "evidence.unreadable" if check.actual is None else "evidence.hash_mismatch"
    return _with_integrity(row, action, check.checked_at_utc.strftime("%Y-%m-%d %H:%M"))


def with_result(row: EvidenceRow, result: MediaResult) -> EvidenceRow:
    """The row after an analysis was stored."""
    return replace(row, finding_text=finding_summary(result))


def with_verdicts(row: EvidenceRow, verdicts: Sequence[VerdictRecord]) -> EvidenceRow:
    """The row showing the current analyst verdict (the last one)."""
    if not verdicts:
        return replace(row, verdict_text="—")
    current = verdicts[-1]
    return replace(row, verdict_text=f"{current.verdict.value} ({current.analyst})")


def _finding_text(status: str, error: str | None, grade: Grade | None,
                  p_fake: float | None, kind: str | None = None) -> str:
    if status == "error":
        return f"analysis failed: {error}"
    graded = grade is not None and grade is not Grade.NOT_APPLICABLE and p_fake is not None
    if not graded:
        return "no face found" if status == "no_face" or grade is None else grade.value
    # NOTE: the same statement the finding itself makes (engine.types.Finding.statement). A
    # picture without a face is still graded by the whole-picture (generated-image) detectors:
    # the list shows that finding, and that no face was scored.
    statement = Finding(grade, p_fake, (), "", kind).statement
    no_face = "; no face" if status == "no_face" else ""
    return f"{statement} ({fmt_p(p_fake)}{no_face})"


def _base_row(item: EvidenceRecord, finding_text: str) -> EvidenceRow:
    media = item.media_info or {}
    return EvidenceRow(
        evidence_id=item.id, file_name=item.file_name, original_path=item.original_path,
        kind=str(media.get("kind", "?")), size_bytes=item.size_bytes, sha256=item.sha256,
        integrity_text="as acquired (not re-checked)", integrity_ok=None,
        finding_text=finding_text, verdict_text="—",
    )


def _with_integrity(row: EvidenceRow, action: str, when_utc: str) -> EvidenceRow:
    if action == "evidence.verified":
        return replace(row, integrity_text=f"verified {when_utc} UTC", integrity_ok=True)
    return replace(row, integrity_text=_INTEGRITY_TEXT[action], integrity_ok=False)
