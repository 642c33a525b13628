"""From per-face scores to per-frame, per-track and per-file scores: the named video rule.

The rule is SBI's (Shiohara & Yamasaki, CVPR 2022) and is recorded in every result's provenance
(:data:`AGGREGATION_RULE`), never implicit:

- **frame** = for each detector, the **max over the faces** in the frame (one manipulated face
  makes the frame suspect, however many real faces stand beside it);
- **video / file** = for each detector, the **mean over the frames** where it applied;
- **track** = for each detector, the **mean over the track's frames** (one face followed over
  time, for the timeline and for multi-person clips).

Each level is aggregated per detector first and only then fused across detectors (the
``fuse(scores, level)`` given, see ``engine.fusion.per_kind``), so every level's finding can be
recomputed from its stored per-detector scores. Not-applicable scores are left out of a max or a
mean; a level where a detector applied nowhere is not applicable for it, with the most frequent
reason below it ("no face" when there was nothing below it at all). The uncalibrated
``p_fake_raw`` follows the same rule (the raw score of the max face; the mean of the raw scores).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from engine.fusion.replay import FuseFn, level_of
from engine.types import DetectorScore, FaceScore, FrameResult, MediaKind, TrackResult

__all__ = [
    "AGGREGATION_RULE",
    "CLIP_TOO_SHORT",
    "FACE_TOO_SMALL",
    "NO_FACE",
    "build_frame_results",
    "build_track_results",
    "max_over",
    "mean_over",
    "media_scores",
]

NO_FACE = "no face"
FACE_TOO_SMALL = "face too small"
CLIP_TOO_SHORT = "clip too short"

AGGREGATION_RULE = (
    "frame = max over faces; video = mean over frames; track = mean over its frames "
    "(per detector, not-applicable left out), then fused across detectors"
)

_Reducer = Callable[[list[DetectorScore]], DetectorScore]


def max_over(
    items: Sequence[Sequence[DetectorScore]], detectors: Sequence[str]
) -> tuple[DetectorScore, ...]:
    """Per detector, the applicable score with the highest ``p_fake`` among ``items``."""
    return _reduce(items, detectors, _max_score)


def mean_over(
    items: Sequence[Sequence[DetectorScore]], detectors: Sequence[str]
) -> tuple[DetectorScore, ...]:
    """Per detector, the mean of the applicable scores among ``items``."""
    return _reduce(items, detectors, _mean_score)


def build_frame_results(
    frames: Sequence[tuple[int, float]],
    faces: Sequence[FaceScore],
    detectors: Sequence[str],
    *,
    fuse: FuseFn,
    media_kind: MediaKind,
    n_faces_found: Mapping[int, int] | None = None,
) -> tuple[FrameResult, ...]:
    """One :class:`FrameResult` per analysed ``(frame_idx, t_sec)``, faces grouped in.

    ``n_faces_found`` gives, per frame, how many faces were found (analysed or not).
    """
    by_frame: dict[int, list[FaceScore]] = {}
    for face in faces:
        by_frame.setdefault(face.frame_idx, []).append(face)
    level = level_of(media_kind, "frame")
    results = []
    for frame_idx, t_sec in frames:
        frame_faces = tuple(by_frame.get(frame_idx, ()))
        scores = max_over([f.scores for f in frame_faces], detectors)
        found = None if n_faces_found is None else n_faces_found.get(frame_idx, len(frame_faces))
        results.append(
            FrameResult(frame_idx, t_sec, frame_faces, scores, fuse(scores, level), found)
        )
    return tuple(results)


def build_track_results(
    faces: Sequence[FaceScore], detectors: Sequence[str], *, fuse: FuseFn, media_kind: MediaKind
) -> tuple[TrackResult, ...]:
    """One :class:`TrackResult` per face track, in track id order."""
    by_track: dict[int, list[FaceScore]] = {}
    for face in faces:
        by_track.setdefault(face.track_id, []).append(face)
    results = []
    for track_id in sorted(by_track):
        track_faces = by_track[track_id]
        scores = mean_over([f.scores for f in track_faces], detectors)
        frame_indices = tuple(sorted({f.frame_idx for f in track_faces}))
        finding = fuse(scores, level_of(media_kind, "track"))
        results.append(TrackResult(track_id, frame_indices, scores, finding))
    return tuple(results)


def media_scores(
    frames: Sequence[FrameResult], detectors: Sequence[str]
) -> tuple[DetectorScore, ...]:
    """The file's per-detector scores: the mean over frames of the frame scores."""
    return mean_over([f.scores for f in frames], detectors)


def _reduce(
    items: Sequence[Sequence[DetectorScore]], detectors: Sequence[str], reducer: _Reducer
) -> tuple[DetectorScore, ...]:
    out = []
    for name in detectors:
        mine = [s for scores in items for s in scores if s.detector == name]
        applicable = [s for s in mine if s.p_fake is not None]
        if applicable:
            out.append(reducer(applicable))
        else:
            out.append(DetectorScore(name, None, None, _most_common_reason(mine)))
    return tuple(out)


def _max_score(applicable: list[DetectorScore]) -> DetectorScore:
    best = max(applicable, key=lambda s: s.p_fake)  # type: ignore[arg-type,return-value]
    return DetectorScore(best.detector, best.p_fake, best.p_fake_raw)


def _mean_score(applicable: list[DetectorScore]) -> DetectorScore:
    n = len(applicable)
    p_fake = min(1.0, math.fsum(s.p_fake for s in applicable) / n)  # type: ignore[misc]
    raws = [s.p_fake_raw for s in applicable]
    p_fake_raw = None if any(r is None for r in raws) else math.fsum(raws) / n  # type: ignore[arg-type]
    return DetectorScore(applicable[0].detector, p_fake, p_fake_raw)


def _most_common_reason(scores: list[DetectorScore]) -> str:
    reasons = Counter(s.reason or NO_FACE for s in scores)
    if not reasons:
        return NO_FACE
    return reasons.most_common(1)[0][0]  # ties: first seen, as Counter keeps insertion order
