"""Flattening an engine ``MediaResult`` into queryable rows, and rows back into records.

The full result is stored as JSON (``engine.api.result_to_dict``) so it can be rebuilt exactly;
the score, finding and key-frame rows are a flattened copy for timelines, reports and queries.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from engine.api import printable_tree
from engine.types import DetectorScore, Finding, Grade, MediaResult
from forensic_gui.cases.errors import InvalidFieldError
from forensic_gui.cases.maps_blob import maps_sha256, pack_maps
from forensic_gui.cases.models import Analysis, DetectorScoreRow, FindingRow, KeyFrame
from forensic_gui.cases.provenance_record import provenance_sha256, split_file_provenance
from forensic_gui.cases.records import (
    AnalysisRecord,
    FindingRecord,
    KeyFrameImage,
    KeyFrameRecord,
    ScoreRecord,
    ScoreScope,
)

__all__ = [
    "analysis_row",
    "finding_rows",
    "key_frame_row",
    "score_rows",
    "to_analysis_record",
    "to_finding_record",
    "to_key_frame_record",
    "to_score_record",
]

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"


def _detector_names(result: MediaResult) -> tuple[str, ...]:
    if result.provenance is not None and result.provenance.detectors:
        return tuple(d.name for d in result.provenance.detectors)
    return tuple(dict.fromkeys(score.detector for score in result.scores))


def analysis_row(
    evidence_id: int, result: MediaResult, result_dict: Mapping[str, Any], *, actor: str
) -> Analysis:
    """The ``analyses`` row for ``result``; ``result_dict`` is ``result_to_dict(result)``.

    The result's explanation maps, which its JSON leaves out, go into ``maps_npz``; its media
    provenance goes into ``file_provenance_json`` instead of the result JSON.
    """
    maps_npz = pack_maps(result)
    result_dict, provenance_json = split_file_provenance(result_dict)
    prov = result.provenance
    timings = [[stage, seconds] for stage, seconds in prov.timings_s] if prov else []
    result_json = json.dumps(result_dict, sort_keys=True, ensure_ascii=False)
    return Analysis(
        evidence_id=evidence_id,
        analysed_by=actor,
        status=result.status,
        sha256=result.sha256,
        detectors_json=json.dumps(list(_detector_names(result))),
        runtime=prov.runtime if prov else "",
        device=prov.device if prov else "",
        engine_version=prov.engine_version if prov else "",
        elapsed_s=float(sum(seconds for _, seconds in prov.timings_s)) if prov else 0.0,
        provenance_json=(
            json.dumps(printable_tree(dataclasses.asdict(prov)), sort_keys=True,
                       ensure_ascii=False)
            if prov
            else None
        ),
        timings_json=json.dumps(timings),
        result_json=result_json,
        result_sha256=hashlib.sha256(result_json.encode("utf-8")).hexdigest(),
        maps_npz=maps_npz,
        maps_sha256=maps_sha256(maps_npz),
        file_provenance_json=provenance_json,
        file_provenance_sha256=provenance_sha256(provenance_json),
    )


def _score_row(
    scope: ScoreScope,
    score: DetectorScore,
    *,
    frame_idx: int | None = None,
    t_sec: float | None = None,
    track_id: int | None = None,
) -> DetectorScoreRow:
    return DetectorScoreRow(
        scope=scope,
        frame_idx=frame_idx,
        t_sec=t_sec,
        track_id=track_id,
        detector=score.detector,
        p_fake=score.p_fake,
        p_fake_raw=score.p_fake_raw,
        reason=score.reason,
    )


def score_rows(result: MediaResult) -> Iterator[DetectorScoreRow]:
    """One row per detector score at every scope; ``analysis_id`` is left for the caller."""
    for score in result.scores:
        yield _score_row("media", score)
    for track in result.tracks:
        for score in track.scores:
            yield _score_row("track", score, track_id=track.track_id)
    for frame in result.frames:
        idx, t_sec = frame.frame_idx, frame.t_sec
        for score in frame.scores:
            yield _score_row("frame", score, frame_idx=idx, t_sec=t_sec)
        for face in frame.faces:
            for score in face.scores:
                yield _score_row("face", score, frame_idx=idx, t_sec=t_sec, track_id=face.track_id)


def _finding_row(
    scope: ScoreScope,
    finding: Finding,
    *,
    frame_idx: int | None = None,
    t_sec: float | None = None,
    track_id: int | None = None,
) -> FindingRow:
    return FindingRow(
        scope=scope,
        frame_idx=frame_idx,
        t_sec=t_sec,
        track_id=track_id,
        grade=finding.grade.name,
        p_fake=finding.p_fake,
        applicable_detectors_json=json.dumps(list(finding.applicable_detectors)),
        rule=finding.rule,
        kind=finding.kind,
    )


def finding_rows(result: MediaResult) -> Iterator[FindingRow]:
    """One row per fused finding (media, each track, each frame)."""
    if result.finding is not None:
        yield _finding_row("media", result.finding)
    for track in result.tracks:
        yield _finding_row("track", track.finding, track_id=track.track_id)
    for frame in result.frames:
        yield _finding_row("frame", frame.finding, frame_idx=frame.frame_idx, t_sec=frame.t_sec)


def _image_mime(image_bytes: bytes, frame_idx: int) -> str:
    if image_bytes.startswith(_PNG_MAGIC):
        return "image/png"
    if image_bytes.startswith(_JPEG_MAGIC):
        return "image/jpeg"
    raise InvalidFieldError(
        f"Key frame {frame_idx} is neither a PNG nor a JPEG image; render it as PNG or JPEG."
    )


def key_frame_row(image: KeyFrameImage) -> KeyFrame:
    """The ``key_frames`` row for a rendered frame; refuses anything but PNG or JPEG bytes."""
    return KeyFrame(
        frame_idx=image.frame_idx,
        t_sec=image.t_sec,
        caption=image.caption,
        mime=_image_mime(image.image_bytes, image.frame_idx),
        image_bytes=image.image_bytes,
        image_sha256=hashlib.sha256(image.image_bytes).hexdigest(),
    )


def to_analysis_record(row: Analysis, result: MediaResult) -> AnalysisRecord:
    """The record for a stored analysis; ``result`` is the rebuilt ``MediaResult``."""
    return AnalysisRecord(
        id=row.id,
        evidence_id=row.evidence_id,
        created_at_utc=row.created_at_utc,
        analysed_by=row.analysed_by,
        status=row.status,
        sha256=row.sha256,
        detectors=tuple(json.loads(row.detectors_json)),
        runtime=row.runtime,
        device=row.device,
        engine_version=row.engine_version,
        elapsed_s=row.elapsed_s,
        result=result,
    )


def _scope(value: str) -> ScoreScope:
    scopes: Sequence[ScoreScope] = ("media", "track", "frame", "face")
    for scope in scopes:
        if value == scope:
            return scope
    raise InvalidFieldError(f"Unknown score scope {value!r} in the database.")


def to_score_record(row: DetectorScoreRow) -> ScoreRecord:
    """The record for a stored score row."""
    return ScoreRecord(
        analysis_id=row.analysis_id,
        scope=_scope(row.scope),
        frame_idx=row.frame_idx,
        t_sec=row.t_sec,
        track_id=row.track_id,
        detector=row.detector,
        p_fake=row.p_fake,
        p_fake_raw=row.p_fake_raw,
        reason=row.reason,
    )


def to_finding_record(row: FindingRow) -> FindingRecord:
    """The record for a stored finding row."""
    return FindingRecord(
        analysis_id=row.analysis_id,
        scope=_scope(row.scope),
        frame_idx=row.frame_idx,
        t_sec=row.t_sec,
        track_id=row.track_id,
        grade=Grade[row.grade],
        p_fake=row.p_fake,
        applicable_detectors=tuple(json.loads(row.applicable_detectors_json)),
        rule=row.rule,
        kind=row.kind,
    )


def to_key_frame_record(row: KeyFrame) -> KeyFrameRecord:
    """The record for a stored key frame."""
    return KeyFrameRecord(
        id=row.id,
        analysis_id=row.analysis_id,
        frame_idx=row.frame_idx,
        t_sec=row.t_sec,
        caption=row.caption,
        mime=row.mime,
        image_bytes=row.image_bytes,
    )
