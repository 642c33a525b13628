"""The inconsistency rules: what in a file's own story an analyst should look at.

Each rule reads the facts already gathered and may add an :class:`Inconsistency` with a
severity (``look_first``, ``look``, ``note``), a headline, an explanation in plain words that
says what it may mean *and what it does not prove*, and the values that raised it. None of them
is proof of manipulation; together they tell an analyst where to look. Rules never raise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from engine.provenance.c2pa_read import AI_SOURCE_TYPES
from engine.provenance.checks_dates import date_rules
from engine.provenance.model import (
    ContainerFacts,
    ContentCredentials,
    Inconsistency,
    JpegFacts,
    ThumbnailCheck,
)
from engine.provenance.software import find_software

__all__ = ["Facts", "find_inconsistencies"]

_ORDER = {"look_first": 0, "look": 1, "note": 2}
_AI_PNG_KEYS = ("parameters", "prompt", "workflow", "invokeai_metadata", "sd-metadata", "Dream")
# NOTE: 2 px of slack: some writers round odd sizes of subsampled JPEGs.
_DIM_SLACK_PX = 2


@dataclass(frozen=True)
class Facts:
    """Everything the rules read (raw values by key, and the records already built)."""

    family: str
    c2pa: ContentCredentials
    exif: Mapping[str, str] = field(default_factory=dict)
    xmp: Mapping[str, str] = field(default_factory=dict)
    iptc: Mapping[str, str] = field(default_factory=dict)
    png_text: Mapping[str, str] = field(default_factory=dict)
    video_tags: Mapping[str, str] = field(default_factory=dict)
    container: ContainerFacts | None = None
    image_wh: tuple[int, int] | None = None
    jpeg: JpegFacts | None = None
    thumbnail: ThumbnailCheck | None = None
    now_utc: datetime = field(default_factory=lambda: datetime.now(UTC))


def find_inconsistencies(facts: Facts) -> tuple[Inconsistency, ...]:
    """Every rule's findings, most important first."""
    rules: tuple[Callable[[Facts], list[Inconsistency]], ...] = (
        _c2pa_rules, _declared_ai, _software, _thumbnail, date_rules, _dimensions, _jpeg_rules,
        _edit_lists, _no_metadata,
    )
    found = [item for rule in rules for item in rule(facts)]
    return tuple(sorted(found, key=lambda item: _ORDER[item.severity]))


def _c2pa_rules(facts: Facts) -> list[Inconsistency]:
    c2pa = facts.c2pa
    failures = tuple(c.code for c in c2pa.codes if c.outcome == "failure")
    if c2pa.state == "invalid":
        return [Inconsistency(
            "c2pa_invalid", "look_first", "Content Credentials fail validation",
            "The file carries a C2PA manifest whose signature or content hash does not check "
            "out: the file was changed after it was signed, or the manifest was damaged or "
            "forged. A re-save by a tool that does not understand C2PA also breaks it. What "
            "the manifest claims (who made it, how) cannot be relied on.", failures)]
    if c2pa.state == "unreadable":
        return [Inconsistency(
            "c2pa_unreadable", "look", "Content Credentials are damaged",
            "A C2PA manifest is present but cannot be parsed. It may have been damaged by a "
            "tool that rewrote the file, or crafted; nothing it says can be relied on.",
            (c2pa.summary,))]
    if c2pa.ai_generated:
        agents = tuple(f"{a.action}: {a.digital_source_type}" for a in c2pa.actions
                       if a.ai_generated)
        return [Inconsistency(
            "c2pa_ai_generated", "look_first", "Content Credentials declare generative AI",
            "The signed manifest says generative AI made or composed this content. This is "
            "the maker's own declaration, bound to the file by the signature (check its "
            "validation state and signer). It is not a detector's finding.", agents)]
    return []


def _declared_ai(facts: Facts) -> list[Inconsistency]:
    found = []
    source = facts.xmp.get("Xmp.iptcExt.DigitalSourceType", "")
    if source.rsplit("/", 1)[-1] in AI_SOURCE_TYPES:
        found.append(Inconsistency(
            "metadata_ai_declared", "look_first", "The metadata declares generative AI",
            "The IPTC 'digital source type' in the XMP says the content was made or composed "
            "by generative AI. Unsigned metadata can be written by anyone, so this is a "
            "declaration to weigh, not proof either way.",
            (f"Xmp.iptcExt.DigitalSourceType = {source}",)))
    png_keys = [k for k in _AI_PNG_KEYS if k in facts.png_text]
    if png_keys:
        found.append(Inconsistency(
            "generator_parameters", "look_first", "AI image-generator settings in the file",
            "The PNG holds text chunks in which image-generation tools (Stable Diffusion web "
            "interfaces, ComfyUI, InvokeAI) store their prompt and settings. They are easy to "
            "add or remove; their presence says the file passed through such a tool.",
            tuple(f"PNG text '{k}' = {facts.png_text[k][:120]}" for k in png_keys)))
    return found


def _software(facts: Facts) -> list[Inconsistency]:
    named = find_software(facts.exif, facts.xmp, facts.iptc, facts.png_text, facts.video_tags,
                          _stream_tags(facts.container))
    found = []
    generators = [n for n in named if n.kind == "generator"]
    editors = [n for n in named if n.kind == "editor"]
    reencoders = [n for n in named if n.kind == "reencoder"]
    if generators:
        found.append(Inconsistency(
            "generator_named", "look_first", "An AI generation or face-swap tool is named",
            "The metadata names software that generates images or swaps faces. Metadata can be "
            "edited, so this is a strong reason to look, not proof.",
            tuple(n.where for n in generators)))
    if editors:
        found.append(Inconsistency(
            "editing_software", "look", "Editing software named in the metadata",
            "The file was last written, or at some point opened and saved, by an editor. "
            "Editors are used for harmless work too (crop, rotate, convert, compress); this "
            "says the file is not straight from the camera, not that its content was altered.",
            tuple(f"{n.product}: {n.where}" for n in editors)))
    if reencoders:
        found.append(Inconsistency(
            "reencoded", "note", "Re-encoded or re-muxed by a general tool",
            "FFmpeg or an x264/x265 encoder wrote this file. Platforms, download tools and "
            "converters do this routinely; it means the file is not the camera's original.",
            tuple(f"{n.product}: {n.where}" for n in reencoders)))
    return found


def _stream_tags(container: ContainerFacts | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    for stream in container.streams if container else ():
        if stream.encoder:
            tags.setdefault("encoder", stream.encoder)
        if stream.handler:
            tags.setdefault("handler_name", stream.handler)
    return tags


def _thumbnail(facts: Facts) -> list[Inconsistency]:
    thumb = facts.thumbnail
    if thumb is None or thumb.verdict != "differs":
        return []
    return [Inconsistency(
        "thumbnail_differs", "look", "The embedded thumbnail shows a different picture",
        "The small preview the camera stored in the EXIF does not match the main image. "
        "Editors that keep the original EXIF without renewing the preview leave the earlier "
        "picture there; so does copying EXIF from another photo. Crops and rotations by some "
        "phone apps do it too. Compare the two pictures by eye.", (thumb.detail,))]


def _dimensions(facts: Facts) -> list[Inconsistency]:
    if facts.image_wh is None:
        return []
    width, height = facts.image_wh
    for key_w, key_h, values in (
        ("Exif.Photo.PixelXDimension", "Exif.Photo.PixelYDimension", facts.exif),
        ("Xmp.exif.PixelXDimension", "Xmp.exif.PixelYDimension", facts.xmp),
    ):
        try:
            claimed = (int(values[key_w]), int(values[key_h]))
        except (KeyError, ValueError):
            continue
        if _same_size(claimed, (width, height)):
            continue
        return [Inconsistency(
            "dimensions_disagree", "look", "The metadata states another image size",
            "The size recorded in the metadata differs from the real pixel size: the image was "
            "cropped or resized by software that kept the original metadata. That is common "
            "and harmless in itself, but it means the pixels are not the ones first recorded.",
            (f"{key_w}/{key_h} = {claimed[0]}x{claimed[1]}", f"real size {width}x{height}"))]
    return []


def _same_size(a: tuple[int, int], b: tuple[int, int]) -> bool:
    def close(x: tuple[int, int], y: tuple[int, int]) -> bool:
        return abs(x[0] - y[0]) <= _DIM_SLACK_PX and abs(x[1] - y[1]) <= _DIM_SLACK_PX

    return close(a, b) or close(a, (b[1], b[0]))


def _jpeg_rules(facts: Facts) -> list[Inconsistency]:
    jpeg = facts.jpeg
    if jpeg is None:
        return []
    found = []
    camera = facts.exif.get("Exif.Image.Make") or facts.exif.get("Exif.Image.Model")
    if camera and jpeg.tables_match_ijg:
        found.append(Inconsistency(
            "standard_tables_camera", "note", "Software-style JPEG tables in a camera photo",
            f"The EXIF names a camera ({camera}), but the quantisation tables are libjpeg's "
            f"standard tables at quality {jpeg.quality_estimate}, which most cameras do not use: "
            "the file was probably saved again by software. Some phones do use these tables.",
            (f"Make/Model = {camera}", f"tables = libjpeg quality {jpeg.quality_estimate}")))
    if jpeg.double_compression.startswith(("signs", "weak")):
        strong = jpeg.double_compression.startswith("signs")
        found.append(Inconsistency(
            "double_compression", "look" if strong else "note",
            "Signs of an earlier JPEG save" if strong else "Weak signs of an earlier JPEG save",
            "The DCT coefficient histograms show the periodic pattern of a second JPEG save. "
            "Every re-save by a messenger, platform or editor leaves it; it does not say what, "
            "if anything, was changed.",
            (f"periodicity score {jpeg.double_compression_score}",)))
    return found


def _edit_lists(facts: Facts) -> list[Inconsistency]:
    container = facts.container
    if container is None:
        return []
    found = []
    per_track: dict[int, int] = {}
    for edit in container.edit_lists:
        if edit.media_time_s is not None:
            per_track[edit.track_id] = per_track.get(edit.track_id, 0) + 1
    for track_id, n_segments in per_track.items():
        if n_segments > 1:
            found.append(Inconsistency(
                "edit_list_segments", "look", "The video is assembled from several segments",
                f"Track {track_id} has an edit list of {n_segments} segments: what plays is "
                "pieced together from parts of the recorded media. Editing apps cut this way "
                "without re-encoding; cameras do not. The cut parts may still be in the file.",
                (f"track {track_id}: {n_segments} edit-list segments",)))
    return found


def _no_metadata(facts: Facts) -> list[Inconsistency]:
    if facts.family not in ("jpeg", "heif", "tiff") or facts.exif or facts.xmp:
        return []
    return [Inconsistency(
        "no_camera_metadata", "note", "No camera metadata",
        "The photo holds no EXIF or XMP. Messaging apps, social networks, screenshots and "
        "privacy tools remove it routinely; its absence is not a sign of manipulation, it only "
        "means the file cannot tell its own story.")]

