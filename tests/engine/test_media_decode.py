"""PyAV decoding: exact frame indices and times on every codec and container we can encode,
keyframe seeking whose work does not grow with the video, variable frame rate, resolution
changes and display matrices. Every test video is encoded here (tests/engine/av_media.py) and
every frame shows its own index, so a test can tell which frame it got."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from engine.media import (
    DecodeReport,
    iter_frames,
    probe,
    read_frame,
    sample_frames,
)
from engine.media.orient import Orientation, orientation_from_matrix, orientation_from_tag
from tests.engine.av_media import coded_index, encoder_available, write_av_video
from tests.engine.container_edit import find_boxes

_X265 = {"x265-params": "bframes=3:keyint=8:min-keyint=8:open-gop=1:log-level=error"}
# (file name, write_av_video arguments): codecs x containers x B-frames / open GOPs
CODECS = {
    "h264_cfr.mp4": {"options": {"g": "8", "bf": "0"}},
    "h264_bframes.mp4": {"options": {"g": "8", "bf": "3"}},
    "h264_bframes.mkv": {"container": "matroska", "options": {"g": "8", "bf": "3"}},
    "h264_bframes.ts": {"container": "mpegts", "options": {"g": "8", "bf": "3"}},
    "h264.flv": {"container": "flv", "options": {"g": "8", "bf": "2"}},
    "hevc_open_gop.mp4": {"codec": "libx265", "options": _X265},
    "hevc_open_gop.mkv": {"codec": "libx265", "container": "matroska", "options": _X265},
    "mjpeg.avi": {"codec": "mjpeg"},
    "mpeg4_bframes.avi": {"codec": "mpeg4", "options": {"g": "8", "bf": "2"}},
    "mpeg2_open_gop.mpg": {"codec": "mpeg2video", "container": "mpeg",
                           "options": {"g": "8", "bf": "2"}},
    "mpeg2.ts": {"codec": "mpeg2video", "container": "mpegts", "options": {"g": "8", "bf": "2"}},
    "vp9.webm": {"codec": "libvpx-vp9", "options": {"g": "8", "deadline": "realtime"}},
    "wmv2.asf": {"codec": "wmv2", "container": "asf", "options": {"g": "8"}},
}
# NOTE: milliseconds: bursts and pauses, as a phone records (17 to 200 ms per frame).
VFR_PTS_MS = [0, 50, 100, 250, 300, 317, 334, 351, 500, 700, 717, 734, 751, 768, 800, 900,
              1000, 1100, 1117, 1134, 1300, 1400, 1500, 1600]


def _encoder(name: str) -> str:
    return str(CODECS[name].get("codec", "libx264"))


@pytest.fixture(scope="module")
def codec_videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("codecs")
    return {name: write_av_video(out / name, n_frames=30, **kwargs)  # type: ignore[arg-type]
            for name, kwargs in CODECS.items() if encoder_available(_encoder(name))}


@pytest.mark.parametrize("name", list(CODECS))
def test_every_entry_point_gives_the_same_exact_frame(
    name: str, codec_videos: dict[str, Path]
) -> None:
    if name not in codec_videos:
        pytest.skip(f"this PyAV build cannot encode {_encoder(name)}")
    path = codec_videos[name]
    consecutive = list(iter_frames(path))
    assert [f.frame_idx for f in consecutive] == list(range(30))
    assert [coded_index(f.rgb_u8) for f in consecutive] == list(range(30))
    np.testing.assert_allclose([f.t_sec for f in consecutive], np.arange(30) / 10, atol=1e-3)
    sampled = list(sample_frames(path, n_frames=7))
    assert [f.frame_idx for f in sampled] == [0, 5, 10, 14, 19, 24, 29]
    for frame in sampled:  # the frame view (read_frame) shows exactly the analysed pixels
        np.testing.assert_array_equal(frame.rgb_u8, consecutive[frame.frame_idx].rgb_u8)
        alone = read_frame(path, frame.frame_idx)
        np.testing.assert_array_equal(alone.rgb_u8, frame.rgb_u8)
        assert alone.t_sec == frame.t_sec
    for frame_idx in (29, 3, 17, 16, 9):  # backwards and into open-GOP leading frames
        assert coded_index(read_frame(path, frame_idx).rgb_u8) == frame_idx


def test_probe_counts_frames_from_the_stream(codec_videos: dict[str, Path]) -> None:
    for name, path in codec_videos.items():
        info = probe(path)
        assert (info.kind, info.n_frames, info.width, info.height) == ("video", 30, 112, 64), name
        assert info.fps == pytest.approx(10.0, rel=0.02), name
        assert info.duration_s == pytest.approx(3.0, rel=0.02), name


@pytest.mark.parametrize("container", ["mp4", "matroska", "mpegts"])
def test_variable_frame_rate_times_come_from_the_file(container: str, tmp_path: Path) -> None:
    path = write_av_video(tmp_path / f"vfr.{container}", container=container, n_frames=24,
                          pts=VFR_PTS_MS, options={"g": "8", "bf": "2"})
    report = DecodeReport()
    frames = list(iter_frames(path, report=report))
    assert [coded_index(f.rgb_u8) for f in frames] == list(range(24))
    np.testing.assert_allclose([f.t_sec for f in frames], np.array(VFR_PTS_MS) / 1000, atol=1e-3)
    assert report.variable_frame_rate
    assert report.index_mode == "packet_scan"
    # sampled by time: the frames nearest 0, 0.4, 0.8, 1.2, 1.6 s, not every 6th frame
    # (0.4 s lies between frame 7 at 0.351 s and frame 8 at 0.5 s: position 7.33)
    sampled = list(sample_frames(path, n_frames=5))
    assert [f.frame_idx for f in sampled] == [0, 7, 14, 19, 23]
    per_second = list(sample_frames(path, n_frames=None, fps=2.0))
    assert [round(f.t_sec, 3) for f in per_second] == [0.0, 0.5, 1.0, 1.5]
    for frame in sampled + per_second:
        np.testing.assert_array_equal(read_frame(path, frame.frame_idx).rgb_u8, frame.rgb_u8)


def test_sampling_work_does_not_grow_with_length(tmp_path: Path) -> None:
    # 32 samples of a 3x longer video with the same keyframe interval (20 frames): each sample
    # costs at most one keyframe interval, whatever lies between the samples.
    work = {}
    for n_frames in (1200, 3600):
        path = write_av_video(tmp_path / f"len{n_frames}.mp4", n_frames=n_frames,
                              size_wh=(112, 32), options={"g": "20", "bf": "0",
                                                          "preset": "ultrafast"})
        report = DecodeReport()
        frames = list(sample_frames(path, n_frames=32, report=report))
        assert [coded_index(f.rgb_u8) for f in frames] == [f.frame_idx for f in frames]
        assert report.index_mode == "constant_rate"
        work[n_frames] = report.n_frames_decoded
    assert work[3600] <= 32 * 20
    assert work[3600] < 1.2 * work[1200]


def test_read_frame_seeks_instead_of_decoding_from_the_start(tmp_path: Path) -> None:
    path = write_av_video(tmp_path / "long.mp4", n_frames=600, size_wh=(112, 32),
                          options={"g": "25", "bf": "2", "preset": "ultrafast"})
    report = DecodeReport()
    frame = read_frame(path, 590, report=report)
    assert coded_index(frame.rgb_u8) == 590
    assert report.n_frames_decoded <= 25 + 3


def _concat_ts(tmp_path: Path, bframes: str) -> Path:
    first = write_av_video(tmp_path / "a.ts", container="mpegts", n_frames=12,
                           options={"g": "6", "bf": bframes})
    second = write_av_video(tmp_path / "b.ts", container="mpegts", n_frames=12,
                            size_wh=(160, 96), first_idx=12, options={"g": "6", "bf": bframes})
    path = tmp_path / f"two_sizes_bf{bframes}.ts"
    path.write_bytes(first.read_bytes() + second.read_bytes())
    return path


@pytest.mark.parametrize(("bframes", "mode"), [("0", "packet_scan"), ("2", "decode_order")])
def test_resolution_change_mid_stream(bframes: str, mode: str, tmp_path: Path) -> None:
    # Two encoders' streams in one MPEG-TS: frames 12+ are 160x96. With B-frames the second
    # stream's timestamps overlap the first's, so frames are numbered in decoding order.
    path = _concat_ts(tmp_path, bframes)
    report = DecodeReport()
    frames = list(iter_frames(path, report=report))
    assert report.index_mode == mode
    assert [coded_index(f.rgb_u8) for f in frames] == list(range(24))
    assert {f.rgb_u8.shape for f in frames[:12]} == {(64, 112, 3)}
    assert {f.rgb_u8.shape for f in frames[12:]} == {(96, 160, 3)}  # never a stale copy
    assert [(c.frame_idx, c.width, c.height) for c in report.resolution_changes] == [
        (0, 112, 64), (12, 160, 96)]
    assert report.n_resolution_changes == 1
    assert any("160x96 from frame 12" in c for c in report.cautions())
    for frame in sample_frames(path, n_frames=5):
        np.testing.assert_array_equal(frame.rgb_u8, frames[frame.frame_idx].rgb_u8)
    assert read_frame(path, 20).rgb_u8.shape == (96, 160, 3)


def _set_display_matrix(src: Path, dst: Path, abcd: tuple[int, int, int, int]) -> Path:
    """Copy an MP4 with the video track's 'tkhd' matrix set to a, b, c, d (in units of 1)."""
    buf = bytearray(src.read_bytes())
    a, b, c, d = abcd
    for off in find_boxes(buf, [b"moov", b"trak", b"tkhd"]):
        matrix_at = off + 8 + 4 + (32 if buf[off + 8] == 1 else 20) + 16
        matrix = [a << 16, b << 16, 0, c << 16, d << 16, 0, 0, 0, 1 << 30]
        buf[matrix_at : matrix_at + 36] = struct.pack(">9i", *matrix)
    dst.write_bytes(bytes(buf))
    return dst


@pytest.mark.parametrize(
    ("abcd", "rotation_deg", "mirrored"),
    [((-1, 0, 0, 1), 0, True), ((0, 1, 1, 0), 270, True), ((0, -1, 1, 0), 270, False)],
)
def test_display_matrix_mirror_and_rotation(
    abcd: tuple[int, int, int, int], rotation_deg: int, mirrored: bool, tmp_path: Path
) -> None:
    base = write_av_video(tmp_path / "base.mp4", n_frames=6, options={"bf": "0"})
    path = _set_display_matrix(base, tmp_path / "shown.mp4", abcd)
    stored = read_frame(base, 3).rgb_u8
    report = DecodeReport()
    shown = read_frame(path, 3, report=report).rgb_u8
    expected = Orientation(rotation_deg, mirrored).apply(stored)
    np.testing.assert_array_equal(shown, expected)
    assert (report.rotation_deg, report.mirrored) == (rotation_deg, mirrored)
    info = probe(path)
    assert info.rotation_deg == rotation_deg
    assert (info.width, info.height) == expected.shape[1::-1]


def test_orientation_helpers() -> None:
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    turned = Orientation(90, False).apply(rgb)
    assert turned.shape == (3, 2, 3)
    assert (turned[0, 1] == rgb[0, 0]).all()  # top-left goes to top-right when turning cw
    assert (Orientation(0, True).apply(rgb)[:, 0] == rgb[:, 2]).all()
    assert orientation_from_tag("f", {"rotate": "90"}) == Orientation(90, False)
    assert orientation_from_tag("f", {"rotate": "-90"}) == Orientation(270, False)
    assert orientation_from_tag("f", {"rotate": "abc"}) == Orientation()
    assert orientation_from_tag("f", {}) == Orientation()
    cw90 = struct.pack("=9i", 0, 1 << 16, 0, -(1 << 16), 0, 0, 0, 0, 1 << 30)
    assert orientation_from_matrix("f", cw90) == Orientation(90, False)
    assert orientation_from_matrix("f", b"\x00" * 36) == Orientation()  # degenerate: ignored
    assert orientation_from_matrix("f", b"short") == Orientation()


def test_mpeg_program_stream_without_timestamps_is_numbered_in_decoding_order(
    tmp_path: Path,
) -> None:
    # H.264 in an MPEG program stream: most packets carry no timestamp at all
    path = write_av_video(tmp_path / "h264.mpg", container="mpeg", n_frames=24,
                          options={"g": "8", "bf": "2"})
    report = DecodeReport()
    frames = list(iter_frames(path, report=report))
    assert report.index_mode == "decode_order"
    assert [coded_index(f.rgb_u8) for f in frames] == list(range(24))
    assert [f.t_sec for f in frames[:3]] == pytest.approx([0.0, 0.1, 0.2])
    for frame in sample_frames(path, n_frames=4):
        np.testing.assert_array_equal(read_frame(path, frame.frame_idx).rgb_u8, frame.rgb_u8)
