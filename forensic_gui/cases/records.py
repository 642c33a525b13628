"""Frozen records the case store hands out, never ORM objects.

Callers (the GUI thread, the PDF report, the CLI) get plain immutable values, so nothing can lazy
load from a closed Session or write to the database behind the store's back. Every timestamp is
a timezone-aware UTC ``datetime``.
"""

from __future__ import annotations

import base64
import enum
import json
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from engine.api import ReferenceComparison
from engine.errors import EvidenceHashMismatchError
from engine.types import Grade, MediaResult

__all__ = [
    "AnalysisRecord",
    "AnalysisSummary",
    "AnalystVerdict",
    "AuditEntry",
    "CaseRecord",
    "CaseStatus",
    "ChainReport",
    "EvidenceCheck",
    "EvidenceRecord",
    "FindingRecord",
    "KeyFrameImage",
    "KeyFrameRecord",
    "ReferenceComparisonRecord",
    "ScoreRecord",
    "ScoreScope",
    "VerdictRecord",
]

ScoreScope = Literal["media", "track", "frame", "face"]
"""What a stored score or finding is about: the whole file, a face track, a frame (max over its
faces), or one face in one frame."""


class CaseStatus(enum.Enum):
    """Where a case stands."""

    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


class AnalystVerdict(enum.Enum):
    """The analyst's own conclusion, a fixed set so reports and searches stay comparable."""

    AUTHENTIC = "authentic"
    MANIPULATED = "manipulated"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class CaseRecord:
    """One case."""

    id: int
    number: str
    title: str
    analyst: str
    notes: str
    status: CaseStatus
    created_at_utc: datetime
    updated_at_utc: datetime


@dataclass(frozen=True)
class EvidenceRecord:
    """One evidence file as acquired into a case. The file itself is never modified or moved.

    Attributes:
        uuid: stable identifier of the item across exports (hex string).
        original_path: absolute path of the file when it was added, as printable text (bytes
            of the name that are not valid UTF-8 written ``\\xNN``): show this one.
        file_name: the file's name, printable the same way.
        original_path_b64: the path's exact bytes (base64) when they differ from the text.
        sha256: hex SHA-256 computed at acquisition; every later check compares against it.
        media_info_json: the engine's media description as JSON, or ``None`` if not probed.
        acquired_at_utc: when the item was added to the case.
        added_by: the analyst who added it.
    """

    id: int
    uuid: str
    case_id: int
    original_path: str
    file_name: str
    size_bytes: int
    sha256: str
    media_info_json: str | None
    acquired_at_utc: datetime
    added_by: str
    notes: str
    original_path_b64: str | None = None

    @property
    def open_path(self) -> str:
        """The path to open the file with: exact, whatever bytes its name holds."""
        if self.original_path_b64 is None:
            return self.original_path
        return os.fsdecode(base64.b64decode(self.original_path_b64))

    @property
    def media_info(self) -> dict[str, Any] | None:
        """The media description as a fresh dict (a copy: records stay immutable)."""
        return None if self.media_info_json is None else json.loads(self.media_info_json)


@dataclass(frozen=True)
class EvidenceCheck:
    """The outcome of re-hashing an evidence file.

    ``actual`` is ``None`` when the file could not be read; ``problem`` then says why.
    """

    evidence_id: int
    path: str
    ok: bool
    expected: str
    actual: str | None
    checked_at_utc: datetime
    problem: str | None = None

    def raise_for_mismatch(self) -> None:
        """Raise :class:`EvidenceHashMismatchError` unless the file still matches.

        A missing or unreadable file is reported as a mismatch whose actual hash says why, so
        one ``except`` blocks the analysis in both cases.
        """
        if not self.ok:
            raise EvidenceHashMismatchError(
                self.path, self.expected, self.actual or f"none ({self.problem})"
            )


@dataclass(frozen=True)
class KeyFrameImage:
    """A key frame the app rendered (frame with overlays) to store with an analysis.

    Attributes:
        frame_idx: index of the frame in the media.
        caption: what the image shows, printed under it in the report.
        image_bytes: a complete PNG or JPEG file.
        t_sec: time of the frame in the media, if known.
    """

    frame_idx: int
    caption: str
    image_bytes: bytes
    t_sec: float | None = None


@dataclass(frozen=True)
class KeyFrameRecord:
    """A stored key frame; ``mime`` is ``"image/png"`` or ``"image/jpeg"``."""

    id: int
    analysis_id: int
    frame_idx: int
    t_sec: float | None
    caption: str
    mime: str
    image_bytes: bytes


@dataclass(frozen=True)
class ScoreRecord:
    """One detector's calibrated score at one scope (see :data:`ScoreScope`).

    ``p_fake`` is ``None`` exactly when the detector did not apply; ``reason`` says why.
    ``frame_idx``/``t_sec`` are set for frame and face scope, ``track_id`` for track and face.
    """

    analysis_id: int
    scope: ScoreScope
    frame_idx: int | None
    t_sec: float | None
    track_id: int | None
    detector: str
    p_fake: float | None
    p_fake_raw: float | None
    reason: str | None


@dataclass(frozen=True)
class FindingRecord:
    """A fused machine finding at one scope, as the engine's fusion rule stated it."""

    analysis_id: int
    scope: ScoreScope
    frame_idx: int | None
    t_sec: float | None
    track_id: int | None
    grade: Grade
    p_fake: float | None
    applicable_detectors: tuple[str, ...]
    rule: str
    kind: str | None = None
    """The kind of manipulation the finding names (fusion v2), ``None`` before it."""


@dataclass(frozen=True)
class AnalysisRecord:
    """One stored analysis of one evidence item.

    Attributes:
        result: the full engine result, rebuilt from the stored JSON.
        detectors: the detectors that ran, in the order the engine reported them.
        runtime: ``"onnx"`` or ``"torch"`` (from the provenance; ``""`` if none was recorded).
        elapsed_s: total seconds over the provenance's stage timings.
        analysed_by: the analyst who ran it.
    """

    id: int
    evidence_id: int
    created_at_utc: datetime
    analysed_by: str
    status: str
    sha256: str | None
    detectors: tuple[str, ...]
    runtime: str
    device: str
    engine_version: str
    elapsed_s: float
    result: MediaResult


@dataclass(frozen=True)
class AnalysisSummary:
    """The few fields of an analysis a list needs, read without rebuilding its ``MediaResult``.

    Attributes:
        grade: the grade of the media-level finding; ``None`` when the analysis has none (no
            face was found, or the analysis failed).
        p_fake: the media-level finding's ``p_fake`` (``None`` when not applicable).
        kind: the kind of manipulation the media-level finding names (``None``: fusion v1).
        status: the engine's status, ``"ok"``, ``"no_face"`` or ``"error"``.
        error: the engine's message when ``status`` is ``"error"``, else ``None``.
    """

    analysis_id: int
    created_at_utc: datetime
    grade: Grade | None
    p_fake: float | None
    status: str
    error: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class ReferenceComparisonRecord:
    """A suspect video's analysis set against genuine footage of its source (write-once).

    Attributes:
        suspect_file_name, reference_file_name: the two evidence items' file names.
        comparison: what the engine made of the two stored analyses, with the genuine-vs-genuine
            null it was counted against, exactly as stored.
        created_by: the analyst who asked for it (and who vouches for the reference).
    """

    id: int
    case_id: int
    suspect_analysis_id: int
    reference_analysis_id: int
    suspect_evidence_id: int
    reference_evidence_id: int
    suspect_file_name: str
    reference_file_name: str
    created_at_utc: datetime
    created_by: str
    statement: str
    comparison: ReferenceComparison


@dataclass(frozen=True)
class VerdictRecord:
    """One verdict by an analyst. A later verdict supersedes it; neither is ever deleted."""

    id: int
    evidence_id: int
    analyst: str
    verdict: AnalystVerdict
    rationale: str
    created_at_utc: datetime
    supersedes_id: int | None
    is_current: bool


@dataclass(frozen=True)
class AuditEntry:
    """One append-only audit log entry.

    ``hash`` is SHA-256 over the canonical JSON of every other field (``prev_hash`` included),
    so editing or removing any entry breaks the chain (see :mod:`forensic_gui.cases.audit`).
    """

    seq: int
    ts_utc: str
    actor: str
    action: str
    object_type: str
    object_id: str
    case_id: int | None
    payload_json: str
    prev_hash: str
    hash: str

    @property
    def payload(self) -> dict[str, Any]:
        """The payload as a fresh dict."""
        payload: dict[str, Any] = json.loads(self.payload_json)
        return payload


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying the whole audit chain.

    Attributes:
        ok: every entry is intact, in order, and the chain head matches the last entry.
        n_entries: entries found in the log.
        problems: one human sentence per problem, naming the entry (empty when ``ok``).
        head_hash: the hash of the last entry; printing it in a report anchors the log outside
            the database, so a later rewrite of the whole chain is detectable against the paper.
    """

    ok: bool
    n_entries: int
    problems: tuple[str, ...]
    head_hash: str
