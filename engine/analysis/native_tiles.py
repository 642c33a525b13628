"""Native-tile detectors in an analysis: every frame's whole picture and its face regions.

The generated-image detector (``gen_nprnet``, ``input_mode = "native_tiles"``) never sees the
resized policy crop: it scores the analysed frame at native resolution while the frame is in
memory (``engine.runtime.tiles``), so

- every still image and sampled video frame gets a whole-picture score, with or without a face
  (a generated scene has none);
- every face gets a score of the region its policy crop shows, at native resolution, scored
  when the face stage has found it in that frame (:meth:`NativeTileStage.tap`).

Results are merged into the usual result types: the face scores join each face's scores (so
tracks, timelines and fusion treat them like any detector's), and the frame score of a
native-tile detector is the **maximum of the whole picture and the frame's faces** (the frame
rule "max over faces" with the picture as one more region: a swapped-in generated face shows in
its region even when most of the picture is real). The whole-picture score and its per-tile
map are kept apart as well (``picture_scores`` / ``picture_maps``) for the report and the
frame view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from engine.analysis.detectors import RunningDetector
from engine.fusion.aggregate import max_over, mean_over
from engine.types import DetectorScore, FaceScore, FrameResult

__all__ = [
    "FrameTiles",
    "NativeTileStage",
    "RegionScore",
    "is_native_tiles",
    "region_map",
    "tile_rule",
]



def tile_rule(detector: RunningDetector) -> str:
    """The aggregation words of one native-tile detector, for provenance."""
    policy = detector.loaded.tile_policy
    if not policy.score_picture:
        return (f"{detector.name}: native-resolution {policy.tile_px} px tiles of each face "
                f"region only (at most {policy.max_tiles_face} in a still, "
                f"{policy.max_tiles_face_frame} in a video frame), never resized except a "
                f"region smaller than a tile; region = mean of its top {policy.top_fraction:.0%} "
                "tile logits; frame = max over faces")
    if not policy.score_faces:
        return (f"{detector.name}: native-resolution {policy.tile_px} px tiles of the whole "
                f"picture only (at most {policy.max_tiles_image} a still, "
                f"{policy.max_tiles_frame} a video frame; faces are not scored apart), never "
                f"resized except a picture smaller than a tile; picture = mean of its top "
                f"{policy.top_fraction:.0%} tile logits; frame = the whole picture")
    return (f"{detector.name}: native-resolution {policy.tile_px} px tiles of the whole picture "
            f"(at most {policy.max_tiles_image} a still, {policy.max_tiles_frame} a video frame) "
            f"and of each face region (at most {policy.max_tiles_face} in a still, "
            f"{policy.max_tiles_face_frame} in a video frame), never resized; picture "
            f"or region = mean of its top {policy.top_fraction:.0%} tile logits; frame = max "
            "over faces and the whole picture")

FACE_MAP_CELLS = 16
MAX_PICTURE_CELLS = 64
TOO_SMALL = "picture too small"
PICTURE_ONLY = "scores the whole picture only"
FACES_ONLY = "scores face regions only"


def is_native_tiles(detector: RunningDetector) -> bool:
    """Whether ``detector`` scores native tiles (not policy face crops)."""
    return getattr(detector.loaded.cfg, "input_mode", "face_crop") == "native_tiles"


@dataclass(frozen=True, eq=False)
class RegionScore:
    """One detector's score of one region, and its tile map (``None`` without maps)."""

    score: DetectorScore
    map: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class FrameTiles:
    """What the native-tile detectors found in one frame.

    Attributes:
        frame_idx: the frame.
        picture: per detector, the whole picture's score; its map is (gh, gw) float32 in
            [0, 1] over the frame (each cell the calibrated p_fake of the tiles covering it).
        faces: per face (keyed by its landmark box in frame pixels), per detector, the score
            of the face's region; the map is (16, 16) over the face's policy crop.
    """

    frame_idx: int
    picture: dict[str, RegionScore]
    faces: dict[tuple[float, float, float, float], dict[str, RegionScore]] = field(
        default_factory=dict)


def region_map(score: Any, box_xyxy: tuple[float, float, float, float], cells: int) -> np.ndarray:
    """(cells, cells) float32: the calibrated p_fake of the tiles covering each cell of the
    square ``box_xyxy`` (frame pixels); 0 where no tile was scored."""
    x0, y0, x1, y1 = box_xyxy
    cell_w, cell_h = (x1 - x0) / cells, (y1 - y0) / cells
    acc = np.zeros((cells, cells))
    count = np.zeros((cells, cells))
    for (tx0, ty0, tx1, ty1), p in zip(score.tiles_xyxy, score.tile_p_fake, strict=True):
        c0, c1 = max(0, math.floor((tx0 - x0) / cell_w)), min(cells, math.ceil((tx1 - x0) / cell_w))
        r0, r1 = max(0, math.floor((ty0 - y0) / cell_h)), min(cells, math.ceil((ty1 - y0) / cell_h))
        acc[r0:r1, c0:c1] += p
        count[r0:r1, c0:c1] += 1.0
    return (acc / np.maximum(count, 1.0)).astype(np.float32)


class NativeTileStage:
    """Scores the frames of one file with the native-tile detectors, frame by frame.

    Args:
        detectors: the native-tile detectors of the analysis (each with a ``tile_policy``).
        want_maps: keep the tile maps.
        media_kind: ``"image"`` (still-image tile budget) or ``"video"`` (per-frame budget).
    """

    def __init__(self, detectors: Sequence[RunningDetector], *, want_maps: bool,
                 media_kind: str) -> None:
        for det in detectors:
            if getattr(det.loaded, "tile_policy", None) is None:
                raise ValueError(f"{det.name} is a native-tile detector without a tile policy")
        self._detectors = tuple(detectors)
        self._want_maps = want_maps
        self._video = media_kind == "video"
        self.frames: dict[int, FrameTiles] = {}

    def _score(self, det: RunningDetector, rgb: np.ndarray, region: Any, budget: int,
               phase: int) -> Any:
        from engine.runtime.tiles import score_region

        return score_region(det.loaded, rgb, region, policy=det.loaded.tile_policy,
                            max_tiles=budget, phase=phase)

    def tap(self, rgb_u8: np.ndarray, frame_idx: int, faces: Sequence[Any]) -> None:
        """Score one frame (``faces``: its detections, with ``bbox_xyxy`` and landmarks)."""
        picture = {det.name: self._picture(det, rgb_u8, frame_idx) for det in self._detectors}
        by_face = {tuple(f.bbox_xyxy): {det.name: self._face(det, rgb_u8, f)
                                        for det in self._detectors} for f in faces}
        self.frames[frame_idx] = FrameTiles(frame_idx, picture, by_face)

    def _picture(self, det: RunningDetector, rgb: np.ndarray, frame_idx: int) -> RegionScore:
        from engine.runtime.tiles import tile_map

        policy = det.loaded.tile_policy
        if not policy.score_picture:
            return RegionScore(DetectorScore(det.name, None, None, FACES_ONLY))
        budget = policy.max_tiles_frame if self._video else policy.max_tiles_image
        score = self._score(det, rgb, None, budget, frame_idx)
        if score is None:
            return RegionScore(DetectorScore(det.name, None, None, TOO_SMALL))
        cell = max(16, math.ceil(max(rgb.shape[:2]) / MAX_PICTURE_CELLS))
        heat = tile_map(score, rgb.shape[:2], cell) if self._want_maps else None
        return RegionScore(DetectorScore(det.name, score.p_fake, score.p_fake_raw), heat)

    def _face(self, det: RunningDetector, rgb: np.ndarray, face: Any) -> RegionScore:
        from engine.faces.crop import CropPolicy, crop_square_xyxy
        from engine.runtime.tiles import face_region

        policy = det.loaded.tile_policy
        if not policy.score_faces:
            return RegionScore(DetectorScore(det.name, None, None, PICTURE_ONLY))
        square = crop_square_xyxy(np.asarray(face.landmarks_xy, dtype=np.float64),
                                  CropPolicy().margin)
        region = face_region(square, rgb.shape[:2], policy.tile_px)
        budget = policy.max_tiles_face_frame if self._video else policy.max_tiles_face
        score = self._score(det, rgb, region, budget, 0)
        if score is None:
            return RegionScore(DetectorScore(det.name, None, None, TOO_SMALL))
        heat = region_map(score, square, FACE_MAP_CELLS) if self._want_maps else None
        return RegionScore(DetectorScore(det.name, score.p_fake, score.p_fake_raw), heat)

    def merge_faces(self, faces: Sequence[FaceScore], order: Sequence[str]) -> list[FaceScore]:
        """``faces`` with the native-tile detectors' face scores (and maps) added, scores in
        the analysis's detector ``order``. A face missing from the taps is an error."""
        out = []
        for face in faces:
            found = self.frames[face.frame_idx].faces[tuple(face.bbox_xyxy)]
            scores = {s.detector: s for s in face.scores}
            maps = dict(face.maps)
            for name, region in found.items():
                scores[name] = region.score
                if region.map is not None:
                    maps[name] = region.map
            out.append(replace(face, scores=tuple(scores[n] for n in order), maps=maps))
        return out

    def picture_scores(self, frame_idx: int) -> tuple[DetectorScore, ...]:
        """The whole-picture scores of one frame, in detector order."""
        tiles = self.frames.get(frame_idx)
        return tuple(tiles.picture[d.name].score if tiles else
                     DetectorScore(d.name, None, None, "frame not scored")
                     for d in self._detectors)

    def picture_maps(self, frame_idx: int) -> dict[str, np.ndarray]:
        """The whole-picture tile maps of one frame (empty without maps)."""
        tiles = self.frames.get(frame_idx)
        if tiles is None:
            return {}
        return {n: r.map for n, r in tiles.picture.items() if r.map is not None}

    def with_pictures(self, frames: Sequence[FrameResult], order: Sequence[str], fuse: Any,
                      level: str) -> tuple[FrameResult, ...]:
        """``frames`` with each native-tile detector's frame score raised to the max of its
        faces and the whole picture, re-fused, and the picture scores and maps attached."""
        out = []
        for frame in frames:
            picture = self.picture_scores(frame.frame_idx)
            scores = max_over([frame.scores, picture], order)
            out.append(replace(frame, scores=scores, finding=fuse(scores, level),
                               picture_scores=picture,
                               picture_maps=self.picture_maps(frame.frame_idx)))
        return tuple(out)

    def media_picture_scores(self, frames: Sequence[FrameResult]) -> tuple[DetectorScore, ...]:
        """The file's whole-picture scores: the mean over its frames."""
        return mean_over([f.picture_scores for f in frames], [d.name for d in self._detectors])
