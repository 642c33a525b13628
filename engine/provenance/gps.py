"""Locations written into a file: EXIF GPS, XMP ``exif:GPS*`` and video ISO 6709 tags.

A location is evidence (where a photo was taken, or where its metadata claims it was) and
personal data at once: it can place a person at home. It is always shown with
:data:`PRIVACY_NOTE`. Values that do not parse, or lie outside the globe, give ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction

from engine.provenance.model import GpsInfo

__all__ = ["PRIVACY_NOTE", "gps_from_exif", "gps_from_iso6709", "gps_from_xmp"]

PRIVACY_NOTE = (
    "Personal data: a location written by a phone or camera may place a person at home or at "
    "work. Share it only as far as the case needs. It records where the device said it was, "
    "which software can edit; it is not proof of where the picture was taken."
)

_ISO6709 = re.compile(r"^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)?")
_XMP_COORD = re.compile(r"^\s*(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?\s*([NSEW])\s*$")


def _rationals(text: str) -> list[float] | None:
    """``"52/1 30/1 1234/100"`` -> ``[52.0, 30.0, 12.34]``; ``None`` on any bad part."""
    try:
        return [float(Fraction(part)) for part in text.split()]
    except (ValueError, ZeroDivisionError):
        return None


def _dms(text: str | None, ref: str | None, negative_ref: str) -> float | None:
    if not text:
        return None
    parts = _rationals(text)
    if not parts or len(parts) > 3:
        return None
    degrees = sum(v / 60.0**i for i, v in enumerate(parts))
    return -degrees if (ref or "").strip().upper().startswith(negative_ref) else degrees


def _valid(lat: float, lon: float) -> bool:
    return abs(lat) <= 90.0 and abs(lon) <= 180.0


def gps_from_exif(exif: Mapping[str, str]) -> GpsInfo | None:
    """The EXIF GPS position (``Exif.GPSInfo.*`` raw values by key), or ``None``."""
    lat = _dms(exif.get("Exif.GPSInfo.GPSLatitude"), exif.get("Exif.GPSInfo.GPSLatitudeRef"), "S")
    lon = _dms(exif.get("Exif.GPSInfo.GPSLongitude"), exif.get("Exif.GPSInfo.GPSLongitudeRef"),
               "W")
    if lat is None or lon is None or not _valid(lat, lon):
        return None
    alt = None
    alt_parts = _rationals(exif.get("Exif.GPSInfo.GPSAltitude", ""))
    if alt_parts and len(alt_parts) == 1:
        below = exif.get("Exif.GPSInfo.GPSAltitudeRef", "0").strip() == "1"
        alt = -alt_parts[0] if below else alt_parts[0]
    return GpsInfo(lat, lon, alt, "EXIF GPSLatitude/GPSLongitude", PRIVACY_NOTE)


def _xmp_coord(text: str | None) -> float | None:
    match = _XMP_COORD.match(text or "")
    if match is None:
        return None
    deg, minutes, seconds, ref = match.groups()
    value = float(deg) + float(minutes) / 60.0 + float(seconds or 0.0) / 3600.0
    return -value if ref in "SW" else value


def gps_from_xmp(xmp: Mapping[str, str]) -> GpsInfo | None:
    """The XMP position (``Xmp.exif.GPSLatitude`` = ``"52,30.5N"``), or ``None``."""
    lat = _xmp_coord(xmp.get("Xmp.exif.GPSLatitude"))
    lon = _xmp_coord(xmp.get("Xmp.exif.GPSLongitude"))
    if lat is None or lon is None or not _valid(lat, lon):
        return None
    return GpsInfo(lat, lon, None, "XMP exif:GPSLatitude/GPSLongitude", PRIVACY_NOTE)


def gps_from_iso6709(text: str, source: str) -> GpsInfo | None:
    """A video location tag such as ``"+52.5200+013.4050+034.000/"``, or ``None``."""
    match = _ISO6709.match(text.strip())
    if match is None:
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    if not _valid(lat, lon):
        return None
    alt = float(match.group(3)) if match.group(3) else None
    return GpsInfo(lat, lon, alt, source, PRIVACY_NOTE)
