"""Damaged, truncated and hostile videos: skipped and counted frames, typed errors, no crash.

Issue 18 found that a damaged first frame made a 30-frame video "undecodable" and that a forged
frame count made sampling run for minutes; these cases and other hostile inputs generated here
must each give frames (with a report of what was skipped) or one typed ``MediaError``.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from engine.errors import (
    CorruptMediaError,
    MediaError,
    MediaTooLargeError,
    TruncatedMediaError,
    UnsupportedFormatError,
    ZeroFramesError,
)
from engine.media import DecodeReport, iter_frames, probe, read_frame, sample_frames
from tests.engine.av_media import coded_index, write_av_video
from tests.engine.bad_media import frame_index_of, write_video
from tests.engine.container_edit import find_boxes


def _packets(path: Path) -> list[tuple[int, int]]:
    """(file offset, size) of every video packet, in decoding order."""
    import av

    with av.open(str(path)) as container:
        return [(p.pos, p.size) for p in container.demux(video=0) if p.size]


def _damage(src: Path, dst: Path, packets: list[int], how: str = "noise") -> Path:
    """Copy ``src`` with the data of the given packets zeroed or overwritten with noise."""
    buf = bytearray(src.read_bytes())
    where = _packets(src)
    for number in packets:
        pos, size = where[number]
        if how == "zero":
            buf[pos : pos + size] = bytes(size)
        else:
            start, n_bytes = pos + size // 4, size // 2
            noise = np.random.default_rng(number).integers(0, 256, n_bytes, dtype=np.uint8)
            buf[start : start + n_bytes] = noise.tobytes()
    dst.write_bytes(bytes(buf))
    return dst


@pytest.mark.parametrize("how", ["zero", "noise"])
def test_damaged_first_frame_leaves_the_video_usable(how: str, tmp_path: Path) -> None:
    # issue 18: OpenCV refused such a 30-frame video as undecodable
    src = write_av_video(tmp_path / "src.avi", codec="mjpeg", n_frames=30)
    path = _damage(src, tmp_path / f"first_{how}.avi", [0], how)
    info = probe(path)
    assert (info.n_frames, info.width) == (30, 112)
    report = DecodeReport()
    frames = list(sample_frames(path, n_frames=8, report=report))
    assert [f.frame_idx for f in frames] == [1, 4, 8, 12, 17, 21, 25, 29]
    assert [coded_index(f.rgb_u8) for f in frames] == [f.frame_idx for f in frames]
    assert report.substitutions == [(0, 1)]
    assert (report.n_damaged, report.damaged_frame_indices) == (1, [0])
    assert any("damaged" in c for c in report.cautions())
    stored = json.loads(json.dumps(report.as_dict()))  # JSON-ready for the stored result
    assert stored["substitutions"] == [[0, 1]]
    assert stored["n_damaged"] == 1
    assert stored["header_count_disagrees"] is False
    with pytest.raises(CorruptMediaError, match="Frame 0 is damaged"):
        read_frame(path, 0)
    np.testing.assert_array_equal(read_frame(path, 1).rgb_u8, frames[0].rgb_u8)


def test_damaged_keyframe_of_a_cv2_video(tmp_path: Path) -> None:
    # the shape of issue 18's case: an OpenCV-written MPEG-4 file whose first frame is broken
    src = write_video(tmp_path / "src.mp4", n_frames=30)
    path = _damage(src, tmp_path / "first.mp4", [0], "zero")
    report = DecodeReport()
    frames = list(sample_frames(path, n_frames=32, report=report))
    assert frames
    assert frames[0].frame_idx == 1
    assert 0 in report.damaged_frame_indices
    assert probe(path).n_frames == 30


def test_damaged_frames_mid_stream_are_skipped_and_counted(tmp_path: Path) -> None:
    src = write_av_video(tmp_path / "src.mp4", n_frames=30, options={"g": "10", "bf": "0"})
    path = _damage(src, tmp_path / "mid.mp4", [13], "zero")
    report = DecodeReport()
    frames = list(iter_frames(path, report=report))
    assert 13 in report.damaged_frame_indices
    assert 13 not in [f.frame_idx for f in frames]
    # frames 0-12 and 20-29 (the next keyframe interval) are exact; frames decoded from the
    # damaged reference are returned but reported
    exact = [f for f in frames if f.frame_idx < 13 or f.frame_idx >= 20]
    assert [coded_index(f.rgb_u8) for f in exact] == [f.frame_idx for f in exact]
    assert set(report.suspect_frame_indices) <= set(range(14, 20))
    sampled_report = DecodeReport()
    sample = list(sample_frames(path, n_frames=None, fps=10 / 13, report=sampled_report))
    assert [f.frame_idx for f in sample] == [0, 14, 26]  # 13 was planned: 14 replaces it
    assert sampled_report.substitutions == [(13, 14)]


def test_every_frame_damaged_is_a_typed_error(tmp_path: Path) -> None:
    src = write_av_video(tmp_path / "src.avi", codec="mjpeg", n_frames=6)
    path = _damage(src, tmp_path / "all.avi", list(range(6)), "zero")
    with pytest.raises(ZeroFramesError, match="No frame"):
        probe(path)
    with pytest.raises(ZeroFramesError):
        list(sample_frames(path))
    with pytest.raises(ZeroFramesError):
        list(iter_frames(path))


def test_truncated_transport_stream_gives_the_frames_it_holds(tmp_path: Path) -> None:
    src = write_av_video(tmp_path / "src.ts", container="mpegts", n_frames=40,
                         options={"g": "10", "bf": "0"})
    data = src.read_bytes()
    path = tmp_path / "cut.ts"
    path.write_bytes(data[: len(data) // 2])
    frames = list(iter_frames(path))
    assert 5 < len(frames) < 40
    assert [coded_index(f.rgb_u8) for f in frames] == [f.frame_idx for f in frames]


def test_truncated_faststart_mp4_is_a_truncation(tmp_path: Path) -> None:
    src = write_av_video(tmp_path / "src.mp4", n_frames=40)
    import av

    with av.open(str(src)) as inp, av.open(str(tmp_path / "fast.mp4"), "w",
                                           options={"movflags": "+faststart"}) as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(video=0):
            if packet.size:
                packet.stream = stream
                out.mux(packet)
    data = (tmp_path / "fast.mp4").read_bytes()
    assert find_boxes(data, [b"moov"])[0] < find_boxes(data, [b"mdat"])[0]
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: int(len(data) * 0.6)])
    for read in (lambda: probe(path), lambda: list(sample_frames(path))):
        with pytest.raises(TruncatedMediaError):
            read()


def _zero_frames(path: Path, container: str) -> Path:
    import av

    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height = 64, 48
        out.start_encoding()  # the header is written, no frame ever is
    return path


def _audio_only(path: Path, container: str) -> Path:
    import av

    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream("aac", rate=8000)
        for i in range(10):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 8000, i * 1024
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_zero_length_and_audio_only_streams(tmp_path: Path) -> None:
    # a header and no frame: MP4 says so in its boxes; a Matroska header alone ends before
    # FFmpeg finds its first cluster, which reads as a cut file
    expected = {"mp4": ZeroFramesError, "matroska": TruncatedMediaError}
    for container, error in expected.items():
        path = _zero_frames(tmp_path / f"empty.{container}", container)
        with pytest.raises(error):
            probe(path)
        with pytest.raises(error):
            list(sample_frames(path))
    for container in ("mp4", "matroska"):
        path = _audio_only(tmp_path / f"sound.{container}", container)
        with pytest.raises(UnsupportedFormatError, match="audio"):
            probe(path)
        with pytest.raises(UnsupportedFormatError):
            list(sample_frames(path))


def _claim_size(src: Path, dst: Path, width: int, height: int) -> Path:
    """Copy an MJPEG AVI whose headers (avih, strf and every JPEG's SOF0) claim another size."""
    buf = bytearray(src.read_bytes())
    avih, strf = buf.find(b"avih"), buf.find(b"strf")
    buf[avih + 40 : avih + 48] = struct.pack("<II", width, height)
    buf[strf + 12 : strf + 20] = struct.pack("<ii", width, height)
    sof = buf.find(b"\xff\xc0")
    while sof >= 0:
        buf[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
        sof = buf.find(b"\xff\xc0", sof + 2)
    dst.write_bytes(bytes(buf))
    return dst


def test_huge_claimed_dimensions_are_refused_before_decoding(tmp_path: Path) -> None:
    # 9000x8000 (72 MP) claimed by a 20 kB file: refused from the header, nothing decoded
    src = write_av_video(tmp_path / "src.avi", codec="mjpeg", n_frames=5)
    path = _claim_size(src, tmp_path / "huge.avi", 9000, 8000)
    for read in (lambda: probe(path), lambda: next(sample_frames(path)),
                 lambda: read_frame(path, 2), lambda: next(iter_frames(path))):
        with pytest.raises(MediaTooLargeError, match="9000x8000"):
            read()
    # FFmpeg itself refuses 60000x60000 while probing (it reports 0x0): no frame decodes
    path = _claim_size(src, tmp_path / "huger.avi", 60000, 60000)
    with pytest.raises(ZeroFramesError):
        probe(path)


def test_non_utf8_file_name(tmp_path: Path) -> None:
    if os.name == "nt":
        pytest.skip("Windows file names are UTF-16")
    src = write_av_video(tmp_path / "src.mp4", n_frames=12)
    name = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"clip_\xff\xfe.mp4"))
    os.rename(src, name)
    assert [coded_index(f.rgb_u8) for f in sample_frames(name, n_frames=3)] == [0, 6, 11]
    assert probe(name).n_frames == 12


@pytest.mark.parametrize("seed", range(12))
def test_random_damage_never_escapes_as_anything_but_a_media_error(
    seed: int, tmp_path: Path
) -> None:
    # bytes flipped anywhere (headers, index, data) in three containers
    rng = np.random.default_rng(seed)
    kinds = [("mp4", {}), ("mkv", {"container": "matroska"}), ("ts", {"container": "mpegts"})]
    ext, kwargs = kinds[seed % 3]
    src = write_av_video(tmp_path / f"src.{ext}", n_frames=20, options={"g": "5"}, **kwargs)
    buf = bytearray(src.read_bytes())
    for pos in rng.integers(0, len(buf), size=int(rng.integers(1, 40))):
        buf[pos] = int(rng.integers(0, 256))
    path = tmp_path / f"fuzzed.{ext}"
    path.write_bytes(bytes(buf))
    for read in (lambda: probe(path), lambda: list(sample_frames(path, n_frames=6)),
                 lambda: list(iter_frames(path, step=3)), lambda: read_frame(path, 10)):
        with contextlib.suppress(MediaError, IndexError):  # anything else fails the test
            read()


def test_random_bytes_after_a_valid_header(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    src = write_av_video(tmp_path / "src.mkv", container="matroska", n_frames=10)
    head = src.read_bytes()[:200]
    path = tmp_path / "garbage.mkv"
    path.write_bytes(head + rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(MediaError):
        probe(path)
    with pytest.raises(MediaError):
        list(sample_frames(path))


def test_cv2_frame_codes_still_read(tmp_path: Path) -> None:
    # the shared corpus helper's videos (grey-coded index) decode to their own indices
    path = write_video(tmp_path / "clip.mkv", n_frames=12)
    assert [frame_index_of(f.rgb_u8) for f in iter_frames(path)] == list(range(12))
