"""Opening the database: migrations, pragmas, location errors, and surviving a killed process."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from forensic_gui.cases import CaseDbError, CaseDbLocationError, CaseStore, default_db_path
from forensic_gui.cases import db as case_db
from forensic_gui.cases.models import Base
from tests.cases.fabricate import hash_file

REPO_ROOT = Path(__file__).resolve().parents[2]
_NOBODY = 65534


def test_empty_database_migrates_to_head(tmp_path: Path) -> None:
    path = tmp_path / "new" / "cases.sqlite3"
    with CaseStore.open(path) as store:
        assert store.list_cases() == ()
    engine = case_db.create_db_engine(path)
    try:
        assert case_db.current_revision(engine) == case_db.head_revision() == "0006"
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == [], "models.py and the migrations disagree; add a migration"
    finally:
        engine.dispose()


def test_connections_use_wal_foreign_keys_and_full_sync(tmp_path: Path) -> None:
    engine = case_db.create_db_engine(tmp_path / "cases.sqlite3")
    try:
        with engine.connect() as connection:
            pragma = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
            }
        assert pragma == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "synchronous": 2,
            "busy_timeout": 5000,
        }
    finally:
        engine.dispose()


def test_default_location_is_the_user_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    path = default_db_path()
    assert path.name == "cases.sqlite3"
    assert path.parent.name == "forensic-face-analyzer"
    if sys.platform.startswith("linux"):
        assert path == tmp_path / "xdg" / "forensic-face-analyzer" / "cases.sqlite3"


@contextmanager
def _unprivileged() -> Iterator[None]:
    """Drop root's effective ids (root ignores permissions), restoring them afterwards."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(_NOBODY)
    os.seteuid(_NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture
def read_only_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="ro-cases-"))
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)
    shutil.rmtree(folder)


def test_read_only_folder_gives_a_clear_error(read_only_dir: Path) -> None:
    with _unprivileged(), pytest.raises(CaseDbLocationError, match="read-only") as info:
        CaseStore.open(read_only_dir / "cases.sqlite3")
    assert str(read_only_dir) in str(info.value)
    assert not (read_only_dir / "cases.sqlite3").exists()


def test_uncreatable_folder_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(CaseDbLocationError, match="Cannot create the folder"):
        CaseStore.open(blocker / "sub" / "cases.sqlite3")


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CaseDbError):
        CaseStore.open(path)


_WRITER = """
import sys
from pathlib import Path
from forensic_gui.cases import CaseStore
store = CaseStore.open(Path(sys.argv[1]))
case = store.create_case(number="K-1", title="kill test", analyst="B", actor="B")
item = store.add_evidence(case.id, Path(sys.argv[2]), sha256=sys.argv[3],
                          size_bytes=int(sys.argv[4]), media_info=None, actor="B")
print(item.id, flush=True)
i = 0
while True:
    store.record_verdict(item.id, analyst="B", verdict="inconclusive", rationale=f"r{i}",
                         actor="B")
    print(i, flush=True)
    i += 1
"""


def test_killing_the_writer_loses_nothing_committed(tmp_path: Path, evidence_file: Path) -> None:
    db_path = tmp_path / "cases.sqlite3"
    args = [
        str(db_path),
        str(evidence_file),
        hash_file(evidence_file),
        str(evidence_file.stat().st_size),
    ]
    with subprocess.Popen(
        [sys.executable, "-c", _WRITER, *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        evidence_id = int(proc.stdout.readline() or "-1")
        acknowledged = [proc.stdout.readline() for _ in range(25)]
        proc.send_signal(signal.SIGKILL)  # mid-transaction, most likely
        _, stderr = proc.communicate(timeout=30)
    assert evidence_id > 0, stderr
    assert all(line.strip().isdigit() for line in acknowledged), stderr

    with closing(sqlite3.connect(db_path)) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with CaseStore.open(db_path) as store:
        kept = [v.rationale for v in store.verdicts(evidence_id)]
        assert kept[:25] == [f"r{i}" for i in range(25)]
        report = store.verify_audit_chain()
        assert report.ok, report.problems
        assert report.n_entries == 2 + len(kept)


def test_integrity_check_runs_on_open_unless_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cases.sqlite3"
    CaseStore.open(path).close()
    checked: list[Path] = []
    monkeypatch.setattr(case_db, "_integrity_check", lambda _conn, db_path: checked.append(db_path))
    CaseStore.open(path, check_integrity=False).close()
    assert checked == []
    CaseStore.open(path).close()
    assert checked == [path]
