"""The media layer on real clips and photos from the shared data (read-only, never copied)."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import numpy as np
import pytest

from engine.media import DecodeReport, iter_frames, probe, read_frame, read_image, sample_frames


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


def test_variable_frame_rate_mov_is_sampled_by_time_with_exact_frames(shared_data: Path) -> None:
    # OpenCV's seek lands 4-5 frames off on this HEVC clip; the index must not.
    path = shared_data / "videos_real" / "pyfeat_face_noface.mov"
    assert probe(path).format_name == "mov"
    report = DecodeReport()
    frames = list(sample_frames(path, n_frames=8, report=report))
    assert report.variable_frame_rate
    # planned by presentation time: evenly spaced in seconds, not in frame numbers
    steps_s = np.diff([f.t_sec for f in frames])
    assert steps_s.max() - steps_s.min() < 0.1
    assert [f.frame_idx for f in frames] == [0, 27, 55, 81, 103, 124, 146, 168]
    for frame in (frames[1], frames[5]):
        again = read_frame(path, frame.frame_idx)
        np.testing.assert_array_equal(again.rgb_u8, frame.rgb_u8)
        assert again.t_sec == frame.t_sec


@pytest.mark.parametrize(
    "name", ["liveportrait_d0.mp4", "pyfeat_noface_face.mov", "pyfeat_no_face.mp4"]
)
def test_frames_are_those_opencv_decodes_in_order(shared_data: Path, name: str) -> None:
    # PyAV replaced OpenCV: frame i must be the i-th frame OpenCV gives, pixel for pixel (the
    # detectors were calibrated on OpenCV's frames), on constant and variable frame rates.
    import cv2

    path = shared_data / "videos_real" / name
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
    expected = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        expected.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    frames = list(iter_frames(path))
    assert len(frames) == len(expected)
    for frame in frames[:: max(1, len(frames) // 12)]:
        np.testing.assert_array_equal(frame.rgb_u8, expected[frame.frame_idx])


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
