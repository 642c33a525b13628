"""Face detection + Face Mesh on real data: faces found, no face, several faces, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from engine.faces.mesh import N_LANDMARKS, FaceMeshDetector
from engine.media import read_frame, read_image


@pytest.fixture(scope="module")
def detector() -> Iterator[FaceMeshDetector]:
    with FaceMeshDetector() as det:
        yield det


def _assert_face(face: object, image_hw: tuple[int, int]) -> None:
    lm = face.landmarks_xy  # type: ignore[attr-defined]
    assert lm.shape == (N_LANDMARKS, 2)
    assert lm.dtype == np.float32
    assert np.isfinite(lm).all()
    x0, y0, x1, y1 = face.bbox_xyxy  # type: ignore[attr-defined]
    assert (x0, y0) == pytest.approx(tuple(lm.min(axis=0)))
    assert 0.5 <= face.det_score <= 1.0  # type: ignore[attr-defined]
    h, w = image_hw
    # the face centre lies inside the image even when the oval runs past a tight crop's edge
    assert 0 < (x0 + x1) / 2 < w
    assert 0 < (y0 + y1) / 2 < h


def test_utkface_crop_has_landmarks(detector: FaceMeshDetector, shared_data: Path) -> None:
    path = shared_data / "faces_real/utkface/100_1_0_20170110183726390.jpg.chip.jpg"
    rgb = read_image(path)
    faces = detector.detect(rgb)
    assert len(faces) == 1
    _assert_face(faces[0], rgb.shape[:2])
    # a tight 200 px crop: the face fills most of it
    x0, y0, x1, y1 = faces[0].bbox_xyxy
    assert max(x1 - x0, y1 - y0) > 0.6 * rgb.shape[1]


def test_video_frame_has_landmarks(detector: FaceMeshDetector, shared_data: Path) -> None:
    frame = read_frame(shared_data / "videos_real/pyfeat_single_face.mp4", 10)
    result = detector.analyze(frame.rgb_u8, frame.frame_idx)
    assert len(result.faces) == 1
    assert result.faces[0].frame_idx == 10
    assert result.retry == ""
    _assert_face(result.faces[0], frame.rgb_u8.shape[:2])


def test_blank_image_gives_an_explicit_empty_result(detector: FaceMeshDetector) -> None:
    blank = np.full((360, 480, 3), 127, dtype=np.uint8)
    result = detector.analyze(blank, 3)
    assert result.faces == ()
    assert result.boxes_without_landmarks == ()
    assert result.unconfirmed == ()
    assert detector.detect(blank) == []


def test_no_face_video_frame_gives_no_face(detector: FaceMeshDetector, shared_data: Path) -> None:
    frame = read_frame(shared_data / "videos_real/pyfeat_no_face.mp4", 40)
    assert detector.detect(frame.rgb_u8, frame.frame_idx) == []


def test_group_photo_finds_most_faces(detector: FaceMeshDetector, shared_data: Path) -> None:
    """Face Mesh alone finds 1 of the 5 faces here; detector + crop path finds them all."""
    rgb = read_image(shared_data / "videos_real/pyfeat_multi_face.jpg")
    faces = detector.detect(rgb)
    assert len(faces) >= 4
    lefts = [f.bbox_xyxy[0] for f in faces]
    assert lefts == sorted(lefts)
    for face in faces:
        _assert_face(face, rgb.shape[:2])
    centres = np.array([[(f.bbox_xyxy[0] + f.bbox_xyxy[2]) / 2, f.bbox_xyxy[1]] for f in faces])
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1) + np.eye(len(faces)) * 1e9
    assert gaps.min() > 50.0  # no face reported twice


def test_small_face_in_big_frame_is_found(detector: FaceMeshDetector, shared_data: Path) -> None:
    """A face shrunk to ~70 px in a 1280x720 frame: whole-frame Face Mesh cannot see it."""
    import cv2

    face = read_image(shared_data / "faces_real/utkface/100_1_0_20170110183726390.jpg.chip.jpg")
    frame = np.full((720, 1280, 3), 90, dtype=np.uint8)
    small = cv2.resize(face, (90, 90), interpolation=cv2.INTER_AREA)
    frame[500:590, 1000:1090] = small
    faces = detector.detect(frame)
    assert len(faces) == 1
    x0, y0, x1, y1 = faces[0].bbox_xyxy
    assert 980 < (x0 + x1) / 2 < 1110
    assert 480 < (y0 + y1) / 2 < 610


def test_dark_frame_is_retried_with_equalised_contrast(detector: FaceMeshDetector) -> None:
    from engine.faces import blazeface

    dark = np.full((100, 100, 3), 30, dtype=np.uint8)
    assert blazeface.is_dark(dark)
    assert not blazeface.is_dark(np.full((100, 100, 3), 150, dtype=np.uint8))
    assert blazeface.equalise(dark).shape == dark.shape


@pytest.mark.parametrize(
    "bad",
    [np.zeros((10, 10, 3), dtype=np.float32), np.zeros((10, 10), dtype=np.uint8)],
    ids=["float", "grey"],
)
def test_bad_image_raises(detector: FaceMeshDetector, bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="uint8 RGB"):
        detector.detect(bad)
