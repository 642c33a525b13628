"""Cautions: media outside what the detectors know is said in words, never turned into a number."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.analysis.cautions import CautionInputs, cautions_for
from engine.analysis.faces_stage import FoundFaces
from engine.types import FaceCrop, MediaInfo


def _crop(frame_idx: int, bbox: tuple[float, float, float, float], roll_deg: float = 0.0
          ) -> FaceCrop:
    lm = np.zeros((478, 2), np.float32)
    angle = np.radians(roll_deg)
    lm[33] = (100.0, 100.0)
    lm[263] = (100.0 + 50.0 * np.cos(angle), 100.0 + 50.0 * np.sin(angle))
    return FaceCrop(frame_idx, 0, bbox, lm, np.zeros((8, 8, 3), np.uint8), np.eye(2, 3))


def _info(kind: str = "image", w: int = 1280, h: int = 720, size: int = 2_000_000,
          fps: float | None = None, duration: float | None = None, fmt: str = "jpeg"
          ) -> MediaInfo:
    return MediaInfo("f", kind, fmt, size, w, h, 1 if kind == "image" else 100,  # type: ignore[arg-type]
                     fps=fps, duration_s=duration)


def _found(crops: list[FaceCrop], usable: list[bool] | None = None, *, found: int | None = None,
           beyond: int = 0, blind: int = 0, frames: int = 1) -> FoundFaces:
    usable = usable if usable is not None else [True] * len(crops)
    n_found = {i: (found if found is not None else len(crops)) for i in range(frames)}
    return FoundFaces(tuple((i, i / 25) for i in range(frames)), tuple(crops), tuple(usable),
                      n_found, beyond, blind, {i: (1280, 720) for i in range(frames)})


def _codes(info: MediaInfo, faces: FoundFaces, *, max_faces: int = 4, clip_len: int = 0
           ) -> list[str]:
    return [c.code for c in cautions_for(CautionInputs(info, faces, max_faces, clip_len))]


def test_a_plain_good_photo_has_no_caution() -> None:
    assert _codes(_info(), _found([_crop(0, (500, 200, 700, 450))])) == []


def test_faces_beyond_the_limit_or_without_landmarks_are_never_dropped_silently() -> None:
    cautions = cautions_for(CautionInputs(
        _info(), _found([_crop(0, (500, 200, 700, 450))], found=7, beyond=5, blind=1), 2, 0))
    (caution,) = cautions
    assert caution.code == "faces_not_analysed"
    assert "5 beyond the limit of 2 faces per frame" in caution.message
    assert "1 detected without usable landmarks" in caution.message


@pytest.mark.parametrize(
    ("crops", "usable", "code"),
    [
        ([_crop(0, (10, 10, 40, 40))], [False], "faces_too_small"),
        ([_crop(0, (100, 100, 160, 160))], [True], "small_faces"),
        ([_crop(0, (0, 200, 300, 500))], [True], "faces_cut_by_frame"),
        ([_crop(0, (500, 200, 700, 450), roll_deg=80)], [True], "rotated_faces"),
    ],
)
def test_face_cautions(crops: list[FaceCrop], usable: list[bool], code: str) -> None:
    assert code in _codes(_info(), _found(crops, usable))


def test_media_cautions() -> None:
    face = [_crop(0, (60, 60, 180, 180))]
    assert "low_resolution" in _codes(_info(w=200, h=200), _found(face))
    assert "heavy_compression" in _codes(_info(size=20_000), _found(face))
    assert "heavy_compression" not in _codes(_info(size=20_000, fmt="png"), _found(face))
    video = _info("video", size=200_000, fps=25.0, duration=8.0)  # 0.0087 bits/pixel/frame
    assert "heavy_compression" in _codes(video, _found(face))
    short = _info("video", size=5_000_000, fps=25.0, duration=1.2)
    assert "short_clip" in _codes(short, _found(face, frames=30))
    long_clip = _info("video", size=50_000_000, fps=25.0, duration=20.0)
    assert "short_clip" in _codes(long_clip, _found(face, frames=6), clip_len=8)
    assert "short_clip" not in _codes(long_clip, _found(face, frames=32), clip_len=8)


def test_a_lossy_video_read_by_generated_image_detectors_is_cautioned() -> None:
    """The generated-image detectors were validated on stills; compression hides their trace."""
    face = [_crop(0, (500, 200, 700, 450))]
    found = _found(face, frames=32)

    def codes(info: MediaInfo, kinds: frozenset[str]) -> list[str]:
        return [c.code for c in cautions_for(CautionInputs(info, found, 4, 0, kinds_run=kinds))]

    h264 = MediaInfo("f", "video", "mp4", 50_000_000, 1280, 720, 500, fps=25.0,
                     duration_s=20.0, codec="h264")
    both = frozenset({"face_swap", "generated"})
    assert codes(h264, both) == ["generated_in_video"]
    (caution,) = cautions_for(CautionInputs(h264, found, 4, 0, kinds_run=both))
    assert "(h264)" in caution.message
    assert "weak evidence" in caution.message
    assert codes(h264, frozenset({"face_swap"})) == []  # no generated-image detector ran
    lossless = MediaInfo("f", "video", "mkv", 50_000_000, 1280, 720, 500, fps=25.0,
                         duration_s=20.0, codec="ffv1")
    assert codes(lossless, both) == []
    assert codes(_info(), both) == []  # a still: what they were validated on


def test_a_file_with_no_face_scored_says_the_generated_grade_is_weak_evidence() -> None:
    """The generated-image detectors' error rates come from face pictures; genuine photographs
    without a face score near GAN faces with them (docs/MODELS_GEN.md)."""
    both = frozenset({"face_swap", "generated"})

    def codes(found: FoundFaces, kinds: frozenset[str] = both) -> list[str]:
        return [c.code for c in cautions_for(CautionInputs(_info(), found, 4, 0,
                                                           kinds_run=kinds))]

    assert codes(_found([])) == ["no_face_scored"]
    assert codes(_found([_crop(0, (10, 10, 30, 30))], [False])) == [
        "faces_too_small", "no_face_scored"]  # found, but too small to score
    assert codes(_found([_crop(0, (500, 200, 700, 450))])) == []
    assert codes(_found([]), frozenset({"face_swap"})) == []  # nothing read the picture
    (caution,) = cautions_for(CautionInputs(_info(), _found([]), 4, 0, kinds_run=both))
    assert "weak evidence either way" in caution.message


@pytest.mark.slow
@pytest.mark.weights
def test_a_crowd_photo_says_how_many_faces_were_found_and_scored(shared_data: Path) -> None:
    from engine.api import AnalysisOptions, Analyzer, fuse_for

    photo = shared_data / "videos_real" / "pyfeat_multi_face.jpg"
    with Analyzer(AnalysisOptions(max_faces=2)) as analyzer:
        limited = analyzer.analyze(photo)
    (frame,) = limited.frames
    assert len(frame.faces) == 2
    assert frame.n_faces_found is not None
    assert frame.n_faces_found > 2
    codes = [c.code for c in limited.cautions]
    assert "faces_not_analysed" in codes
    # A caution never changes a number: the finding is the rule's function of the scores.
    assert limited.finding == fuse_for(limited, limited.scores, "media")
    sizes = [max(f.bbox_xyxy[2] - f.bbox_xyxy[0], f.bbox_xyxy[3] - f.bbox_xyxy[1])
             for f in frame.faces]
    assert len(sizes) == 2
