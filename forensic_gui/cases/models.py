"""SQLAlchemy 2 typed ORM models of the case database.

The schema itself is owned by the Alembic migrations in ``migrations/versions`` (one migration
per schema change); these classes must match them, which ``tests/cases`` checks with Alembic's
``compare_metadata``. The append-only guarantees (audit log, analyst verdicts) are SQLite
triggers created by the migrations, not Python code, so they hold for any writer.

Mutable entities (cases, evidence) carry ``id``, ``created_at_utc`` and ``updated_at_utc`` as in
Timesketch's base model. Write-once rows (scores, findings, key frames, verdicts) carry only what
they need: a 32-frame, 5-detector, 3-face analysis writes hundreds of score rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime, TypeDecorator

__all__ = [
    "Analysis",
    "AnalystVerdictRow",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Case",
    "DetectorScoreRow",
    "Evidence",
    "FindingRow",
    "KeyFrame",
    "ReferenceComparisonRow",
    "UtcDateTime",
    "utc_now",
]

GENESIS_HASH = "0" * 64

# NOTE: fixed constraint names, so later batch migrations on SQLite can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC; returns aware UTC. Naive input is refused."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base with the fixed naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class _Stamped:
    """``id`` plus creation/update times, for entities that can change."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at_utc: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    updated_at_utc: Mapped[datetime] = mapped_column(
        UtcDateTime(), default=utc_now, onupdate=utc_now
    )


class Case(_Stamped, Base):
    """A case: the unit an analyst works on and reports."""

    __tablename__ = "cases"
    __table_args__ = (CheckConstraint("status IN ('open', 'closed', 'archived')", name="status"),)

    number: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)
    analyst: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")


class Evidence(_Stamped, Base):
    """An evidence file acquired into a case (IRIS ``CaseReceivedFile``, minus mutable history)."""

    __tablename__ = "evidence"
    __table_args__ = (CheckConstraint("length(sha256) = 64", name="sha256_len"),)

    uuid: Mapped[str] = mapped_column(String(32), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    original_path: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(Text)
    # base64 of the path's exact bytes when they are not valid UTF-8 (migration 0003)
    original_path_b64: Mapped[str | None] = mapped_column(Text, nullable=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    media_info_json: Mapped[str | None] = mapped_column(Text)
    acquired_at_utc: Mapped[datetime] = mapped_column(UtcDateTime())
    added_by: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")


class Analysis(_Stamped, Base):
    """One engine run on one evidence item, with the full result as JSON."""

    __tablename__ = "analyses"

    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    analysed_by: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str | None] = mapped_column(String(64))
    detectors_json: Mapped[str] = mapped_column(Text)
    runtime: Mapped[str] = mapped_column(String(32))
    device: Mapped[str] = mapped_column(String(200))
    engine_version: Mapped[str] = mapped_column(String(64))
    elapsed_s: Mapped[float] = mapped_column(Float)
    provenance_json: Mapped[str | None] = mapped_column(Text)
    timings_json: Mapped[str] = mapped_column(Text)
    result_json: Mapped[str] = mapped_column(Text)
    result_sha256: Mapped[str] = mapped_column(String(64))
    # NOTE: revision 0002; NULL for analyses stored before it (they have no stored maps).
    maps_npz: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    maps_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # NOTE: revision 0003; NULL for analyses stored before it (made before metadata was read).
    file_provenance_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    file_provenance_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


_SCOPE_CHECK = "scope IN ('media', 'track', 'frame', 'face')"
_P_FAKE_CHECK = "p_fake IS NULL OR (p_fake >= 0.0 AND p_fake <= 1.0)"


class DetectorScoreRow(Base):
    """One detector's score at one scope (media, track, frame = max over faces, or face)."""

    __tablename__ = "detector_scores"
    __table_args__ = (
        CheckConstraint(_SCOPE_CHECK, name="scope"),
        CheckConstraint(_P_FAKE_CHECK, name="p_fake_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"), index=True)
    scope: Mapped[str] = mapped_column(String(8))
    frame_idx: Mapped[int | None] = mapped_column(Integer)
    t_sec: Mapped[float | None] = mapped_column(Float)
    track_id: Mapped[int | None] = mapped_column(Integer)
    detector: Mapped[str] = mapped_column(String(64))
    p_fake: Mapped[float | None] = mapped_column(Float)
    p_fake_raw: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)


class FindingRow(Base):
    """A fused finding at one scope; ``grade`` holds the :class:`engine.types.Grade` name."""

    __tablename__ = "findings"
    __table_args__ = (
        CheckConstraint(_SCOPE_CHECK, name="scope"),
        CheckConstraint(_P_FAKE_CHECK, name="p_fake_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"), index=True)
    scope: Mapped[str] = mapped_column(String(8))
    frame_idx: Mapped[int | None] = mapped_column(Integer)
    t_sec: Mapped[float | None] = mapped_column(Float)
    track_id: Mapped[int | None] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(32))
    p_fake: Mapped[float | None] = mapped_column(Float)
    applicable_detectors_json: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(Text)
    # NOTE: revision 0005; the EvidenceKind value the finding names, NULL for fusion v1.
    kind: Mapped[str | None] = mapped_column(String(16), nullable=True)


class KeyFrame(Base):
    """A frame with overlays, rendered by the app at analysis time so reports need no media."""

    __tablename__ = "key_frames"
    __table_args__ = (CheckConstraint("mime IN ('image/png', 'image/jpeg')", name="mime"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"), index=True)
    frame_idx: Mapped[int] = mapped_column(Integer)
    t_sec: Mapped[float | None] = mapped_column(Float)
    caption: Mapped[str] = mapped_column(Text)
    mime: Mapped[str] = mapped_column(String(16))
    image_bytes: Mapped[bytes] = mapped_column(LargeBinary)
    image_sha256: Mapped[str] = mapped_column(String(64))


class AnalystVerdictRow(Base):
    """The analyst's own verdict, kept apart from machine findings. Append-only (triggers)."""

    __tablename__ = "analyst_verdicts"
    __table_args__ = (
        CheckConstraint("verdict IN ('authentic', 'manipulated', 'inconclusive')", name="verdict"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    analyst: Mapped[str] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(String(16))
    rationale: Mapped[str] = mapped_column(Text)
    created_at_utc: Mapped[datetime] = mapped_column(UtcDateTime())
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("analyst_verdicts.id"))


class ReferenceComparisonRow(Base):
    """A suspect video's analysis set against a reference's (revision 0006). Write-once
    (triggers); ``comparison_json`` is ``ReferenceComparison.to_dict()``, null included."""

    __tablename__ = "reference_comparisons"
    __table_args__ = (
        CheckConstraint("suspect_analysis_id != reference_analysis_id", name="distinct"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    suspect_analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"), index=True)
    reference_analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"))
    created_at_utc: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    comparison_json: Mapped[str] = mapped_column(Text)
    comparison_sha256: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """One hash-chained, append-only audit entry (triggers refuse UPDATE and DELETE).

    ``seq`` is the position in the chain (1, 2, ...). ``ts_utc`` is stored as the exact ISO text
    that was hashed, so verification never depends on datetime round-trips.
    """

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts_utc: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    payload_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The single row that records the chain's length and last hash.

    A trigger advances it on every audit insert; deleting the newest entries leaves the head
    pointing past the end, which verification reports.
    """

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n_entries: Mapped[int] = mapped_column(Integer)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
