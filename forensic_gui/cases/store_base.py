"""Opening and closing the case store, and its units of work.

Every public store method is one unit of work: one Session, one transaction, frozen records out.
Reads begin with ``BEGIN``; writes with ``BEGIN IMMEDIATE`` (see :mod:`forensic_gui.cases.db`),
and a write's audit entry is appended in the same transaction, so an action and its audit
entry are committed together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from forensic_gui.cases import db
from forensic_gui.cases.errors import CaseDbError

__all__ = ["StoreBase"]

logger = logging.getLogger(__name__)


class StoreBase:
    """Holds the engine; subclasses add the public units of work."""

    def __init__(self, engine: Engine, db_path: Path) -> None:
        """Wrap an engine that is already migrated; use :meth:`open` instead."""
        self._engine = engine
        self._writer = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._db_path = db_path

    @classmethod
    def open(cls, db_path: Path | None = None, *, check_integrity: bool = True) -> Self:
        """Open (creating if needed) the database and migrate it to the newest schema.

        Args:
            db_path: the SQLite file; ``None`` uses :func:`forensic_gui.cases.db.default_db_path`.
            check_integrity: run SQLite's quick check (reads the whole file) before anything
                else. Leave it on for the first open by the app; a store opened again on the
                same file while the app runs (a worker's) can skip it.

        Raises:
            CaseDbLocationError: the folder is read-only or cannot be created.
            CaseDbCorruptError: the file is damaged (only with ``check_integrity``).
            CaseDbError: the file is not a case database or is from a newer app version.
        """
        path = Path(db_path) if db_path is not None else db.default_db_path()
        path = path.expanduser().absolute()
        engine = db.create_db_engine(path)
        try:
            db.upgrade_to_head(engine, path, check_integrity=check_integrity)
        except BaseException:
            engine.dispose()
            raise
        logger.info("Opened case database %s", path)
        return cls(engine, path)

    @property
    def db_path(self) -> Path:
        """The database file."""
        return self._db_path

    def close(self) -> None:
        """Close every pooled connection (committed data is already on disk)."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self._engine) as session, session.begin():
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        try:
            with Session(self._writer, expire_on_commit=False) as session, session.begin():
                yield session
        except DBAPIError as exc:
            raise CaseDbError(
                f"The case database {self._db_path} could not be written: {exc.orig}"
            ) from exc
