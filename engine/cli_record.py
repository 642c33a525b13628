"""The JSON line of one result, as ``forensic-analyze`` writes it (see ``engine.cli``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.types import DetectorScore, MediaResult

__all__ = ["result_record"]


def result_record(result: MediaResult) -> dict[str, Any]:
    """The JSON line of one result."""
    from engine.api_fusion import explain_grades
    from engine.serialize import finding_to_dict, provenance_to_dict

    kind = result.media.kind if result.media is not None else None
    record: dict[str, Any] = {
        "path": result.path,
        "sha256": result.sha256,
        "kind": kind,
        "status": result.status,
        "error": result.error,
        **_scores_fields(result.scores),
        "finding": finding_to_dict(result.finding),
        # NOTE: derived from the scores and the rule, for readers (engine.fusion.explain): each
        # kind's score, its grade bounds for this media type, and what held its grade.
        "grade_reasons": {k: why.to_dict() for k, why in explain_grades(result).items()},
        # NOTE: the whole-picture scores (with or without a face) of the detectors that score
        # whole pictures; also inside p_fake, where a frame's score is the max of its faces
        # and the picture.
        "picture_p_fake": {s.detector: s.p_fake for s in result.picture_scores},
        "cautions": [{"code": c.code, "message": c.message} for c in result.cautions],
    }
    if kind == "video":
        record["frames"] = [
            {
                "frame_idx": f.frame_idx,
                "t_sec": f.t_sec,
                "n_faces": len(f.faces),
                "n_faces_found": f.n_faces_found,
                **_scores_fields(f.scores),
                "picture_p_fake": {s.detector: s.p_fake for s in f.picture_scores},
                "finding": finding_to_dict(f.finding),
            }
            for f in result.frames
        ]
    record["tracks"] = [
        {
            "track_id": t.track_id,
            "frame_indices": list(t.frame_indices),
            **_scores_fields(t.scores),
            "finding": finding_to_dict(t.finding),
        }
        for t in result.tracks
    ]
    record["provenance"] = provenance_to_dict(result.provenance)
    record["file_provenance"] = (
        None if result.file_provenance is None else result.file_provenance.to_dict())
    return record


def _scores_fields(scores: Sequence[DetectorScore]) -> dict[str, Any]:
    return {
        "p_fake": {s.detector: s.p_fake for s in scores},
        "not_applicable": {s.detector: s.reason for s in scores if s.p_fake is None},
    }
