"""The append-only, hash-chained audit log.

Each entry's ``hash`` is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of all
its other fields, ``prev_hash`` included; the first entry's ``prev_hash`` is 64 zeros. So:

- editing an entry changes its hash (detected at that entry);
- deleting an entry from the middle leaves a gap in ``seq`` and a broken ``prev_hash`` link;
- deleting the newest entries leaves the chain head (``audit_head``: count and last hash, kept
  by a trigger) pointing past the end.

There is no update or delete API, and SQLite triggers refuse UPDATE and DELETE of entries from
any writer. Honest limit: someone with write access to the file who drops the triggers can
rewrite the whole chain *and* the head consistently; no check inside one file can catch that.
The PDF report therefore prints the head hash and count, which anchors the log on paper: a later
rewrite no longer matches a report issued earlier.

A chain that verifies is then used as the reference for the records themselves: evidence,
analyses and verdicts must still say what their entries logged (see
:mod:`forensic_gui.cases.audit_records`), so an edited acquisition hash or verdict is reported
by the same verification the report and the GUI show.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from forensic_gui.cases.audit_records import record_problems
from forensic_gui.cases.models import GENESIS_HASH, AuditEvent, AuditHead, utc_now
from forensic_gui.cases.records import AuditEntry, ChainReport

__all__ = [
    "GENESIS_HASH",
    "append_event",
    "canonical_json",
    "entry_hash",
    "to_entry",
    "verify_chain",
]

_HASHED_FIELDS = (
    "seq",
    "ts_utc",
    "actor",
    "action",
    "object_type",
    "object_id",
    "case_id",
    "payload_json",
    "prev_hash",
)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace; NaN and infinity are refused."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def entry_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of an entry's hashed fields (``prev_hash`` included)."""
    body = {name: fields[name] for name in _HASHED_FIELDS}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def to_entry(row: AuditEvent) -> AuditEntry:
    """The frozen record of an audit row."""
    return AuditEntry(
        seq=row.seq,
        ts_utc=row.ts_utc,
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        case_id=row.case_id,
        payload_json=row.payload_json,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def append_event(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    case_id: int | None,
    payload: Mapping[str, Any],
) -> AuditEntry:
    """Add one entry to the chain inside the caller's (write) transaction.

    The caller's transaction must hold the write lock (``BEGIN IMMEDIATE``) so no other writer
    can extend the chain between reading the head and inserting.
    """
    head = session.get(AuditHead, 1)
    if head is None:
        raise RuntimeError("audit_head row missing: the database was not migrated")
    fields: dict[str, Any] = {
        "seq": head.last_seq + 1,
        "ts_utc": utc_now().isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "case_id": case_id,
        "payload_json": canonical_json(dict(payload)),
        "prev_hash": head.last_hash,
    }
    row = AuditEvent(**fields, hash=entry_hash(fields))
    session.add(row)
    session.flush()
    # The trigger moved the head; make the ORM re-read it if this session appends again.
    session.expire(head)
    return to_entry(row)


def _entry_problems(row: AuditEvent, expected_seq: int, prev_hash: str) -> list[str]:
    problems: list[str] = []
    if row.seq != expected_seq:
        missing = (
            f"entry #{expected_seq}"
            if row.seq == expected_seq + 1
            else f"entries #{expected_seq}-#{row.seq - 1}"
        )
        problems.append(f"Audit {missing} missing: deleted from the log.")
    fields = {name: getattr(row, name) for name in _HASHED_FIELDS}
    if entry_hash(fields) != row.hash:
        problems.append(
            f"Audit entry #{row.seq} ({row.action} by {row.actor}) was edited: its content no "
            "longer matches its hash."
        )
    if row.prev_hash != prev_hash:
        problems.append(
            f"Audit entry #{row.seq} does not link to the entry before it: an entry before it "
            "was edited or deleted."
        )
    return problems


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash and link, compare the end of the chain with the head, and, when all
    of that holds, compare the evidence, analysis and verdict records with their entries."""
    problems: list[str] = []
    prev_hash = GENESIS_HASH
    expected_seq = 1
    n_entries = 0
    for row in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
        problems.extend(_entry_problems(row, expected_seq, prev_hash))
        prev_hash, expected_seq = row.hash, row.seq + 1
        n_entries += 1
    last_seq = expected_seq - 1
    head = session.get(AuditHead, 1)
    if head is None:
        problems.append("The audit chain head is missing: it was deleted.")
    elif head.last_seq > last_seq:
        problems.append(
            f"The audit chain head records {head.n_entries} entries up to #{head.last_seq}, but "
            f"the log ends at #{last_seq}: the newest entries were deleted."
        )
    elif head.last_seq != last_seq or head.last_hash != prev_hash:
        problems.append(
            f"The audit chain head (#{head.last_seq}, {head.last_hash[:12]}...) does not match "
            f"the last entry (#{last_seq}, {prev_hash[:12]}...): the head or the log was edited."
        )
    elif head.n_entries != n_entries:
        problems.append(
            f"The audit chain head counts {head.n_entries} entries but {n_entries} were found."
        )
    if not problems:  # only a verified chain can vouch for the records
        problems.extend(record_problems(session))
    return ChainReport(
        ok=not problems, n_entries=n_entries, problems=tuple(problems), head_hash=prev_hash
    )
