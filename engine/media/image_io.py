"""Still images to (H, W, 3) uint8 RGB, whatever the file stores.

Bytes are read with Python and decoded with Pillow, never with ``cv2.imread``, which cannot open
non-ASCII paths on Windows. Header dimensions are checked against the limits before decoding.

Conversions, chosen so a detector sees the stored picture, upright, in one pixel format:
- EXIF orientation is applied (a portrait phone photo is upright).
- Grayscale and bilevel images are repeated to three channels; palette images use their colours;
  CMYK (including Adobe's inverted CMYK JPEGs) and YCbCr are converted by Pillow.
- 16-bit samples are scaled to 8 bits (``round(v / 257)``), not clipped.
- Alpha is dropped: the stored colour values are analysed unchanged, because compositing onto a
  background would put pixels into the analysis that are not in the evidence.
- HEIC/HEIF through pillow-heif (libheif), AVIF through Pillow's own plugin (libavif). libheif
  applies the file's rotation and mirror ('irot'/'imir') itself and resets the EXIF orientation,
  so the pixels come out upright like every other still; ``rotation_deg`` reports what it did.
- Animated GIF/WebP/PNG are videos (see :mod:`engine.media.animation`), which decodes their
  frames with the functions here; a still image that Pillow finds animated after all (the
  sniffer counted one frame) gives its first frame, and a warning is logged.
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
import warnings
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.errors import (
    CorruptMediaError,
    MediaTooLargeError,
    TruncatedMediaError,
    UnreadableMediaError,
    UnsupportedFormatError,
)
from engine.media.limits import MediaLimits, check_frame_size
from engine.media.sniff import Sniffed
from engine.types import MediaInfo

__all__ = [
    "decode_image",
    "exif_rotation_deg",
    "image_info",
    "open_pil",
    "pil_to_rgb_u8",
    "upright",
]

logger = logging.getLogger(__name__)

# EXIF orientation tag values -> clockwise rotation in degrees (5 and 7 also mirror).
_EXIF_ROTATION_DEG = {1: 0, 2: 0, 3: 180, 4: 180, 5: 90, 6: 90, 7: 270, 8: 270}
_EXIF_ORIENTATION_TAG = 0x0112
_WARNINGS_LOCK = threading.Lock()
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)


def image_info(path: str, sniffed: Sniffed, limits: MediaLimits) -> MediaInfo:
    """Describe an image; its pixels are decoded once to prove the file is whole.

    The size limit is checked from the header first, so an oversized image is never decoded.

    Raises:
        MediaTooLargeError: the header declares more pixels than ``limits`` allow.
        TruncatedMediaError, CorruptMediaError, UnreadableMediaError: the file is unusable.
    """
    with open_pil(path, sniffed, limits) as img:
        _load(path, sniffed, img)
        width, height = img.size
        if sniffed.format_name == "heif":  # libheif turned the pixels already
            rotation_deg = _EXIF_ROTATION_DEG.get(int(img.info.get("original_orientation") or 1), 0)
        else:
            rotation_deg = exif_rotation_deg(path, img)
            if rotation_deg in (90, 270):
                width, height = height, width
        return MediaInfo(
            path=path,
            kind="image",
            format_name=sniffed.format_name,
            size_bytes=sniffed.size_bytes,
            width=width,
            height=height,
            n_frames=1,
            rotation_deg=rotation_deg,
            codec=img.mode,
        )


def decode_image(path: str, sniffed: Sniffed, limits: MediaLimits) -> np.ndarray:
    """Decode the image at ``path`` to (H, W, 3) uint8 RGB with the conversions above.

    Raises:
        MediaTooLargeError: too many pixels (checked before decoding).
        TruncatedMediaError: the file ends before the image data does.
        CorruptMediaError: the data cannot be decoded.
        UnsupportedFormatError: a pixel format with no faithful RGB form (float, LAB).
    """
    with open_pil(path, sniffed, limits) as img:
        _load(path, sniffed, img)
        return pil_to_rgb_u8(path, upright(path, img))


def _load(path: str, sniffed: Sniffed, img: Image.Image) -> None:
    try:
        img.load()
    except _DECODE_ERRORS as exc:
        raise _decode_error(path, sniffed, exc) from exc


@contextlib.contextmanager
def open_pil(path: str, sniffed: Sniffed, limits: MediaLimits) -> Iterator[Image.Image]:
    """Open ``path`` with Pillow (header only), checking the size limit before any decoding.

    Raises:
        MediaTooLargeError, TruncatedMediaError, CorruptMediaError, UnreadableMediaError.
    """
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed in the finally below, after Pillow
    except OSError as exc:
        raise UnreadableMediaError(path, f"Cannot read the file: {exc.strerror}") from exc
    try:
        img = _pil_open_header(path, fh, sniffed)
        try:
            _check_header(path, img, limits)
            if sniffed.kind == "image":
                _warn_if_animated(path, img)
            yield img
        finally:
            img.close()
    finally:
        fh.close()  # Pillow does not close a file object it was given


def _pil_open_header(path: str, fh: BinaryIO, sniffed: Sniffed) -> Image.Image:
    if sniffed.format_name == "heif":
        _register_heif()
    if sniffed.format_name in ("png", "apng"):
        fh = _without_oversized_metadata(path, fh)
    try:
        # NOTE: our own pixel limit replaces Pillow's decompression-bomb warning (which fires
        # inside Image.open, before we see the size). catch_warnings swaps process-wide state,
        # so our threads take turns; only the header is parsed here.
        with _WARNINGS_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(fh, formats=[_PIL_FORMATS[sniffed.format_name]])
    except Image.DecompressionBombError as exc:
        # Pillow refuses before we see the size: past twice its own limit (about 179 MP).
        limit_mp = 2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6
        raise MediaTooLargeError(
            path,
            f"The image header declares more than {limit_mp:.0f} megapixels, far beyond "
            "what can be decoded",
        ) from exc
    except UnidentifiedImageError as exc:
        raise _header_error(path, sniffed, exc) from exc
    except _DECODE_ERRORS as exc:
        raise _decode_error(path, sniffed, exc) from exc


def _without_oversized_metadata(path: str, fh: BinaryIO) -> BinaryIO:
    """The PNG as Pillow can decode it: text/ICC chunks that inflate past 1 MB left out.

    Pillow refuses a whole PNG whose text or ICC chunk inflates past ``MAX_TEXT_CHUNK``, so
    adding a kilobyte of compressed text to a fake would avoid analysis. Those chunks are
    metadata, not pixels: the same bytes without them decode to the same image. The metadata
    step (``engine.provenance``) still reports the oversized chunk to the analyst.
    """
    from engine.provenance.png_chunks import strip_oversized_metadata_chunks

    data = fh.read()
    stripped = strip_oversized_metadata_chunks(data)
    fh.seek(0)
    if len(stripped) == len(data):
        return fh
    logger.warning("%s: PNG text/ICC chunk(s) inflating past 1 MB left out to decode the pixels",
                   path)
    return io.BytesIO(stripped)


_PIL_FORMATS = {
    "jpeg": "JPEG",
    "png": "PNG",
    "apng": "PNG",
    "gif": "GIF",
    "webp": "WEBP",
    "bmp": "BMP",
    "tiff": "TIFF",
    "heif": "HEIF",
    "avif": "AVIF",
}
_HEIF_LOCK = threading.Lock()


def _register_heif() -> None:
    """Make Pillow open HEIC/HEIF (pillow-heif's plugin; imported on the first HEIF file)."""
    with _HEIF_LOCK:
        if "HEIF" in Image.OPEN:
            return
        import pillow_heif

        pillow_heif.register_heif_opener()


def _check_header(path: str, img: Image.Image, limits: MediaLimits) -> None:
    width, height = img.size
    if width <= 0 or height <= 0:
        raise CorruptMediaError(path, f"Image header declares an empty size {width}x{height}")
    check_frame_size(path, width, height, limits)


def _warn_if_animated(path: str, img: Image.Image) -> None:
    n_frames = int(getattr(img, "n_frames", 1))
    if n_frames > 1:
        logger.warning(
            "%s: Pillow finds %d frames where the file's structure shows one; only the first "
            "frame is analysed", path, n_frames
        )


def exif_rotation_deg(path: str, img: Image.Image) -> int:
    """Clockwise degrees the EXIF orientation turns ``img`` by (0 without one)."""
    try:
        orientation = img.getexif().get(_EXIF_ORIENTATION_TAG, 1)
    except _DECODE_ERRORS as exc:
        logger.warning("%s: unreadable EXIF block (%s); orientation not applied", path, exc)
        return 0
    return _EXIF_ROTATION_DEG.get(int(orientation), 0)


def upright(path: str, img: Image.Image) -> Image.Image:
    """``img`` turned as its EXIF orientation says (unchanged if that block is unreadable)."""
    try:
        return ImageOps.exif_transpose(img)
    except _DECODE_ERRORS as exc:
        logger.warning("%s: unreadable EXIF block (%s); orientation not applied", path, exc)
        return img


def pil_to_rgb_u8(path: str, img: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 RGB of ``img`` with the conversions of the module docstring.

    Raises:
        UnsupportedFormatError: float, LAB or HSV pixels.
    """
    mode = img.mode
    if mode.startswith("I;16") or mode == "I":
        return _sixteen_bit_gray_to_rgb(img)
    if mode == "F" or mode in ("LAB", "HSV"):
        raise UnsupportedFormatError(path, f"Image pixel format {mode!r} is not supported")
    if mode in ("P", "PA"):
        # Palette transparency must go through RGBA (Pillow warns on a direct RGB conversion).
        img = img.convert("RGBA")
    rgb = img.convert("RGB")
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def _sixteen_bit_gray_to_rgb(img: Image.Image) -> np.ndarray:
    # NOTE: mode "I" (32-bit) holds 16-bit PNG/TIFF samples in older Pillow; values are taken
    # as 0..65535 and anything outside is clipped.
    samples: Any = np.asarray(img)
    values = np.clip(samples.astype(np.float32), 0, 65535)
    gray_u8 = np.rint(values / 257.0).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(gray_u8[:, :, None], 3, axis=2))


def _header_error(path: str, sniffed: Sniffed, exc: Exception) -> Exception:
    if sniffed.size_bytes < 64:
        return TruncatedMediaError(
            path, f"The {sniffed.format_name.upper()} file ends inside its header"
        )
    if isinstance(exc, UnidentifiedImageError):
        # NOTE: Pillow's own text names its file object ("<_io.BufferedReader name=...>"),
        # which says nothing to an analyst; a TIFF it cannot identify is as often a valid file
        # of a sample format it does not read (32-bit float colour) as a damaged one.
        name = sniffed.format_name.upper()
        if sniffed.format_name == "tiff":
            return CorruptMediaError(
                path, f"The {name} header cannot be read: it is damaged, or the pixels use a "
                "sample format that is not supported (such as floating-point colour)")
        return CorruptMediaError(path, f"The {name} header cannot be read")
    return CorruptMediaError(
        path, f"The {sniffed.format_name.upper()} header cannot be read ({exc})"
    )


def _decode_error(path: str, sniffed: Sniffed, exc: Exception) -> Exception:
    name = sniffed.format_name.upper()
    text = str(exc)
    if "truncated" in text.lower() or isinstance(exc, EOFError) or _riff_is_short(path, sniffed):
        return TruncatedMediaError(
            path, f"The {name} file is truncated: it ends before the image data does"
        )
    return CorruptMediaError(path, f"The {name} image data cannot be decoded ({text})")


def _riff_is_short(path: str, sniffed: Sniffed) -> bool:
    """WebP is RIFF: the header states the total size, so a cut file is recognisable."""
    if sniffed.format_name != "webp":
        return False
    with open(path, "rb") as fh:
        header = fh.read(8)
    declared = int.from_bytes(header[4:8], "little") + 8
    return declared > sniffed.size_bytes
