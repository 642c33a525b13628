"""The case store: the one public way to read and write the case database.

Every public method is one unit of work (see :mod:`forensic_gui.cases.store_base`) that hands
back frozen records (:mod:`forensic_gui.cases.records`), never ORM objects or Sessions.

Use the store from one thread (the GUI thread). Slow work - hashing a file, running the engine -
happens in workers, which hand plain values back: ``add_evidence`` takes a hash computed by a
worker, ``record_evidence_check`` takes a re-computed hash, ``record_analysis`` takes the result.
The actor is always an explicit argument; there is no "current user".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.api import sha256_file
from engine.jobs import CancelToken, ProgressSink
from engine.types import MediaInfo
from forensic_gui.cases import audit
from forensic_gui.cases import store_ops as ev
from forensic_gui.cases.models import AnalystVerdictRow, AuditEvent, Case, Evidence
from forensic_gui.cases.records import (
    AnalystVerdict,
    AuditEntry,
    CaseRecord,
    CaseStatus,
    ChainReport,
    EvidenceCheck,
    EvidenceRecord,
    VerdictRecord,
)
from forensic_gui.cases.references import ReferenceStore

__all__ = ["CaseStore"]

logger = logging.getLogger(__name__)

_CASE_FIELDS = ("number", "title", "analyst", "notes", "status")


class CaseStore(ReferenceStore):
    """Cases, evidence, analyses, analyst verdicts and the audit log in one SQLite file.

    Create it with :meth:`open` (inherited, with the analysis methods, from
    :class:`forensic_gui.cases.analyses.AnalysisStore`, and the reference comparisons, from
    :class:`forensic_gui.cases.references.ReferenceStore`); close it with :meth:`close` or use it
    as a context manager.
    """

    # -- cases -----------------------------------------------------------------------------

    def create_case(
        self, *, number: str, title: str, analyst: str, notes: str = "", actor: str
    ) -> CaseRecord:
        """Create an open case and log ``case.created``.

        Raises:
            DuplicateCaseNumberError: another case has this number.
            InvalidFieldError: number, title, analyst or actor is empty.
        """
        values = {
            "number": ev.require_text("case number", number),
            "title": ev.require_text("case title", title),
            "analyst": ev.require_text("analyst", analyst),
            "notes": notes,
        }
        with self._write() as session:
            ev.check_number_free(session, values["number"])
            case = Case(**values, status=CaseStatus.OPEN.value)
            session.add(case)
            session.flush()
            audit.append_event(
                session,
                actor=ev.require_text("actor", actor),
                action="case.created",
                object_type="case",
                object_id=case.id,
                case_id=case.id,
                payload=values,
            )
            return ev.case_record(case)

    def list_cases(self) -> tuple[CaseRecord, ...]:
        """Every case, newest first."""
        with self._read() as session:
            cases = session.scalars(
                select(Case).order_by(Case.created_at_utc.desc(), Case.id.desc())
            )
            return tuple(ev.case_record(case) for case in cases)

    def get_case(self, case_id: int) -> CaseRecord:
        """One case. Raises :class:`CaseNotFoundError` for an unknown id."""
        with self._read() as session:
            return ev.case_record(ev.get_case(session, case_id))

    def update_case(self, case_id: int, *, actor: str, **fields: Any) -> CaseRecord:
        """Change number, title, analyst, notes or status; logs ``case.updated`` with old/new.

        Raises:
            InvalidFieldError: an unknown field, an empty required field or an unknown status.
            DuplicateCaseNumberError: the new number is taken.
        """
        new = ev.clean_case_fields(fields, _CASE_FIELDS)
        with self._write() as session:
            case = ev.get_case(session, case_id)
            changes = {k: [getattr(case, k), v] for k, v in new.items() if getattr(case, k) != v}
            if "number" in changes:
                ev.check_number_free(session, new["number"])
            if changes:
                for key, (_old, value) in changes.items():
                    setattr(case, key, value)
                session.flush()
                audit.append_event(
                    session,
                    actor=ev.require_text("actor", actor),
                    action="case.updated",
                    object_type="case",
                    object_id=case.id,
                    case_id=case.id,
                    payload={"changes": changes},
                )
            return ev.case_record(case)

    # -- evidence --------------------------------------------------------------------------

    def add_evidence(
        self,
        case_id: int,
        path: Path,
        *,
        sha256: str,
        size_bytes: int,
        media_info: Mapping[str, Any] | MediaInfo | None,
        actor: str,
        notes: str = "",
    ) -> EvidenceRecord:
        """Register an evidence file whose SHA-256 a worker computed; logs ``evidence.added``.

        The file is only stat-ed here, never opened for writing, moved or renamed.

        Raises:
            EvidenceFileError: the file is missing or its size differs from ``size_bytes``.
            InvalidFieldError: ``sha256`` is not 64 hex digits, or the actor is empty.
            CaseNotFoundError: unknown case.
        """
        item = ev.new_evidence_row(
            case_id,
            Path(path),
            sha256=sha256,
            size_bytes=size_bytes,
            media_info=media_info,
            actor=ev.require_text("actor", actor),
            notes=notes,
        )
        with self._write() as session:
            ev.get_case(session, case_id)
            session.add(item)
            session.flush()
            audit.append_event(
                session,
                actor=item.added_by,
                action="evidence.added",
                object_type="evidence",
                object_id=item.id,
                case_id=case_id,
                payload=ev.evidence_payload(item),
            )
            return ev.to_evidence_record(item)

    def hash_and_add_evidence(
        self,
        case_id: int,
        path: Path,
        *,
        actor: str,
        media_info: Mapping[str, Any] | MediaInfo | None = None,
        notes: str = "",
        sha256_fn: ev.Sha256Fn = sha256_file,
        progress: ProgressSink | None = None,
        cancel: CancelToken | None = None,
    ) -> EvidenceRecord:
        """Hash the file (read-only) here, then :meth:`add_evidence`. For the CLI and tests.

        The GUI hashes in a worker and calls :meth:`add_evidence` on the GUI thread instead.
        """
        path = Path(path)
        size_bytes = ev.file_size(path)
        digest = sha256_fn(path, progress=progress, cancel=cancel)
        return self.add_evidence(
            case_id,
            path,
            sha256=digest,
            size_bytes=size_bytes,
            media_info=media_info,
            actor=actor,
            notes=notes,
        )

    def list_evidence(self, case_id: int) -> tuple[EvidenceRecord, ...]:
        """The case's evidence items in the order they were added."""
        with self._read() as session:
            ev.get_case(session, case_id)
            items = session.scalars(
                select(Evidence).where(Evidence.case_id == case_id).order_by(Evidence.id)
            )
            return tuple(ev.to_evidence_record(item) for item in items)

    def verify_evidence(
        self, evidence_id: int, *, actor: str, sha256_fn: ev.Sha256Fn = sha256_file
    ) -> EvidenceCheck:
        """Re-hash the evidence file now and record the outcome (see
        :meth:`record_evidence_check`). Blocks for the time hashing takes; the GUI hashes in a
        worker and calls :meth:`record_evidence_check` instead.
        """
        item = self.get_evidence(evidence_id)
        actual, problem = ev.rehash(Path(item.open_path), sha256_fn)
        return self.record_evidence_check(
            evidence_id, actual_sha256=actual, actor=actor, problem=problem
        )

    def record_evidence_check(
        self, evidence_id: int, *, actual_sha256: str | None, actor: str, problem: str | None = None
    ) -> EvidenceCheck:
        """Compare a freshly computed hash with the acquisition hash and log the outcome.

        A match logs ``evidence.verified``. A mismatch logs ``evidence.hash_mismatch`` (an
        unreadable file, ``actual_sha256=None``, logs ``evidence.unreadable``) and an ERROR
        log line. Use ``check.raise_for_mismatch()`` to refuse to go on.
        """
        actor = ev.require_text("actor", actor)
        with self._write() as session:
            item = ev.get_evidence_row(session, evidence_id)
            check = ev.make_check(item, actual_sha256, problem)
            audit.append_event(
                session,
                actor=actor,
                action=ev.check_action(check),
                object_type="evidence",
                object_id=item.id,
                case_id=item.case_id,
                payload=ev.check_payload(check),
            )
        if not check.ok:
            logger.error(
                "EVIDENCE INTEGRITY FAILURE: %s expected SHA-256 %s, found %s (%s)",
                check.path,
                check.expected,
                check.actual,
                check.problem or "content changed",
            )
        return check

    # -- analyses --------------------------------------------------------------------------
    # -- analyst verdicts ------------------------------------------------------------------

    def record_verdict(
        self,
        evidence_id: int,
        *,
        analyst: str,
        verdict: AnalystVerdict | str,
        rationale: str,
        actor: str,
    ) -> VerdictRecord:
        """Record the analyst's own verdict; it supersedes (never deletes) the previous one.

        Raises:
            InvalidFieldError: the verdict is not one of :class:`AnalystVerdict`, or the
                analyst, rationale or actor is empty.
        """
        row = ev.new_verdict_row(evidence_id, analyst=analyst, verdict=verdict, rationale=rationale)
        actor = ev.require_text("actor", actor)
        with self._write() as session:
            item = ev.get_evidence_row(session, evidence_id)
            row.supersedes_id = session.scalars(
                select(AnalystVerdictRow.id)
                .where(AnalystVerdictRow.evidence_id == evidence_id)
                .order_by(AnalystVerdictRow.id.desc())
                .limit(1)
            ).first()
            session.add(row)
            session.flush()
            audit.append_event(
                session,
                actor=actor,
                action="verdict.recorded",
                object_type="analyst_verdict",
                object_id=row.id,
                case_id=item.case_id,
                payload=ev.verdict_payload(row),
            )
            return ev.to_verdict_record(row, is_current=True)

    def verdicts(self, evidence_id: int) -> tuple[VerdictRecord, ...]:
        """Every verdict on the item, oldest first; the last one has ``is_current=True``."""
        with self._read() as session:
            ev.get_evidence_row(session, evidence_id)
            found = list(
                session.scalars(
                    select(AnalystVerdictRow)
                    .where(AnalystVerdictRow.evidence_id == evidence_id)
                    .order_by(AnalystVerdictRow.id)
                )
            )
            return tuple(
                ev.to_verdict_record(row, is_current=i == len(found) - 1)
                for i, row in enumerate(found)
            )

    # -- audit -----------------------------------------------------------------------------

    def audit_entries(self, case_id: int | None = None) -> tuple[AuditEntry, ...]:
        """Audit entries in chain order; only the case's entries when ``case_id`` is given."""
        with self._read() as session:
            query = select(AuditEvent).order_by(AuditEvent.seq)
            if case_id is not None:
                query = query.where(AuditEvent.case_id == case_id)
            return tuple(audit.to_entry(row) for row in session.scalars(query))

    def verify_audit_chain(self) -> ChainReport:
        """Recompute the whole chain; see :func:`forensic_gui.cases.audit.verify_chain`."""
        with self._read() as session:
            return audit.verify_chain(session)

    def append_audit(
        self,
        *,
        actor: str,
        action: str,
        object_type: str,
        object_id: str | int,
        case_id: int | None,
        payload: Mapping[str, Any],
    ) -> AuditEntry:
        """Log an action done outside the store (e.g. ``report.exported``) in its own unit."""
        with self._write() as session:
            return audit.append_event(
                session,
                actor=ev.require_text("actor", actor),
                action=ev.require_text("action", action),
                object_type=object_type,
                object_id=object_id,
                case_id=case_id,
                payload=payload,
            )
