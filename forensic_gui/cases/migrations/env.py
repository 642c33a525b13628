"""Alembic environment for the case database.

The app never uses an ``alembic.ini``: :func:`forensic_gui.cases.db.alembic_config` builds the
config in code from the package path, so migrations run the same from a checkout, an installed
wheel or a PyInstaller bundle. The caller passes an open connection in
``config.attributes["connection"]``; the upgrade then runs inside the caller's transaction
(SQLite DDL is transactional), so a crash mid-migration leaves the old schema intact.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from forensic_gui.cases.models import Base


def _run(connection: Connection) -> None:
    # NOTE: batch mode, because SQLite cannot ALTER most constraints in place.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # Developer use only (``alembic revision --autogenerate`` with -x/sqlalchemy.url set).
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and no sqlalchemy.url set for the migration")
    with create_engine(url).connect() as fresh:
        _run(fresh)


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported for the case database")
_run_online()
