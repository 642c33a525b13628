"""Landmark index sets agree with MediaPipe's own connection lists and nest as documented."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.faces import landmark_sets as sets


def _points(connections: frozenset[tuple[int, int]]) -> set[int]:
    return {i for edge in connections for i in edge}


def test_face_oval_is_mediapipes_contour_in_order() -> None:
    from mediapipe.python.solutions import face_mesh_connections as conn

    oval = sets.FACE_OVAL
    assert len(oval) == len(set(oval)) == 36
    edges = {(oval[k], oval[(k + 1) % len(oval)]) for k in range(len(oval))}
    assert edges == set(conn.FACEMESH_FACE_OVAL)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("LEFT_EYE", "FACEMESH_LEFT_EYE"),
        ("RIGHT_EYE", "FACEMESH_RIGHT_EYE"),
        ("LEFT_EYEBROW", "FACEMESH_LEFT_EYEBROW"),
        ("RIGHT_EYEBROW", "FACEMESH_RIGHT_EYEBROW"),
        ("NOSE", "FACEMESH_NOSE"),
        ("LIPS", "FACEMESH_LIPS"),
    ],
)
def test_parts_are_mediapipes_point_sets(ours: str, theirs: str) -> None:
    from mediapipe.python.solutions import face_mesh_connections as conn

    assert set(getattr(sets, ours)) == _points(getattr(conn, theirs))


def test_iris_sets_are_the_refined_points() -> None:
    from mediapipe.python.solutions import face_mesh_connections as conn

    assert set(sets.LEFT_IRIS) - {473} == _points(conn.FACEMESH_LEFT_IRIS)
    assert set(sets.RIGHT_IRIS) - {468} == _points(conn.FACEMESH_RIGHT_IRIS)


def test_hull_sets_use_mesh_points_only() -> None:
    for name, indices in sets.HULL_SETS.items():
        assert all(0 <= i < 468 for i in indices), name


@pytest.fixture(scope="module")
def real_landmarks(shared_data: Path) -> np.ndarray:
    from engine.faces.mesh import FaceMeshDetector
    from engine.media import read_image

    rgb = read_image(shared_data / "videos_real/pyfeat_single_face.jpg")
    with FaceMeshDetector() as detector:
        faces = detector.detect(rgb)
    assert len(faces) == 1
    return faces[0].landmarks_xy


def _hull_area(points: np.ndarray) -> float:
    import cv2

    return float(cv2.contourArea(cv2.convexHull(points.astype(np.float32))))


def test_reduced_hulls_are_smaller_and_inside_the_oval(real_landmarks: np.ndarray) -> None:
    import cv2

    areas = {name: _hull_area(sets.hull_points(real_landmarks, name)) for name in sets.HULL_SETS}
    assert areas["face_oval"] > areas["face_no_forehead"] > areas["inner_face"] > 0
    assert areas["face_oval"] > areas["lower_face"] > 0
    oval = cv2.convexHull(sets.hull_points(real_landmarks, "face_oval").astype(np.float32))
    for name in ("face_no_forehead", "inner_face", "lower_face"):
        for x, y in sets.hull_points(real_landmarks, name):
            assert cv2.pointPolygonTest(oval, (float(x), float(y)), True) > -2.0, name


def test_no_forehead_contour_stops_at_the_brows(real_landmarks: np.ndarray) -> None:
    """The reduced set's top edge is the brow line; the oval reaches up the forehead."""
    top_reduced = sets.hull_points(real_landmarks, "face_no_forehead")[:, 1].min()
    top_oval = sets.hull_points(real_landmarks, "face_oval")[:, 1].min()
    brow_top = real_landmarks[list(sets.RIGHT_EYEBROW + sets.LEFT_EYEBROW), 1].min()
    assert top_reduced == pytest.approx(brow_top, abs=1.0)
    assert top_oval < top_reduced - 10.0


def test_ordered_contours_do_not_cross_themselves(real_landmarks: np.ndarray) -> None:
    import cv2

    for name in ("face_oval", "face_no_forehead"):
        contour = sets.hull_points(real_landmarks, name).astype(np.float32)
        polygon_area = abs(cv2.contourArea(contour))
        # a simple polygon close to convex: its area is near its hull's area
        assert polygon_area > 0.9 * _hull_area(contour), name


def test_unknown_set_name_lists_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="face_oval"):
        sets.hull_points(np.zeros((478, 2)), "forehead")
