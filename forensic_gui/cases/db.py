"""Opening the SQLite case database safely: location, pragmas, transactions, migrations.

Durability choices (one place, so they are easy to review):

- ``journal_mode=WAL``: readers never block the writer, and a killed process leaves a journal
  SQLite replays on the next open, so the file is never left half-written.
- ``synchronous=FULL``: every commit is fsynced to the WAL before it returns. With WAL,
  ``NORMAL`` already survives a killed *process*; ``FULL`` also keeps the last commits over a
  power cut or OS crash. An audit entry that was acknowledged must still be there, and the app
  writes a few rows per user action, so the extra fsync costs nothing noticeable.
- ``foreign_keys=ON`` and a 5 s busy timeout on every connection.
- Transactions are started by us, not by the ``sqlite3`` module: read units use ``BEGIN``,
  write units ``BEGIN IMMEDIATE``, which takes the write lock up front. Appending to the audit
  chain reads the chain head and then inserts; the immediate lock makes that atomic even when a
  second app instance opens the same file. Migrations run in one such transaction.

Whose file it is: every case database is marked with ``PRAGMA application_id``
(:data:`APPLICATION_ID`) and ``PRAGMA user_version`` (the schema revision as a number) when it is
created or migrated. Before anything opens a file for writing (the WAL switch alone rewrites its
header), :func:`check_is_case_database` reads it through a read-only connection and refuses a
file that is not ours: not SQLite at all, or a SQLite database of another program (another
application id, or tables that are not a case database's). A database of ours from before the
mark (our ``alembic_version`` and tables, no id) is recognised and gets the mark on this open;
an empty SQLite file (no table: a first open that was interrupted) is taken as new. A refused
file is never changed: no migration, no journal-mode change.

Schema changes: add ONE new file under ``migrations/versions`` per change (``down_revision`` =
the previous head), update ``models.py`` to match, and run ``tests/cases/test_db.py``, which
compares the two. There is no ``alembic.ini``; :func:`alembic_config` builds the config, e.g.
``command.revision(alembic_config(), message="add x")`` creates a file from ``script.py.mako``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from forensic_gui.cases.errors import (
    CaseDbCorruptError,
    CaseDbError,
    CaseDbForeignError,
    CaseDbLocationError,
)

__all__ = [
    "APPLICATION_ID",
    "APP_NAME",
    "DB_FILE_NAME",
    "alembic_config",
    "check_is_case_database",
    "create_db_engine",
    "current_revision",
    "default_db_path",
    "head_revision",
    "migrations_dir",
    "upgrade_to_head",
]

logger = logging.getLogger(__name__)

APP_NAME = "forensic-face-analyzer"
DB_FILE_NAME = "cases.sqlite3"
_BUSY_TIMEOUT_MS = 5000
_BEGIN_OPTION = "sqlite_begin"
APPLICATION_ID = 0x46464131
"""``PRAGMA application_id`` of every case database: "FFA1" in ASCII (Forensic Face Analyzer)."""
_SQLITE_MAGIC = b"SQLite format 3\x00"
# Tables only a case database has (migration 0001); with alembic_version they make a file ours.
_OUR_TABLES = frozenset({"alembic_version", "cases", "evidence", "audit_events", "audit_head"})


def default_db_path() -> Path:
    """``cases.sqlite3`` in the user's data directory (per-OS, from platformdirs)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / DB_FILE_NAME


def migrations_dir() -> Path:
    """The Alembic script directory shipped inside this package.

    Raises:
        CaseDbError: the scripts are not on the file system (a bundle built without them).
    """
    path = Path(str(resources.files("forensic_gui.cases").joinpath("migrations")))
    if not (path / "env.py").is_file():
        raise CaseDbError(
            f"The database migration scripts are missing from this installation ({path}). "
            "Reinstall the application; a PyInstaller bundle must include "
            "forensic_gui/cases/migrations as data files."
        )
    return path


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config built in code (no ini file, no dependence on the working directory)."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _check_location(db_path: Path) -> None:
    folder = db_path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CaseDbLocationError(
            f"Cannot create the folder for the case database {db_path}: {exc.strerror or exc}. "
            "Choose a folder you can write to."
        ) from exc
    effective = os.access in os.supports_effective_ids
    if db_path.is_dir():
        raise CaseDbLocationError(f"The case database path {db_path} is a folder, not a file.")
    # NOTE: SQLite in WAL mode writes -wal and -shm files next to the database, so the folder
    # must be writable even when the database file already exists.
    if not os.access(folder, os.W_OK | os.X_OK, effective_ids=effective):
        raise CaseDbLocationError(
            f"The folder {folder} is read-only, so the case database {db_path.name} cannot be "
            "created or updated there. Choose a folder you can write to."
        )
    if db_path.exists() and not os.access(db_path, os.R_OK | os.W_OK, effective_ids=effective):
        raise CaseDbLocationError(
            f"The case database {db_path} is read-only. Choose a writable copy or location."
        )


def check_is_case_database(db_path: Path) -> None:
    """Refuse, without changing it, a file that is not a case database (see module docstring).

    Raises:
        CaseDbForeignError: not SQLite, or another program's SQLite database.
    """
    try:
        with open(db_path, "rb") as fh:
            header = fh.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        return  # a new database
    except OSError as exc:
        raise CaseDbLocationError(f"Cannot read the case database {db_path}: "
                                  f"{exc.strerror or exc}.") from exc
    if not header:
        return  # an empty file: created and never written (an interrupted first start)
    if header != _SQLITE_MAGIC:
        raise CaseDbForeignError(f"{db_path} is not a case database: it is not an SQLite "
                                 "database at all. It was not changed. Choose another file.")
    app_id, tables = _read_marks(db_path)
    if app_id == APPLICATION_ID or not tables:
        return
    if app_id == 0 and tables >= _OUR_TABLES:
        logger.info("case database %s predates the application id; it is marked now", db_path)
        return
    shown = ", ".join(sorted(tables)[:8]) + (", ..." if len(tables) > 8 else "")
    raise CaseDbForeignError(
        f"{db_path} is not a case database of this application: it is the SQLite database of "
        f"another program (application id {app_id:#x}; tables: {shown}). It was not changed "
        "(no migration, no journal change). Choose another file."
    )


def _read_marks(db_path: Path) -> tuple[int, set[str]]:
    """``(application_id, table names)`` read through a read-only connection.

    A WAL database without a ``-wal`` file beside it holds everything in the main file: it is
    read as immutable, so not even the ``-wal``/``-shm`` files a read-only connection would
    create are left beside another program's file.
    """
    with open(db_path, "rb") as fh:
        header = fh.read(20)
    wal_mode = len(header) == 20 and header[18] == 2
    settled = wal_mode and not Path(f"{os.fspath(db_path)}-wal").exists()
    uri = f"file:{quote(os.fsencode(db_path))}?{'immutable=1' if settled else 'mode=ro'}"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_MS / 1000.0)
        try:
            app_id = int(connection.execute("PRAGMA application_id").fetchone()[0])
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = {str(row[0]) for row in rows}
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise CaseDbForeignError(f"{db_path} cannot be read as a case database ({exc}). It was "
                                 "not changed. Choose another file.") from exc
    return app_id, tables


def _mark(connection: Connection, revision: str) -> None:
    """Set the application id and schema number (in the caller's write transaction)."""
    connection.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
    number = int(revision) if revision.isdigit() else 0
    connection.exec_driver_sql(f"PRAGMA user_version = {number}")


def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see module docstring)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise CaseDbError(f"SQLite refused write-ahead logging (journal mode {mode!r}).")
        cursor.execute("PRAGMA synchronous = FULL")
    finally:
        cursor.close()


def _on_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def create_db_engine(db_path: Path) -> Engine:
    """An Engine on ``db_path`` with the pragmas and transaction handling described above.

    Use ``engine.execution_options(sqlite_begin="IMMEDIATE")`` for units of work that write.

    Raises:
        CaseDbLocationError: the folder cannot be created or written.
        CaseDbForeignError: the file is not a case database (it is left unchanged).
    """
    _check_location(db_path)
    check_is_case_database(db_path)
    engine = create_engine(
        f"sqlite:///{db_path}", connect_args={"timeout": _BUSY_TIMEOUT_MS / 1000.0}
    )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def head_revision() -> str:
    """The newest schema revision this version of the app knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise CaseDbError("No database migrations were found in this installation.")
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision stored in the database, ``None`` for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _integrity_check(connection: Connection, db_path: Path) -> None:
    rows = connection.exec_driver_sql("PRAGMA quick_check").fetchall()
    if [tuple(row) for row in rows] != [("ok",)]:
        detail = "; ".join(str(row[0]) for row in rows[:5])
        raise CaseDbCorruptError(
            f"The case database {db_path} is damaged ({detail}). Restore it from a backup."
        )


def upgrade_to_head(engine: Engine, db_path: Path, *, check_integrity: bool = True) -> None:
    """Check the file's integrity, then migrate it to the newest schema in one transaction.

    Args:
        engine: an engine from :func:`create_db_engine` on ``db_path``.
        db_path: the database file (named in error messages).
        check_integrity: run SQLite's ``quick_check`` first. It reads every page, so it is
            worth paying once when the app opens the file, not on every store a worker opens.

    Raises:
        CaseDbCorruptError: SQLite's quick check failed.
        CaseDbError: the file is not a database, or was written by a newer app version.
    """
    known = head_revision()
    writer = engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
    try:
        with writer.begin() as connection:
            if check_integrity:
                _integrity_check(connection, db_path)
            stored = MigrationContext.configure(connection).get_current_revision()
            if stored != known:
                logger.info("Migrating case database %s from %s to %s", db_path, stored, known)
                command.upgrade(alembic_config(connection), "head")
            marks = connection.exec_driver_sql("PRAGMA application_id").fetchone()[0]
            number = connection.exec_driver_sql("PRAGMA user_version").fetchone()[0]
            if (marks, number) != (APPLICATION_ID, int(known) if known.isdigit() else 0):
                _mark(connection, known)
    except CommandError as exc:
        raise CaseDbError(
            f"The case database {db_path} has schema revision unknown to this version of the "
            f"app ({exc}). It was probably written by a newer version: update the app."
        ) from exc
    except DBAPIError as exc:
        raise CaseDbError(
            f"Cannot open the case database {db_path}: {exc.orig}. "
            "Is it a case database, and is the disk writable?"
        ) from exc
