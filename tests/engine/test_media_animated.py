"""Animated GIF/APNG/WebP read as videos (frame times from the file), HEIC/AVIF stills."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.errors import MediaTooLargeError
from engine.media import (
    DecodeReport,
    MediaLimits,
    iter_frames,
    probe,
    read_frame,
    read_image,
    sample_frames,
)
from engine.media.anim_timing import frame_durations_s
from engine.media.sniff import sniff
from tests.engine.av_media import coded_frame, coded_index

DURATIONS_MS = [100, 200, 50, 0, 300]  # 0 ms is shown as 100 ms, as browsers do
SHOWN_S = [0.1, 0.2, 0.05, 0.1, 0.3]
FORMATS = {"gif": "GIF", "apng": "PNG", "webp": "WEBP"}


def _frames(n_frames: int = 5) -> list[Image.Image]:
    """Coded frames that differ in a small area only, so encoders store partial frames."""
    base = coded_frame(0, 112, 64)
    out = []
    for frame_idx in range(n_frames):
        rgb = base.copy()
        rgb[16:24, 16:112] = coded_frame(frame_idx, 112, 64)[16:24, 16:112]
        out.append(Image.fromarray(rgb))
    return out


def _save_animation(path: Path, fmt: str, **kw: object) -> Path:
    frames = _frames()
    buf = io.BytesIO()
    extra = {"lossless": True} if fmt == "WEBP" else {}
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], duration=DURATIONS_MS,
                   loop=0, **extra, **kw)  # type: ignore[arg-type]
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture(scope="module")
def animations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("animations")
    # the extension lies on purpose: formats come from the bytes
    return {name: _save_animation(out / f"{name}_anim.jpg", fmt) for name, fmt in FORMATS.items()}


@pytest.mark.parametrize("name", list(FORMATS))
def test_animation_is_a_video_with_the_files_frame_times(
    name: str, animations: dict[str, Path]
) -> None:
    path = animations[name]
    info = probe(path)
    assert (info.kind, info.format_name, info.n_frames) == ("video", name, 5)
    assert (info.width, info.height) == (112, 64)
    assert info.duration_s == pytest.approx(sum(SHOWN_S))
    assert info.fps == pytest.approx(5 / sum(SHOWN_S))
    report = DecodeReport()
    frames = list(iter_frames(path, report=report))
    assert [coded_index(f.rgb_u8) for f in frames] == [0, 1, 2, 3, 4]  # composited fully
    assert [f.t_sec for f in frames] == pytest.approx(np.cumsum([0, *SHOWN_S[:-1]]))
    assert (report.index_mode, report.variable_frame_rate) == ("animation", True)
    # by time: the frames nearest 0, 0.225 and 0.45 s
    sampled = list(sample_frames(path, n_frames=3))
    assert [f.frame_idx for f in sampled] == [0, 2, 4]
    for frame in sampled:
        np.testing.assert_array_equal(read_frame(path, frame.frame_idx).rgb_u8, frame.rgb_u8)
        np.testing.assert_array_equal(frames[frame.frame_idx].rgb_u8, frame.rgb_u8)


def test_frame_durations_from_headers(animations: dict[str, Path]) -> None:
    for name, path in animations.items():
        assert frame_durations_s(str(path), name) == pytest.approx(SHOWN_S), name
        assert len(frame_durations_s(str(path), name, limit=2)) == 2


def test_still_gif_png_webp_stay_images(tmp_path: Path) -> None:
    for fmt in FORMATS.values():
        path = tmp_path / f"still.{fmt.lower()}"
        _frames(1)[0].save(path, fmt)
        assert sniff(str(path)).kind == "image"
        assert probe(path).n_frames == 1


def test_apng_default_image_outside_the_animation_is_frame_zero(tmp_path: Path) -> None:
    path = _save_animation(tmp_path / "default.png", "PNG", default_image=True)
    frames = list(iter_frames(path))
    # Pillow (and the index) number the default image 0, then the four animation frames
    assert [coded_index(f.rgb_u8) for f in frames] == [0, 1, 2, 3, 4]
    assert probe(path).n_frames == 5


def test_truncated_animation_gives_the_frames_before_the_cut(tmp_path: Path) -> None:
    full = _save_animation(tmp_path / "full.gif", "GIF")
    data = full.read_bytes()
    path = tmp_path / "cut.gif"
    path.write_bytes(data[: int(len(data) * 0.8)])
    report = DecodeReport()
    frames = list(sample_frames(path, n_frames=5, report=report))
    assert frames
    assert [coded_index(f.rgb_u8) for f in frames] == [f.frame_idx for f in frames]


def test_animation_work_limit(animations: dict[str, Path]) -> None:
    limits = MediaLimits(max_animation_pixels=112 * 64 * 4)
    with pytest.raises(MediaTooLargeError, match="5 frames of 112x64"):
        probe(animations["gif"], limits=limits)
    assert probe(animations["gif"], limits=MediaLimits(max_animation_pixels=112 * 64 * 5))


def _oriented_still(path: Path, fmt: str) -> Path:
    """Landscape pixels (red square top-left) with EXIF orientation 6 (turn 90 degrees cw)."""
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    rgb = np.full((48, 64, 3), 90, np.uint8)
    rgb[:12, :12] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rgb).save(path, fmt, quality=95, exif=exif.tobytes())
    return path


@pytest.mark.parametrize(("fmt", "name"), [("HEIF", "heif"), ("AVIF", "avif")])
def test_heic_and_avif_stills_are_upright(fmt: str, name: str, tmp_path: Path) -> None:
    path = _oriented_still(tmp_path / f"photo_{name}.bin", fmt)
    info = probe(path)
    assert (info.kind, info.format_name, info.n_frames) == ("image", name, 1)
    assert (info.width, info.height, info.rotation_deg) == (48, 64, 90)
    rgb = read_image(path)
    assert rgb.shape == (64, 48, 3)
    # the red square stored top-left is shown top-right after a 90 degree clockwise turn
    assert rgb[3, 44, 0] > 200
    assert rgb[3, 44, 1] < 60
    assert rgb[3, 3, 0] < 150
    assert [f.frame_idx for f in sample_frames(path)] == [0]
