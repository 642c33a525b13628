"""Still images: pixel formats, size limits checked before decoding, and typed errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from engine.errors import CorruptMediaError, MediaTooLargeError, UnsupportedFormatError
from engine.media import MediaLimits, iter_frames, probe, read_frame, read_image, sample_frames
from tests.engine.bad_media import huge_png_header


def _save(path: Path, img: Image.Image, fmt: str, **kw: object) -> Path:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    path.write_bytes(buf.getvalue())
    return path


def test_huge_header_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 9500x9500 is past Pillow's own warning threshold (89 MP) but below its hard error: our
    # limit must answer, and Pillow's DecompressionBombWarning must not escape (warnings are
    # errors in this test suite).
    path = huge_png_header(tmp_path / "big.png", 9500, 9500)
    assert path.stat().st_size < 1000

    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded before the size check")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(MediaTooLargeError, match=r"9500x9500 = 90\.2 megapixels"):
        read_image(path)
    with pytest.raises(MediaTooLargeError, match=r"over the limit of 50\.0 megapixels"):
        probe(path)


def test_pixel_limit_is_configurable(tmp_path: Path) -> None:
    path = _save(tmp_path / "small.png", Image.new("RGB", (64, 48)), "PNG")
    with pytest.raises(MediaTooLargeError, match="64x48"):
        read_image(path, limits=MediaLimits(max_frame_pixels=3000))
    assert read_image(path, limits=MediaLimits(max_frame_pixels=3072)).shape == (48, 64, 3)
    with pytest.raises(ValueError, match="positive"):
        MediaLimits(max_frame_pixels=0)


@pytest.mark.parametrize(
    ("mode", "fill", "expected"),
    [
        ("1", 1, [255, 255, 255]),
        ("L", 90, [90, 90, 90]),
        ("LA", (90, 0), [90, 90, 90]),
        ("RGBA", (1, 2, 3, 0), [1, 2, 3]),
        ("I;16", 65535, [255, 255, 255]),
    ],
)
def test_every_pixel_format_becomes_rgb_u8(
    mode: str, fill: object, expected: list[int], tmp_path: Path
) -> None:
    path = _save(
        tmp_path / f"img_{mode.replace(';', '_')}.png", Image.new(mode, (8, 6), fill), "PNG"
    )  # type: ignore[arg-type]
    rgb = read_image(path)
    assert rgb.shape == (6, 8, 3)
    assert rgb.dtype == np.uint8
    assert rgb[3, 4].tolist() == expected


def test_tiff_float_is_unsupported(tmp_path: Path) -> None:
    path = _save(tmp_path / "float.tif", Image.new("F", (8, 6), 0.5), "TIFF")
    with pytest.raises(UnsupportedFormatError, match="'F'"):
        read_image(path)


def test_a_colour_float_tiff_pillow_cannot_identify_is_explained_in_words(tmp_path: Path) -> None:
    """OpenCV writes 3-channel float32 TIFFs that Pillow does not identify; the message said
    only "cannot identify image file <_io.BufferedReader name=...>" before."""
    import cv2

    path = tmp_path / "float_rgb.tif"
    assert cv2.imwrite(str(path), np.full((6, 8, 3), 0.5, np.float32))
    with pytest.raises(CorruptMediaError) as raised:
        read_image(str(path))
    assert "floating-point colour" in raised.value.reason
    assert "BufferedReader" not in str(raised.value)


def test_image_is_a_one_frame_medium(tmp_path: Path) -> None:
    path = _save(tmp_path / "photo.jpg", Image.new("RGB", (40, 30), (10, 20, 30)), "JPEG")
    info = probe(path)
    assert (info.kind, info.format_name, info.n_frames, info.width, info.height) == (
        "image",
        "jpeg",
        1,
        40,
        30,
    )
    assert info.fps is None
    assert info.duration_s is None
    frames = list(sample_frames(path, n_frames=32))
    assert [(f.frame_idx, f.t_sec) for f in frames] == [(0, 0.0)]
    assert [f.frame_idx for f in iter_frames(path)] == [0]
    assert list(iter_frames(path, start=1)) == []
    assert read_frame(path, 0).rgb_u8.shape == (30, 40, 3)
    with pytest.raises(IndexError, match="frame 0 only"):
        read_frame(path, 1)


def test_image_file_is_opened_read_only(tmp_path: Path) -> None:
    path = _save(tmp_path / "evidence.png", Image.new("RGB", (8, 8), (1, 2, 3)), "PNG")
    path.chmod(0o444)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    read_image(path)
    probe(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
