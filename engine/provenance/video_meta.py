"""Container and stream facts of a video, read with PyAV's demuxer (no frame is decoded).

PyAV (FFmpeg's libavformat) names the container, codecs and profiles and hands over the
container and stream tags (``creation_time``, ``encoder``, ``handler_name``, Apple's
``com.apple.quicktime.*`` keys, a location). For MP4/MOV the box walker
(:mod:`engine.provenance.bmff`) adds what the demuxer does not expose: the movie and track
creation and modification times, the display matrix, handler and compressor names, edit lists
and the box order. The demuxer gets an open stream and the container format named from the
file's magic bytes, never a path, so FFmpeg's network protocols and playlist demuxers (HLS,
concat), which open further files or URLs, are never reached.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, BinaryIO

from engine.provenance.bmff import BmffFacts, TrackBoxes, read_bmff
from engine.provenance.model import ContainerFacts, MetaEntry, StreamFacts
from engine.provenance.textutil import clean_text, entry

__all__ = ["VideoMeta", "read_video_metadata"]

log = logging.getLogger(__name__)

_DEMUXER_OF_FAMILY = {
    "mp4": "mov", "mov": "mov", "matroska": "matroska", "avi": "avi", "flv": "flv",
    "asf": "asf", "mpeg": "mpeg", "mpegts": "mpegts",
}
# NOTE: enough for FFmpeg to find every stream's codec in any sane file, and a bound on what
# a crafted file can make it read before giving up (its defaults are 5 MB / 5 s as well).
_OPEN_OPTIONS = {"probesize": "5000000", "analyzeduration": "5000000"}
_MAX_TAGS = 200


@dataclass(frozen=True)
class VideoMeta:
    """What the demuxer and the boxes said: facts, tag entries, tags by key, and notes."""

    container: ContainerFacts | None
    entries: tuple[MetaEntry, ...]
    tags: dict[str, str]
    notes: tuple[str, ...]


def read_video_metadata(stream: BinaryIO, size: int, family: str) -> VideoMeta:
    """Container facts of the video in ``stream`` (format ``family``); never raises."""
    notes: list[str] = []
    bmff = None
    if family in ("mp4", "mov"):
        bmff = read_bmff(stream, size)
        notes += bmff.notes
        stream.seek(0)
    try:
        return _demux(stream, family, bmff, notes)
    except Exception as exc:  # noqa: BLE001 - PyAV raises many types (av.error.*, ValueError)
        log.info("demuxer failed on a %s file: %r", family, exc)
        notes.append(f"the container could not be opened by the demuxer: {exc}")
        return VideoMeta(_facts_from_boxes(bmff), (), {}, tuple(notes))


def _demux(stream: BinaryIO, family: str, bmff: BmffFacts | None, notes: list[str]) -> VideoMeta:
    import av

    with av.open(stream, format=_DEMUXER_OF_FAMILY[family], options=_OPEN_OPTIONS,
                 metadata_errors="replace") as container:
        tags = _tags(container.metadata)
        entries = [entry("Container", k, v) for k, v in tags.items()]
        tracks = {t.track_id: t for t in bmff.tracks} if bmff else {}
        streams = []
        for st in container.streams:
            facts = _stream_facts(st, tracks.get(int(st.id)))
            streams.append(facts)
            entries += [entry(f"Stream {st.index} ({facts.kind})", e.key, e.value)
                        for e in facts.tags]
        duration = container.duration / 1_000_000 if container.duration else None
        facts = ContainerFacts(
            format_name=str(container.format.name),
            duration_s=duration,
            bit_rate=int(container.bit_rate or 0),
            brands=_brands(tags),
            created_utc=(bmff.created_utc if bmff else None) or tags.get("creation_time"),
            modified_utc=bmff.modified_utc if bmff else None,
            box_order=tuple(bmff.box_order) if bmff else (),
            edit_lists=bmff.edit_lists if bmff else (),
            streams=tuple(streams),
        )
    return VideoMeta(facts, tuple(entries), tags, tuple(notes))


def _tags(metadata: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in list(metadata.items())[:_MAX_TAGS]:
        out[clean_text(str(key), 200)[0]] = clean_text(str(value))[0]
    return out


def _brands(tags: dict[str, str]) -> tuple[str, ...]:
    major = tags.get("major_brand")
    compatible = tags.get("compatible_brands", "")
    others = [compatible[i : i + 4] for i in range(0, len(compatible), 4)]
    return tuple(b for b in [major, *others] if b)


def _stream_facts(st: Any, boxes: TrackBoxes | None) -> StreamFacts:
    tags = _tags(st.metadata)
    ctx = st.codec_context
    kind = str(st.type)
    rate = getattr(st, "average_rate", None) if kind == "video" else None
    seconds = float(st.duration * st.time_base) if st.duration and st.time_base else None
    encoder = tags.get("encoder") or (boxes.compressor if boxes else None)
    return StreamFacts(
        index=int(st.index),
        kind=kind,
        codec=str(ctx.name) if ctx is not None else "unknown",
        profile=str(ctx.profile) if ctx is not None and ctx.profile else None,
        width=int(getattr(ctx, "width", 0) or 0) if kind == "video" else 0,
        height=int(getattr(ctx, "height", 0) or 0) if kind == "video" else 0,
        fps=float(rate) if isinstance(rate, Fraction) and rate > 0 else None,
        duration_s=seconds,
        n_frames=int(st.frames or 0),
        rotation_deg=boxes.rotation_deg if boxes else 0,
        handler=tags.get("handler_name") or (boxes.handler_name if boxes else None),
        encoder=encoder,
        created_utc=tags.get("creation_time") or (boxes.created_utc if boxes else None),
        tags=tuple(MetaEntry("tag", k, v) for k, v in tags.items()),
    )


def _facts_from_boxes(bmff: BmffFacts | None) -> ContainerFacts | None:
    """What the boxes alone say, when the demuxer refused the file."""
    if bmff is None or not bmff.box_order:
        return None
    streams = tuple(
        StreamFacts(index=i, kind={"vide": "video", "soun": "audio"}.get(t.handler_type, "data"),
                    codec=t.codec_fourcc or "unknown", profile=None, width=int(t.width),
                    height=int(t.height), fps=None, duration_s=None, n_frames=0,
                    rotation_deg=t.rotation_deg, handler=t.handler_name, encoder=t.compressor,
                    created_utc=t.created_utc, tags=())
        for i, t in enumerate(bmff.tracks)
    )
    return ContainerFacts("mov (boxes only)", None, 0, (), bmff.created_utc, bmff.modified_utc,
                          tuple(bmff.box_order), bmff.edit_lists, streams)
