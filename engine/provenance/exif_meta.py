"""EXIF, IPTC, XMP, the ICC profile and the EXIF thumbnail of an image, read with exiv2.

exiv2 (the ``exiv2`` wheel, libexiv2 0.28) reads every still format we meet, HEIF/AVIF
included, and is maintained and bundled with its library. It is handed the bytes in memory,
never a path: this libexiv2 is built with curl, and a path that looks like a URL would be
fetched. Its warnings about broken metadata ("invalid IFD offset") are collected per read and
become notes in the record instead of log noise; an exception from it becomes a note too.
Bounds: at most :data:`MAX_ENTRIES` entries are kept, each value at most ``MAX_VALUE_CHARS``
characters, binary values are summarised by their size.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.provenance.icc import icc_description
from engine.provenance.model import MetaEntry
from engine.provenance.textutil import entry

__all__ = ["MAX_ENTRIES", "ImageMeta", "read_image_metadata"]

log = logging.getLogger(__name__)

# NOTE: a camera JPEG has 100-300 entries (maker notes included); 1500 keeps every real one
# and bounds what a crafted file with 60 000 tags can put into a stored analysis.
MAX_ENTRIES = 1500
# NOTE: binary values (maker notes, embedded previews) longer than this are shown by size.
_MAX_BINARY_SHOWN = 64
# NOTE: an EXIF thumbnail is at most 64 KB in a JPEG APP1 segment; other formats have no such
# cap, and one larger than 2 MB is not a thumbnail anybody needs compared.
_MAX_THUMBNAIL_BYTES = 2 * 2**20
_MAX_NOTES_FROM_LOG = 10
_BINARY_TYPES = {"Undefined", "Byte", "SByte"}

_local = threading.local()
_setup_lock = threading.Lock()
_setup_done = False


@dataclass(frozen=True, eq=False)
class ImageMeta:
    """What exiv2 read from an image.

    Attributes:
        entries: every entry (EXIF, IPTC, XMP), bounded.
        exif: raw EXIF values by key (the first of a repeated key).
        xmp: raw XMP values by key.
        iptc: raw IPTC values by key.
        pixel_wh: the image size exiv2 read from the image structure (not from EXIF).
        icc_description: the embedded ICC profile's description.
        thumbnail_jpeg: the EXIF thumbnail (JPEG bytes), if any.
        notes: problems met while reading.
    """

    entries: tuple[MetaEntry, ...] = ()
    exif: dict[str, str] = field(default_factory=dict)
    xmp: dict[str, str] = field(default_factory=dict)
    iptc: dict[str, str] = field(default_factory=dict)
    pixel_wh: tuple[int, int] | None = None
    icc_description: str | None = None
    thumbnail_jpeg: bytes | None = None
    notes: tuple[str, ...] = ()


class _Collect(logging.Handler):
    """Collects exiv2's log messages for the read running in this thread."""

    def emit(self, record: logging.LogRecord) -> None:
        sink = getattr(_local, "messages", None)
        if sink is not None and len(sink) < _MAX_NOTES_FROM_LOG:
            sink.append(record.getMessage())


def _setup() -> Any:
    """Import exiv2 and route its log to :class:`_Collect` (once per process)."""
    global _setup_done
    import exiv2

    with _setup_lock:
        if not _setup_done:
            # NOTE: exiv2's own default handler writes to stderr; the Python handler sends its
            # messages to the 'exiv2' logger, where they are attached to the file being read.
            exiv2.LogMsg.setHandler(exiv2.pythonHandler)
            exiv2.LogMsg.setLevel(exiv2.LogMsg.Level.warn)
            exiv2_log = logging.getLogger("exiv2")
            exiv2_log.addHandler(_Collect(level=logging.WARNING))
            exiv2_log.propagate = False
            exiv2.XmpParser.initialize()  # not thread-safe on first use in libexiv2
            _setup_done = True
    return exiv2


def read_image_metadata(data: bytes) -> ImageMeta:
    """Read everything exiv2 knows about the image in ``data``; never raises."""
    exiv2 = _setup()
    _local.messages = []
    try:
        return _read(exiv2, data)
    except exiv2.Exiv2Error as exc:
        return ImageMeta(notes=(f"exiv2 could not read the metadata: {_exiv2_message(exc)}",
                                *_log_notes()))
    except (ValueError, MemoryError, UnicodeError, OverflowError) as exc:
        log.warning("exiv2 read failed: %r", exc)
        return ImageMeta(notes=(f"the metadata could not be read: {exc}", *_log_notes()))
    finally:
        _local.messages = None


def _read(exiv2: Any, data: bytes) -> ImageMeta:
    image = exiv2.ImageFactory.open(data)
    image.readMetadata()
    exif, xmp, iptc = {}, {}, {}
    entries: list[MetaEntry] = []
    notes: list[str] = []
    for group, datum_list, raw in (("EXIF", image.exifData(), exif),
                                   ("IPTC", image.iptcData(), iptc),
                                   ("XMP", image.xmpData(), xmp)):
        for key, value in _values(datum_list):
            raw.setdefault(key, value)
            if len(entries) < MAX_ENTRIES:
                entries.append(entry(group, key, value))
    if len(exif) + len(xmp) + len(iptc) > MAX_ENTRIES:
        notes.append(f"only the first {MAX_ENTRIES} metadata entries are kept "
                     f"({len(exif) + len(xmp) + len(iptc)} found)")
    icc = _icc(image)
    if icc is not None:
        entries.append(entry("ICC", "ICC profile description", icc))
    thumb = _thumbnail(exiv2, image.exifData(), notes)
    pixel_wh = (int(image.pixelWidth()), int(image.pixelHeight()))
    return ImageMeta(tuple(entries), exif, xmp, iptc,
                     pixel_wh if min(pixel_wh) > 0 else None, icc, thumb,
                     (*notes, *_log_notes()))


def _values(data: Any) -> Iterator[tuple[str, str]]:
    for datum in data:
        key = str(datum.key())
        if datum.typeName() in _BINARY_TYPES and datum.size() > _MAX_BINARY_SHOWN:
            yield key, f"({datum.size()} bytes of binary data)"
        else:
            yield key, str(datum.toString())


def _icc(image: Any) -> str | None:
    if not image.iccProfileDefined():
        return None
    return icc_description(bytes(image.iccProfile().data()))


def _thumbnail(exiv2: Any, exif: Any, notes: list[str]) -> bytes | None:
    thumb = exiv2.ExifThumbC(exif)
    if thumb.mimeType() != "image/jpeg":
        return None
    buf = thumb.copy()
    if len(buf) > _MAX_THUMBNAIL_BYTES:
        notes.append(f"the EXIF thumbnail is {len(buf)} bytes, too large to compare")
        return None
    return bytes(buf.data()) or None


def _log_notes() -> list[str]:
    messages = getattr(_local, "messages", None) or []
    return [f"exiv2: {message.strip()}" for message in messages]


def _exiv2_message(exc: Exception) -> str:
    args = getattr(exc, "args", ())
    return str(args[1]) if len(args) >= 2 else str(exc)
