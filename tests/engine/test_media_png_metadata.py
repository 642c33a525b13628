"""A PNG whose text or ICC chunk inflates past Pillow's limit is still analysed (issue: adding a
kilobyte of compressed text to a fake must not avoid analysis)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.media import read_image


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png_with(chunk: bytes, *, before: bytes) -> tuple[bytes, np.ndarray]:
    rgb = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    data = buf.getvalue()
    at = data.index(before) - 4
    return data[:at] + chunk + data[at:], rgb


@pytest.mark.parametrize(
    ("kind", "payload", "before"),
    [
        (b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * 2_000_000), b"IEND"),
        (b"zTXt", b"Comment\x00\x00" + zlib.compress(b"B" * 3_000_000), b"IDAT"),
        (b"iCCP", b"bomb\x00\x00" + zlib.compress(b"\x00" * 4_000_000), b"IDAT"),
    ],
)
def test_oversized_metadata_chunks_do_not_hide_the_pixels(
    tmp_path: Path, kind: bytes, payload: bytes, before: bytes
) -> None:
    data, rgb = _png_with(_chunk(kind, payload), before=before)
    path = tmp_path / "bomb.png"
    path.write_bytes(data)
    with pytest.raises(ValueError, match="too large"):  # what Pillow alone does
        Image.open(io.BytesIO(data)).load()
    assert np.array_equal(read_image(str(path)), rgb)
    assert path.read_bytes() == data  # the evidence is never modified
