"""JPEG quantisation tables, quality estimate, and the double-compression hint."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.api import inspect_provenance
from engine.provenance.jpeg_double import STRONG_SCORE, WEAK_SCORE, double_compression_hint
from engine.provenance.jpeg_quant import estimate_quality, ijg_tables, read_jpeg_header
from tests.provenance_media import decode, jpeg_bytes, textured_rgb, write


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return textured_rgb(512, 640, seed=11)


@pytest.mark.parametrize("quality", [20, 50, 75, 90, 95])
def test_pillow_quality_is_estimated_exactly(photo: np.ndarray, quality: int) -> None:
    header = read_jpeg_header(jpeg_bytes(photo, quality))
    assert header is not None
    assert header.subsampling == "4:2:0"
    assert not header.progressive
    assert estimate_quality(header.table_of(0) or (), header.table_of(1)) == (quality, True)


def test_own_tables_are_not_called_standard() -> None:
    luma, chroma = ijg_tables(80)
    custom = tuple(int(v) + (3 if i % 5 == 0 else 0) for i, v in enumerate(luma))
    quality, exact = estimate_quality(custom, tuple(int(v) for v in chroma))
    assert not exact
    assert 75 <= quality <= 85


def test_progressive_444_header(photo: np.ndarray) -> None:
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, "JPEG", quality=85, progressive=True, subsampling=0)
    header = read_jpeg_header(buf.getvalue())
    assert header is not None
    assert header.progressive
    assert header.subsampling == "4:4:4"
    assert (header.width, header.height) == (640, 512)


def test_damaged_header_gives_none() -> None:
    assert read_jpeg_header(b"\xff\xd8\xff\xdb\x00\x43") is None
    assert read_jpeg_header(b"not a jpeg") is None


@pytest.mark.parametrize(("first", "last"), [(50, 90), (60, 85), (70, 95)])
def test_double_save_shows_signs(photo: np.ndarray, first: int, last: int) -> None:
    twice = jpeg_bytes(decode(jpeg_bytes(photo, first)), last)
    header = read_jpeg_header(twice)
    assert header is not None
    verdict, score, detail = double_compression_hint(twice, header)
    assert verdict == "signs of double compression"
    assert score is not None
    assert score >= STRONG_SCORE
    assert "not a sign of what" in detail


@pytest.mark.parametrize("quality", [75, 90, 95])
def test_single_save_shows_no_sign(photo: np.ndarray, quality: int) -> None:
    once = jpeg_bytes(photo, quality)
    header = read_jpeg_header(once)
    assert header is not None
    verdict, score, _ = double_compression_hint(once, header)
    assert verdict == "no sign"
    assert score is not None
    assert score < WEAK_SCORE


def test_tiny_image_is_not_assessed() -> None:
    tiny = jpeg_bytes(textured_rgb(32, 32), 90)
    header = read_jpeg_header(tiny)
    assert header is not None
    assert double_compression_hint(tiny, header)[0] == "not assessed"


def test_record_carries_the_jpeg_facts(tmp_path: Path, photo: np.ndarray) -> None:
    twice = jpeg_bytes(decode(jpeg_bytes(photo, 50)), 90)
    record = inspect_provenance(write(tmp_path / "twice.jpg", twice))
    assert record.jpeg is not None
    assert (record.jpeg.quality_estimate, record.jpeg.tables_match_ijg) == (90, True)
    assert len(record.jpeg.luma_table) == 64
    assert {i.code: i.severity for i in record.inconsistencies}["double_compression"] == "look"
