"""Dates as metadata writes them, parsed for comparison: EXIF, XMP/ISO 8601, QuickTime.

EXIF writes ``"2023:01:02 10:00:00"`` in the camera's local time, with the offset in a separate
tag (``OffsetTimeOriginal``) when at all; XMP and container tags write ISO 8601, with or
without an offset. Two times of which one has no offset can only be compared as wall-clock
times, and then a difference of whole hours may just be a time zone: :func:`gap_s` says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

__all__ = ["Stamp", "gap_s", "parse_exif", "parse_iso"]

_EXIF = re.compile(r"^\s*(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_ISO = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?\s*"
    r"(Z|[+-]\d{2}:?\d{2})?"
)
_OFFSET = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")
# NOTE: real offsets run from -12:00 to +14:00.
_MAX_TZ_HOURS = 14


@dataclass(frozen=True)
class Stamp:
    """A parsed time and where it came from (``"EXIF DateTimeOriginal"``)."""

    when: datetime
    source: str
    raw: str

    @property
    def has_offset(self) -> bool:
        """Whether the time zone is known."""
        return self.when.tzinfo is not None


def _offset(text: str | None) -> timezone | None:
    match = _OFFSET.match(text or "")
    if match is None:
        return None
    sign = -1 if match.group(1) == "-" else 1
    hours, minutes = int(match.group(2)), int(match.group(3))
    if hours > _MAX_TZ_HOURS or minutes >= 60:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_exif(text: str | None, source: str, offset: str | None = None) -> Stamp | None:
    """An EXIF date (``"2023:01:02 10:00:00"``), with its offset tag if given; else ``None``."""
    match = _EXIF.match(text or "")
    if match is None:
        return None
    try:
        when = datetime(*(int(g) for g in match.groups()), tzinfo=_offset(offset))
    except ValueError:  # "0000:00:00 00:00:00" is how cameras write "unset"
        return None
    return Stamp(when, source, (text or "").strip())


def parse_iso(text: str | None, source: str) -> Stamp | None:
    """An ISO 8601 date or date-time, ``Z`` or offset optional; else ``None``."""
    match = _ISO.match(text or "")
    if match is None:
        return None
    year, month, day, hour, minute, second, tz = match.groups()
    zone = UTC if tz == "Z" else _offset(tz) if tz else None
    try:
        when = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                        int(second or 0), tzinfo=zone)
    except ValueError:
        return None
    return Stamp(when, source, (text or "").strip())


def gap_s(a: Stamp, b: Stamp) -> tuple[float, bool]:
    """``(b - a in seconds, maybe_time_zone)``.

    With both offsets known the gap is exact. Otherwise wall-clock times are compared, and a
    gap of whole hours up to 14 h (or half hours) is flagged as possibly a time-zone difference.
    """
    if a.has_offset and b.has_offset:
        return (b.when - a.when).total_seconds(), False
    seconds = (b.when.replace(tzinfo=None) - a.when.replace(tzinfo=None)).total_seconds()
    whole = abs(seconds) <= _MAX_TZ_HOURS * 3600 and abs(seconds) % 1800 < 2
    return seconds, whole and seconds != 0
