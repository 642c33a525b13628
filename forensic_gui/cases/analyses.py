"""Storing engine results and reading them back: the analysis half of the case store.

``record_analysis`` writes the analysis, every score, finding and key frame and its audit entry
in one transaction. The reads return frozen records; the full ``MediaResult`` is rebuilt from the
stored JSON with ``engine.api.result_from_dict``, except in ``latest_analysis_summaries``, which
lists a whole case from the analysis and finding rows without parsing any stored result.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, case, func, select
from sqlalchemy.orm import Session, aliased

from engine.api import printable_tree, result_from_dict, result_to_dict
from engine.errors import EvidenceHashMismatchError
from engine.types import Grade, MediaResult
from forensic_gui.cases import analysis_rows as rows
from forensic_gui.cases import audit
from forensic_gui.cases import store_ops as ev
from forensic_gui.cases.errors import CaseStoreError, InvalidFieldError, RecordNotFoundError
from forensic_gui.cases.maps_blob import MapsBlobError, with_maps
from forensic_gui.cases.models import Analysis, DetectorScoreRow, Evidence, FindingRow, KeyFrame
from forensic_gui.cases.provenance_record import ProvenanceRecordError, with_file_provenance
from forensic_gui.cases.records import (
    AnalysisRecord,
    AnalysisSummary,
    EvidenceRecord,
    FindingRecord,
    KeyFrameImage,
    KeyFrameRecord,
    ScoreRecord,
    ScoreScope,
)
from forensic_gui.cases.store_base import StoreBase

__all__ = ["AnalysisStore"]

logger = logging.getLogger(__name__)


def _newest_first(analysis: Any) -> tuple[Any, ...]:
    """Which analysis of an item is its latest: the newest, the higher id breaking a tie."""
    return (analysis.created_at_utc.desc(), analysis.id.desc())


class AnalysisStore(StoreBase):
    """Analyses of evidence items; :class:`forensic_gui.cases.CaseStore` adds the rest."""

    def get_evidence(self, evidence_id: int) -> EvidenceRecord:
        """One evidence item. Raises :class:`RecordNotFoundError` for an unknown id."""
        with self._read() as session:
            return ev.to_evidence_record(ev.get_evidence_row(session, evidence_id))

    def record_analysis(
        self,
        evidence_id: int,
        result: MediaResult,
        *,
        actor: str,
        key_frames: Sequence[KeyFrameImage] = (),
    ) -> AnalysisRecord:
        """Store an analysis with its scores, findings and key frames in ONE transaction.

        Raises:
            EvidenceHashMismatchError: the result is for other bytes than the acquired file
                (logged as ``analysis.refused``; nothing else is stored).
            InvalidFieldError: a key frame is not PNG/JPEG, or the result has no SHA-256.
        """
        actor = ev.require_text("actor", actor)
        item = self.get_evidence(evidence_id)
        self._refuse_foreign_result(item, result, actor)
        frame_rows = [rows.key_frame_row(image) for image in key_frames]
        # NOTE: as text: a file name's bytes that are not UTF-8 become \xNN (SQLite stores text)
        result_dict = printable_tree(result_to_dict(result))
        with self._write() as session:
            analysis = rows.analysis_row(evidence_id, result, result_dict, actor=actor)
            session.add(analysis)
            session.flush()
            children: list[DetectorScoreRow | FindingRow | KeyFrame] = [
                *rows.score_rows(result),
                *rows.finding_rows(result),
                *frame_rows,
            ]
            for child in children:
                child.analysis_id = analysis.id
            session.add_all(children)
            session.flush()
            audit.append_event(
                session,
                actor=actor,
                action="analysis.recorded",
                object_type="analysis",
                object_id=analysis.id,
                case_id=item.case_id,
                payload=ev.analysis_payload(analysis, result, frame_rows),
            )
            return rows.to_analysis_record(analysis, result)

    def _refuse_foreign_result(self, item: EvidenceRecord, result: MediaResult, actor: str) -> None:
        if result.sha256 is None and result.status != "error":
            raise InvalidFieldError(
                f"The analysis result for {item.file_name} carries no SHA-256, so it cannot be "
                "tied to the acquired evidence file."
            )
        if result.sha256 is None or result.sha256 == item.sha256:
            return
        with self._write() as session:
            audit.append_event(
                session,
                actor=actor,
                action="analysis.refused",
                object_type="evidence",
                object_id=item.id,
                case_id=item.case_id,
                payload={"expected_sha256": item.sha256, "result_sha256": result.sha256},
            )
        logger.error(
            "Refused analysis of %s: hash %s differs from acquisition hash %s",
            item.original_path,
            result.sha256,
            item.sha256,
        )
        raise EvidenceHashMismatchError(item.original_path, item.sha256, result.sha256)

    def latest_analysis(self, evidence_id: int) -> AnalysisRecord | None:
        """The newest analysis of an evidence item, with its ``MediaResult`` rebuilt."""
        with self._read() as session:
            ev.get_evidence_row(session, evidence_id)
            analysis = session.scalars(
                select(Analysis)
                .where(Analysis.evidence_id == evidence_id)
                .order_by(*_newest_first(Analysis))
                .limit(1)
            ).first()
            if analysis is None:
                return None
            return rows.to_analysis_record(analysis, _rebuild(analysis))

    def latest_analysis_summaries(self, case_id: int) -> dict[int, AnalysisSummary]:
        """The newest analysis of every analysed item of a case, summed up, by evidence id.

        The same analysis :meth:`latest_analysis` returns, but read in one query from the
        analysis and media-finding rows, with no stored result parsed: cheap enough to fill a
        list of a large case. Items never analysed are absent.

        Raises:
            CaseNotFoundError: unknown case.
        """
        with self._read() as session:
            ev.get_case(session, case_id)
            found = session.execute(_latest_summaries_query(case_id))
            return {row.evidence_id: _to_summary(row) for row in found}

    def get_analysis(self, analysis_id: int) -> AnalysisRecord:
        """One analysis by id, with its ``MediaResult`` rebuilt."""
        with self._read() as session:
            analysis = _get_analysis(session, analysis_id)
            return rows.to_analysis_record(analysis, _rebuild(analysis))

    def scores(
        self,
        analysis_id: int,
        *,
        scopes: Sequence[ScoreScope] = ("media", "track", "frame", "face"),
    ) -> tuple[ScoreRecord, ...]:
        """Detector scores of an analysis at the given scopes, ordered by frame, track, name."""
        with self._read() as session:
            _get_analysis(session, analysis_id)
            found = session.scalars(
                select(DetectorScoreRow)
                .where(DetectorScoreRow.analysis_id == analysis_id)
                .where(DetectorScoreRow.scope.in_(list(scopes)))
                .order_by(
                    DetectorScoreRow.frame_idx.nulls_first(),
                    DetectorScoreRow.track_id.nulls_first(),
                    DetectorScoreRow.detector,
                )
            )
            return tuple(rows.to_score_record(row) for row in found)

    def frame_scores(self, analysis_id: int) -> tuple[ScoreRecord, ...]:
        """Per-frame (``track_id`` None: max over faces) and per-face scores, for timelines."""
        return self.scores(analysis_id, scopes=("frame", "face"))

    def findings(self, analysis_id: int) -> tuple[FindingRecord, ...]:
        """Fused findings of an analysis: media first, then tracks, then frames in order."""
        with self._read() as session:
            _get_analysis(session, analysis_id)
            found = session.scalars(
                select(FindingRow)
                .where(FindingRow.analysis_id == analysis_id)
                .order_by(FindingRow.frame_idx.nulls_first(), FindingRow.track_id.nulls_first())
            )
            return tuple(rows.to_finding_record(row) for row in found)

    def key_frames(self, analysis_id: int) -> tuple[KeyFrameRecord, ...]:
        """Stored key frames of an analysis, by frame index."""
        with self._read() as session:
            _get_analysis(session, analysis_id)
            found = session.scalars(
                select(KeyFrame)
                .where(KeyFrame.analysis_id == analysis_id)
                .order_by(KeyFrame.frame_idx, KeyFrame.id)
            )
            return tuple(rows.to_key_frame_record(row) for row in found)


def _get_analysis(session: Session, analysis_id: int) -> Analysis:
    analysis = session.get(Analysis, analysis_id)
    if analysis is None:
        raise RecordNotFoundError(f"No analysis with id {analysis_id} in this database.")
    return analysis


def _rebuild(analysis: Analysis) -> MediaResult:
    """The stored result with its stored maps and media provenance (none for analyses stored
    before revisions 0002 and 0003).

    Raises:
        CaseStoreError: the maps blob or the provenance record cannot be read (the audit
            verification says whether it was altered).
    """
    result = result_from_dict(ev.json_loads(analysis.result_json))
    try:
        result = with_maps(result, analysis.maps_npz)
        return with_file_provenance(result, analysis.file_provenance_json)
    except (MapsBlobError, ProvenanceRecordError) as exc:
        raise CaseStoreError(f"Analysis #{analysis.id}: {exc}") from exc


def _latest_summaries_query(case_id: int) -> Select[Any]:
    other = aliased(Analysis)
    latest_id = (
        select(other.id)
        .where(other.evidence_id == Evidence.id)
        .order_by(*_newest_first(other))
        .limit(1)
        .correlate(Evidence)
        .scalar_subquery()
    )
    # NOTE: only a failed analysis's message is read out of its JSON (SQLite's json_extract,
    # no Python parsing); a failed result is small, and the others are never touched.
    error = case(
        (Analysis.status == "error", func.json_extract(Analysis.result_json, "$.error")),
        else_=None,
    )
    return (
        select(
            Analysis.id,
            Analysis.evidence_id,
            Analysis.created_at_utc,
            Analysis.status,
            error.label("error"),
            FindingRow.grade,
            FindingRow.p_fake,
            FindingRow.kind,
        )
        .select_from(Evidence)
        .join(Analysis, Analysis.id == latest_id)
        .outerjoin(
            FindingRow, (FindingRow.analysis_id == Analysis.id) & (FindingRow.scope == "media")
        )
        .where(Evidence.case_id == case_id)
    )


def _to_summary(row: Row[Any]) -> AnalysisSummary:
    return AnalysisSummary(
        analysis_id=row.id,
        created_at_utc=row.created_at_utc,
        grade=None if row.grade is None else Grade[row.grade],
        p_fake=row.p_fake,
        status=row.status,
        error=row.error,
        kind=row.kind,
    )
