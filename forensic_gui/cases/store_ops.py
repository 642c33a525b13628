"""Validation, row building and record conversion behind :class:`CaseStore`.

Kept apart from ``repository.py`` so the store reads as a list of units of work. Nothing here
opens a Session or commits; functions that take a Session run inside the caller's transaction.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.api import path_b64, printable_path, printable_tree
from engine.errors import MediaError
from engine.jobs import CancelToken, ProgressSink
from engine.types import MediaInfo, MediaResult
from forensic_gui.cases.errors import (
    CaseNotFoundError,
    DuplicateCaseNumberError,
    EvidenceFileError,
    InvalidFieldError,
    RecordNotFoundError,
)
from forensic_gui.cases.models import (
    Analysis,
    AnalystVerdictRow,
    Case,
    Evidence,
    KeyFrame,
    utc_now,
)
from forensic_gui.cases.records import (
    AnalystVerdict,
    CaseRecord,
    CaseStatus,
    EvidenceCheck,
    EvidenceRecord,
    VerdictRecord,
)

__all__ = ["Sha256Fn"]

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_E = TypeVar("_E", bound=enum.Enum)


class Sha256Fn(Protocol):
    """The shape of ``engine.api.sha256_file``: hex SHA-256 of a file, read-only."""

    def __call__(
        self,
        path: Path,
        /,
        *,
        progress: ProgressSink | None = None,
        cancel: CancelToken | None = None,
    ) -> str: ...


def require_text(what: str, value: object) -> str:
    """``value`` stripped; refuses non-strings and empty text with a message naming ``what``."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidFieldError(f"The {what} must be given (got {value!r}).")
    return value.strip()


def parse_enum(kind: type[_E], value: object, what: str) -> _E:
    """``value`` as a member of ``kind`` (a member or its value); lists the valid values."""
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        valid = ", ".join(repr(member.value) for member in kind)
        raise InvalidFieldError(f"Unknown {what} {value!r}; valid: {valid}.") from None


def json_loads(text: str) -> dict[str, Any]:
    """Parse a stored JSON object."""
    value = json.loads(text)
    if not isinstance(value, dict):
        raise InvalidFieldError("A stored JSON document is not an object; the row is damaged.")
    return value


# -- cases -----------------------------------------------------------------------------------


def case_record(case: Case) -> CaseRecord:
    """The record for a case row."""
    return CaseRecord(
        id=case.id,
        number=case.number,
        title=case.title,
        analyst=case.analyst,
        notes=case.notes,
        status=CaseStatus(case.status),
        created_at_utc=case.created_at_utc,
        updated_at_utc=case.updated_at_utc,
    )


def get_case(session: Session, case_id: int) -> Case:
    """The case row, or :class:`CaseNotFoundError`."""
    case = session.get(Case, case_id)
    if case is None:
        raise CaseNotFoundError(f"No case with id {case_id} in this database.")
    return case


def check_number_free(session: Session, number: str) -> None:
    """Raise :class:`DuplicateCaseNumberError` if a case already has ``number``."""
    taken = session.scalars(select(Case.id).where(Case.number == number)).first()
    if taken is not None:
        raise DuplicateCaseNumberError(f"Case number {number!r} is already used by case {taken}.")


def clean_case_fields(fields: Mapping[str, Any], allowed: Sequence[str]) -> dict[str, Any]:
    """Validated case field values for an update."""
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise InvalidFieldError(
            f"Cannot update case field(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}."
        )
    clean: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "status":
            clean[key] = parse_enum(CaseStatus, value, "case status").value
        elif key == "notes":
            clean[key] = str(value)
        else:
            clean[key] = require_text(f"case {key}", value)
    return clean


# -- evidence --------------------------------------------------------------------------------


def file_size(path: Path) -> int:
    """Size of a regular file, or :class:`EvidenceFileError` saying what is wrong."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise EvidenceFileError(
            f"Cannot read the evidence file {path}: {exc.strerror or exc}."
        ) from exc
    if not path.is_file():
        raise EvidenceFileError(f"The evidence path {path} is not a regular file.")
    return stat.st_size


def _media_info_json(media_info: Mapping[str, Any] | MediaInfo | None) -> str | None:
    if media_info is None:
        return None
    as_dict = (
        dataclasses.asdict(media_info) if isinstance(media_info, MediaInfo) else dict(media_info)
    )
    return json.dumps(printable_tree(as_dict), sort_keys=True, ensure_ascii=False)


def new_evidence_row(
    case_id: int,
    path: Path,
    *,
    sha256: str,
    size_bytes: int,
    media_info: Mapping[str, Any] | MediaInfo | None,
    actor: str,
    notes: str,
) -> Evidence:
    """A validated, unsaved evidence row; the file is only stat-ed."""
    digest = str(sha256).lower()
    if not _SHA256_RE.match(digest):
        raise InvalidFieldError(f"{sha256!r} is not a SHA-256 hex digest (64 hex digits).")
    path = path.expanduser().absolute()
    actual_size = file_size(path)
    if actual_size != size_bytes:
        raise EvidenceFileError(
            f"The evidence file {path} is {actual_size} bytes, but {size_bytes} bytes were "
            "hashed: it changed while being added. Add it again."
        )
    return Evidence(
        uuid=uuid.uuid4().hex,
        case_id=case_id,
        original_path=printable_path(str(path)),
        file_name=printable_path(path.name),
        original_path_b64=path_b64(str(path)),
        size_bytes=size_bytes,
        sha256=digest,
        media_info_json=_media_info_json(media_info),
        acquired_at_utc=utc_now(),
        added_by=actor,
        notes=notes,
    )


def evidence_payload(item: Evidence) -> dict[str, Any]:
    """What ``evidence.added`` records about an item."""
    payload = {
        "uuid": item.uuid,
        "original_path": item.original_path,
        "size_bytes": item.size_bytes,
        "sha256": item.sha256,
        "notes": item.notes,
    }
    if item.original_path_b64 is not None:  # only for names that are not valid UTF-8
        payload["original_path_b64"] = item.original_path_b64
    return payload


def to_evidence_record(item: Evidence) -> EvidenceRecord:
    """The record for an evidence row."""
    return EvidenceRecord(
        id=item.id,
        uuid=item.uuid,
        case_id=item.case_id,
        original_path=item.original_path,
        file_name=item.file_name,
        size_bytes=item.size_bytes,
        sha256=item.sha256,
        media_info_json=item.media_info_json,
        acquired_at_utc=item.acquired_at_utc,
        added_by=item.added_by,
        notes=item.notes,
        original_path_b64=item.original_path_b64,
    )


def get_evidence_row(session: Session, evidence_id: int) -> Evidence:
    """The evidence row, or :class:`RecordNotFoundError`."""
    item = session.get(Evidence, evidence_id)
    if item is None:
        raise RecordNotFoundError(f"No evidence item with id {evidence_id} in this database.")
    return item


def rehash(path: Path, sha256_fn: Sha256Fn) -> tuple[str | None, str | None]:
    """``(sha256, None)``, or ``(None, why)`` when the file cannot be read."""
    try:
        return sha256_fn(path).lower(), None
    except (OSError, MediaError) as exc:
        return None, f"cannot read the file: {exc}"


def make_check(item: Evidence, actual: str | None, problem: str | None) -> EvidenceCheck:
    """The outcome of comparing ``actual`` with the acquisition hash."""
    actual = actual.lower() if actual is not None else None
    if actual is None and problem is None:
        problem = "the file could not be read"
    elif actual is not None and actual != item.sha256 and problem is None:
        problem = "the file content changed since acquisition"
    return EvidenceCheck(
        evidence_id=item.id,
        path=item.original_path,
        ok=actual == item.sha256,
        expected=item.sha256,
        actual=actual,
        checked_at_utc=utc_now(),
        problem=None if actual == item.sha256 else problem,
    )


def check_action(check: EvidenceCheck) -> str:
    """The audit action naming the outcome of a check."""
    if check.ok:
        return "evidence.verified"
    return "evidence.unreadable" if check.actual is None else "evidence.hash_mismatch"


def check_payload(check: EvidenceCheck) -> dict[str, Any]:
    """What an evidence check records in the audit log."""
    return {
        "ok": check.ok,
        "path": check.path,
        "expected_sha256": check.expected,
        "actual_sha256": check.actual,
        "problem": check.problem,
    }


# -- analyses and verdicts -------------------------------------------------------------------


def analysis_payload(
    analysis: Analysis, result: MediaResult, key_frames: Sequence[KeyFrame]
) -> dict[str, Any]:
    """What ``analysis.recorded`` logs: enough hashes to make the stored result tamper-evident."""
    finding = result.finding
    return {
        "evidence_sha256": result.sha256,
        "status": result.status,
        "detectors": json.loads(analysis.detectors_json),
        "grade": finding.grade.name if finding else None,
        "p_fake": finding.p_fake if finding else None,
        "n_frames": len(result.frames),
        "engine_version": analysis.engine_version,
        "result_sha256": analysis.result_sha256,
        "key_frame_sha256": [frame.image_sha256 for frame in key_frames],
        "maps_sha256": analysis.maps_sha256,
        "file_provenance_sha256": analysis.file_provenance_sha256,
    }


def new_verdict_row(
    evidence_id: int, *, analyst: str, verdict: AnalystVerdict | str, rationale: str
) -> AnalystVerdictRow:
    """A validated, unsaved verdict row (``supersedes_id`` is set by the caller)."""
    return AnalystVerdictRow(
        evidence_id=evidence_id,
        analyst=require_text("analyst", analyst),
        verdict=parse_enum(AnalystVerdict, verdict, "verdict").value,
        rationale=require_text("rationale", rationale),
        created_at_utc=utc_now(),
    )


def verdict_payload(row: AnalystVerdictRow) -> dict[str, Any]:
    """What ``verdict.recorded`` logs."""
    return {
        "evidence_id": row.evidence_id,
        "analyst": row.analyst,
        "verdict": row.verdict,
        "rationale": row.rationale,
        "supersedes_id": row.supersedes_id,
    }


def to_verdict_record(row: AnalystVerdictRow, *, is_current: bool) -> VerdictRecord:
    """The record for a verdict row."""
    return VerdictRecord(
        id=row.id,
        evidence_id=row.evidence_id,
        analyst=row.analyst,
        verdict=AnalystVerdict(row.verdict),
        rationale=row.rationale,
        created_at_utc=row.created_at_utc,
        supersedes_id=row.supersedes_id,
        is_current=is_current,
    )
