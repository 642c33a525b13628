"""Hull masks on real faces; also the real-face loaders the other synthesis tests share.

Landmarks come from the real Face Mesh detector on a few shared-data images (and a few video
frames), detected once per test session (the loaders are cached).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.errors import SynthesisInputError
from engine.faces.crop import CropPolicy, crop_face
from engine.faces.mesh import FaceMeshDetector
from engine.synthesis.masks import (
    FACE_OVAL,
    HULL_SHAPES,
    LM68_FROM_MESH,
    PART_SHAPES,
    PARTS,
    hull_mask,
    part_shape,
)

STILLS = (
    "faces_real/utkface/25_0_0_20170102233320979.jpg.chip.jpg",
    "faces_real/utkface/25_1_1_20161220222224947.jpg.chip.jpg",
    "faces_real/utkface/40_0_2_20170104170505569.jpg.chip.jpg",
    "faces_real/celeba/1.jpg",
)
CLIP = "videos_real/liveportrait_d11.mp4"
NOSE_TIP = 4
FOREHEAD = 151  # mesh point in the middle of the forehead, above the brows


@dataclass(frozen=True)
class RealFace:
    name: str
    rgb_u8: np.ndarray
    landmarks_xy: np.ndarray


def _crop_first_face(detector: FaceMeshDetector, rgb_u8: np.ndarray, name: str) -> RealFace:
    faces = detector.detect(rgb_u8)
    assert faces, f"no face found in {name}"
    crop, lm, _ = crop_face(rgb_u8, faces[0].landmarks_xy, CropPolicy())
    return RealFace(name, crop, lm)


@functools.cache
def _detector() -> FaceMeshDetector:
    """One Face Mesh graph for the whole session (building one takes seconds)."""
    return FaceMeshDetector()


@functools.cache
def real_faces(data_root: Path) -> tuple[RealFace, ...]:
    """Crops + landmarks of the still test faces (detected once per session)."""
    out = []
    for rel in STILLS:
        bgr = cv2.imread(str(data_root / rel))
        assert bgr is not None, f"cannot read {rel}"
        out.append(_crop_first_face(_detector(), np.ascontiguousarray(bgr[..., ::-1]), rel))
    return tuple(out)


@functools.cache
def real_clip(data_root: Path, n_frames: int = 6, step: int = 3) -> tuple[RealFace, ...]:
    """``n_frames`` crops of one tracked talking face, ``step`` video frames apart."""
    cap = cv2.VideoCapture(str(data_root / CLIP))
    frames = []
    try:
        while len(frames) < n_frames * step:
            ok, bgr = cap.read()
            assert ok, f"{CLIP} ended early"
            frames.append(np.ascontiguousarray(bgr[..., ::-1]))
    finally:
        cap.release()
    return tuple(
        _crop_first_face(_detector(), rgb, f"{CLIP}#{i}")
        for i, rgb in enumerate(frames)
        if i % step == 0
    )


@pytest.fixture(scope="module")
def faces(shared_data: Path) -> tuple[RealFace, ...]:
    return real_faces(shared_data)


def _inside(mask: np.ndarray, xy: np.ndarray) -> bool:
    x, y = np.round(xy).astype(int)
    return bool(mask[y, x] > 0.5)


@pytest.mark.parametrize("hull_shape", HULL_SHAPES)
def test_every_hull_shape_covers_the_inner_face_and_not_the_corners(
    faces: tuple[RealFace, ...], hull_shape: str
) -> None:
    for face in faces:
        for reduced in (False, True):
            mask = hull_mask(face.landmarks_xy, face.rgb_u8.shape[:2], hull_shape, reduced)
            assert mask.dtype == np.float32
            assert mask.shape == face.rgb_u8.shape[:2]
            assert mask.min() >= 0.0
            assert mask.max() == pytest.approx(1.0)
            assert _inside(mask, face.landmarks_xy[NOSE_TIP]), face.name
            for idx in (33, 263, 13):  # eye corners and the mouth
                assert _inside(mask, face.landmarks_xy[idx]), (face.name, idx)
            assert mask[0, 0] == 0
            assert mask[-1, -1] == 0
            assert mask[0, -1] == 0


def test_face_oval_hull_reaches_the_forehead_and_the_reduced_set_does_not(
    faces: tuple[RealFace, ...],
) -> None:
    for face in faces:
        shape = face.rgb_u8.shape[:2]
        full = hull_mask(face.landmarks_xy, shape, "facehull", reduced=False)
        reduced = hull_mask(face.landmarks_xy, shape, "facehull", reduced=True)
        assert _inside(full, face.landmarks_xy[FOREHEAD]), face.name
        assert not _inside(reduced, face.landmarks_xy[FOREHEAD]), face.name
        assert reduced.sum() < 0.9 * full.sum()
        # The full hull is the face oval: every oval point lies on or inside it.
        oval = face.landmarks_xy[list(FACE_OVAL)]
        centre = oval.mean(axis=0)
        for point in oval:
            assert _inside(full, point + 0.1 * (centre - point))


def test_index_tables_are_valid_mesh_indices() -> None:
    assert len(LM68_FROM_MESH) == 68
    assert len(set(LM68_FROM_MESH)) == 68
    assert len(FACE_OVAL) == 36
    assert len(set(FACE_OVAL)) == 36
    assert max(LM68_FROM_MESH + FACE_OVAL) < 468


def test_unknown_hull_shape_is_a_typed_error(faces: tuple[RealFace, ...]) -> None:
    with pytest.raises(SynthesisInputError, match="unknown hull shape"):
        hull_mask(faces[0].landmarks_xy, (256, 256), "circle", reduced=False)


def test_there_is_one_part_shape_per_non_empty_set_of_parts() -> None:
    assert len(PART_SHAPES) == 2 ** len(PARTS) - 1 == 15
    assert len(set(PART_SHAPES)) == 15
    assert part_shape(["mouth", "left_eye"]) == part_shape(("left_eye", "mouth"))
    with pytest.raises(SynthesisInputError, match="non-empty subset"):
        part_shape(["ear"])
    with pytest.raises(SynthesisInputError, match="non-empty subset"):
        part_shape([])


def test_a_part_mask_covers_its_part_and_leaves_the_other_parts_alone(
    faces: tuple[RealFace, ...],
) -> None:
    """One eye's hull holds that eye's corners and not the other eye, the nose or the mouth; the
    union of all four parts stays well inside the face hull."""
    for face in faces:
        shape = face.rgb_u8.shape[:2]
        lm = face.landmarks_xy
        eye = hull_mask(lm, shape, part_shape(["left_eye"]), reduced=False)
        left_corner, right_corner = sorted((lm[33], lm[263]), key=lambda p: p[0])
        assert _inside(eye, left_corner), face.name  # the eye on the image's left
        assert not _inside(eye, right_corner), face.name
        assert not _inside(eye, lm[NOSE_TIP]), face.name
        assert not _inside(eye, lm[13]), face.name  # the mouth
        mouth = hull_mask(lm, shape, part_shape(["mouth"]), reduced=False)
        assert _inside(mouth, lm[13]), face.name
        assert not _inside(mouth, lm[NOSE_TIP]), face.name
        every = hull_mask(lm, shape, PART_SHAPES[-1], reduced=False)
        face_hull = hull_mask(lm, shape, "facehull", reduced=False)
        assert every.dtype == np.float32
        assert set(np.unique(every)) <= {0.0, 1.0}
        assert every.sum() < 0.8 * face_hull.sum(), face.name
        assert (every * (1 - face_hull)).sum() < 0.05 * every.sum(), face.name
