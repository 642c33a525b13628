"""Container facts of videos: PyAV tags and streams, MP4 boxes (times, rotation, edit lists)."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from engine.api import inspect_provenance, probe_media
from tests.provenance_media import write

_SECONDS_1904_TO_2024 = int((datetime(2024, 1, 1, tzinfo=UTC)
                             - datetime(1904, 1, 1, tzinfo=UTC)).total_seconds())


def _write_mp4(path: Path, *, rotation_ccw: int = 0, tags: dict[str, str] | None = None) -> Path:
    import av

    with av.open(str(path), "w", options={"movflags": "use_metadata_tags"}) as out:
        for key, value in (tags or {}).items():
            out.metadata[key] = value
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        if rotation_ccw:
            stream.set_display_rotation(rotation_ccw)
        for i in range(8):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), "rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_streams_tags_and_re_encoder(tmp_path: Path) -> None:
    path = _write_mp4(tmp_path / "tagged.mp4", tags={
        "creation_time": "2024-03-02T10:00:00Z", "com.apple.quicktime.make": "Apple",
        "location": "+52.5200+013.4050/"})
    record = inspect_provenance(path)
    container = record.container
    assert container is not None
    assert container.format_name.startswith("mov")
    assert container.box_order[0] == "ftyp"
    assert "moov" in container.box_order
    assert container.created_utc == "2024-03-02T10:00:00Z"
    (video,) = [s for s in container.streams if s.kind == "video"]
    assert (video.codec, video.width, video.height, video.n_frames) == ("h264", 64, 48, 8)
    assert video.profile is not None
    assert video.fps == pytest.approx(10.0)
    assert video.handler == "VideoHandler"
    assert record.gps is not None
    assert record.gps.lat_deg == pytest.approx(52.52)
    assert {i.code for i in record.inconsistencies} == {"reencoded"}
    assert any(e.group == "Container" and e.key == "com.apple.quicktime.make"
               for e in record.metadata)


@pytest.mark.parametrize("rotation_ccw", [90, 180, 270])
def test_rotation_matches_the_media_layer(tmp_path: Path, rotation_ccw: int) -> None:
    path = _write_mp4(tmp_path / f"rot{rotation_ccw}.mp4", rotation_ccw=rotation_ccw)
    container = inspect_provenance(path).container
    assert container is not None
    (video,) = [s for s in container.streams if s.kind == "video"]
    assert video.rotation_deg == probe_media(path).rotation_deg


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def _crafted_mp4(created: int, modified: int, edits: list[tuple[int, int]]) -> bytes:
    """A minimal MP4 header: mvhd, one track with tkhd, edit list, mdhd and hdlr."""
    matrix = struct.pack(">9i", 65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30)
    mvhd = _box(b"mvhd", b"\x00" * 4 + struct.pack(">IIII", created, modified, 1000, 5000)
                + b"\x00" * 80)
    tkhd = _box(b"tkhd", b"\x00\x00\x00\x03" + struct.pack(">IIII", created, modified, 1, 0)
                + struct.pack(">I", 5000) + b"\x00" * 16 + matrix + struct.pack(">II", 64 << 16,
                                                                                 48 << 16))
    elst = _box(b"elst", b"\x00" * 4 + struct.pack(">I", len(edits)) + b"".join(
        struct.pack(">IihH", duration, media_time, 1, 0) for duration, media_time in edits))
    mdhd = _box(b"mdhd", b"\x00" * 4 + struct.pack(">IIII", created, modified, 600, 3000)
                + b"\x00" * 4)
    hdlr = _box(b"hdlr", b"\x00" * 8 + b"vide" + b"\x00" * 12 + b"Cut Tool Handler\x00")
    trak = _box(b"trak", tkhd + _box(b"edts", elst) + _box(b"mdia", mdhd + hdlr))
    ftyp = _box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2")
    return ftyp + _box(b"moov", mvhd + trak) + _box(b"mdat", b"\x00" * 64)


def test_edit_list_segments_and_rewritten_times_are_flagged(tmp_path: Path) -> None:
    data = _crafted_mp4(_SECONDS_1904_TO_2024, _SECONDS_1904_TO_2024 + 86400 * 3,
                        [(2000, 0), (1000, -1), (2000, 1800)])
    record = inspect_provenance(write(tmp_path / "cut.mp4", data))
    container = record.container
    assert container is not None  # the demuxer refuses this header; the boxes still speak
    assert container.created_utc == "2024-01-01T00:00:00Z"
    assert container.modified_utc == "2024-01-04T00:00:00Z"
    assert [(e.segment_duration_s, e.media_time_s) for e in container.edit_lists] == [
        (2.0, 0.0), (1.0, None), (2.0, 3.0)]
    codes = {i.code: i.severity for i in record.inconsistencies}
    assert codes["edit_list_segments"] == "look"
    assert codes["video_dates_disagree"] == "look"
    assert container.streams[0].handler == "Cut Tool Handler"


def test_box_walk_survives_a_lying_size(tmp_path: Path) -> None:
    data = bytearray(_crafted_mp4(0, 0, [(1, 0)]))
    at = data.find(b"moov") - 4
    data[at : at + 4] = struct.pack(">I", 0x7FFFFFFF)  # moov claims 2 GB in a 400-byte file
    record = inspect_provenance(write(tmp_path / "lying.mp4", bytes(data)))
    assert any("'moov'" in note and "past the end of the file" in note for note in record.notes)
    record.to_dict()
