"""Engine test fixtures: tiny media generated once per session (nothing binary is committed).

Videos are written with cv2 (16 frames, index-coded, see ``tests/engine/bad_media.py``); images
with Pillow/cv2. Everything lands in ``tmp_path_factory``, so tests never touch the repo.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tests.engine.bad_media import make_all, rotate_mp4, write_video

if TYPE_CHECKING:
    from engine.training.datasets import RealFaces

VIDEO_CONTAINERS = (".mp4", ".mov", ".avi", ".mkv", ".webm")


@pytest.fixture(scope="session")
def tiny_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 16-frame, 64x64, 10 fps mp4 with a drawn ellipse "face"; frame i has grey 10 + 12*i."""
    out_dir = tmp_path_factory.mktemp("tiny_video")
    return write_video(out_dir / "tiny.mp4", n_frames=16, fps=10.0, size_wh=(64, 64))


@pytest.fixture(scope="session")
def video_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One 16-frame 64x48 10 fps video per container, keyed by extension (".mp4", ...)."""
    out_dir = tmp_path_factory.mktemp("videos")
    return {ext: write_video(out_dir / f"clip{ext}") for ext in VIDEO_CONTAINERS}


@pytest.fixture(scope="session")
def rotated_videos(
    tmp_path_factory: pytest.TempPathFactory, video_files: dict[str, Path]
) -> dict[int, Path]:
    """The 64x48 mp4 with rotation metadata of 90, 180 and 270 degrees, keyed by degrees."""
    out_dir = tmp_path_factory.mktemp("rotated")
    return {
        deg: rotate_mp4(video_files[".mp4"], out_dir / f"rot{deg}.mp4", deg)
        for deg in (90, 180, 270)
    }


@pytest.fixture(scope="session")
def media_corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every case of ``bad_media.CASES`` written once, keyed by case name."""
    return make_all(tmp_path_factory.mktemp("corpus"), np.random.default_rng(0))


@pytest.fixture
def demo_index(tmp_path: Path) -> Path:
    """The bundled demo clips copied into ``tmp_path`` with an index naming them (the real
    clip as ``real_video``, the fake as ``faceswap_video``, source ``demo``): a benchmark the
    size of a unit test, for the commands that run the app's analyzer over an index."""
    import shutil

    sample = Path(__file__).resolve().parents[2] / "resources" / "sample"
    for name in ("demo_real.mp4", "demo_fake.mp4"):
        shutil.copy(sample / name, tmp_path / name)
    index = tmp_path / "index.csv"
    index.write_text("path,label,kind,method,source_repo\n"
                     "demo_real.mp4,real,real_video,camera,demo\n"
                     "demo_fake.mp4,fake,faceswap_video,swap,demo\n", encoding="utf-8")
    return index


@pytest.fixture(scope="session")
def stills(shared_data: Path) -> RealFaces:
    """The still test faces as a ``RealFaces`` set: pseudo-clips, donors, decoded pairs."""
    from engine.training.datasets import RealFaces
    from tests.engine.test_synthesis_masks import real_faces

    faces = real_faces(shared_data)
    return RealFaces(np.stack([f.rgb_u8 for f in faces]),
                     np.stack([f.landmarks_xy for f in faces]).astype(np.float32),
                     np.array([f.name for f in faces]))
