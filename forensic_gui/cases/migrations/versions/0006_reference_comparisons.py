"""Reference comparisons: a suspect video's analysis set against genuine footage of its source.

One write-once table. A row ties two stored analyses of one case (the suspect's and the
reference's) to the comparison the engine made of them (``engine.api.compare_to_reference``),
stored whole as JSON with its SHA-256 (the genuine-vs-genuine null it was counted against
included), so a report years later shows the comparison exactly as it was made, whatever null
ships then. Triggers keep the rows: a comparison, like an analyst verdict, is never changed or
deleted.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None

_TRIGGERS = (
    """CREATE TRIGGER reference_comparisons_no_update BEFORE UPDATE ON reference_comparisons
    BEGIN SELECT RAISE(ABORT, 'reference comparisons are kept: make a new one instead'); END""",
    """CREATE TRIGGER reference_comparisons_no_delete BEFORE DELETE ON reference_comparisons
    BEGIN SELECT RAISE(ABORT, 'reference comparisons are kept: make a new one instead'); END""",
)


def upgrade() -> None:
    """Create the table, its indexes and its triggers."""
    op.create_table(
        "reference_comparisons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("suspect_analysis_id", sa.Integer(), nullable=False),
        sa.Column("reference_analysis_id", sa.Integer(), nullable=False),
        sa.Column("created_at_utc", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("comparison_json", sa.Text(), nullable=False),
        sa.Column("comparison_sha256", sa.String(length=64), nullable=False),
        sa.CheckConstraint("suspect_analysis_id != reference_analysis_id",
                           name="ck_reference_comparisons_distinct"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name="fk_reference_comparisons_case_id_cases"),
        sa.ForeignKeyConstraint(["suspect_analysis_id"], ["analyses.id"],
                                name="fk_reference_comparisons_suspect_analysis_id_analyses"),
        sa.ForeignKeyConstraint(["reference_analysis_id"], ["analyses.id"],
                                name="fk_reference_comparisons_reference_analysis_id_analyses"),
        sa.PrimaryKeyConstraint("id", name="pk_reference_comparisons"),
    )
    op.create_index("ix_reference_comparisons_case_id", "reference_comparisons", ["case_id"])
    op.create_index("ix_reference_comparisons_suspect_analysis_id", "reference_comparisons",
                    ["suspect_analysis_id"])
    for statement in _TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    """Drop the table (its triggers and indexes go with it)."""
    op.drop_table("reference_comparisons")
