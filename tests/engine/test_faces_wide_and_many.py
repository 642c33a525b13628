"""Images past OpenCV's 32767 px limit are searched in strips; of many faces the largest stay.

MediaPipe aborted the process (an uncaught ``cv::Exception`` from remap on a graph thread) on a
36000x1300 panorama and on a 24000 px image padded by the no-face retry. Those checks run in a
child process, so a regression shows as a failed test, not a killed test run.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest

from engine.faces.blazeface import FaceBox
from engine.faces.crop import warp_bounded
from engine.faces.mesh import FaceMeshDetector
from engine.faces.mesh_result import MAX_SEARCH_SIDE_PX, MeshResult, merge_strips, strip_origins
from engine.types import FaceDetection
from tests.engine.face_media import demo_frames_rgb


def test_bounded_warp_equals_opencvs_warp_of_the_whole_image() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (300, 500, 3), np.uint8)
    for _ in range(100):
        scale, angle = rng.uniform(0.2, 5.0), rng.uniform(-0.5, 0.5)
        shift = rng.uniform(-800, 400, size=2)
        affine = np.array([[scale * np.cos(angle), -scale * np.sin(angle), shift[0]],
                           [scale * np.sin(angle), scale * np.cos(angle), shift[1]]])
        for mode in (cv2.BORDER_REPLICATE, cv2.BORDER_CONSTANT):
            whole = cv2.warpAffine(image, affine, (256, 256), flags=cv2.INTER_LINEAR,
                                   borderMode=mode, borderValue=(0, 0, 0))
            bounded = warp_bounded(image, affine, (256, 256), border_mode=mode,
                                   border_value=(0, 0, 0))
            np.testing.assert_array_equal(bounded, whole)


def test_bounded_warp_reads_a_source_wider_than_opencv_allows() -> None:
    wide = np.zeros((40, 36000, 3), np.uint8)
    wide[:, 30000:30040] = 200
    affine = np.array([[1.0, 0.0, -30000.0], [0.0, 1.0, 0.0]])
    with pytest.raises(cv2.error):
        cv2.warpAffine(wide, affine, (64, 40))
    out = warp_bounded(wide, affine, (64, 40), border_mode=cv2.BORDER_REPLICATE, border_value=0)
    assert (out[:, :40] == 200).all()
    assert (out[:, 41:] == 0).all()


def test_strips_cover_the_image_and_overlap_by_the_short_side() -> None:
    assert strip_origins(MAX_SEARCH_SIDE_PX, 1000) == [0]
    starts = strip_origins(36000, 1300)
    assert starts[0] == 0
    assert starts[-1] + MAX_SEARCH_SIDE_PX == 36000
    assert all(b - a <= MAX_SEARCH_SIDE_PX - 1300 for a, b in itertools.pairwise(starts))


def _face(x0: float, side: float, score: float) -> FaceDetection:
    grid = np.array([[x0, 10.0], [x0 + side, 10.0 + side]], np.float32)
    return FaceDetection(0, (x0, 10.0, x0 + side, 10.0 + side), grid, score)


def test_merged_strips_drop_the_overlap_duplicate_and_keep_the_largest() -> None:
    left = MeshResult(faces=(_face(100, 80, 0.9), _face(16000, 60, 0.7)),
                      boxes_without_landmarks=(FaceBox((5.0, 5.0, 9.0, 9.0), 0.6),))
    right = MeshResult(faces=(_face(16000.5, 60, 0.8), _face(20000, 200, 0.6)),
                       not_kept=(_face(30000, 30, 0.99),))
    merged = merge_strips([left, right], dedupe_iou=0.5, max_faces=2)
    assert [f.bbox_xyxy[0] for f in merged.faces] == [100, 20000]  # the two largest
    assert [f.bbox_xyxy[0] for f in merged.not_kept] == [16000.5, 30000]  # the better duplicate
    assert merged.n_strips == 2
    assert len(merged.boxes_without_landmarks) == 1


def _faces_in_a_row(sides: list[int]) -> np.ndarray:
    face = demo_frames_rgb(256)[0]
    canvas = np.full((max(sides) + 40, sum(sides) + 40 * len(sides) + 40, 3), 128, np.uint8)
    x = 40
    for side in sides:
        canvas[20 : 20 + side, x : x + side] = cv2.resize(face, (side, side),
                                                          interpolation=cv2.INTER_AREA)
        x += side + 40
    return canvas


def test_with_more_faces_than_max_faces_the_largest_are_kept() -> None:
    sides = [200, 300, 250, 360]  # the demo face is about a quarter of each square
    image = _faces_in_a_row(sides)
    with FaceMeshDetector(max_faces=2) as detector:
        result = detector.analyze(image)
    assert len(result.faces) == 2
    assert len(result.not_kept) == 2
    kept_sides = sorted(f.bbox_xyxy[2] - f.bbox_xyxy[0] for f in result.faces)
    dropped_sides = sorted(f.bbox_xyxy[2] - f.bbox_xyxy[0] for f in result.not_kept)
    assert min(kept_sides) > max(dropped_sides)
    # the kept ones are the faces in the 300 and 360 px squares (the 2nd and 4th)
    centres = sorted((f.bbox_xyxy[0] + f.bbox_xyxy[2]) / 2 for f in result.faces)
    assert 40 + 200 + 40 < centres[0] < 40 + 200 + 40 + 300
    assert centres[1] > image.shape[1] - 40 - 360


_WIDE_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    from engine.faces.mesh import FaceMeshDetector
    from tests.engine.face_media import demo_frames_rgb
    width, height, with_faces = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
    image = np.full((height, width, 3), 120, np.uint8)
    xs = (100, width // 2, width - 400) if width > height else ()
    if with_faces:
        for x in xs:
            image[300:556, x:x + 256] = demo_frames_rgb(256)[0]
    with FaceMeshDetector(max_faces=4) as detector:
        result = detector.analyze(image)
    print("FOUND", len(result.faces), result.n_strips,
          " ".join(str(round(f.bbox_xyxy[0])) for f in result.faces))
""")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("width", "height", "with_faces", "n_faces"),
    [(36000, 1300, True, 3), (36000, 1300, False, 0), (24000, 2000, False, 0),
     (1300, 36000, False, 0)],
)
def test_very_wide_or_tall_images_are_searched_without_aborting(
    width: int, height: int, with_faces: bool, n_faces: int
) -> None:
    done = subprocess.run([sys.executable, "-c", _WIDE_CHILD, str(width), str(height),
                           "1" if with_faces else "0"], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("FOUND"))
    _, found, n_strips, *xs = line.split()
    assert int(found) == n_faces
    assert int(n_strips) == (3 if max(width, height) == 36000 else 2)
    if with_faces:  # each face found where it was put (the landmark box sits inside its square)
        for x_found, x_put in zip(map(int, xs), (100, width // 2, width - 400), strict=True):
            assert x_put <= x_found <= x_put + 256
