"""Reference comparisons in the case store: a suspect video set against genuine footage.

The comparison is made here, from the two *stored* analyses (each already tied to the SHA-256 of
its acquired evidence file), never from results held by the GUI, so what is stored is always of
the bytes that were hashed. It is stored whole (``ReferenceComparison.to_dict()``, the
genuine-vs-genuine null it was counted against included) with its SHA-256 and an audit entry,
in one transaction; a row is never changed or deleted (triggers, revision 0006). Choosing the
reference is the analyst's judgement: the audit entry records who made it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from engine.api import (
    ReferenceError,
    compare_to_reference,
    printable_tree,
    reference_comparison_from_dict,
    result_from_dict,
)
from forensic_gui.cases import audit
from forensic_gui.cases import store_ops as ev
from forensic_gui.cases.analyses import AnalysisStore, _get_analysis
from forensic_gui.cases.errors import CaseStoreError, ReferenceRefusedError
from forensic_gui.cases.models import Analysis, Evidence, ReferenceComparisonRow, utc_now
from forensic_gui.cases.records import ReferenceComparisonRecord

__all__ = ["ReferenceStore"]


class ReferenceStore(AnalysisStore):
    """Reference comparisons; :class:`forensic_gui.cases.CaseStore` adds the rest."""

    def record_reference_comparison(self, suspect_analysis_id: int, reference_analysis_id: int,
                                    *, actor: str) -> ReferenceComparisonRecord:
        """Set one stored analysis against another of the same case, and store the result.

        Raises:
            RecordNotFoundError: an analysis id does not exist.
            ReferenceRefusedError: the two cannot be compared (other cases, the same analysis,
                not both analysed videos, other detectors, too few frames, no null installed).
            InvalidFieldError: ``actor`` is empty.
        """
        actor = ev.require_text("actor", actor)
        with self._read() as session:
            suspect_row = _get_analysis(session, suspect_analysis_id)
            reference_row = _get_analysis(session, reference_analysis_id)
            suspect_item = ev.get_evidence_row(session, suspect_row.evidence_id)
            reference_item = ev.get_evidence_row(session, reference_row.evidence_id)
            names = (suspect_item.file_name, reference_item.file_name)
            evidence_ids = (suspect_item.id, reference_item.id)
            if suspect_analysis_id == reference_analysis_id:
                raise ReferenceRefusedError(f"{names[0]} cannot be its own reference.")
            if suspect_item.case_id != reference_item.case_id:
                raise ReferenceRefusedError(
                    f"{names[0]} and {names[1]} belong to different cases; add the reference "
                    "to the suspect's case first.")
            case_id = suspect_item.case_id
            # NOTE: the scores only: the maps and media provenance play no part (and decoding
            # the maps would hold the GUI thread for nothing).
            suspect = result_from_dict(ev.json_loads(suspect_row.result_json))
            reference = result_from_dict(ev.json_loads(reference_row.result_json))
        try:
            comparison = compare_to_reference(suspect, reference)
        except ReferenceError as exc:
            raise ReferenceRefusedError(
                f"{names[0]} cannot be set against {names[1]}: {exc}") from exc
        text = json.dumps(printable_tree(comparison.to_dict()), sort_keys=True,
                          ensure_ascii=False, allow_nan=False)
        row = ReferenceComparisonRow(
            case_id=case_id, suspect_analysis_id=suspect_analysis_id,
            reference_analysis_id=reference_analysis_id, created_at_utc=utc_now(),
            created_by=actor, statement=comparison.statement, comparison_json=text,
            comparison_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
        with self._write() as session:
            session.add(row)
            session.flush()
            audit.append_event(
                session, actor=actor, action="reference.compared",
                object_type="reference_comparison", object_id=row.id, case_id=case_id,
                payload=_payload(row, comparison, names))
            return _record(row, names, evidence_ids)

    def reference_comparisons(self, case_id: int, *, suspect_evidence_id: int | None = None
                              ) -> tuple[ReferenceComparisonRecord, ...]:
        """Every comparison of the case, oldest first; only those whose suspect is that evidence
        item when ``suspect_evidence_id`` is given (selected in SQL: showing one item does not
        read the whole case's comparisons).

        A row altered under the store is read as it now is, as analyses are: the audit
        verification (``verify_audit_chain``, printed in every report) names it by its
        SHA-256, so one altered row never stops a case from being shown or reported.

        Raises:
            CaseNotFoundError: no such case.
            CaseStoreError: a stored comparison can no longer be read at all (not JSON, or not
                a comparison); the audit verification names it too.
        """
        with self._read() as session:
            ev.get_case(session, case_id)
            return tuple(_record(row, (s_name, r_name), (s_ev, r_ev))
                         for row, s_name, r_name, s_ev, r_ev
                         in _rows(session, case_id, suspect_evidence_id))


def _rows(session: Session, case_id: int, suspect_evidence_id: int | None) -> list[Any]:
    suspect, reference = aliased(Analysis), aliased(Analysis)
    suspect_ev, reference_ev = aliased(Evidence), aliased(Evidence)
    query = (
        select(ReferenceComparisonRow, suspect_ev.file_name, reference_ev.file_name,
               suspect_ev.id, reference_ev.id)
        .join(suspect, suspect.id == ReferenceComparisonRow.suspect_analysis_id)
        .join(suspect_ev, suspect_ev.id == suspect.evidence_id)
        .join(reference, reference.id == ReferenceComparisonRow.reference_analysis_id)
        .join(reference_ev, reference_ev.id == reference.evidence_id)
        .where(ReferenceComparisonRow.case_id == case_id)
        .order_by(ReferenceComparisonRow.id)
    )
    if suspect_evidence_id is not None:
        query = query.where(suspect_ev.id == suspect_evidence_id)
    return list(session.execute(query).all())


def _record(row: ReferenceComparisonRow, names: tuple[str, str],
            evidence_ids: tuple[int, int]) -> ReferenceComparisonRecord:
    try:
        comparison = reference_comparison_from_dict(ev.json_loads(row.comparison_json))
    except ValueError as exc:
        raise CaseStoreError(f"Reference comparison #{row.id} cannot be read: {exc}") from exc
    return ReferenceComparisonRecord(
        id=row.id, case_id=row.case_id, suspect_analysis_id=row.suspect_analysis_id,
        reference_analysis_id=row.reference_analysis_id, suspect_evidence_id=evidence_ids[0],
        reference_evidence_id=evidence_ids[1], suspect_file_name=names[0],
        reference_file_name=names[1], created_at_utc=row.created_at_utc,
        created_by=row.created_by, statement=row.statement, comparison=comparison)


def _payload(row: ReferenceComparisonRow, comparison: Any,
             names: tuple[str, str]) -> dict[str, Any]:
    return {
        "suspect_analysis_id": row.suspect_analysis_id,
        "reference_analysis_id": row.reference_analysis_id,
        "suspect_file_name": names[0],
        "reference_file_name": names[1],
        "suspect_sha256": comparison.suspect_sha256,
        "reference_sha256": comparison.reference_sha256,
        "statement": comparison.statement,
        "null_id": comparison.null.null_id,
        "comparison_sha256": row.comparison_sha256,
    }
