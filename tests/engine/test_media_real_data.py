"""The media layer on real clips and photos from the shared data (read-only, never copied)."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import numpy as np
import pytest

from engine.media import probe, read_frame, read_image, sample_frames


def _check_sampled(path: Path, n_frames: int = 8) -> list[int]:
    info = probe(path)
    frames = list(sample_frames(path, n_frames=n_frames))
    assert len(frames) == n_frames
    for frame in frames:
        assert frame.rgb_u8.shape == (info.height, info.width, 3)
        assert frame.rgb_u8.dtype == np.uint8
    t_secs = [f.t_sec for f in frames]
    assert all(b > a for a, b in itertools.pairwise(t_secs))
    assert frames[0].frame_idx == 0
    return [f.frame_idx for f in frames]


def test_liveportrait_mp4(shared_data: Path) -> None:
    path = shared_data / "videos_real" / "liveportrait_d0.mp4"
    info = probe(path)
    assert (info.kind, info.format_name, info.codec) == ("video", "mp4", "h264")
    assert (info.width, info.height, info.n_frames) == (512, 512, 78)
    assert _check_sampled(path) == [0, 11, 22, 33, 44, 55, 66, 77]


def test_variable_frame_rate_mov_gives_exact_frames(shared_data: Path) -> None:
    # OpenCV's seek lands 4-5 frames off on this HEVC clip; decoding in order must not.
    path = shared_data / "videos_real" / "pyfeat_face_noface.mov"
    assert probe(path).format_name == "mov"
    frames = list(sample_frames(path, n_frames=8))
    assert [f.frame_idx for f in frames] == [0, 24, 48, 72, 96, 120, 144, 168]
    again = read_frame(path, 24)
    np.testing.assert_array_equal(again.rgb_u8, frames[1].rgb_u8)


def test_container_that_overstates_its_frame_count(
    shared_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The container lists 98 frames; 95 decode. Sampling keeps its count and says so.
    path = shared_data / "videos_real" / "pyfeat_no_face.mp4"
    with caplog.at_level(logging.WARNING, logger="engine.media"):
        indices = _check_sampled(path)
    assert indices[-1] == 94
    assert "lists 98 frames but only 95 decode" in caplog.text


def test_utkface_and_photo_jpegs(shared_data: Path) -> None:
    utk = sorted((shared_data / "faces_real" / "utkface").glob("*.jpg"))[0]
    assert read_image(utk).shape == (200, 200, 3)
    photo = shared_data / "videos_real" / "pyfeat_multi_face.jpg"
    info = probe(photo)
    rgb = read_image(photo)
    assert rgb.shape == (info.height, info.width, 3)
    assert rgb.std() > 10  # real picture content, not a blank
