"""MediaResult <-> JSON-safe dict, for the case database, the CLI and reports.

The dict holds every number a result has except the explanation maps (they are large and can be
recomputed), so a stored result can be read back, re-checked with ``fuse_scores`` and shown
again without the engine re-running. Floats are written as Python floats, whose JSON text
round-trips exactly, so a re-computed finding equals the stored one bit for bit. Grades are
stored by enum name (``"MODERATE"``) with the verbal statement next to them for human readers.
``SCHEMA_VERSION`` is bumped whenever a key changes meaning; results of every earlier version
still load (version 1: fusion v1 findings, no cautions, no face counts, no stored rule). Keys
added without changing a meaning are read with a default (``picture_scores``: whole-picture
scores of the generated-image detector, empty in results stored before it).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np

from engine.types import (
    Caution,
    DetectorProvenance,
    DetectorScore,
    FaceScore,
    FileProvenance,
    Finding,
    FrameResult,
    Grade,
    KindFinding,
    MediaInfo,
    MediaResult,
    Provenance,
    TrackResult,
)

__all__ = [
    "SCHEMA_VERSION",
    "finding_to_dict",
    "provenance_to_dict",
    "result_from_dict",
    "result_to_dict",
]

SCHEMA_VERSION = 2
_READABLE_VERSIONS = (1, 2)


def result_to_dict(result: MediaResult) -> dict[str, Any]:
    """A JSON-safe dict of ``result`` (maps omitted); :func:`result_from_dict` reverses it."""
    return {
        "schema_version": SCHEMA_VERSION,
        "path": result.path,
        "status": result.status,
        "sha256": result.sha256,
        "error": result.error,
        "media": _media_to_dict(result.media),
        "scores": [_score_to_dict(s) for s in result.scores],
        "finding": finding_to_dict(result.finding),
        "frames": [_frame_to_dict(f) for f in result.frames],
        "tracks": [_track_to_dict(t) for t in result.tracks],
        "provenance": provenance_to_dict(result.provenance),
        "cautions": [{"code": c.code, "message": c.message} for c in result.cautions],
        "picture_scores": [_score_to_dict(s) for s in result.picture_scores],
        "file_provenance": (
            None if result.file_provenance is None else result.file_provenance.to_dict()
        ),
    }


def result_from_dict(data: dict[str, Any]) -> MediaResult:
    """Rebuild a :class:`MediaResult` from :func:`result_to_dict` output.

    Raises:
        ValueError: the dict is from an unknown schema version, misses a key or has unknown
            ones.
    """
    version = data.get("schema_version")
    if version not in _READABLE_VERSIONS:
        raise ValueError(
            f"unsupported result schema_version {version!r} (readable: {_READABLE_VERSIONS})"
        )
    try:
        return MediaResult(
            path=data["path"],
            status=data["status"],
            sha256=data["sha256"],
            media=None if data["media"] is None else MediaInfo(**data["media"]),
            frames=tuple(_frame_from_dict(f) for f in data["frames"]),
            tracks=tuple(_track_from_dict(t) for t in data["tracks"]),
            scores=tuple(_score_from_dict(s) for s in data["scores"]),
            finding=_finding_from_dict(data["finding"]),
            provenance=_provenance_from_dict(data["provenance"]),
            error=data["error"],
            cautions=tuple(Caution(c["code"], c["message"]) for c in data.get("cautions", ())),
            picture_scores=tuple(_score_from_dict(s) for s in data.get("picture_scores", ())),
            # NOTE: .get: results stored before file provenance existed have no such key.
            file_provenance=_file_provenance_from_dict(data.get("file_provenance")),
        )
    except KeyError as exc:
        raise ValueError(f"stored result misses the key {exc.args[0]!r}") from exc
    except TypeError as exc:  # an unknown or missing field in a nested record
        raise ValueError(f"stored result does not match this engine's types: {exc}") from exc


def _file_provenance_from_dict(data: dict[str, Any] | None) -> FileProvenance | None:
    return None if data is None else FileProvenance.from_dict(data)


def _media_to_dict(media: MediaInfo | None) -> dict[str, Any] | None:
    if media is None:
        return None
    # NOTE: every field, by name, so a field added to MediaInfo later is stored too.
    return {f.name: _plain(getattr(media, f.name)) for f in fields(media)}


def _score_to_dict(score: DetectorScore) -> dict[str, Any]:
    return {
        "detector": score.detector,
        "p_fake": _opt_float(score.p_fake),
        "p_fake_raw": _opt_float(score.p_fake_raw),
        "reason": score.reason,
    }


def _score_from_dict(data: dict[str, Any]) -> DetectorScore:
    return DetectorScore(data["detector"], data["p_fake"], data["p_fake_raw"], data["reason"])


def finding_to_dict(finding: Finding | None) -> dict[str, Any] | None:
    """A finding as stored: grade by enum name, its statement, p_fake, detectors, rule, and
    (fusion v2) the kind with the strongest support and every kind's own finding."""
    if finding is None:
        return None
    return {
        "grade": finding.grade.name,
        "statement": finding.statement,
        "p_fake": _opt_float(finding.p_fake),
        "applicable_detectors": list(finding.applicable_detectors),
        "rule": finding.rule,
        "kind": finding.kind,
        "kinds": [
            {
                "kind": k.kind,
                "grade": k.grade.name,
                "statement": k.statement,
                "p_fake": _opt_float(k.p_fake),
                "applicable_detectors": list(k.applicable_detectors),
            }
            for k in finding.kinds
        ],
    }


def _finding_from_dict(data: dict[str, Any] | None) -> Finding | None:
    if data is None:
        return None
    return Finding(
        grade=Grade[data["grade"]],
        p_fake=data["p_fake"],
        applicable_detectors=tuple(data["applicable_detectors"]),
        rule=data["rule"],
        kind=data.get("kind"),
        kinds=tuple(
            KindFinding(
                k["kind"], Grade[k["grade"]], k["p_fake"], tuple(k["applicable_detectors"])
            )
            for k in data.get("kinds", ())
        ),
    )


def _required_finding(data: dict[str, Any], what: str) -> Finding:
    """The finding of a frame or track dict, which always has one."""
    finding = _finding_from_dict(data["finding"])
    if finding is None:
        raise ValueError(f"{what} has no finding")
    return finding


def _face_to_dict(face: FaceScore) -> dict[str, Any]:
    return {
        "frame_idx": int(face.frame_idx),
        "track_id": int(face.track_id),
        "bbox_xyxy": [float(v) for v in face.bbox_xyxy],
        "scores": [_score_to_dict(s) for s in face.scores],
        "crop_to_frame": np.asarray(face.crop_to_frame, dtype=np.float64).tolist(),
        "crop_size": int(face.crop_size),
    }


def _face_from_dict(data: dict[str, Any]) -> FaceScore:
    x0, y0, x1, y1 = data["bbox_xyxy"]
    return FaceScore(
        frame_idx=data["frame_idx"],
        track_id=data["track_id"],
        bbox_xyxy=(x0, y0, x1, y1),
        scores=tuple(_score_from_dict(s) for s in data["scores"]),
        crop_to_frame=np.asarray(data["crop_to_frame"], dtype=np.float64).reshape(2, 3),
        crop_size=data["crop_size"],
    )


def _frame_to_dict(frame: FrameResult) -> dict[str, Any]:
    return {
        "frame_idx": int(frame.frame_idx),
        "t_sec": float(frame.t_sec),
        "faces": [_face_to_dict(f) for f in frame.faces],
        "scores": [_score_to_dict(s) for s in frame.scores],
        "finding": finding_to_dict(frame.finding),
        "n_faces_found": frame.n_faces_found,
        "picture_scores": [_score_to_dict(s) for s in frame.picture_scores],
    }


def _frame_from_dict(data: dict[str, Any]) -> FrameResult:
    finding = _required_finding(data, f"frame {data['frame_idx']}")
    return FrameResult(
        frame_idx=data["frame_idx"],
        t_sec=data["t_sec"],
        faces=tuple(_face_from_dict(f) for f in data["faces"]),
        scores=tuple(_score_from_dict(s) for s in data["scores"]),
        finding=finding,
        n_faces_found=data.get("n_faces_found"),
        picture_scores=tuple(_score_from_dict(s) for s in data.get("picture_scores", ())),
    )


def _track_to_dict(track: TrackResult) -> dict[str, Any]:
    return {
        "track_id": int(track.track_id),
        "frame_indices": [int(i) for i in track.frame_indices],
        "scores": [_score_to_dict(s) for s in track.scores],
        "finding": finding_to_dict(track.finding),
    }


def _track_from_dict(data: dict[str, Any]) -> TrackResult:
    finding = _required_finding(data, f"track {data['track_id']}")
    return TrackResult(
        track_id=data["track_id"],
        frame_indices=tuple(data["frame_indices"]),
        scores=tuple(_score_from_dict(s) for s in data["scores"]),
        finding=finding,
    )


def provenance_to_dict(prov: Provenance | None) -> dict[str, Any] | None:
    """Provenance as stored (JSON-safe)."""
    if prov is None:
        return None
    return {
        "engine_version": prov.engine_version,
        "detectors": [
            {
                "name": d.name,
                "version": d.version,
                "weights_sha256": d.weights_sha256,
                "threshold": float(d.threshold),
                "calibration": d.calibration,
                "looks_for": d.looks_for,
            }
            for d in prov.detectors
        ],
        "runtime": prov.runtime,
        "device": prov.device,
        "sampling": prov.sampling,
        "aggregation_rule": prov.aggregation_rule,
        "sampled_frame_indices": [int(i) for i in prov.sampled_frame_indices],
        "timings_s": [[stage, float(sec)] for stage, sec in prov.timings_s],
        "fusion": prov.fusion,
        "decoding": prov.decoding,
    }


def _provenance_from_dict(data: dict[str, Any] | None) -> Provenance | None:
    if data is None:
        return None
    return Provenance(
        engine_version=data["engine_version"],
        detectors=tuple(DetectorProvenance(**d) for d in data["detectors"]),
        runtime=data["runtime"],
        device=data["device"],
        sampling=data["sampling"],
        aggregation_rule=data["aggregation_rule"],
        sampled_frame_indices=tuple(data["sampled_frame_indices"]),
        timings_s=tuple((stage, sec) for stage, sec in data["timings_s"]),
        fusion=data.get("fusion"),
        decoding=data.get("decoding"),
    )


def _opt_float(value: float | None) -> float | None:
    return None if value is None else float(value)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar JSON knows; anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value
