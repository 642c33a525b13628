"""Direct access to a closed case database, under the store: raw SQL and old schema revisions."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from forensic_gui.cases import db as case_db


def run_sql(path: Path, statement: str) -> None:
    """Execute one SQL statement on the database file (to damage or edit it as an attacker)."""
    engine = case_db.create_db_engine(path)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def database_at_revision(path: Path, revision: str) -> None:
    """Create a database at an old migration ``revision`` (what an earlier release wrote)."""
    engine = case_db.create_db_engine(path)
    try:
        with engine.begin() as connection:
            command.upgrade(case_db.alembic_config(connection), revision)
        assert case_db.current_revision(engine) == revision
    finally:
        engine.dispose()
