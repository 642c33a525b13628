"""Initial case schema: cases, evidence, analyses, scores, findings, key frames, verdicts, audit.

The triggers make the audit log and the analyst verdicts append-only for every writer, and keep
the audit chain head in step with the log (see ``forensic_gui.cases.audit``).

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None

_GENESIS_HASH = "0" * 64
_SCOPE_CHECK = "scope IN ('media', 'track', 'frame', 'face')"
_P_FAKE_CHECK = "p_fake IS NULL OR (p_fake >= 0.0 AND p_fake <= 1.0)"

_TRIGGERS = (
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be changed'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be deleted'); END""",
    # Refuse an entry that does not extend the chain head, whoever writes it.
    """CREATE TRIGGER audit_events_in_order BEFORE INSERT ON audit_events
    WHEN NEW.seq != (SELECT last_seq + 1 FROM audit_head WHERE id = 1)
      OR NEW.prev_hash != (SELECT last_hash FROM audit_head WHERE id = 1)
    BEGIN SELECT RAISE(ABORT, 'audit entry does not extend the chain head'); END""",
    """CREATE TRIGGER audit_events_advance_head AFTER INSERT ON audit_events
    BEGIN
      UPDATE audit_head SET n_entries = n_entries + 1, last_seq = NEW.seq, last_hash = NEW.hash
      WHERE id = 1;
    END""",
    """CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    BEGIN SELECT RAISE(ABORT, 'the audit chain head cannot be deleted'); END""",
    """CREATE TRIGGER audit_head_no_insert BEFORE INSERT ON audit_head
    WHEN (SELECT COUNT(*) FROM audit_head) > 0
    BEGIN SELECT RAISE(ABORT, 'the audit chain head already exists'); END""",
    """CREATE TRIGGER audit_head_matches_log BEFORE UPDATE ON audit_head
    WHEN NEW.n_entries != NEW.last_seq
      OR NEW.last_hash IS NOT (SELECT hash FROM audit_events WHERE seq = NEW.last_seq)
    BEGIN SELECT RAISE(ABORT, 'the audit chain head must point at the last entry'); END""",
    """CREATE TRIGGER analyst_verdicts_no_update BEFORE UPDATE ON analyst_verdicts
    BEGIN SELECT RAISE(ABORT, 'analyst verdicts are kept: record a new verdict instead'); END""",
    """CREATE TRIGGER analyst_verdicts_no_delete BEFORE DELETE ON analyst_verdicts
    BEGIN SELECT RAISE(ABORT, 'analyst verdicts are kept: record a new verdict instead'); END""",
)


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at_utc", sa.DateTime(), nullable=False),
        sa.Column("updated_at_utc", sa.DateTime(), nullable=False),
    ]


def _scope_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("frame_idx", sa.Integer(), nullable=True),
        sa.Column("t_sec", sa.Float(), nullable=True),
        sa.Column("track_id", sa.Integer(), nullable=True),
    ]


def _create_case_tables() -> None:
    op.create_table(
        "cases",
        *_stamps(),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("analyst", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.CheckConstraint("status IN ('open', 'closed', 'archived')", name="ck_cases_status"),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("number", name="uq_cases_number"),
    )
    op.create_table(
        "evidence",
        *_stamps(),
        sa.Column("uuid", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("original_path", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_info_json", sa.Text(), nullable=True),
        sa.Column("acquired_at_utc", sa.DateTime(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.CheckConstraint("length(sha256) = 64", name="ck_evidence_sha256_len"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_evidence_case_id_cases"),
        sa.PrimaryKeyConstraint("id", name="pk_evidence"),
        sa.UniqueConstraint("uuid", name="uq_evidence_uuid"),
    )
    op.create_index("ix_evidence_case_id", "evidence", ["case_id"])


def _create_analysis_tables() -> None:
    op.create_table(
        "analyses",
        *_stamps(),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("analysed_by", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("detectors_json", sa.Text(), nullable=False),
        sa.Column("runtime", sa.String(length=32), nullable=False),
        sa.Column("device", sa.String(length=200), nullable=False),
        sa.Column("engine_version", sa.String(length=64), nullable=False),
        sa.Column("elapsed_s", sa.Float(), nullable=False),
        sa.Column("provenance_json", sa.Text(), nullable=True),
        sa.Column("timings_json", sa.Text(), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("result_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["evidence_id"], ["evidence.id"], name="fk_analyses_evidence_id_evidence"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_analyses"),
    )
    op.create_index("ix_analyses_evidence_id", "analyses", ["evidence_id"])


def _create_score_tables() -> None:
    op.create_table(
        "detector_scores",
        *_scope_columns(),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("p_fake", sa.Float(), nullable=True),
        sa.Column("p_fake_raw", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint(_SCOPE_CHECK, name="ck_detector_scores_scope"),
        sa.CheckConstraint(_P_FAKE_CHECK, name="ck_detector_scores_p_fake_range"),
        sa.ForeignKeyConstraint(
            ["analysis_id"], ["analyses.id"], name="fk_detector_scores_analysis_id_analyses"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_detector_scores"),
    )
    op.create_index("ix_detector_scores_analysis_id", "detector_scores", ["analysis_id"])
    op.create_table(
        "findings",
        *_scope_columns(),
        sa.Column("grade", sa.String(length=32), nullable=False),
        sa.Column("p_fake", sa.Float(), nullable=True),
        sa.Column("applicable_detectors_json", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.CheckConstraint(_SCOPE_CHECK, name="ck_findings_scope"),
        sa.CheckConstraint(_P_FAKE_CHECK, name="ck_findings_p_fake_range"),
        sa.ForeignKeyConstraint(
            ["analysis_id"], ["analyses.id"], name="fk_findings_analysis_id_analyses"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_findings"),
    )
    op.create_index("ix_findings_analysis_id", "findings", ["analysis_id"])


def _create_key_frames_table() -> None:
    op.create_table(
        "key_frames",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("frame_idx", sa.Integer(), nullable=False),
        sa.Column("t_sec", sa.Float(), nullable=True),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("mime", sa.String(length=16), nullable=False),
        sa.Column("image_bytes", sa.LargeBinary(), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.CheckConstraint("mime IN ('image/png', 'image/jpeg')", name="ck_key_frames_mime"),
        sa.ForeignKeyConstraint(
            ["analysis_id"], ["analyses.id"], name="fk_key_frames_analysis_id_analyses"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_key_frames"),
    )
    op.create_index("ix_key_frames_analysis_id", "key_frames", ["analysis_id"])


def _create_verdicts_table() -> None:
    op.create_table(
        "analyst_verdicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("analyst", sa.String(length=200), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("created_at_utc", sa.DateTime(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "verdict IN ('authentic', 'manipulated', 'inconclusive')",
            name="ck_analyst_verdicts_verdict",
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"], ["evidence.id"], name="fk_analyst_verdicts_evidence_id_evidence"
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["analyst_verdicts.id"],
            name="fk_analyst_verdicts_supersedes_id_analyst_verdicts",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_analyst_verdicts"),
    )
    op.create_index("ix_analyst_verdicts_evidence_id", "analyst_verdicts", ["evidence_id"])


def _create_audit_tables() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ts_utc", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
        sa.UniqueConstraint("hash", name="uq_audit_events_hash"),
    )
    op.create_index("ix_audit_events_case_id", "audit_events", ["case_id"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n_entries", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_head_single_row"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.bulk_insert(head, [{"id": 1, "n_entries": 0, "last_seq": 0, "last_hash": _GENESIS_HASH}])


def upgrade() -> None:
    """Create every table, index and guard trigger, and the empty chain head."""
    _create_case_tables()
    _create_analysis_tables()
    _create_score_tables()
    _create_key_frames_table()
    _create_verdicts_table()
    _create_audit_tables()
    for ddl in _TRIGGERS:
        op.execute(ddl)


def downgrade() -> None:
    """Refused: dropping the initial schema would destroy evidence records and the audit log."""
    raise NotImplementedError(
        "The initial case schema is not downgraded: it would destroy evidence and the audit log."
    )
