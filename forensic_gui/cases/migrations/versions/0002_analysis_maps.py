"""Explanation maps stored with each analysis (``forensic_gui.cases.maps_blob``).

Two nullable columns on ``analyses``: the compressed maps blob and its SHA-256 (also logged in
the analysis's audit entry). Analyses stored before this revision keep ``NULL``: they simply
have no stored maps, and the app says so when one is shown.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None


def upgrade() -> None:
    """Add the two columns (SQLite adds nullable columns in place, without a table copy)."""
    op.add_column("analyses", sa.Column("maps_npz", sa.LargeBinary(), nullable=True))
    op.add_column("analyses", sa.Column("maps_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    """Drop the stored maps."""
    with op.batch_alter_table("analyses") as batch:
        batch.drop_column("maps_sha256")
        batch.drop_column("maps_npz")
