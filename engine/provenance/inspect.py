"""One file in, one :class:`FileProvenance` out: the provenance package's entry point.

Order: open the bytes (tied to the analysis's SHA-256, see ``source``), read the format's
metadata (exiv2 and PNG chunks for stills, PyAV and the box walker for videos), JPEG tables and
the thumbnail check, the C2PA Content Credentials, then the inconsistency rules. Every part
that fails leaves a note and the others go on; :func:`inspect_file` itself never raises (an
unexpected error becomes a note too, logged with its traceback), so metadata can never stop
an analysis.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from engine.provenance.c2pa_read import read_credentials
from engine.provenance.checks import Facts, find_inconsistencies
from engine.provenance.gps import gps_from_exif, gps_from_iso6709, gps_from_xmp
from engine.provenance.model import (
    ContainerFacts,
    ContentCredentials,
    FileProvenance,
    GpsInfo,
    JpegFacts,
    MetaEntry,
    ThumbnailCheck,
)
from engine.provenance.source import SourceError, SourceFile, open_source
from engine.provenance.textutil import entry
from engine.provenance.trust import TrustList, trust_info

__all__ = ["inspect_file"]

log = logging.getLogger(__name__)

_MIME = {
    "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
    "tiff": "image/tiff", "heif": "image/heif", "mp4": "video/mp4", "mov": "video/quicktime",
    "avi": "video/x-msvideo",
}
HIGHLIGHT_KEYS = (
    "Exif.Image.Make", "Exif.Image.Model", "Exif.Photo.LensModel", "Exif.Image.Software",
    "Exif.Photo.DateTimeOriginal", "Exif.Photo.OffsetTimeOriginal", "Exif.Image.DateTime",
    "Exif.Image.Artist", "Exif.Image.Copyright", "Exif.Image.ImageDescription",
    "Exif.Photo.PixelXDimension", "Exif.Photo.PixelYDimension", "Exif.Image.Orientation",
    "Xmp.xmp.CreatorTool", "Xmp.xmp.CreateDate", "Xmp.xmp.ModifyDate",
    "Xmp.iptcExt.DigitalSourceType", "Iptc.Application2.Byline", "Iptc.Application2.Program",
    "Software", "parameters", "creation_time", "encoder", "com.apple.quicktime.make",
    "com.apple.quicktime.model", "com.apple.quicktime.software",
    "com.apple.quicktime.creationdate",
)
_LOCATION_TAGS = ("com.apple.quicktime.location.ISO6709", "location", "location-eng")


@dataclass
class _Parts:
    """What the format readers found, before the rules run."""

    entries: list[MetaEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    exif: dict[str, str] = field(default_factory=dict)
    xmp: dict[str, str] = field(default_factory=dict)
    iptc: dict[str, str] = field(default_factory=dict)
    png_text: dict[str, str] = field(default_factory=dict)
    video_tags: dict[str, str] = field(default_factory=dict)
    image_wh: tuple[int, int] | None = None
    icc: str | None = None
    jpeg: JpegFacts | None = None
    thumbnail: ThumbnailCheck | None = None
    container: ContainerFacts | None = None


def inspect_file(path: str, *, sha256: str | None = None,
                 trust: TrustList | None = None) -> FileProvenance:
    """Everything ``path`` says about its origin (see the module docstring); never raises.

    Args:
        path: the evidence file (opened read-only, never modified).
        sha256: the SHA-256 the analysis computed; a file read into memory must match it.
        trust: trust anchors for C2PA signatures (``None``: none, see ``trust``).
    """
    try:
        source = open_source(path, sha256)
    except SourceError as exc:
        return _unread(sha256, str(exc), trust)
    try:
        return _inspect(source, trust)
    except Exception as exc:  # metadata must never stop an analysis
        log.exception("provenance read of %s failed", path)
        return _unread(sha256, f"internal error while reading the metadata: {exc!r}", trust,
                       size_bytes=source.size_bytes, family=source.family)


def _unread(sha256: str | None, why: str, trust: TrustList | None, *, size_bytes: int = 0,
            family: str = "unknown") -> FileProvenance:
    c2pa = ContentCredentials("not_checked", "Content Credentials were not checked: the file "
                              "could not be read.", trust=trust_info(trust))
    return FileProvenance(sha256=sha256, size_bytes=size_bytes, format_family=family,
                          same_bytes="not read", c2pa=c2pa,
                          notes=(f"The metadata could not be read: {why}",))


def _inspect(source: SourceFile, trust: TrustList | None) -> FileProvenance:
    parts = _Parts()
    if source.family_note:
        parts.notes.append(f"Not a recognised media format ({source.family_note}): only the "
                           "file's size and hash are known.")
    if source.is_image:
        _read_image(source, parts)
    elif source.is_video:
        _read_video(source, parts)
    c2pa = _credentials(source, trust)
    if source.changed_on_disk():
        parts.notes.append("The file changed on disk while its metadata was read: what is "
                           "shown may not belong to the analysed bytes.")
    facts = Facts(source.family, c2pa, parts.exif, parts.xmp, parts.iptc, parts.png_text,
                  parts.video_tags, parts.container, parts.image_wh, parts.jpeg,
                  parts.thumbnail)
    return FileProvenance(
        sha256=source.sha256,
        size_bytes=source.size_bytes,
        format_family=source.family,
        same_bytes=source.same_bytes,
        c2pa=c2pa,
        highlights=_highlights(parts),
        metadata=tuple(parts.entries),
        gps=_gps(parts),
        icc_description=parts.icc,
        jpeg=parts.jpeg,
        thumbnail=parts.thumbnail,
        container=parts.container,
        inconsistencies=find_inconsistencies(facts),
        notes=tuple(parts.notes),
    )


def _read_image(source: SourceFile, parts: _Parts) -> None:
    from engine.provenance.exif_meta import read_image_metadata

    data = source.data
    if data is None:
        parts.notes.append("The image is too large to read its metadata in memory: not read.")
        return
    meta = read_image_metadata(data)
    parts.entries += meta.entries
    parts.notes += meta.notes
    parts.exif, parts.xmp, parts.iptc = meta.exif, meta.xmp, meta.iptc
    parts.image_wh, parts.icc = meta.pixel_wh, meta.icc_description
    if source.family == "png":
        from engine.provenance.png_chunks import read_png_text

        text = read_png_text(data)
        parts.entries += text.entries
        parts.notes += text.notes
        parts.png_text = text.texts
    if source.family == "jpeg":
        _read_jpeg(data, parts)
    if meta.thumbnail_jpeg is not None:
        from engine.provenance.thumbnail import compare_thumbnail

        parts.thumbnail = compare_thumbnail(data, meta.thumbnail_jpeg, parts.image_wh)


def _read_jpeg(data: bytes, parts: _Parts) -> None:
    from engine.provenance.jpeg_double import double_compression_hint
    from engine.provenance.jpeg_quant import estimate_quality, read_jpeg_header

    header = read_jpeg_header(data)
    if header is None or header.table_of(0) is None:
        parts.notes.append("The JPEG header (quantisation tables, frame) could not be read.")
        return
    luma = header.table_of(0) or ()
    chroma = header.table_of(1)
    quality, exact = estimate_quality(luma, chroma)
    verdict, score, detail = double_compression_hint(data, header)
    parts.jpeg = JpegFacts(quality, exact, tuple(luma), tuple(chroma or ()),
                           header.subsampling, header.progressive, verdict, score, detail)
    if parts.image_wh is None and header.width and header.height:
        parts.image_wh = (header.width, header.height)


def _read_video(source: SourceFile, parts: _Parts) -> None:
    from engine.provenance.video_meta import read_video_metadata

    with source.open_stream() as stream:
        meta = read_video_metadata(stream, source.size_bytes, source.family)
    parts.container = meta.container
    parts.entries += meta.entries
    parts.notes += meta.notes
    parts.video_tags = meta.tags


def _credentials(source: SourceFile, trust: TrustList | None) -> ContentCredentials:
    mime = _MIME.get(source.family)
    if source.family == "heif" and source.data is not None and source.data[8:12] == b"avif":
        mime = "image/avif"
    if mime is None:
        return ContentCredentials("not_checked", "Content Credentials were not checked: the "
                                  f"C2PA library does not read {source.family} files.",
                                  trust=trust_info(trust))
    has_marker = None if source.data is None else (b"jumb" in source.data and
                                                   b"c2pa" in source.data)
    with source.open_stream() as stream:
        return read_credentials(stream, mime, trust, has_marker)


def _highlights(parts: _Parts) -> tuple[MetaEntry, ...]:
    found: list[MetaEntry] = []
    for group, values in (("EXIF", parts.exif), ("XMP", parts.xmp), ("IPTC", parts.iptc),
                          ("PNG text", parts.png_text), ("Container", parts.video_tags)):
        found += [entry(group, key, values[key]) for key in HIGHLIGHT_KEYS if key in values]
    if parts.icc:
        found.append(entry("ICC", "ICC profile description", parts.icc))
    if parts.jpeg and parts.jpeg.quality_estimate is not None:
        standard = "libjpeg standard tables" if parts.jpeg.tables_match_ijg else "own tables"
        found.append(entry("JPEG", "Estimated quality",
                           f"{parts.jpeg.quality_estimate} ({standard}, {parts.jpeg.subsampling})"))
    for stream in parts.container.streams if parts.container else ():
        if stream.kind == "video":
            fps = f", {stream.fps:.2f} fps" if stream.fps else ""
            found.append(entry("Container", f"Stream {stream.index} video",
                               f"{stream.codec} {stream.profile or ''} {stream.width}x"
                               f"{stream.height}{fps}, rotation {stream.rotation_deg}°"))
    return tuple(found)


def _gps(parts: _Parts) -> GpsInfo | None:
    found = gps_from_exif(parts.exif) or gps_from_xmp(parts.xmp)
    for key in _LOCATION_TAGS:
        if found is None and key in parts.video_tags:
            found = gps_from_iso6709(parts.video_tags[key], f"video tag {key}")
    return found
