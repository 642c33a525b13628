"""The date rules: capture, modification, XMP and container times that disagree.

Cameras write the capture time (EXIF ``DateTimeOriginal``) and, usually equal to it, the file
time (``DateTime``); editors update the latter and XMP's ``ModifyDate``/``MetadataDate``.
Video containers record creation and modification per movie and per track. A time much later
than the capture says the file was written again; times that contradict each other, or lie in
the future, say a clock was wrong or the metadata was edited. None of it says the pictured
content changed. Gaps under a minute are ignored (cameras write times seconds apart), and a
gap of whole hours between a time with a zone and one without may be just the zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from engine.provenance.dates import Stamp, gap_s, parse_exif, parse_iso
from engine.provenance.model import Inconsistency

if TYPE_CHECKING:
    from engine.provenance.checks import Facts

__all__ = ["date_rules", "stamps_of"]

# NOTE: cameras write DateTime and DateTimeOriginal up to a few seconds apart (burst, HDR).
_SLACK_S = 60.0


def stamps_of(facts: Facts) -> dict[str, Stamp]:
    """Every parseable time, by role."""
    exif, xmp, tags = facts.exif, facts.xmp, facts.video_tags
    candidates = {
        "original": parse_exif(exif.get("Exif.Photo.DateTimeOriginal"),
                               "EXIF DateTimeOriginal", exif.get("Exif.Photo.OffsetTimeOriginal")),
        "modified": parse_exif(exif.get("Exif.Image.DateTime"), "EXIF DateTime (modified)",
                               exif.get("Exif.Photo.OffsetTime")),
        "xmp_create": parse_iso(xmp.get("Xmp.xmp.CreateDate"), "XMP CreateDate"),
        "xmp_modify": parse_iso(xmp.get("Xmp.xmp.ModifyDate"), "XMP ModifyDate"),
        "xmp_metadata": parse_iso(xmp.get("Xmp.xmp.MetadataDate"), "XMP MetadataDate"),
        "apple_create": parse_iso(tags.get("com.apple.quicktime.creationdate"),
                                  "QuickTime creationdate"),
    }
    container = facts.container
    if container is not None:
        candidates["movie_create"] = parse_iso(container.created_utc, "container creation time")
        candidates["movie_modify"] = parse_iso(container.modified_utc,
                                               "container modification time")
    return {role: stamp for role, stamp in candidates.items() if stamp is not None}


def _later(a: Stamp, b: Stamp, code: str, title: str, why: str) -> Inconsistency | None:
    """An inconsistency if ``b`` is more than the slack after ``a``."""
    seconds, maybe_zone = gap_s(a, b)
    if seconds <= _SLACK_S:
        return None
    zone = (" The gap is a whole number of hours and one time has no zone: it may be only a "
            "time-zone difference.") if maybe_zone else ""
    return Inconsistency(code, "note" if maybe_zone else "look", title, why + zone,
                         (f"{a.source} = {a.raw}", f"{b.source} = {b.raw}",
                          f"{_span(seconds)} later"))


def _span(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 60:.0f} minutes"


def date_rules(facts: Facts) -> list[Inconsistency]:
    """The date inconsistencies of ``facts`` (see the module docstring)."""
    s = stamps_of(facts)
    found: list[Inconsistency | None] = []
    written_later = ("The file was written again after the recorded capture: typical of "
                     "editing or re-saving in software. It does not say what changed.")
    if "original" in s:
        later = [_later(s["original"], s[role], "modified_after_capture",
                        "Modified after it was taken", written_later)
                 for role in ("modified", "xmp_modify", "xmp_metadata") if role in s]
        found.append(next((item for item in later if item is not None), None))
        if "modified" in s:
            found.append(_later(s["modified"], s["original"], "dates_disagree",
                                "The capture time is later than the modification time",
                                "A file cannot be modified before it was taken: a clock was "
                                "wrong or the metadata was edited."))
        if "xmp_create" in s:
            seconds, maybe_zone = gap_s(s["original"], s["xmp_create"])
            if abs(seconds) > _SLACK_S:
                found.append(_disagree(s["original"], s["xmp_create"], seconds, maybe_zone))
    for first, then in (("movie_create", "movie_modify"), ("apple_create", "movie_create")):
        if first in s and then in s:
            found.append(_later(s[first], s[then], "video_dates_disagree",
                                "The video's recorded times disagree",
                                "The container records a creation or modification time well "
                                "after another one: the file was written again (edited, "
                                "trimmed, re-muxed), or a clock was wrong."))
    future = [_future(stamp, facts.now_utc) for stamp in s.values()]
    found.append(next((item for item in future if item is not None), None))
    return [item for item in found if item is not None]


def _disagree(a: Stamp, b: Stamp, seconds: float, maybe_zone: bool) -> Inconsistency:
    zone = " It is a whole number of hours: possibly only a time zone." if maybe_zone else ""
    return Inconsistency(
        "dates_disagree", "note" if maybe_zone else "look", "Capture times disagree",
        "The EXIF and XMP record different capture times. Software that rewrote one of them, "
        "or metadata copied from another file, does this." + zone,
        (f"{a.source} = {a.raw}", f"{b.source} = {b.raw}", f"{_span(abs(seconds))} apart"))


def _future(stamp: Stamp, now_utc: datetime) -> Inconsistency | None:
    when = stamp.when if stamp.when.tzinfo else stamp.when.replace(tzinfo=UTC)
    if when <= now_utc + timedelta(days=1):
        return None
    return Inconsistency(
        "date_in_future", "look", "A recorded time lies in the future",
        "A time in the metadata is after this analysis: the device clock was wrong or the "
        "metadata was edited.", (f"{stamp.source} = {stamp.raw}",))
