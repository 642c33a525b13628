"""Video probing and frame access on generated clips (every frame encodes its own index)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from engine.errors import (
    MediaTooLargeError,
    NotMediaError,
    TruncatedMediaError,
    UnsupportedFormatError,
)
from engine.jobs import CancelToken, JobCancelled
from engine.media import (
    FRAME_COUNT_SLACK,
    DecodeReport,
    MediaLimits,
    iter_frames,
    plan_frame_indices,
    probe,
    read_frame,
    read_image,
    sample_frames,
)
from engine.media.sniff import Sniffed
from engine.media.video_io import VideoDecoder
from tests.engine.bad_media import _patch_avi_frame_count, frame_index_of, write_video

CONTAINERS = (".mp4", ".mov", ".avi", ".mkv", ".webm")


@pytest.mark.parametrize("ext", CONTAINERS)
def test_every_container_probes_and_decodes_exact_frames(
    ext: str, video_files: dict[str, Path]
) -> None:
    path = video_files[ext]
    info = probe(path)
    assert info.kind == "video"
    assert info.format_name == ext[1:]
    assert (info.width, info.height, info.n_frames, info.rotation_deg) == (64, 48, 16, 0)
    assert info.fps == pytest.approx(10.0)
    assert info.duration_s == pytest.approx(1.6)
    assert info.size_bytes == path.stat().st_size
    assert info.codec
    frames = list(iter_frames(path))
    assert [f.frame_idx for f in frames] == list(range(16))
    assert [frame_index_of(f.rgb_u8) for f in frames] == list(range(16))
    # the red corner proves RGB order (cv2 decodes BGR)
    red = frames[0].rgb_u8[3, 3]
    assert red[0] > 200
    assert max(red[1], red[2]) < 60


def test_sample_n_evenly_spaced_frames(video_files: dict[str, Path]) -> None:
    frames = list(sample_frames(video_files[".mp4"], n_frames=4))
    assert [f.frame_idx for f in frames] == [0, 5, 10, 15]
    assert [frame_index_of(f.rgb_u8) for f in frames] == [0, 5, 10, 15]
    assert [f.t_sec for f in frames] == pytest.approx([0.0, 0.5, 1.0, 1.5])
    assert all(f.rgb_u8.shape == (48, 64, 3) and f.rgb_u8.dtype == np.uint8 for f in frames)


def test_sample_more_frames_than_exist_gives_all_frames(video_files: dict[str, Path]) -> None:
    frames = list(sample_frames(video_files[".avi"], n_frames=32))
    assert [frame_index_of(f.rgb_u8) for f in frames] == list(range(16))


def test_sample_per_second_and_cap(video_files: dict[str, Path]) -> None:
    path = video_files[".mkv"]
    per_second = list(sample_frames(path, n_frames=None, fps=2.0))
    assert [f.frame_idx for f in per_second] == [0, 5, 10, 15]
    assert [frame_index_of(f.rgb_u8) for f in per_second] == [0, 5, 10, 15]
    capped = list(sample_frames(path, n_frames=3, fps=5.0))  # 5/s would give 8: cap to 3
    assert [f.frame_idx for f in capped] == [0, 8, 15]


def test_plan_frame_indices() -> None:
    assert plan_frame_indices(100, 25.0, n_frames=5) == [0, 25, 50, 74, 99]
    assert plan_frame_indices(3, 25.0, n_frames=32) == [0, 1, 2]
    assert plan_frame_indices(100, 25.0, n_frames=None, fps=1.0) == [0, 25, 50, 75]
    assert plan_frame_indices(100, 30.0, n_frames=None, fps=7.0) == sorted(
        {round(k * 30 / 7) for k in range(24)}
    )
    assert plan_frame_indices(0, 25.0, n_frames=8) == []
    for bad in ({"n_frames": 0}, {"n_frames": None}, {"n_frames": 4, "fps": -1.0}):
        with pytest.raises(ValueError, match=r"n_frames|fps"):
            plan_frame_indices(10, 25.0, **bad)  # type: ignore[arg-type]


def test_read_frame_by_index_and_out_of_range(video_files: dict[str, Path]) -> None:
    path = video_files[".mov"]
    for idx in (0, 7, 15):
        frame = read_frame(path, idx)
        assert (frame.frame_idx, frame_index_of(frame.rgb_u8)) == (idx, idx)
        assert frame.t_sec == pytest.approx(idx / 10.0)
    with pytest.raises(IndexError, match="16 frames"):
        read_frame(path, 16)
    with pytest.raises(IndexError):
        read_frame(path, -1)


def test_iter_frames_start_stop_step(video_files: dict[str, Path]) -> None:
    path = video_files[".webm"]
    frames = list(iter_frames(path, start=3, stop=11, step=3))
    assert [f.frame_idx for f in frames] == [3, 6, 9]
    assert [frame_index_of(f.rgb_u8) for f in frames] == [3, 6, 9]
    assert [f.frame_idx for f in iter_frames(path, start=14, stop=100)] == [14, 15]
    assert list(iter_frames(path, start=16)) == []
    with pytest.raises(ValueError, match=r"step >= 1"):
        iter_frames(path, step=0)


@pytest.mark.parametrize(
    ("rotation_deg", "corner"), [(90, "top_right"), (180, "bottom_right"), (270, "bottom_left")]
)
def test_rotation_metadata_is_applied(
    rotation_deg: int, corner: str, rotated_videos: dict[int, Path]
) -> None:
    path = rotated_videos[rotation_deg]
    info = probe(path)
    expected_wh = (48, 64) if rotation_deg in (90, 270) else (64, 48)
    assert (info.width, info.height, info.rotation_deg) == (*expected_wh, rotation_deg)
    frame = read_frame(path, 6)
    assert frame.rgb_u8.shape == (info.height, info.width, 3)
    assert frame_index_of(frame.rgb_u8) == 6
    h, w = frame.rgb_u8.shape[:2]
    corners = {
        "top_left": (2, 2),
        "top_right": (2, w - 3),
        "bottom_right": (h - 3, w - 3),
        "bottom_left": (h - 3, 2),
    }
    for name, (y, x) in corners.items():
        is_red = frame.rgb_u8[y, x, 0] > 200 and frame.rgb_u8[y, x, 1] < 60
        assert is_red == (name == corner), name


def test_small_frame_count_overreport_is_tolerated_and_logged(
    video_files: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _patch_avi_frame_count(video_files[".avi"], tmp_path / "lists_19.avi", 19)
    assert probe(path).n_frames == 16  # the stream's count, not the header's claim
    report = DecodeReport()
    with caplog.at_level(logging.WARNING, logger="engine.media"):
        frames = list(sample_frames(path, n_frames=8, report=report))
    # planned over the 16 frames that exist: nothing needs re-spacing
    indices = [f.frame_idx for f in frames]
    assert indices == [0, 2, 4, 6, 9, 11, 13, 15]
    assert [frame_index_of(f.rgb_u8) for f in frames] == indices
    assert "lists 19 frames but only 16 decode" in caplog.text
    assert (report.n_frames_header, report.n_frames_stream) == (19, 16)
    assert report.header_count_disagrees
    assert any("states 19 frames" in c for c in report.cautions())
    assert len(list(iter_frames(path))) == 16
    with pytest.raises(TruncatedMediaError, match="ends after 16 frames"):
        read_frame(path, 17)


def test_large_frame_count_overreport_fails_before_decoding(
    video_files: dict[str, Path], tmp_path: Path
) -> None:
    path = _patch_avi_frame_count(video_files[".avi"], tmp_path / "lists_40.avi", 40)
    got: list[int] = []
    report = DecodeReport()
    with pytest.raises(
        TruncatedMediaError, match="ends after 16 frames although the file lists 40"
    ):
        got.extend(f.frame_idx for f in sample_frames(path, n_frames=8, report=report))
    # the index knows the true count, so nothing is decoded before the error
    assert got == []
    assert report.n_frames_decoded == 0
    assert FRAME_COUNT_SLACK < 40 - 16
    # consecutive reading gives the frames that exist, then the error
    with pytest.raises(TruncatedMediaError, match="ends after 16 frames"):
        got.extend(f.frame_idx for f in iter_frames(path))
    assert got == list(range(16))


def test_a_forged_huge_frame_count_costs_nothing(
    video_files: dict[str, Path], tmp_path: Path
) -> None:
    # issue 18: a header claiming 2**31 - 1 frames with --fps 1 ran 122 s and 7 GB
    path = _patch_avi_frame_count(video_files[".avi"], tmp_path / "lists_2g.avi", 2**31 - 1)
    assert probe(path).n_frames == 16
    with pytest.raises(TruncatedMediaError, match="lists 2147483647"):
        next(sample_frames(path, n_frames=None, fps=1.0))
    assert len(plan_frame_indices(probe(path).n_frames, 10.0, n_frames=None, fps=1.0)) == 2


def test_cancel_stops_sampling(video_files: dict[str, Path]) -> None:
    token = CancelToken()
    frames = sample_frames(video_files[".mp4"], n_frames=8, cancel=token)
    first = next(frames)
    assert first.frame_idx == 0
    token.cancel()
    with pytest.raises(JobCancelled):
        next(frames)


def test_frame_size_limit_is_checked_before_decoding(video_files: dict[str, Path]) -> None:
    with pytest.raises(MediaTooLargeError, match="64x48"):
        probe(video_files[".mp4"], limits=MediaLimits(max_frame_pixels=64 * 48 - 1))
    assert probe(video_files[".mp4"], limits=MediaLimits(max_frame_pixels=64 * 48)).width == 64


def test_read_image_refuses_a_video(video_files: dict[str, Path]) -> None:
    with pytest.raises(UnsupportedFormatError, match="video"):
        read_image(video_files[".mp4"])


def test_decoder_reads_frames_in_any_order(video_files: dict[str, Path]) -> None:
    path = video_files[".mp4"]
    sniffed = Sniffed("video", "mp4", path.stat().st_size)
    with VideoDecoder(str(path), sniffed, MediaLimits()) as dec:
        for frame_idx in (10, 2, 15, 3, 0):
            frame = dec.read(frame_idx)
            assert frame is not None
            assert (frame.frame_idx, frame_index_of(frame.rgb_u8)) == (frame_idx, frame_idx)
        assert dec.report.n_seeks >= 3  # going back means seeking (or starting again)
        with pytest.raises(IndexError, match="out of range"):
            dec.read(16)


def test_tiny_video_fixture(tiny_video: Path) -> None:
    info = probe(tiny_video)
    assert (info.width, info.height, info.n_frames) == (64, 64, 16)
    long_video = write_video(tiny_video.parent / "long.mp4", n_frames=20)
    assert probe(long_video).n_frames == 20


def test_a_file_that_is_not_media_fails_on_the_call(tmp_path: Path) -> None:
    path = tmp_path / "statement.mp4"
    path.write_text("Witness statement, page 1\n", encoding="utf-8")
    with pytest.raises(NotMediaError, match="text file"):
        sample_frames(path)  # no next(): the error comes before iteration
    with pytest.raises(NotMediaError, match="text file"):
        iter_frames(path)


def test_cancel_stops_iteration_while_skipping(video_files: dict[str, Path]) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(JobCancelled):
        next(iter_frames(video_files[".mp4"], start=10, cancel=token))
