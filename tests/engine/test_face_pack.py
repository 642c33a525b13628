"""The face pack: a config's faces in one file for a machine without the face cache."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.training.datasets import RealFaces
from engine.training.face_pack import faces_from_pack, is_pack, pack_note, write_pack


def _faces(n: int, seed: int) -> RealFaces:
    """Smooth synthetic 64 px 'crops' (JPEG keeps smooth images close) with landmarks."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(n, 8, 8, 3), dtype=np.uint8)
    crops = np.stack([cv2.resize(c, (64, 64), interpolation=cv2.INTER_CUBIC) for c in small])
    landmarks = rng.uniform(0, 64, size=(n, 478, 2)).astype(np.float32)
    return RealFaces(crops, landmarks, np.array([f"celeba:{i % 3}" for i in range(n)]))


def test_a_pack_gives_back_the_faces_it_was_written_from(tmp_path: Path) -> None:
    faces = {"train": _faces(5, 0), "val": _faces(3, 1)}
    path = write_pack(faces, tmp_path / "faces.npz", quality=95)
    assert is_pack(path)
    assert not is_pack(tmp_path)
    for split, original in faces.items():
        back = faces_from_pack(path, split)
        assert back.crops.shape == original.crops.shape
        assert back.crops.dtype == np.uint8
        error = np.abs(back.crops.astype(int) - original.crops.astype(int)).mean()
        assert 0 < error < 3.0  # JPEG: close, not equal
        np.testing.assert_allclose(back.landmarks, original.landmarks, atol=0.05)
        assert back.groups.tolist() == original.groups.tolist()
    assert "5 faces" in pack_note(path)
    assert "quality 95" in pack_note(path)


def test_a_pack_refuses_bad_requests(tmp_path: Path) -> None:
    faces = {"train": _faces(2, 0), "val": _faces(2, 1)}
    with pytest.raises(ValueError, match="quality"):
        write_pack(faces, tmp_path / "x.npz", quality=0)
    path = write_pack(faces, tmp_path / "faces.npz", quality=90)
    with pytest.raises(ValueError, match="split"):
        faces_from_pack(path, "test")
    data = dict(np.load(path))
    data["version"] = np.array(99)
    np.savez(tmp_path / "future.npz", **data)
    with pytest.raises(ValueError, match="pack version 99"):
        faces_from_pack(tmp_path / "future.npz", "train")
