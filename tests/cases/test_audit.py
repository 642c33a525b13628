"""The audit chain: append-only for every writer, and edits or deletions are detected and named.

Tampering goes through a raw ``sqlite3`` connection after dropping the guard triggers, as an
attacker with the file would.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from forensic_gui.cases import CaseStore, EvidenceRecord
from forensic_gui.cases.audit import entry_hash

_GUARDS = (
    "audit_events_no_update",
    "audit_events_no_delete",
    "audit_head_matches_log",
)


def _raw(store: CaseStore, *, drop_guards: bool) -> sqlite3.Connection:
    connection = sqlite3.connect(store.db_path, isolation_level=None)
    if drop_guards:
        for trigger in _GUARDS:
            connection.execute(f"DROP TRIGGER {trigger}")
    return connection


@pytest.mark.usefixtures("analysed")
def test_triggers_refuse_update_and_delete_from_any_writer(store: CaseStore) -> None:
    raw = _raw(store, drop_guards=False)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM audit_events WHERE seq = 5")
    with pytest.raises(sqlite3.IntegrityError, match="verdicts are kept"):
        raw.execute("DELETE FROM analyst_verdicts")
    with pytest.raises(sqlite3.IntegrityError, match="does not extend the chain"):
        raw.execute(
            "INSERT INTO audit_events VALUES (3, 't', 'a', 'x', 'o', '1', 1, '{}', ?, ?)",
            ("0" * 64, "f" * 64),
        )
    raw.close()
    assert store.verify_audit_chain().ok


@pytest.mark.usefixtures("analysed")
def test_edited_entry_is_detected_and_named(store: CaseStore) -> None:
    raw = _raw(store, drop_guards=True)
    raw.execute(
        """UPDATE audit_events SET payload_json = '{"verdict":"authentic"}' WHERE seq = 4"""
    )
    raw.close()
    report = store.verify_audit_chain()
    assert not report.ok
    assert report.problems == (
        "Audit entry #4 (verdict.recorded by A. Analyst) was edited: its content no longer "
        "matches its hash.",
    )


@pytest.mark.usefixtures("analysed")
def test_edit_with_recomputed_hash_breaks_the_next_link(store: CaseStore) -> None:
    raw = _raw(store, drop_guards=True)
    row = raw.execute("SELECT * FROM audit_events WHERE seq = 2").fetchone()
    names = [d[0] for d in raw.execute("SELECT * FROM audit_events LIMIT 0").description]
    fields = dict(zip(names, row, strict=True))
    fields["actor"] = "mallory"
    raw.execute(
        "UPDATE audit_events SET actor = 'mallory', hash = ? WHERE seq = 2", (entry_hash(fields),)
    )
    raw.close()
    report = store.verify_audit_chain()
    assert not report.ok
    assert len(report.problems) == 1
    assert report.problems[0].startswith("Audit entry #3 does not link to the entry before it")


@pytest.mark.usefixtures("analysed")
def test_deleted_middle_entry_is_detected(store: CaseStore) -> None:
    raw = _raw(store, drop_guards=True)
    raw.execute("DELETE FROM audit_events WHERE seq = 3")
    raw.close()
    report = store.verify_audit_chain()
    assert not report.ok
    assert report.n_entries == 4
    assert report.problems[0] == "Audit entry #3 missing: deleted from the log."
    assert "#4 does not link" in report.problems[1]


@pytest.mark.usefixtures("analysed")
def test_deleted_last_entry_is_detected_by_the_head(store: CaseStore) -> None:
    raw = _raw(store, drop_guards=True)
    raw.execute("DELETE FROM audit_events WHERE seq = 5")
    raw.close()
    report = store.verify_audit_chain()
    assert not report.ok
    assert report.problems == (
        "The audit chain head records 5 entries up to #5, but the log ends at #4: the newest "
        "entries were deleted.",
    )


def test_entries_filter_by_case(store: CaseStore, analysed: EvidenceRecord) -> None:
    other = store.create_case(number="C-2", title="t", analyst="B", actor="B")
    assert [e.action for e in store.audit_entries(other.id)] == ["case.created"]
    assert len(store.audit_entries(analysed.case_id)) == 5
    assert [e.seq for e in store.audit_entries()] == [1, 2, 3, 4, 5, 6]


def test_chain_survives_reopen(store: CaseStore, analysed: EvidenceRecord, tmp_path: Path) -> None:
    head = store.verify_audit_chain().head_hash
    store.close()
    with CaseStore.open(store.db_path) as again:
        report = again.verify_audit_chain()
        assert report.ok
        assert report.head_hash == head


def test_two_app_instances_writing_at_once_keep_one_chain(store: CaseStore) -> None:
    case = store.create_case(number="C-1", title="t", analyst="B", actor="B")

    def write(target: CaseStore, tag: str) -> None:
        for i in range(15):
            target.update_case(case.id, actor=tag, notes=f"{tag}{i}")

    with CaseStore.open(store.db_path) as second:
        threads = [
            threading.Thread(target=write, args=(store, "x")),
            threading.Thread(target=write, args=(second, "y")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    report = store.verify_audit_chain()
    assert report.ok, report.problems
    assert report.n_entries == 31
