"""engine.data.prepare on a tiny data root: a readable cache, explicit rejects, resumable runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.data import prepare as prepare_mod
from engine.data.cache import FaceCache
from engine.data.extract import FaceExtractor
from engine.data.prepare import PrepareConfig, main, prepare
from engine.data.sources import source_by_name
from engine.faces.crop import apply_affine

pytestmark = pytest.mark.slow

_UTK = [
    "100_1_0_20170110183726390.jpg.chip.jpg",
    "100_1_2_20170105174847679.jpg.chip.jpg",
    "101_1_2_20170105174739309.jpg.chip.jpg",
    "10_0_0_20170110220255346.jpg.chip.jpg",
    "10_0_0_20170110220403810.jpg.chip.jpg",
]
_ARGS = ["--size", "64", "--limit", "6", "--video-step", "3", "--max-video-frames", "4"]


@pytest.fixture(scope="module")
def data_root(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5 UTKFace files, a blank image (no face), a clip and a still of the same name, linked."""
    import cv2

    root = tmp_path_factory.mktemp("data")
    utk = root / "faces_real/utkface"
    utk.mkdir(parents=True)
    for name in _UTK:
        (utk / name).symlink_to(shared_data / "faces_real/utkface" / name)
    cv2.imwrite(str(utk / "000_blank.png"), np.full((200, 200, 3), 128, np.uint8))
    (utk / "extra_not_used.jpg").symlink_to(shared_data / "faces_real/utkface" / _UTK[0])
    videos = root / "videos_real"
    videos.mkdir()
    for name in ("pyfeat_single_face.mp4", "pyfeat_single_face.jpg"):
        (videos / name).symlink_to(shared_data / "videos_real" / name)
    return root


@pytest.fixture(scope="module")
def cache_dir(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cache") / "dataset"
    argv = ["--data-root", str(data_root), "--out", str(out), "--sources", "utkface,videos_real"]
    assert main([*argv, *_ARGS, "--no-progress"]) == 0
    return out


def test_cache_holds_crops_landmarks_affines_and_rows(cache_dir: Path) -> None:
    cache = FaceCache(cache_dir)
    assert cache.size == 64
    utk = cache.indices(source="utkface")
    video = cache.indices(source="videos_real")
    assert len(utk) == 5  # 6 files under --limit 6: the blank one has no face
    assert len(video) == 5  # 4 sampled frames of the clip + the still of the same name
    assert len(cache) == 10
    crops = cache.crops(np.concatenate([utk, video]))
    assert crops.shape == (10, 64, 64, 3)
    assert crops.dtype == np.uint8
    assert crops.std() > 10  # real pixels, not a blank buffer
    for i in range(len(cache)):
        lm = cache.landmarks(i)
        assert lm.shape == (478, 2)
        assert lm.dtype == np.float32
        # the crop policy puts the landmark box in the middle 1/1.5 of the crop
        assert np.ptp(lm, axis=0).max() == pytest.approx(64 / 1.5, rel=0.02)
    clip_ids = [cache.rows[int(i)].clip_id for i in video]
    assert clip_ids == ["pyfeat_single_face.jpg/t0"] + ["pyfeat_single_face.mp4/t0"] * 4
    assert {cache.rows[int(i)].label for i in video} == {"real"}
    assert [cache.rows[int(i)].frame_idx for i in video] == [0, 0, 3, 6, 9]
    frame_xy = apply_affine(cache.crop_to_frame(int(video[0])), cache.landmarks(int(video[0])))
    assert 0 < frame_xy[:, 0].mean() < 640
    assert 0 < frame_xy[:, 1].mean() < 360
    assert {cache.rows[int(i)].split for i in video} == {"train"}  # pyfeat clips stay in train
    assert {cache.rows[int(i)].split for i in utk} <= {"train", "val"}


def test_rejected_inputs_are_listed_with_a_reason(cache_dir: Path) -> None:
    rejected = FaceCache(cache_dir).rejected()
    assert [(r.file, r.reason) for r in rejected] == [
        ("faces_real/utkface/000_blank.png", "no face found")
    ]


def test_clips_come_back_in_frame_order(cache_dir: Path) -> None:
    clips = FaceCache(cache_dir).clips(source="videos_real", min_len=2)
    assert list(clips) == ["videos_real:pyfeat_single_face.mp4/t0"]
    assert [FaceCache(cache_dir).rows[int(i)].frame_idx for i in clips[next(iter(clips))]] == [
        0, 3, 6, 9,
    ]  # fmt: skip
    assert FaceCache(cache_dir).clips(min_len=5) == {}


def test_rerun_skips_finished_sources_and_redoes_an_unfinished_part(
    cache_dir: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = PrepareConfig(size=64, limit=6, video_step=3, max_video_frames=4)
    sources = (source_by_name("utkface"), source_by_name("videos_real"))
    calls: list[str] = []
    original = FaceExtractor.run_part

    def counting(self: FaceExtractor, part: Any, bar: Any) -> Any:
        calls.append(f"{part.source.name}/{part.name}")
        return original(self, part, bar)

    monkeypatch.setattr(FaceExtractor, "run_part", counting)
    prepare(data_root, cache_dir, config, sources=sources, show_progress=False)
    assert calls == []
    # simulate a crash inside the video source: its marker and one part never got written
    (cache_dir / "parts/videos_real/DONE.json").unlink()
    (cache_dir / "parts/videos_real/pyfeat_single_face.mp4/done.json").unlink()
    summary = prepare(data_root, cache_dir, config, sources=sources, show_progress=False)
    assert calls == ["videos_real/pyfeat_single_face.mp4"]
    assert summary["n_items"] == 10
    assert len(FaceCache(cache_dir)) == 10


def test_other_settings_refuse_to_extend_the_cache(cache_dir: Path, data_root: Path) -> None:
    with pytest.raises(ValueError, match="size"):
        prepare(data_root, cache_dir, PrepareConfig(size=32, limit=6), show_progress=False)


def test_cli_reports_bad_source_names(tmp_path: Path, data_root: Path) -> None:
    argv = ["--data-root", str(data_root), "--out", str(tmp_path / "o"), "--sources", "nope"]
    assert prepare_mod.main(argv) == 2


def test_missing_cache_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"engine\.data\.prepare"):
        FaceCache(tmp_path)


def test_valid_extent_marks_what_the_crop_policy_padded(cache_dir: Path, data_root: Path) -> None:
    """UTKFace's tight 200 px crops need padding on every side; a crop pixel counts as inside
    exactly when the affine maps it into the source image."""
    cache = FaceCache(cache_dir)
    assert cache.info["data_root"] == str(data_root.resolve())
    sizes = cache.frame_sizes()
    utk = cache.indices(source="utkface")
    assert {tuple(s) for s in sizes[utk]} == {(200, 200)}
    assert (cache.root / "frame_sizes.npy").is_file()
    valid = cache.valid_xyxy(utk)
    assert valid.shape == (len(utk), 4)
    for i, (x0, y0, x1, y1) in zip(utk, valid, strict=True):
        corners = apply_affine(cache.crop_to_frame(int(i)), np.array([[x0, y0], [x1, y1]]))
        np.testing.assert_allclose(corners, [[-0.5, -0.5], [199.5, 199.5]], atol=1e-4)
    assert (valid[:, 0] > 0).all()  # the 0.25 margin reaches past a UTKFace chip's edges
    video = cache.indices(source="videos_real")
    assert {tuple(s) for s in sizes[video]} == {(640, 360), (572, 562)}
