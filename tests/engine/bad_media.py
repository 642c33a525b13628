"""Generators of odd and broken media files, shared by the tests and scripts/make_bad_corpus.py.

Written from scratch with cv2, Pillow and the standard library (no FFmpeg binary, no downloads),
so the corpus is the same on every machine and nothing binary is committed. Synthetic video
frames encode their index (grey ``10 + 12 * frame_idx``) and have a red top-left square, so a
test can tell which frame it got and which way up it is.
"""

from __future__ import annotations

import io
import os
import struct
import wave
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from engine.errors import (
    MediaError,
    MediaTooLargeError,
    NotMediaError,
    TruncatedMediaError,
    UnreadableMediaError,
    UnsupportedFormatError,
    ZeroFramesError,
)
from tests.engine import face_media
from tests.engine.container_edit import find_boxes, rotate_mp4, vary_frame_rate
from tests.engine.container_edit import patch_avi_frame_count as _patch_avi_frame_count

__all__ = ["CASES", "Case", "frame_index_of", "make_all", "rotate_mp4", "write_video"]

VIDEO_W, VIDEO_H = 64, 48
_FOURCC = {".mp4": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG", ".webm": "VP80"}


def _synthetic_frame_rgb(frame_idx: int, width: int, height: int) -> np.ndarray:
    """Frame ``frame_idx`` of every synthetic video: index-coded grey, red corner, pale ellipse."""
    import cv2

    grey = 10 + 12 * (frame_idx % 21)  # NOTE: codes indices 0..20 (grey up to 250)
    rgb = np.full((height, width, 3), grey, np.uint8)
    rgb[:12, :12] = (255, 0, 0)
    center = (width // 2, height // 2)
    axes = (width // 6, height // 4)
    cv2.ellipse(rgb, center, axes, 0, 0, 360, (230, 190, 160), thickness=-1)
    return rgb


def frame_index_of(rgb_u8: np.ndarray) -> int:
    """Recover the index (modulo 21) a synthetic frame encodes, in any orientation.

    The background covers most of the frame, so the median green value is the background grey
    (the red square has no green, the ellipse is a fixed colour).
    """
    grey = float(np.median(rgb_u8[:, :, 1]))
    return round((grey - 10) / 12)


def write_video(
    path: Path,
    *,
    n_frames: int = 16,
    fps: float = 10.0,
    size_wh: tuple[int, int] = (VIDEO_W, VIDEO_H),
) -> Path:
    """Write a synthetic video with cv2; the container follows ``path``'s extension."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    # cv2 cannot write non-ASCII paths on every platform: write beside it, then rename.
    tmp = path.parent / f"_writing{path.suffix}"
    code = _FOURCC[path.suffix.lower()]
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*code), fps, size_wh)
    if not writer.isOpened():
        raise RuntimeError(f"cv2 cannot write {code} into {path.suffix}")
    for frame_idx in range(n_frames):
        rgb = _synthetic_frame_rgb(frame_idx, *size_wh)
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    os.replace(tmp, path)
    return path


# --- byte-level helpers -------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def huge_png_header(path: Path, width: int = 20000, height: int = 20000) -> Path:
    """A tiny PNG whose header claims ``width`` x ``height`` (one row of data follows)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    idat = zlib.compress(b"\x00" * (width + 1))
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
    path.write_bytes(data + _png_chunk(b"IEND", b""))
    return path


def _save_pil(path: Path, img: Image.Image, fmt: str, **kw: object) -> Path:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    path.write_bytes(buf.getvalue())
    return path


def _cv2_png(path: Path, array: np.ndarray) -> Path:
    import cv2

    ok, encoded = cv2.imencode(".png", array)
    assert ok
    path.write_bytes(encoded.tobytes())
    return path


def _truncate(src: Path, dst: Path, keep_fraction: float = 0.5) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep_fraction)])
    return dst


# --- the corpus ---------------------------------------------------------------------------------

Maker = Callable[[Path, np.random.Generator], Path]


@dataclass(frozen=True)
class Case:
    """One corpus file: how to make it, and what reading and analysing it must give.

    Attributes:
        expect: the error type a reader must raise, or ``None`` when the file is valid (if
            odd) and must read correctly.
        status: the analysis status it must get (``ok``/``no_face``/``error``); empty means
            ``error`` for a broken file and ``no_face`` for a valid one.
        n_tracks: face tracks an ``ok`` analysis must find.
        track_gap: one track must miss sampled frames in the middle and then resume.
        fails_late: headers and frame 0 read; the error comes once decoding reaches the
            missing part (so the app imports the file and the analysis reports the error).
    """

    name: str
    make: Maker
    expect: type[MediaError] | None
    note: str
    status: str = ""
    n_tracks: int = 0
    track_gap: bool = False
    fails_late: bool = False

    @property
    def analysis_status(self) -> str:
        """The status a full analysis of this file must give."""
        return self.status or ("error" if self.expect is not None else "no_face")


def _base_video(out_dir: Path, suffix: str = ".mp4") -> Path:
    return write_video(out_dir / f"_base{suffix}")


def _rgb_test_image() -> Image.Image:
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[:, :, 0] = np.arange(64, dtype=np.uint8)[None, :] * 4
    rgb[:, :, 1] = 120
    rgb[:12, :12] = (255, 0, 0)
    return Image.fromarray(rgb)


def _pil(filename: str, image: Callable[[], Image.Image], fmt: str, **kw: object) -> Maker:
    """A maker that saves ``image()`` with Pillow as ``filename``."""
    return lambda out_dir, _rng: _save_pil(out_dir / filename, image(), fmt, **kw)


def _bytes(filename: str, data: bytes) -> Maker:
    """A maker that writes ``data`` as ``filename``."""

    def make(out_dir: Path, _rng: np.random.Generator) -> Path:
        (out_dir / filename).write_bytes(data)
        return out_dir / filename

    return make


def _cut_image(filename: str, fmt: str, **kw: object) -> Maker:
    """A maker for an image file cut in half."""

    def make(out_dir: Path, _rng: np.random.Generator) -> Path:
        full = _save_pil(out_dir / f"_full_{filename}", _rgb_test_image(), fmt, **kw)
        return _truncate(full, out_dir / filename)

    return make


def _make_truncated_video(out_dir: Path, suffix: str) -> Path:
    return _truncate(_base_video(out_dir, suffix), out_dir / f"truncated_half{suffix}")


def _make_mp4_without_index(out_dir: Path, _rng: np.random.Generator) -> Path:
    """The recording stopped before the 'moov' index was written (cv2 writes it last)."""
    data = _base_video(out_dir).read_bytes()
    moov_at = find_boxes(data, [b"moov"])[0]
    return _bytes("no_index.mp4", data[:moov_at])(out_dir, _rng)


def _make_random_bytes(out_dir: Path, rng: np.random.Generator) -> Path:
    return _bytes("random_bytes.mp4", rng.integers(0, 256, 4096, np.uint8).tobytes())(out_dir, rng)


def _make_wav_mp4(out_dir: Path, _rng: np.random.Generator) -> Path:
    path = out_dir / "sound.mp4"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x00" * 800)
    return path


def _make_audio_only_mp4(out_dir: Path, _rng: np.random.Generator) -> Path:
    """An mp4 whose only track is declared as sound (its handler 'vide' becomes 'soun')."""
    buf = bytearray(_base_video(out_dir).read_bytes())
    for off in find_boxes(buf, [b"moov", b"trak", b"mdia", b"hdlr"]):
        assert buf[off + 16 : off + 20] == b"vide"
        buf[off + 16 : off + 20] = b"soun"
    return _bytes("audio_only.mp4", bytes(buf))(out_dir, _rng)


def _make_folder_mp4(out_dir: Path, _rng: np.random.Generator) -> Path:
    (out_dir / "folder.mp4").mkdir(exist_ok=True)
    return out_dir / "folder.mp4"


def _make_zero_frames(out_dir: Path, suffix: str) -> Path:
    import cv2

    tmp = out_dir / f"_zero{suffix}"
    fourcc = cv2.VideoWriter_fourcc(*_FOURCC[suffix])
    cv2.VideoWriter(str(tmp), fourcc, 10.0, (VIDEO_W, VIDEO_H)).release()  # no frame written
    return tmp.rename(out_dir / f"zero_frames{suffix}")


def _make_overcount_avi(out_dir: Path, _rng: np.random.Generator) -> Path:
    """16 frames whose header lists 66: a stream that ends long before the listed count."""
    return _patch_avi_frame_count(_base_video(out_dir, ".avi"), out_dir / "lists_66.avi", 66)


def _gray16() -> np.ndarray:
    return (np.arange(64, dtype=np.uint16)[None, :] * 1040).repeat(48, axis=0)


def _bgr16_red() -> np.ndarray:
    bgr16 = np.zeros((48, 64, 3), np.uint16)
    bgr16[:, :, 2] = 65535  # red, in cv2's BGR order
    bgr16[:, :, 1] = 257 * 100
    return bgr16


def _palette_image() -> Image.Image:
    img = Image.new("P", (64, 48), 1)
    img.putpalette([0, 0, 0, 10, 200, 30, 250, 20, 40] + [0] * (256 - 3) * 3)
    img.paste(2, (0, 0, 12, 12))
    return img


def _rgba_image() -> Image.Image:
    rgba = np.zeros((48, 64, 4), np.uint8)
    rgba[..., :3] = (40, 80, 160)
    rgba[..., 3] = 128
    return Image.fromarray(rgba)


def _exif_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def _make_animated_gif(out_dir: Path, _rng: np.random.Generator) -> Path:
    frames = [Image.new("RGB", (64, 48), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    path = out_dir / "animated.gif"
    return _save_pil(path, frames[0], "GIF", save_all=True, append_images=frames[1:], loop=0)


def _make_png_text_bomb(out_dir: Path, _rng: np.random.Generator) -> Path:
    import io
    import struct
    import zlib

    buf = io.BytesIO()
    _rgb_test_image().save(buf, "PNG")
    data = buf.getvalue()
    payload = b"Comment\x00\x00" + zlib.compress(b"A" * 4_000_000)
    crc = zlib.crc32(b"zTXt" + payload) & 0xFFFFFFFF
    chunk = struct.pack(">I", len(payload)) + b"zTXt" + payload + struct.pack(">I", crc)
    at = data.index(b"IEND") - 4
    path = out_dir / "text_bomb.png"
    path.write_bytes(data[:at] + chunk + data[at:])
    return path


def _make_deep_path_image(out_dir: Path, _rng: np.random.Generator) -> Path:
    deep = out_dir.joinpath(*[f"level_{i:02d}_" + "d" * 40 for i in range(8)])  # > 400 chars
    deep.mkdir(parents=True, exist_ok=True)
    return _save_pil(deep / "deep_path_image.png", _rgb_test_image(), "PNG", compress_level=1)


def _make_vfr_video(out_dir: Path, _rng: np.random.Generator) -> Path:
    return vary_frame_rate(_base_video(out_dir), out_dir / "variable_frame_rate.mp4")


_TEXT = b"Interview notes, 3 March.\nNot a video at all.\n" * 20
_PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\n" + b"\x00" * 200

# fmt: off
CASES: tuple[Case, ...] = (
    Case("empty", _bytes("empty.mp4", b""), NotMediaError, "zero-byte file named .mp4"),
    Case("truncated_mp4", lambda d, _: _make_truncated_video(d, ".mp4"), TruncatedMediaError,
         "mp4 cut in half"),
    Case("mp4_no_index", _make_mp4_without_index, TruncatedMediaError, "mp4 without 'moov'"),
    Case("truncated_avi", lambda d, _: _make_truncated_video(d, ".avi"), TruncatedMediaError,
         "avi cut in half"),
    Case("truncated_jpg", _cut_image("truncated_half.jpg", "JPEG", quality=90),
         TruncatedMediaError, "jpg cut in half"),
    Case("truncated_png", _cut_image("truncated_half.png", "PNG"), TruncatedMediaError,
         "png cut in half"),
    Case("truncated_webp", _cut_image("truncated_half.webp", "WEBP", quality=90),
         TruncatedMediaError, "webp cut in half"),
    Case("random_bytes", _make_random_bytes, NotMediaError, "4 KiB of random bytes as .mp4"),
    Case("text_as_mp4", _bytes("notes.mp4", _TEXT), NotMediaError, "text file named .mp4"),
    Case("pdf_as_jpg", _bytes("report.jpg", _PDF), NotMediaError, "PDF named .jpg"),
    Case("wav_as_mp4", _make_wav_mp4, UnsupportedFormatError, "WAV audio named .mp4"),
    Case("audio_only_mp4", _make_audio_only_mp4, UnsupportedFormatError, "mp4, sound track only"),
    Case("huge_png_header", lambda d, _: huge_png_header(d / "huge_20000x20000.png"),
         MediaTooLargeError, "20000x20000 PNG header, a few hundred bytes"),
    Case("folder_as_mp4", _make_folder_mp4, UnreadableMediaError, "a folder named .mp4"),
    Case("zero_frames_mp4", lambda d, _: _make_zero_frames(d, ".mp4"), ZeroFramesError,
         "mp4 with no frame"),
    Case("zero_frames_avi", lambda d, _: _make_zero_frames(d, ".avi"), ZeroFramesError,
         "avi with no frame"),
    Case("overcount_avi", _make_overcount_avi, TruncatedMediaError, "lists 66 frames, holds 16",
         fails_late=True),
    Case("one_by_one", _pil("one_pixel.png", lambda: Image.new("RGB", (1, 1), (9, 99, 199)),
         "PNG"), None, "1x1 PNG"),
    Case("png_16bit_gray", lambda d, _: _cv2_png(d / "gray16.png", _gray16()), None,
         "16-bit greyscale PNG"),
    Case("png_16bit_rgb", lambda d, _: _cv2_png(d / "rgb16.png", _bgr16_red()), None,
         "16-bit RGB PNG"),
    Case("palette_png", _pil("palette.png", _palette_image, "PNG", transparency=0), None,
         "palette PNG with transparency"),
    Case("rgba_png", _pil("alpha.png", _rgba_image, "PNG"), None, "PNG with alpha"),
    Case("cmyk_jpg", _pil("cmyk.jpg", lambda: Image.new("RGB", (64, 48), (200, 40, 60))
         .convert("CMYK"), "JPEG", quality=95), None, "CMYK JPEG"),
    Case("gray_jpg", _pil("gray.jpg", lambda: Image.new("L", (64, 48), 77), "JPEG", quality=95),
         None, "greyscale JPEG"),
    Case("exif_rotated_jpg", _pil("exif_orientation6.jpg", _rgb_test_image, "JPEG", quality=95,
         exif=_exif_orientation(6)), None, "landscape pixels, EXIF orientation 6 (turn 90° cw)"),
    Case("animated_gif", _make_animated_gif, None, "3-frame GIF (a video: each frame read)"),
    Case("png_text_bomb", _make_png_text_bomb, None,
         "PNG with a 1 KB zTXt chunk inflating to 4 MB (Pillow alone refuses it)"),
    Case("png_named_mp4", _pil("really_a_png.mp4", _rgb_test_image, "PNG"), None,
         "PNG with a .mp4 extension"),
    Case("mp4_named_jpg", lambda d, _: write_video(d / "_named.mp4").rename(
         d / "really_a_video.jpg"), None, "mp4 with a .jpg extension"),
    Case("bmp", _pil("image.bmp", _rgb_test_image, "BMP"), None, "BMP"),
    Case("webp", _pil("image.webp", _rgb_test_image, "WEBP", lossless=True), None,
         "lossless WebP"),
    Case("unicode_video", lambda d, _: write_video(d / "évidence_证据_видео.mp4", fps=12), None,
         "non-ASCII video file name"),
    Case("unicode_image", _pil("фото_照片_é.jpg", _rgb_test_image, "JPEG", quality=95), None,
         "non-ASCII image file name"),
    Case("long_name_video", lambda d, _: write_video(d / ("long_" + "n" * 240 + ".mp4"), fps=15),
         None, "249-byte file name, near the 255-byte limit"),
    Case("deep_path_image", _make_deep_path_image, None, "path over 400 characters"),
    Case("vfr_mp4", _make_vfr_video, None, "variable frame rate: 20, 6.7, 13.3, 8 fps in turn"),
    Case("rotated_phone_mp4", face_media.make_rotated_phone_video, None,
         "phone portrait clip: 256x192 pixels, 90° display matrix", "ok", 1),
    Case("face_leaves_returns", face_media.make_face_returns_video, None,
         "face, 8 face-free frames, the face again", "ok", 1, track_gap=True),
    Case("two_faces_video", face_media.make_two_faces_video, None, "two faces side by side",
         "ok", 2),
    Case("three_faces_image", face_media.make_three_faces_image, None, "three faces in a row",
         "ok", 3),
    Case("face_photo", face_media.make_face_photo, None, "one face: the control item", "ok", 1),
    Case("unicode_dir_face", face_media.make_face_in_unicode_folder, None,
         "face photo in a non-ASCII folder", "ok", 1),
    Case("tiny_face_image", face_media.make_tiny_face_image, None,
         "a face of ~18 px: found, too small to score"),
)
# fmt: on


def make_all(out_dir: Path, rng: np.random.Generator) -> dict[str, Path]:
    """Write every case into ``out_dir``; return name -> path.

    The intermediate files the makers need (names starting with '_') are removed, so a batch
    over ``out_dir`` sees one input per case (the folder named ``folder.mp4`` holds none).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {case.name: case.make(out_dir, rng) for case in CASES}
    for helper in out_dir.glob("_*"):
        helper.unlink()
    return paths
