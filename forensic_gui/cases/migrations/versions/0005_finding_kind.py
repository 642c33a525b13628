"""The kind of manipulation a stored finding names (fusion v2: face swap, temporal, generated).

One nullable column on ``findings``: the ``EvidenceKind`` value of the kind with the strongest
support, so a case's evidence list can say "moderate support for a face swap or blend" without
parsing each stored result. Findings stored before this revision (fusion v1) keep ``NULL``: they
named no kind.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None


def upgrade() -> None:
    """Add the column (SQLite adds a nullable column in place, without a table copy)."""
    op.add_column("findings", sa.Column("kind", sa.String(16), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("kind")
