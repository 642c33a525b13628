"""Corrupt and hostile metadata: each gives a clear note, never an exception or a stopped read."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.api import inspect_provenance
from engine.provenance.exif_meta import MAX_ENTRIES
from engine.provenance.png_chunks import strip_oversized_metadata_chunks
from engine.provenance.textutil import MAX_VALUE_CHARS
from tests.provenance_media import jpeg_bytes, textured_rgb, with_metadata, write


def _png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((48, 64, 3), 120, np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _with_chunk(png: bytes, chunk: bytes) -> bytes:
    return png[:33] + chunk + png[33:]  # after the signature and IHDR


@pytest.mark.parametrize(("kind", "body", "said"), [
    (b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * 3_000_000, 9), "zTXt chunk 'Comment'"),
    (b"iCCP", b"icc\x00\x00" + zlib.compress(b"\x00" * 3_000_000, 9), "ICC profile chunk"),
    (b"iTXt", b"Description\x00\x01\x00\x00\x00" + zlib.compress(b"B" * 2_000_000, 9),
     "iTXt chunk 'Description'"),
])
def test_png_chunk_inflating_past_a_megabyte_is_a_note(tmp_path: Path, kind: bytes,
                                                       body: bytes, said: str) -> None:
    data = _with_chunk(_png(), _chunk(kind, body))
    with pytest.raises(ValueError, match="MAX_TEXT_CHUNK"):  # what Pillow does with it
        Image.open(io.BytesIO(data)).load()
    record = inspect_provenance(write(tmp_path / "bomb.png", data))
    assert any(said in note and "inflates past 1 MB" in note for note in record.notes)
    assert record.c2pa.state == "absent"  # the rest of the read went on
    stripped = strip_oversized_metadata_chunks(data)
    pixels = np.asarray(Image.open(io.BytesIO(stripped)).convert("RGB"))
    assert pixels.shape == (48, 64, 3)  # same pixels, decodable once the bomb is gone
    assert int(pixels[0, 0, 0]) == 120


def test_huge_exif_values_are_cut(tmp_path: Path) -> None:
    data = with_metadata(jpeg_bytes(textured_rgb(64, 64)),
                         {"Exif.Image.ImageDescription": "x" * 60_000})
    record = inspect_provenance(write(tmp_path / "long.jpg", data))
    (item,) = [e for e in record.metadata if e.key == "Exif.Image.ImageDescription"]
    assert item.truncated
    assert len(item.value) == MAX_VALUE_CHARS


def test_thousands_of_xmp_entries_are_bounded(tmp_path: Path) -> None:
    props = " ".join(f't:p{i}="v{i}"' for i in range(3000))
    packet = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
              '02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:t="http://example.test/'
              f't/" {props}/></rdf:RDF></x:xmpmeta>').encode()
    png = _with_chunk(_png(), _chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + packet))
    record = inspect_provenance(write(tmp_path / "many.png", png))
    assert len(record.metadata) <= MAX_ENTRIES + 5
    assert "only the first 1500 metadata entries are kept (3000 found)" in record.notes


def test_malformed_exif_block_is_a_note(tmp_path: Path) -> None:
    body = jpeg_bytes(textured_rgb(64, 64))
    app1 = b"Exif\x00\x00II*\x00\xff\xff\x00\x00" + b"\x00" * 20
    data = body[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + body[2:]
    record = inspect_provenance(write(tmp_path / "badexif.jpg", data))
    assert any(note.startswith("exiv2") for note in record.notes)
    assert record.jpeg is not None  # the JPEG facts are still read
    assert record.c2pa.state == "absent"


def test_invalid_utf8_and_control_characters_are_made_safe(tmp_path: Path) -> None:
    data = with_metadata(jpeg_bytes(textured_rgb(64, 64)),
                         {"Exif.Image.Artist": "Eve\x1b[31m", "Exif.Image.Make": "Ca\x07non"})
    record = inspect_provenance(write(tmp_path / "ctl.jpg", data))
    values = {e.key: e.value for e in record.metadata}
    assert "\x1b" not in values["Exif.Image.Artist"]
    assert "\x07" not in values["Exif.Image.Make"]
    record.to_dict()  # JSON-safe


@pytest.mark.parametrize(("name", "data", "said"), [
    ("empty.jpg", b"", "empty"),
    ("random.bin", bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)),
     "Not a recognised media format"),
    ("truncated.jpg", jpeg_bytes(textured_rgb(64, 64))[:300], ""),
    ("box.mp4", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\xff\xff\xff\xf0moov",
     "past the end of the file"),
])
def test_broken_files_never_raise(tmp_path: Path, name: str, data: bytes, said: str) -> None:
    record = inspect_provenance(write(tmp_path / name, data))
    assert record.sha256 is not None
    assert said in " ".join(record.notes)
    record.to_dict()


def test_unreadable_paths_give_a_record_with_the_reason(tmp_path: Path) -> None:
    missing = inspect_provenance(tmp_path / "missing.jpg")
    assert "No such file" in missing.notes[0]
    folder = inspect_provenance(tmp_path)
    assert "not a regular file" in folder.notes[0] or "directory" in folder.notes[0]


def test_file_changed_since_hashing_is_not_described(tmp_path: Path) -> None:
    path = write(tmp_path / "changed.jpg", jpeg_bytes(textured_rgb(64, 64)))
    record = inspect_provenance(path, sha256="0" * 64)
    assert record.metadata == ()
    assert "changed between hashing and the metadata read" in record.notes[0]
