"""The exact bytes of an evidence file's path, when they are not valid UTF-8.

On Linux a file name is bytes; one that is not valid UTF-8 cannot be stored as SQLite text (it
made a whole folder import add nothing). ``original_path`` and ``file_name`` now hold the
printable form (each undecodable byte written ``\\xNN``) and this nullable column the exact bytes
(base64), used to open the file again. ``NULL`` for every other path, including all items added
before this revision.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None


def upgrade() -> None:
    """Add the column (SQLite adds a nullable column in place, without a table copy)."""
    op.add_column("evidence", sa.Column("original_path_b64", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the exact path bytes."""
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("original_path_b64")
