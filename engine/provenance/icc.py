"""The description of an embedded ICC colour profile ("sRGB IEC61966-2.1", "Display P3").

The profile names the colour space a camera, phone or editor wrote: a photo said to come from
an iPhone with an "Adobe RGB (1998)" profile is worth a look. Only the ``desc`` tag is read,
in its ICC v2 (``desc``) and v4 (``mluc``) forms; every offset is bounds-checked, so a crafted
profile gives ``None``, never an exception.
"""

from __future__ import annotations

import struct

__all__ = ["icc_description"]

_HEADER_BYTES = 128
# NOTE: a real profile has 10-30 tags; more than 1000 is a crafted table, not read further.
_MAX_TAGS = 1000


def icc_description(profile: bytes) -> str | None:
    """The profile's description text, or ``None`` when it has none or cannot be parsed."""
    if len(profile) < _HEADER_BYTES + 4:
        return None
    (n_tags,) = struct.unpack_from(">I", profile, _HEADER_BYTES)
    for i in range(min(n_tags, _MAX_TAGS)):
        at = _HEADER_BYTES + 4 + 12 * i
        if at + 12 > len(profile):
            return None
        sig, offset, size = struct.unpack_from(">4sII", profile, at)
        if sig == b"desc" and offset + size <= len(profile):
            return _decode_desc(profile[offset : offset + size])
    return None


def _decode_desc(tag: bytes) -> str | None:
    if tag[:4] == b"desc" and len(tag) >= 12:
        (count,) = struct.unpack_from(">I", tag, 8)
        text = tag[12 : 12 + count].split(b"\x00", 1)[0]
        return text.decode("latin-1").strip() or None
    if tag[:4] == b"mluc" and len(tag) >= 28:
        (n_records,) = struct.unpack_from(">I", tag, 8)
        if n_records < 1:
            return None
        length, offset = struct.unpack_from(">II", tag, 20)
        if offset + length > len(tag):
            return None
        return tag[offset : offset + length].decode("utf-16-be", "replace").strip("\x00 ") or None
    return None
