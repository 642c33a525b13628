"""Media provenance stored with each analysis (``forensic_gui.cases.provenance_record``).

Two nullable columns on ``analyses``: what the file says about its origin (metadata, C2PA
Content Credentials, inconsistencies) as JSON, and its SHA-256 (also logged in the analysis's
audit entry). Analyses stored before this revision keep ``NULL``: they were made before the
metadata was read, and the app says so when one is shown.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None


def upgrade() -> None:
    """Add the two columns (SQLite adds nullable columns in place, without a table copy)."""
    op.add_column("analyses", sa.Column("file_provenance_json", sa.Text(), nullable=True))
    op.add_column("analyses", sa.Column("file_provenance_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    """Drop the stored provenance."""
    with op.batch_alter_table("analyses") as batch:
        batch.drop_column("file_provenance_sha256")
        batch.drop_column("file_provenance_json")
