"""The case store refuses a file that is not a case database, and never changes it.

Opening another program's SQLite file used to migrate it in place (tables added, journal mode
switched to WAL, its bytes and hash changed). Our databases carry an application id; a foreign
file is refused through a read-only look before anything writes.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from forensic_gui.cases.db import APPLICATION_ID
from forensic_gui.cases.errors import CaseDbForeignError
from forensic_gui.cases.repository import CaseStore


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _siblings(path: Path) -> set[str]:
    return {p.name for p in path.parent.iterdir()}


def _foreign_db(path: Path, *, wal: bool, app_id: int = 0) -> Path:
    connection = sqlite3.connect(path)
    if wal:
        connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    connection.execute("INSERT INTO contacts VALUES ('A. Witness', '555-0100')")
    if app_id:
        connection.execute(f"PRAGMA application_id = {app_id}")
    connection.commit()
    connection.close()
    return path


def _marks(path: Path) -> tuple[int, int]:
    connection = sqlite3.connect(path)
    try:
        app_id = connection.execute("PRAGMA application_id").fetchone()[0]
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    finally:
        connection.close()
    return app_id, version


@pytest.mark.parametrize(("wal", "app_id"), [(False, 0), (True, 0), (False, 0x12345678)])
def test_another_programs_sqlite_file_is_refused_and_unchanged(
    tmp_path: Path, wal: bool, app_id: int
) -> None:
    path = _foreign_db(tmp_path / "contacts.sqlite3", wal=wal, app_id=app_id)
    before, files_before = _digest(path), _siblings(path)
    with pytest.raises(CaseDbForeignError, match="another program") as info:
        CaseStore.open(path)
    assert "contacts" in str(info.value)
    assert "not changed" in str(info.value)
    assert _digest(path) == before
    assert _siblings(path) == files_before  # no -wal/-shm journal left beside it


@pytest.mark.parametrize("content", [b"Meeting notes\n" * 10, b"\x00" * 4096, b"SQLite format"])
def test_a_file_that_is_not_sqlite_is_refused_and_unchanged(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "cases.sqlite3"
    path.write_bytes(content)
    with pytest.raises(CaseDbForeignError, match="not an SQLite database"):
        CaseStore.open(path)
    assert path.read_bytes() == content


def test_a_new_database_is_marked_at_creation(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite3"
    with CaseStore.open(path):
        pass
    app_id, version = _marks(path)
    assert app_id == APPLICATION_ID
    assert version >= 2  # the schema revision as a number


def test_a_database_of_ours_from_before_the_mark_opens_and_is_marked(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite3"
    with CaseStore.open(path) as store:
        store.create_case(number="C-1", title="t", analyst="a", actor="a")
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA application_id = 0")
    connection.execute("PRAGMA user_version = 0")
    connection.commit()
    connection.close()
    assert _marks(path) == (0, 0)
    with CaseStore.open(path) as store:
        assert [c.number for c in store.list_cases()] == ["C-1"]
    assert _marks(path)[0] == APPLICATION_ID


def test_an_empty_sqlite_file_is_taken_as_new(tmp_path: Path) -> None:
    """A first start killed before the schema was written leaves a table-less database."""
    path = tmp_path / "cases.sqlite3"
    sqlite3.connect(path).execute("PRAGMA journal_mode = WAL").fetchall()
    with CaseStore.open(path) as store:
        assert store.list_cases() == ()
    assert _marks(path)[0] == APPLICATION_ID
