"""Every selected detector on every usable face: batched, timed, cancellable.

Frame detectors (``clip_len == 1``) score each face crop. Clip detectors (``clip_len = T > 1``)
score windows of T consecutive analysed frames of one face track: the track's faces are cut
into non-overlapping windows, and a last window aligned to the track's end covers the rest, so
every face of a track with at least T faces gets the mean of the windows that hold it. A track
shorter than T is "clip too short" for that detector; a face below the size limit is "face too
small" for every detector. Those are reasons, never numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.analysis.batching import AdaptiveBatcher
from engine.analysis.detectors import RunningDetector
from engine.analysis.progress import StageClock, StageReporter
from engine.fusion.aggregate import CLIP_TOO_SHORT, FACE_TOO_SMALL
from engine.jobs import CancelToken
from engine.types import DetectorScore, FaceCrop, FaceScore

__all__ = ["clip_windows", "detector_units", "score_faces"]


@dataclass
class _Scores:
    """One detector's summed outputs per face and how many inputs held it (0: not applicable)."""

    p_fake: np.ndarray
    p_fake_raw: np.ndarray
    n_hits: np.ndarray
    reasons: list[str | None]
    maps: dict[int, np.ndarray] = field(default_factory=dict)

    @classmethod
    def empty(cls, n_faces: int) -> _Scores:
        return cls(np.zeros(n_faces), np.zeros(n_faces), np.zeros(n_faces, int), [None] * n_faces)

    def add(self, face_i: int, p_fake: float, p_fake_raw: float) -> None:
        self.p_fake[face_i] += p_fake
        self.p_fake_raw[face_i] += p_fake_raw
        self.n_hits[face_i] += 1

    def score(self, name: str, face_i: int) -> DetectorScore:
        n = int(self.n_hits[face_i])
        if n == 0:
            return DetectorScore(name, None, None, self.reasons[face_i] or FACE_TOO_SMALL)
        p_fake = min(1.0, max(0.0, float(self.p_fake[face_i] / n)))
        return DetectorScore(name, p_fake, float(self.p_fake_raw[face_i] / n))


def score_faces(
    faces: Sequence[FaceCrop],
    usable: Sequence[bool],
    detectors: Sequence[RunningDetector],
    *,
    want_maps: bool,
    reporter: StageReporter,
    clock: StageClock,
    cancel: CancelToken | None,
) -> list[FaceScore]:
    """Score ``faces`` with every detector; ``usable[i]`` is False for faces too small."""
    by_name: dict[str, _Scores] = {}
    for unit in detector_units(detectors):
        with clock.time("detector:" + "+".join(d.name for d in unit)):
            if unit[0].clip_len == 1:
                by_name.update(_score_frames(unit, faces, usable, want_maps, reporter, cancel))
            else:
                by_name[unit[0].name] = _score_clips(
                    unit[0], faces, usable, want_maps, reporter, cancel)
    per_detector = [by_name[d.name] for d in detectors]
    out = []
    for i, face in enumerate(faces):
        maps = {
            d.name: s.maps[i] for d, s in zip(detectors, per_detector, strict=True) if i in s.maps
        }
        out.append(
            FaceScore(
                frame_idx=face.frame_idx,
                track_id=face.track_id,
                bbox_xyxy=face.bbox_xyxy,
                scores=tuple(
                    s.score(d.name, i) for d, s in zip(detectors, per_detector, strict=True)
                ),
                crop_to_frame=face.crop_to_frame,
                crop_size=int(face.crop_rgb_u8.shape[0]),
                maps=maps,
            )
        )
    return out


def clip_windows(n_items: int, clip_len: int) -> list[tuple[int, int]]:
    """``(start, stop)`` windows of ``clip_len`` covering ``range(n_items)``; [] if too short."""
    if n_items < clip_len:
        return []
    windows = [(s, s + clip_len) for s in range(0, n_items - clip_len + 1, clip_len)]
    if windows[-1][1] < n_items:
        windows.append((n_items - clip_len, n_items))
    return windows


def detector_units(detectors: Sequence[RunningDetector]) -> list[list[RunningDetector]]:
    """The detectors in run order, members of one shared graph together (one pass each)."""
    units: list[list[RunningDetector]] = []
    by_group: dict[int, list[RunningDetector]] = {}
    for det in detectors:
        if det.group is None:
            units.append([det])
        elif id(det.group) in by_group:
            by_group[id(det.group)].append(det)
        else:
            by_group[id(det.group)] = [det]
            units.append(by_group[id(det.group)])
    return units


def _score_frames(
    unit: Sequence[RunningDetector],
    faces: Sequence[FaceCrop],
    usable: Sequence[bool],
    want_maps: bool,
    reporter: StageReporter,
    cancel: CancelToken | None,
) -> dict[str, _Scores]:
    """Frame detectors of one unit (one detector, or the members of a shared graph)."""
    scores = {det.name: _Scores.empty(len(faces)) for det in unit}
    todo = [i for i, ok in enumerate(usable) if ok]
    reporter.start("detector " + " + ".join(d.name for d in unit), len(todo))
    for start, stop in AdaptiveBatcher().batches(len(todo), cancel):
        idx = todo[start:stop]
        batch = np.stack([faces[i].crop_rgb_u8 for i in idx])
        outputs = _predict_unit(unit, batch, want_maps)
        for det, (p_fake, p_raw, maps) in zip(unit, outputs, strict=True):
            det_scores = scores[det.name]
            for k, face_i in enumerate(idx):
                det_scores.add(face_i, p_fake[k], p_raw[k])
                if maps is not None:
                    det_scores.maps[face_i] = maps[k]
        reporter.update(stop)
    return scores


def _score_clips(
    det: RunningDetector,
    faces: Sequence[FaceCrop],
    usable: Sequence[bool],
    want_maps: bool,
    reporter: StageReporter,
    cancel: CancelToken | None,
) -> _Scores:
    scores = _Scores.empty(len(faces))
    windows = _track_windows(faces, usable, det.clip_len, scores)
    reporter.start(f"detector {det.name}", len(windows))
    for start, stop in AdaptiveBatcher().batches(len(windows), cancel):
        chunk = windows[start:stop]
        batch = np.stack([np.stack([faces[i].crop_rgb_u8 for i in w]) for w in chunk])
        p_fake, p_raw, maps = _predict(det, batch, want_maps)
        for k, window in enumerate(chunk):
            for t, face_i in enumerate(window):
                scores.add(face_i, p_fake[k], p_raw[k])
                if maps is not None and face_i not in scores.maps:
                    scores.maps[face_i] = maps[k, t] if maps.ndim == 4 else maps[k]
        reporter.update(stop)
    return scores


def _track_windows(
    faces: Sequence[FaceCrop], usable: Sequence[bool], clip_len: int, scores: _Scores
) -> list[list[int]]:
    """Face-index windows per track; marks faces of too-short tracks in ``scores.reasons``."""
    by_track: dict[int, list[int]] = {}
    for i, face in enumerate(faces):
        if usable[i]:
            by_track.setdefault(face.track_id, []).append(i)
    windows: list[list[int]] = []
    for track_id in sorted(by_track):
        members = sorted(by_track[track_id], key=lambda i: faces[i].frame_idx)
        spans = clip_windows(len(members), clip_len)
        if not spans:
            for i in members:
                scores.reasons[i] = CLIP_TOO_SHORT
        windows.extend(members[s:e] for s, e in spans)
    return windows


_Checked = tuple[np.ndarray, np.ndarray, np.ndarray | None]


def _predict_unit(
    unit: Sequence[RunningDetector], batch: np.ndarray, want_maps: bool
) -> list[_Checked]:
    """Each unit member's checked outputs; a shared graph runs once for all of them."""
    if len(unit) == 1 and unit[0].group is None:
        return [_predict(unit[0], batch, want_maps)]
    outputs = unit[0].group.predict_all(batch, want_maps=want_maps)
    return [_check(det, outputs[det.name], batch.shape[0], want_maps) for det in unit]


def _predict(det: RunningDetector, batch: np.ndarray, want_maps: bool) -> _Checked:
    return _check(det, det.loaded.predict(batch, want_maps=want_maps), batch.shape[0], want_maps)


def _check(det: RunningDetector, out: Any, n: int, want_maps: bool) -> _Checked:
    """Scores as (N,) float64 in [0, 1] and maps as (N, h, w) float32, or a clear error."""
    p_fake = np.asarray(out.p_fake, dtype=np.float64).reshape(-1)
    p_raw = np.asarray(out.p_fake_raw, dtype=np.float64).reshape(-1)
    if p_fake.shape != (n,) or p_raw.shape != (n,):
        raise ValueError(f"detector {det.name} returned {p_fake.shape} scores for {n} inputs")
    if not (np.all(np.isfinite(p_fake)) and np.all((p_fake >= 0) & (p_fake <= 1))):
        raise ValueError(f"detector {det.name} returned p_fake outside [0, 1]: {p_fake}")
    maps = None
    if want_maps and out.maps is not None:
        maps = np.asarray(out.maps, dtype=np.float32)
        if maps.shape[0] != n:
            raise ValueError(f"detector {det.name} returned {maps.shape[0]} maps for {n} inputs")
    return p_fake, p_raw, maps
