"""detect_faces_in_frames: crops with track ids, small faces flagged, empties listed, jobs."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from engine.faces.crop import CropPolicy, apply_affine
from engine.faces.mesh import FaceBox, FaceMeshDetector, MeshResult
from engine.faces.pipeline import detect_faces_in_frames
from engine.jobs import CancelToken, JobCancelled, Progress
from engine.types import FaceDetection, Frame

_TEMPLATE = np.random.default_rng(0).uniform(-0.5, 0.5, size=(478, 2))


def _face(frame_idx: int, cx: float, side: float) -> FaceDetection:
    lm = (_TEMPLATE * side + (cx, 200.0)).astype(np.float32)
    x0, y0 = lm.min(axis=0)
    x1, y1 = lm.max(axis=0)
    return FaceDetection(frame_idx, (float(x0), float(y0), float(x1), float(y1)), lm, 0.8)


class _ScriptedDetector:
    """Returns the faces scripted per frame index (stands in for MediaPipe)."""

    def __init__(self, script: dict[int, MeshResult]) -> None:
        self.script = script

    def analyze(self, rgb_u8: np.ndarray, frame_idx: int = 0) -> MeshResult:
        return self.script.get(frame_idx, MeshResult(faces=()))


def _frames(indices: list[int]) -> list[Frame]:
    rgb = np.random.default_rng(2).integers(0, 255, size=(400, 640, 3), dtype=np.uint8)
    return [Frame(i, i / 25.0, rgb) for i in indices]


def test_crops_tracks_small_faces_and_empty_frames() -> None:
    box = FaceBox((10.0, 10.0, 30.0, 30.0), 0.55)
    script = {
        0: MeshResult(faces=(_face(0, 150, 120), _face(0, 450, 30))),
        5: MeshResult(faces=(), boxes_without_landmarks=(box,)),
        10: MeshResult(faces=(_face(10, 155, 120), _face(10, 455, 32))),
    }
    reports: list[Progress] = []
    result = detect_faces_in_frames(
        _frames([0, 5, 10]),
        _ScriptedDetector(script),  # type: ignore[arg-type]
        CropPolicy(size=64),
        progress=reports.append,
    )
    assert result.frame_indices == (0, 5, 10)
    assert result.frames_without_face == (5,)
    assert result.boxes_without_landmarks == ((5, box),)
    assert [(f.crop.frame_idx, f.crop.track_id, f.too_small) for f in result.faces] == [
        (0, 0, False), (0, 1, True), (10, 0, False), (10, 1, True),
    ]  # fmt: skip
    assert [c.track_id for c in result.crops] == [0, 0]
    assert [c.track_id for c in result.too_small] == [1, 1]
    assert [(t.track_id, t.frame_indices, t.n_too_small, t.usable) for t in result.tracks] == [
        (0, (0, 10), 0, True), (1, (0, 10), 2, False),
    ]  # fmt: skip
    assert result.tracks[0].mean_det_score == pytest.approx(0.8)
    assert [p.done for p in reports] == [1, 2, 3]
    assert all(p.total == 3 and p.stage == "faces" for p in reports)
    crop = result.crops[0]
    assert crop.crop_rgb_u8.shape == (64, 64, 3)
    np.testing.assert_allclose(
        apply_affine(crop.crop_to_frame, crop.landmarks_crop_xy), _face(0, 150, 120).landmarks_xy,
        atol=1e-3,
    )  # fmt: skip


def test_iterator_input_and_cancel() -> None:
    script = {i: MeshResult(faces=(_face(i, 300, 100),)) for i in range(10)}
    detector = _ScriptedDetector(script)
    result = detect_faces_in_frames(
        iter(_frames(list(range(4)))),
        detector,  # type: ignore[arg-type]
        CropPolicy(size=32),
    )
    assert len(result.crops) == 4
    token = CancelToken()
    seen: list[int] = []

    def on_progress(p: Progress) -> None:
        seen.append(p.done)
        assert p.total == 0  # an iterator has no length
        if p.done == 2:
            token.cancel()

    with pytest.raises(JobCancelled):
        detect_faces_in_frames(
            iter(_frames(list(range(10)))),
            detector,  # type: ignore[arg-type]
            CropPolicy(size=32),
            cancel=token,
            progress=on_progress,
        )
    assert seen == [1, 2]


@pytest.mark.slow
def test_real_clip_where_the_face_leaves(shared_data: Path) -> None:
    """pyfeat_face_noface.mov: one person, then a title card without faces."""
    from engine.media import iter_frames

    frames = itertools.islice(
        iter_frames(shared_data / "videos_real/pyfeat_face_noface.mov", start=40, step=12), 8
    )
    with FaceMeshDetector() as detector:
        result = detect_faces_in_frames(frames, detector, CropPolicy())
    assert result.frame_indices == tuple(range(40, 136, 12))
    assert len(result.tracks) == 1
    track = result.tracks[0]
    assert track.usable
    assert track.frame_indices[0] == 40
    assert len(track.frame_indices) >= 3
    assert track.median_face_px > 150
    assert set(result.frames_without_face) == set(result.frame_indices) - set(track.frame_indices)
    assert len(result.frames_without_face) >= 3
    assert all(c.crop_rgb_u8.shape == (256, 256, 3) for c in result.crops)
