"""Format sniffing from bytes, and streamed SHA-256 with progress and cancellation."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from engine.errors import NotMediaError, UnreadableMediaError, UnsupportedFormatError
from engine.jobs import CancelToken, JobCancelled, Progress
from engine.media import sha256_file
from engine.media.hashing import CHUNK_BYTES
from engine.media.sniff import sniff, sniff_bytes

_PAD = b"\x00" * 48


@pytest.mark.parametrize(
    ("header", "kind", "format_name"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image", "png"),
        (b"GIF89a\x01\x00", "image", "gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image", "webp"),
        (
            b"BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00" + _PAD,
            "image",
            "bmp",
        ),
        (b"II*\x00\x08\x00\x00\x00", "image", "tiff"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "video", "mp4"),
        (b"\x00\x00\x00\x1cftypmp42\x00\x00\x00\x00", "video", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video", "mov"),
        (b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat", "video", "mov"),
        (b"RIFF\x10\x00\x00\x00AVI LIST", "video", "avi"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "video", "mkv"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video", "webm"),
        (b"FLV\x01\x05\x00\x00\x00\x09", "video", "flv"),
        (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9", "video", "asf"),
        (b"\x00\x00\x01\xba\x44\x00", "video", "mpeg"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image", "heif"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "image", "heif"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "image", "avif"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", "image", "avif"),
    ],
)
def test_signatures(header: bytes, kind: str, format_name: str) -> None:
    assert sniff_bytes("f", header) == (kind, format_name)


@pytest.mark.parametrize(
    ("header", "error", "words"),
    [
        (b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00", UnsupportedFormatError, "audio"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", UnsupportedFormatError, "audio"),
        (b"ID3\x03\x00\x00\x00", UnsupportedFormatError, "audio"),
        (b"OggS\x00\x02", UnsupportedFormatError, "Ogg"),
        (b"%PDF-1.7\n", NotMediaError, "PDF"),
        (b"PK\x03\x04\x14\x00", NotMediaError, "ZIP"),
        ("Zeuge: Müller, 3. März\n".encode(), NotMediaError, "text"),
        (b"BM" + b"\xff" * 40, NotMediaError, "Unrecognised"),
        (bytes(range(200, 256)), NotMediaError, "Unrecognised"),
        (b"", NotMediaError, "empty"),
    ],
)
def test_not_supported_or_not_media(header: bytes, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        sniff_bytes("f", header)


def test_missing_and_folder_paths(tmp_path: Path) -> None:
    with pytest.raises(UnreadableMediaError, match="not found"):
        sniff(str(tmp_path / "nope.mp4"))
    with pytest.raises(UnreadableMediaError, match="folder"):
        sniff(str(tmp_path))


def _random_file(path: Path, n_bytes: int) -> Path:
    path.write_bytes(np.random.default_rng(1).integers(0, 256, n_bytes, np.uint8).tobytes())
    return path


def test_sha256_streams_with_progress(tmp_path: Path) -> None:
    n_bytes = 2 * CHUNK_BYTES + 12345
    path = _random_file(tmp_path / "evidence.bin", n_bytes)
    reports: list[Progress] = []
    digest = sha256_file(path, progress=reports.append)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [p.done for p in reports] == [CHUNK_BYTES, 2 * CHUNK_BYTES, n_bytes]
    assert {(p.stage, p.total) for p in reports} == {("hash", n_bytes)}
    assert sha256_file(str(path)) == digest


def test_sha256_of_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    reports: list[Progress] = []
    assert sha256_file(path, progress=reports.append) == hashlib.sha256(b"").hexdigest()
    assert [(p.done, p.total) for p in reports] == [(0, 0)]


def test_sha256_cancels_between_chunks(tmp_path: Path) -> None:
    path = _random_file(tmp_path / "big.bin", 3 * CHUNK_BYTES)
    token = CancelToken()
    seen: list[int] = []

    def cancel_after_first_chunk(progress: Progress) -> None:
        seen.append(progress.done)
        token.cancel()

    with pytest.raises(JobCancelled):
        sha256_file(path, progress=cancel_after_first_chunk, cancel=token)
    assert seen == [CHUNK_BYTES]


def test_sha256_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(UnreadableMediaError, match="not found"):
        sha256_file(tmp_path / "missing.mp4")
    with pytest.raises(UnreadableMediaError, match="folder"):
        sha256_file(tmp_path)
