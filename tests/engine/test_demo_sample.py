"""The bundled demo sample (``resources/sample``) is present, intact and usable by the engine.

The demo case of the app imports exactly these files; a sample that is missing, re-encoded by
accident or unreadable would only show up when an analyst clicks "Create demo case". The sha256
values come from ``demo_sample.json``, written by ``scripts/make_demo_sample.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from engine.faces.mesh import FaceMeshDetector
from engine.media import probe, sample_frames, sha256_file

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "resources" / "sample"
NAMES = ("demo_real.mp4", "demo_fake.mp4")


@pytest.fixture(scope="module")
def detector() -> Iterator[FaceMeshDetector]:
    with FaceMeshDetector(max_faces=2) as det:
        yield det


def _first_frame(name: str) -> np.ndarray:
    return next(iter(sample_frames(SAMPLE_DIR / name, n_frames=1))).rgb_u8


@pytest.mark.parametrize("name", NAMES)
def test_sample_matches_recorded_sha256(name: str) -> None:
    record = json.loads((SAMPLE_DIR / "demo_sample.json").read_text())
    path = SAMPLE_DIR / name
    assert path.is_file(), f"{path} is missing; run scripts/make_demo_sample.py"
    assert path.stat().st_size < 1_000_000
    assert sha256_file(path) == record["files"][name]["sha256"]


@pytest.mark.parametrize("name", NAMES)
def test_sample_is_a_3_s_video_the_engine_reads(name: str) -> None:
    info = probe(SAMPLE_DIR / name)
    assert info.kind == "video"
    assert (info.width, info.height) == (384, 384)
    assert info.n_frames == 45
    assert info.fps == pytest.approx(15.0)
    frames = list(sample_frames(SAMPLE_DIR / name, n_frames=4))
    assert [f.frame_idx for f in frames] == sorted({f.frame_idx for f in frames})
    assert all(f.rgb_u8.shape == (384, 384, 3) for f in frames)


@pytest.mark.parametrize("name", NAMES)
def test_first_frame_has_exactly_one_face(name: str, detector: FaceMeshDetector) -> None:
    faces = detector.detect(_first_frame(name), 0)
    assert len(faces) == 1
    x0, _y0, x1, _y1 = faces[0].bbox_xyxy
    assert 60 < x1 - x0 < 200  # the portrait's face, not a patch or a false detection


def test_fake_differs_from_real_inside_the_face_only(detector: FaceMeshDetector) -> None:
    real, fake = (_first_frame(n).astype(np.float32) for n in NAMES)
    x0, y0, x1, y1 = (round(v) for v in detector.detect(real.astype(np.uint8), 0)[0].bbox_xyxy)
    diff = np.abs(real - fake).mean(axis=2)
    inside = diff[y0:y1, x0:x1].mean()
    outside_mask = np.ones(diff.shape, dtype=bool)
    pad = (x1 - x0) // 2  # the blend mask's soft edge reaches beyond the landmark box
    outside_mask[max(y0 - pad, 0) : y1 + pad, max(x0 - pad, 0) : x1 + pad] = False
    outside = diff[outside_mask].mean()
    assert inside > 4.0 * outside, (inside, outside)
