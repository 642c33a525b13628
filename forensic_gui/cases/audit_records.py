"""Compare the records an analyst relies on with the audit entries that logged them.

The hash chain proves the *log* was not edited. It says nothing about the tables the app shows
and prints: the ``evidence`` rows have no guard trigger at all, so someone with the file could
set an item's acquisition SHA-256 to the hash of a modified file, and the next check would
report "verified"; with a trigger dropped, a verdict could be rewritten. Every write of an
evidence item, analysis or verdict logs what it wrote in the same transaction (see
``store_ops.evidence_payload``, ``analysis_payload`` and ``verdict_payload``), so the records
can be checked against a verified chain:

- evidence: SHA-256, size, path and uuid equal the ``evidence.added`` payload;
- analyses: the stored result JSON hashes to ``result_sha256``, which equals the payload's, the
  key frames hash to the payload's list, the stored heatmaps blob hashes to the payload's
  ``maps_sha256``, the stored media provenance to its ``file_provenance_sha256``, and the
  evidence hash the analysis was made on is the item's;
- verdicts: evidence, analyst, verdict, rationale and the verdict it supersedes equal the
  ``verdict.recorded`` payload;
- reference comparisons: the two analyses, the statement and the stored comparison JSON (by its
  SHA-256) equal the ``reference.compared`` payload;
- each of these rows has its entry, and each entry still has its row.

Honest limits: case fields (number, title) and the per-frame score and finding rows are not
compared here; the score rows are derived from the result JSON, which is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from forensic_gui.cases.maps_blob import maps_sha256
from forensic_gui.cases.models import (
    Analysis,
    AnalystVerdictRow,
    AuditEvent,
    Evidence,
    KeyFrame,
    ReferenceComparisonRow,
)
from forensic_gui.cases.provenance_record import provenance_sha256

__all__ = ["record_problems"]

_EVIDENCE_FIELDS = ("uuid", "original_path", "original_path_b64", "size_bytes", "sha256")
_VERDICT_FIELDS = ("evidence_id", "analyst", "verdict", "rationale", "supersedes_id")
_REFERENCE_FIELDS = ("suspect_analysis_id", "reference_analysis_id", "statement",
                     "comparison_sha256")

# payload by object id, with the entry's seq: {object_id: (seq, payload)}
_Logged = dict[str, tuple[int, dict[str, Any]]]


def record_problems(session: Session) -> list[str]:
    """One sentence per record that differs from, or lacks, its audit entry (empty: all agree).

    Call it only on a chain that verified: the entries are the reference.
    """
    logged = _logged(session, ("evidence.added", "analysis.recorded", "verdict.recorded",
                               "reference.compared"))
    return [
        *_evidence_problems(session, logged["evidence.added"]),
        *_analysis_problems(session, logged["analysis.recorded"]),
        *_verdict_problems(session, logged["verdict.recorded"]),
        *_reference_problems(session, logged["reference.compared"]),
    ]


def _logged(session: Session, actions: Iterable[str]) -> dict[str, _Logged]:
    found: dict[str, _Logged] = {action: {} for action in actions}
    rows = session.execute(
        select(AuditEvent.seq, AuditEvent.action, AuditEvent.object_id, AuditEvent.payload_json)
        .where(AuditEvent.action.in_(list(found)))
        .order_by(AuditEvent.seq)
    )
    for seq, action, object_id, payload_json in rows:
        found[action][object_id] = (seq, json.loads(payload_json))
    return found


def _unlogged(label: str) -> str:
    return f"{label} has no audit entry: it was written into the database outside the application."


def _gone(logged: _Logged, present: set[str], kind: str, action: str) -> list[str]:
    return [
        f"Audit entry #{seq} ({action}) names {kind} #{object_id}, which is no longer in the "
        "database: it was deleted."
        for object_id, (seq, _payload) in logged.items()
        if object_id not in present
    ]


def _differs(label: str, seq: int, fields: Iterable[str]) -> str:
    return (
        f"{label} was edited: it no longer matches audit entry #{seq} "
        f"({', '.join(fields)} changed)."
    )


def _compare(
    rows: Iterable[Any],
    logged: _Logged,
    label: Callable[[Any], str],
    changed: Callable[[Any, dict[str, Any]], list[str]],
    kind: str,
    action: str,
) -> list[str]:
    """Each row against its logged entry: missing entries, edited rows, deleted rows."""
    problems: list[str] = []
    present: set[str] = set()
    for row in rows:
        present.add(str(row.id))
        if str(row.id) not in logged:
            problems.append(_unlogged(label(row)))
            continue
        seq, payload = logged[str(row.id)]
        fields = changed(row, payload)
        if fields:
            problems.append(_differs(label(row), seq, fields))
    return problems + _gone(logged, present, kind, action)


def _fields_differing(names: tuple[str, ...]) -> Callable[[Any, dict[str, Any]], list[str]]:
    """A comparator for :func:`_compare`: the columns whose value differs from the logged one."""
    return lambda row, payload: [n for n in names if getattr(row, n) != payload.get(n)]


def _evidence_problems(session: Session, logged: _Logged) -> list[str]:
    return _compare(
        session.scalars(select(Evidence).order_by(Evidence.id)),
        logged,
        lambda item: f"Evidence item #{item.id} ({item.file_name})",
        _fields_differing(_EVIDENCE_FIELDS),
        "evidence item",
        "evidence.added",
    )


def _analysis_problems(session: Session, logged: _Logged) -> list[str]:
    evidence_sha = {
        row.id: row.sha256 for row in session.execute(select(Evidence.id, Evidence.sha256))
    }
    frames = _key_frame_hashes(session)

    def changed(analysis: Analysis, payload: dict[str, Any]) -> list[str]:
        actual = hashlib.sha256(analysis.result_json.encode("utf-8")).hexdigest()
        fields = []
        if actual != analysis.result_sha256 or actual != payload.get("result_sha256"):
            fields.append("stored result")
        if frames.get(analysis.id, []) != payload.get("key_frame_sha256"):
            fields.append("key frames")
        if _maps_changed(analysis, payload):
            fields.append("stored heatmaps")
        if _provenance_changed(analysis, payload):
            fields.append("stored media provenance")
        made_on = payload.get("evidence_sha256")
        if made_on is not None and made_on != evidence_sha.get(analysis.evidence_id):
            fields.append("evidence item")
        return fields

    return _compare(
        session.scalars(select(Analysis).order_by(Analysis.id)),
        logged,
        lambda analysis: f"Analysis #{analysis.id}",
        changed,
        "analysis",
        "analysis.recorded",
    )


def _maps_changed(analysis: Analysis, payload: dict[str, Any]) -> bool:
    """Whether the maps blob differs from its logged SHA-256 (entries before 0002 log none)."""
    actual = maps_sha256(analysis.maps_npz)
    return actual != analysis.maps_sha256 or actual != payload.get("maps_sha256")


def _provenance_changed(analysis: Analysis, payload: dict[str, Any]) -> bool:
    """Whether the provenance JSON differs from its logged SHA-256 (none logged before 0003)."""
    actual = provenance_sha256(analysis.file_provenance_json)
    return actual != analysis.file_provenance_sha256 or actual != payload.get(
        "file_provenance_sha256")


def _key_frame_hashes(session: Session) -> dict[int, list[str]]:
    """Per analysis, the SHA-256 of each stored key-frame image, in the order stored."""
    hashes: dict[int, list[str]] = {}
    rows = session.execute(select(KeyFrame.analysis_id, KeyFrame.image_bytes).order_by(KeyFrame.id))
    for analysis_id, image_bytes in rows:
        hashes.setdefault(analysis_id, []).append(hashlib.sha256(image_bytes).hexdigest())
    return hashes


def _verdict_problems(session: Session, logged: _Logged) -> list[str]:
    return _compare(
        session.scalars(select(AnalystVerdictRow).order_by(AnalystVerdictRow.id)),
        logged,
        lambda row: f"Analyst verdict #{row.id}",
        _fields_differing(_VERDICT_FIELDS),
        "analyst verdict",
        "verdict.recorded",
    )


def _reference_problems(session: Session, logged: _Logged) -> list[str]:
    fields = _fields_differing(_REFERENCE_FIELDS)

    def changed(row: ReferenceComparisonRow, payload: dict[str, Any]) -> list[str]:
        actual = hashlib.sha256(row.comparison_json.encode("utf-8")).hexdigest()
        return fields(row, payload) + (["comparison"] if actual != row.comparison_sha256 else [])

    return _compare(
        session.scalars(select(ReferenceComparisonRow).order_by(ReferenceComparisonRow.id)),
        logged,
        lambda row: f"Reference comparison #{row.id}",
        changed,
        "reference comparison",
        "reference.compared",
    )
