"""What a file says about its own origin, as frozen, JSON-round-trippable records.

:class:`FileProvenance` is the whole answer for one file: metadata entries (EXIF, IPTC, XMP,
ICC, PNG text, container and stream tags), a few highlights, GPS, JPEG quantisation facts,
the EXIF thumbnail check, video container facts, the C2PA Content Credentials and the list of
*inconsistencies* an analyst should look at. Nothing here is a verdict: an inconsistency is a
reason to look, never proof of manipulation, and an absent manifest means "provenance unknown".

Only the standard library is imported, so ``engine.types`` (and the GUI) can import these types
without loading exiv2, PyAV or the C2PA library. ``to_dict``/``from_dict`` go through
:mod:`engine.provenance.codec`, which rebuilds every nested record from its type hints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "SEVERITY_LABELS",
    "C2paAction",
    "C2paIngredient",
    "C2paState",
    "C2paStatusCode",
    "ContainerFacts",
    "ContentCredentials",
    "EditListEntry",
    "FileProvenance",
    "GpsInfo",
    "Inconsistency",
    "JpegFacts",
    "MetaEntry",
    "Severity",
    "StreamFacts",
    "ThumbnailCheck",
    "TrustInfo",
]

PROVENANCE_SCHEMA = 1

Severity = Literal["note", "look", "look_first"]
SEVERITY_LABELS: dict[str, str] = {
    "note": "note",
    "look": "look at this",
    "look_first": "look at this first",
}

# absent: no manifest; valid: signature and hashes check out but the signer is not on the trust
# list used; trusted: valid and the signer chains to a trust anchor; invalid: a signature or hash
# check failed; unreadable: a manifest is there but cannot be parsed; not_checked: the C2PA
# library could not run on this file (format not supported, file too large, library missing).
C2paState = Literal["absent", "valid", "trusted", "invalid", "unreadable", "not_checked"]


@dataclass(frozen=True)
class MetaEntry:
    """One metadata item as text.

    Attributes:
        group: where it was found: ``"EXIF"``, ``"IPTC"``, ``"XMP"``, ``"ICC"``,
            ``"PNG text"``, ``"Container"`` or ``"Stream N (video)"``.
        key: the library's key (``"Exif.Image.Software"``, ``"Xmp.xmp.CreatorTool"``, ...).
        value: the value as text, shortened to a bounded length (``truncated`` then).
        truncated: the value was longer and was cut.
    """

    group: str
    key: str
    value: str
    truncated: bool = False


@dataclass(frozen=True)
class GpsInfo:
    """A location written into the file (EXIF GPS, XMP or a video's ISO 6709 tag).

    Attributes:
        lat_deg: latitude in degrees, north positive.
        lon_deg: longitude in degrees, east positive.
        alt_m: altitude in metres, where given.
        source: the tags it came from.
        privacy_note: shown with it: it may locate a person's home.
    """

    lat_deg: float
    lon_deg: float
    alt_m: float | None
    source: str
    privacy_note: str


@dataclass(frozen=True)
class JpegFacts:
    """What a JPEG's quantisation tables and coefficients say about how it was saved.

    Attributes:
        quality_estimate: the IJG (libjpeg) quality whose scaled standard tables are closest to
            the luminance table, 1-100; ``None`` if no table could be read.
        tables_match_ijg: the tables equal libjpeg's standard tables at that quality exactly
            (typical of software saves: libjpeg, Pillow, OpenCV, GIMP); cameras and many
            editors use their own tables.
        luma_table: the 64 luminance quantisation steps in zig-zag order, as stored.
        chroma_table: the first chrominance table (zig-zag), if present.
        subsampling: chroma subsampling as ``"4:2:0"``, ``"4:2:2"``, ``"4:4:4"`` or other text.
        progressive: a progressive (SOF2) JPEG.
        double_compression: ``"no sign"``, ``"signs of double compression"`` or
            ``"not assessed"``.
        double_compression_score: the periodicity score behind that hint (see
            ``engine.provenance.jpeg_double``), ``None`` when not assessed.
        double_compression_detail: plain-words explanation of the hint and its limits.
    """

    quality_estimate: int | None
    tables_match_ijg: bool
    luma_table: tuple[int, ...]
    chroma_table: tuple[int, ...]
    subsampling: str
    progressive: bool
    double_compression: str
    double_compression_score: float | None
    double_compression_detail: str


@dataclass(frozen=True)
class ThumbnailCheck:
    """The embedded EXIF thumbnail compared with the main image.

    Attributes:
        verdict: ``"same"``, ``"differs"`` or ``"not compared"``.
        width: thumbnail width in pixels (0 when unreadable).
        height: thumbnail height in pixels.
        mean_abs_diff: mean absolute grey-level difference (0-255) after both are brought to
            the same size; ``None`` when not compared.
        detail: how it was compared, or why it was not.
    """

    verdict: str
    width: int
    height: int
    mean_abs_diff: float | None
    detail: str


@dataclass(frozen=True)
class EditListEntry:
    """One entry of an MP4/MOV edit list (``elst``): which part of the media is presented.

    Attributes:
        track_id: the track it belongs to.
        segment_duration_s: presented duration of the segment, in movie time.
        media_time_s: where in the track's media it starts; ``None`` for an empty edit (a gap).
        rate: playback rate (1.0 normally).
    """

    track_id: int
    segment_duration_s: float
    media_time_s: float | None
    rate: float


@dataclass(frozen=True)
class StreamFacts:
    """One stream of a video container, as the demuxer and the boxes describe it.

    Attributes:
        index: stream index in the container.
        kind: ``"video"``, ``"audio"``, ``"subtitle"``, ``"data"`` or ``"attachment"``.
        codec: codec name (``"h264"``, ``"hevc"``, ``"aac"``).
        profile: codec profile (``"High"``, ``"Main 10"``), where known.
        width: frame width in pixels (video), before rotation.
        height: frame height in pixels (video).
        fps: average frame rate (video).
        duration_s: stream duration in seconds.
        n_frames: frame count from the container header (0 when unknown).
        rotation_deg: clockwise display rotation from the track matrix (MP4/MOV), 0 if none.
        handler: handler name (MP4/MOV ``hdlr``), e.g. ``"Core Media Video"``.
        encoder: encoder/compressor name from the sample description or tags.
        created_utc: the track's creation time (ISO 8601 UTC), where written.
        tags: the stream's remaining tags.
    """

    index: int
    kind: str
    codec: str
    profile: str | None
    width: int
    height: int
    fps: float | None
    duration_s: float | None
    n_frames: int
    rotation_deg: int
    handler: str | None
    encoder: str | None
    created_utc: str | None
    tags: tuple[MetaEntry, ...]


@dataclass(frozen=True)
class ContainerFacts:
    """Facts about a video container, read by the demuxer without decoding a frame.

    Attributes:
        format_name: demuxer name (``"mov,mp4,m4a,3gp,3g2,mj2"``, ``"matroska,webm"``).
        duration_s: container duration in seconds.
        bit_rate: overall bit rate in bits/s (0 when unknown).
        brands: ``major_brand`` and compatible brands (MP4/MOV).
        created_utc: the movie's creation time (``mvhd``, or the ``creation_time`` tag).
        modified_utc: the movie's modification time (``mvhd``), where written.
        box_order: the top-level boxes in file order (MP4/MOV), e.g. ``("ftyp", "moov", "mdat")``.
        edit_lists: every edit-list entry of every track (MP4/MOV).
        streams: the streams.
    """

    format_name: str
    duration_s: float | None
    bit_rate: int
    brands: tuple[str, ...]
    created_utc: str | None
    modified_utc: str | None
    box_order: tuple[str, ...]
    edit_lists: tuple[EditListEntry, ...]
    streams: tuple[StreamFacts, ...]


@dataclass(frozen=True)
class C2paAction:
    """One action recorded in a C2PA manifest (``c2pa.actions``).

    Attributes:
        action: the action label (``"c2pa.created"``, ``"c2pa.edited"``, ...).
        digital_source_type: the IPTC digital source type URI, where given.
        software_agent: the tool that performed it.
        when: the time it records, where given.
        description: the manifest's own description or reason.
        ai_generated: the source type says generative AI made or composed the content
            (``trainedAlgorithmicMedia``, ``compositeWithTrainedAlgorithmicMedia``, ...).
    """

    action: str
    digital_source_type: str | None
    software_agent: str | None
    when: str | None
    description: str | None
    ai_generated: bool


@dataclass(frozen=True)
class C2paIngredient:
    """A source the manifest says the content was made from.

    Attributes:
        title: its title (usually a file name).
        format: its MIME type.
        relationship: ``"parentOf"``, ``"componentOf"`` or ``"inputTo"``.
        has_manifest: the ingredient carried Content Credentials of its own.
        validation_failures: failure codes recorded for the ingredient.
    """

    title: str
    format: str | None
    relationship: str | None
    has_manifest: bool
    validation_failures: tuple[str, ...]


@dataclass(frozen=True)
class C2paStatusCode:
    """One validation status code of the C2PA library (success, informational or failure)."""

    code: str
    outcome: str
    explanation: str
    url: str | None


@dataclass(frozen=True)
class TrustInfo:
    """Which trust anchors signatures were checked against.

    Attributes:
        source: ``"none"`` (nothing shipped or imported) or the trust-list file's name.
        sha256: SHA-256 of the trust-list file used, ``None`` for none.
        n_anchors: how many certificates it holds.
        subjects: the anchors' subject names (the first few).
        note: what this means for the result, in words.
    """

    source: str
    sha256: str | None
    n_anchors: int
    subjects: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class ContentCredentials:
    """The C2PA Content Credentials of a file, validated offline.

    Attributes:
        state: see :data:`C2paState`.
        summary: one sentence an analyst can read aloud.
        signer: who signed (certificate common name and issuer), where readable.
        signed_at: signing time from a trusted timestamp, where present.
        claim_generator: the software that wrote the manifest.
        title: the asset title in the manifest.
        actions: the active manifest's actions.
        ai_generated: any action declares generative-AI content (shown prominently).
        ingredients: the active manifest's ingredients.
        codes: validation codes of the active manifest (failures first).
        n_manifests: manifests in the store (the active one and its ingredients' history).
        remote_url: a remote manifest the file points to; never fetched (offline).
        trust: the trust anchors used.
    """

    state: C2paState
    summary: str
    signer: str | None = None
    signed_at: str | None = None
    claim_generator: str | None = None
    title: str | None = None
    actions: tuple[C2paAction, ...] = ()
    ai_generated: bool = False
    ingredients: tuple[C2paIngredient, ...] = ()
    codes: tuple[C2paStatusCode, ...] = ()
    n_manifests: int = 0
    remote_url: str | None = None
    trust: TrustInfo | None = None


@dataclass(frozen=True)
class Inconsistency:
    """Something in the file's own story that an analyst should look at.

    Attributes:
        code: stable identifier (``"editing_software"``, ``"thumbnail_differs"``,
            ``"dates_disagree"``, ``"dimensions_disagree"``, ``"c2pa_invalid"``, ...).
        severity: ``"note"``, ``"look"`` (look at this) or ``"look_first"``.
        title: a short headline.
        explanation: what it may mean and what it does not prove, in plain words.
        evidence: the values that raised it (``"Exif.Image.Software = GIMP 2.10"``).
    """

    code: str
    severity: Severity
    title: str
    explanation: str
    evidence: tuple[str, ...] = ()

    @property
    def severity_label(self) -> str:
        """The severity in words (``"look at this"``)."""
        return SEVERITY_LABELS[self.severity]


@dataclass(frozen=True)
class FileProvenance:
    """Everything the file itself says about its origin (see the module docstring).

    Attributes:
        sha256: SHA-256 of the bytes that were read (``None`` if the file could not be read).
        size_bytes: file size.
        format_family: ``"jpeg"``, ``"png"``, ``"gif"``, ``"webp"``, ``"tiff"``, ``"bmp"``,
            ``"heif"``, ``"mp4"``, ``"matroska"``, ``"avi"``, ... or ``"unknown"``.
        same_bytes: how the read was tied to the hashed bytes (in words).
        highlights: the entries an analyst usually wants first (camera, software, dates).
        metadata: every entry read (bounded in number and length; see ``notes``).
        gps: a location written in the file, if any.
        icc_description: the ICC profile's description, if one is embedded.
        jpeg: quantisation facts for a JPEG.
        thumbnail: the EXIF-thumbnail check, where there is a thumbnail.
        container: facts about a video container.
        c2pa: the Content Credentials (state ``"absent"`` when there are none).
        inconsistencies: what to look at, most important first.
        notes: problems met while reading (hostile or broken metadata); never fatal.
        schema: the layout version of this record.
    """

    sha256: str | None
    size_bytes: int
    format_family: str
    same_bytes: str
    c2pa: ContentCredentials
    highlights: tuple[MetaEntry, ...] = ()
    metadata: tuple[MetaEntry, ...] = ()
    gps: GpsInfo | None = None
    icc_description: str | None = None
    jpeg: JpegFacts | None = None
    thumbnail: ThumbnailCheck | None = None
    container: ContainerFacts | None = None
    inconsistencies: tuple[Inconsistency, ...] = ()
    notes: tuple[str, ...] = ()
    schema: int = field(default=PROVENANCE_SCHEMA)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; :meth:`from_dict` reverses it exactly."""
        from engine.provenance.codec import to_plain

        plain: dict[str, Any] = to_plain(self)
        return plain

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileProvenance:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            ValueError: another schema version, a missing required key or an unknown key.
        """
        from engine.provenance.codec import from_plain

        if data.get("schema") != PROVENANCE_SCHEMA:
            raise ValueError(
                f"unsupported provenance schema {data.get('schema')!r} (want {PROVENANCE_SCHEMA})"
            )
        built: FileProvenance = from_plain(cls, data)
        return built
