"""Recognise a file's format from its first bytes, never from its extension.

Evidence arrives renamed, re-exported and mislabelled: a PNG called ``clip.mp4`` is a PNG. The
magic numbers here are the documented signatures of each format. Sniffing also opens the file
the first time, so it is where "missing", "a folder", "empty" and "not media at all" are told
apart, each with a message a person can act on.

An animated GIF, PNG (APNG) or WebP with two or more frames is a video (``kind`` "video",
``format_name`` "gif", "apng" or "webp"): the frame count is read from the block and chunk
headers (:mod:`engine.media.anim_timing`), never from the extension. HEIC/HEIF and AVIF stills
are told apart by the ISO-BMFF brands in their ``ftyp`` box.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import NotMediaError, UnreadableMediaError, UnsupportedFormatError
from engine.media.anim_timing import frame_durations_s
from engine.media.fileguard import refuse_special
from engine.types import MediaKind

__all__ = ["HEADER_BYTES", "Sniffed", "read_header", "sniff", "sniff_bytes"]

# NOTE: 64 bytes hold every signature below, including Matroska's DocType ("webm"/"matroska"),
# which cv2-, ffmpeg- and browser-written files place within the first 40 bytes.
HEADER_BYTES = 64

# ISO-BMFF major brands that mean a still image or audio, not a video.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
# Top-level QuickTime atoms that may open a .mov written without an 'ftyp' box.
_QT_FIRST_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


@dataclass(frozen=True)
class Sniffed:
    """What the bytes say a file is.

    Attributes:
        kind: ``"image"`` or ``"video"``.
        format_name: ``"jpeg"``, ``"png"``, ``"webp"``, ``"bmp"``, ``"gif"``, ``"tiff"``,
            ``"heif"``, ``"avif"`` (stills); ``"gif"``, ``"apng"``, ``"webp"`` (animations);
            ``"mp4"``, ``"mov"``, ``"avi"``, ``"mkv"``, ``"webm"``, ``"flv"``, ``"mpegts"``,
            ``"mpeg"`` or ``"asf"``.
        size_bytes: file size.
    """

    kind: MediaKind
    format_name: str
    size_bytes: int


def read_header(path: str) -> tuple[bytes, int]:
    """Open ``path`` read-only and return its first bytes and its size.

    Raises:
        UnreadableMediaError: the path is missing, not a regular file (a folder, FIFO, device
            or socket: ``engine.media.fileguard.refuse_special``), or cannot be read.
    """
    st = refuse_special(path)
    try:
        with open(path, "rb") as fh:
            header = fh.read(HEADER_BYTES)
    except OSError as exc:
        raise UnreadableMediaError(path, f"Cannot read the file: {exc.strerror}") from exc
    return header, st.st_size


def sniff(path: str) -> Sniffed:
    """Identify the format of the file at ``path`` from its content.

    Raises:
        UnreadableMediaError: missing, a folder, or unreadable.
        NotMediaError: empty, text, documents, archives or unrecognised bytes.
        UnsupportedFormatError: a real media format this application does not read (audio
            only, Ogg).
    """
    header, size_bytes = read_header(path)
    kind, format_name = sniff_bytes(path, header)
    animatable = format_name in ("gif", "png", "webp")
    if kind == "image" and animatable and _is_animated(path, format_name, header):
        kind, format_name = "video", ("apng" if format_name == "png" else format_name)
    return Sniffed(kind=kind, format_name=format_name, size_bytes=size_bytes)


def _is_animated(path: str, format_name: str, header: bytes) -> bool:
    """Whether a GIF/PNG/WebP holds two or more frames (headers only, two frames at most)."""
    if format_name == "webp":
        flags = header[20] if len(header) > 20 and header[12:16] == b"VP8X" else 0
        if not flags & 0x02:
            return False  # a simple WebP, or an extended one without the animation flag
    try:
        return len(frame_durations_s(path, format_name, limit=2)) >= 2
    except OSError as exc:
        raise UnreadableMediaError(path, f"Cannot read the file: {exc.strerror}") from exc


def sniff_bytes(path: str, header: bytes) -> tuple[MediaKind, str]:
    """Map the first bytes of a file to ``(kind, format_name)``; ``path`` is only for messages.

    Raises:
        NotMediaError: the bytes are not a supported image or video signature.
        UnsupportedFormatError: a known media format that is not supported.
    """
    if not header:
        raise NotMediaError(path, "The file is empty (0 bytes)")
    image_format = _image_format(header)
    if image_format is not None:
        return "image", image_format
    video_format = _video_format(path, header)
    if video_format is not None:
        return "video", video_format
    _raise_unsupported_or_not_media(path, header)
    raise AssertionError("unreachable")  # pragma: no cover - the call above always raises


def _image_format(h: bytes) -> str | None:
    if h.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if h.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if h.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if h[:4] == b"RIFF" and h[8:12] == b"WEBP":
        return "webp"
    if h.startswith(b"BM") and len(h) >= 26 and h[14] in (12, 40, 52, 56, 64, 108, 124):
        return "bmp"  # 'BM' alone is too weak; byte 14 is the DIB header size
    if h.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if h[4:8] == b"ftyp":
        return _still_brand(h)
    return None


def _still_brand(h: bytes) -> str | None:
    """``"avif"``/``"heif"`` for an ISO-BMFF still image, ``None`` for a movie."""
    box_size = int.from_bytes(h[:4], "big")
    compatible = {h[i : i + 4] for i in range(16, min(box_size, len(h)) - 3, 4)}
    major = h[8:12]
    if major in _AVIF_BRANDS or (major in (b"mif1", b"msf1") and compatible & _AVIF_BRANDS):
        return "avif"
    if major in _HEIF_BRANDS:
        return "heif"
    return None


def _video_format(path: str, h: bytes) -> str | None:
    if h[4:8] == b"ftyp":
        brand = h[8:12]
        if brand in _AUDIO_BRANDS:
            raise UnsupportedFormatError(path, "This is an audio file (M4A); it has no video")
        return "mov" if brand == b"qt  " else "mp4"
    if h[4:8] in _QT_FIRST_ATOMS:
        return "mov"
    if h[:4] == b"RIFF" and h[8:12] == b"AVI ":
        return "avi"
    if h.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in h else "mkv"
    if h.startswith(b"FLV\x01"):
        return "flv"
    if h.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "asf"
    if h.startswith(b"\x00\x00\x01\xba"):
        return "mpeg"
    if len(h) >= 1 and h[0] == 0x47 and _looks_like_mpegts(path):
        return "mpegts"
    return None


def _looks_like_mpegts(path: str) -> bool:
    """MPEG-TS has a 0x47 sync byte every 188 bytes; one byte alone would match random data."""
    with open(path, "rb") as fh:
        data = fh.read(188 * 4)
    return len(data) >= 188 * 4 and all(data[i * 188] == 0x47 for i in range(4))


def _raise_unsupported_or_not_media(path: str, h: bytes) -> None:
    if h[:4] == b"RIFF" and h[8:12] == b"WAVE":
        raise UnsupportedFormatError(path, "This is an audio file (WAV); it has no video")
    if h.startswith((b"ID3", b"fLaC")):
        raise UnsupportedFormatError(path, "This is an audio file (MP3/FLAC); it has no video")
    if h.startswith(b"OggS"):
        raise UnsupportedFormatError(path, "Ogg files are not supported; convert to MP4")
    if h.startswith(b"%PDF"):
        raise NotMediaError(path, "This is a PDF document, not an image or video")
    if h.startswith(b"PK\x03\x04"):
        raise NotMediaError(path, "This is a ZIP archive or Office file, not an image or video")
    if _looks_like_text(h):
        raise NotMediaError(path, "This is a text file, not an image or video")
    raise NotMediaError(
        path,
        "Unrecognised content: not a supported image (JPEG, PNG, WebP, BMP, GIF, TIFF, HEIC, "
        "AVIF) or video (MP4, MOV, AVI, MKV, WebM, MPEG-TS); the file extension is ignored",
    )


def _looks_like_text(h: bytes) -> bool:
    try:
        text = h.decode("utf-8")
    except UnicodeDecodeError:
        # NOTE: a multi-byte character may be cut at the end of the header; retry without it.
        try:
            text = h[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return all(ch.isprintable() or ch in "\r\n\t\f" for ch in text)
