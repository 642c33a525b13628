"""PNG text and ICC chunks, read with bounded decompression.

PNG keeps free text in ``tEXt``/``zTXt``/``iTXt`` chunks: editors write "Software", and image
generators write their whole recipe (Stable Diffusion web UIs a ``parameters`` chunk, ComfyUI a
``prompt``/``workflow`` JSON). Compressed chunks are a classic decompression bomb: a few kB that
inflate to gigabytes. Pillow refuses text or ICC chunks past 1 MB (``MAX_TEXT_CHUNK``) and then
refuses the whole image; here each chunk is inflated to at most :data:`MAX_INFLATED_BYTES` and a
larger one becomes a note, so the rest of the metadata is still read.

:func:`strip_oversized_metadata_chunks` gives the media layer a way to decode the pixels of
such a file anyway (it drops only ancillary text and ICC chunks, which carry no pixels).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from engine.provenance.model import MetaEntry
from engine.provenance.textutil import entry

__all__ = ["MAX_INFLATED_BYTES", "PngText", "read_png_text", "strip_oversized_metadata_chunks"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# NOTE: Pillow's own limit (PngImagePlugin.MAX_TEXT_CHUNK = 1 MiB): what is refused there is
# refused here, with a note instead of an exception.
MAX_INFLATED_BYTES = 1 << 20
# NOTE: a real PNG has a handful of text chunks; a crafted one with 100 000 is cut here.
_MAX_TEXT_CHUNKS = 200
_TEXT_TYPES = (b"tEXt", b"zTXt", b"iTXt")
_METADATA_TYPES = (*_TEXT_TYPES, b"iCCP")


@dataclass(frozen=True)
class PngText:
    """The PNG's text chunks as entries, what was found about its ICC chunk, and notes."""

    entries: tuple[MetaEntry, ...]
    texts: dict[str, str]
    notes: tuple[str, ...]


def _chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """``(type, start, end)`` of each chunk's data; stops at IEND or at a damaged length."""
    at = len(PNG_SIGNATURE)
    while at + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, at)
        start, end = at + 8, at + 8 + length
        if end + 4 > len(data):
            return
        yield kind, start, end
        if kind == b"IEND":
            return
        at = end + 4


def _inflate(blob: bytes) -> bytes | None:
    """Decompressed ``blob`` up to the limit; ``None`` if it would inflate past it."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(blob, MAX_INFLATED_BYTES + 1)
    except zlib.error:
        return b""
    return None if len(out) > MAX_INFLATED_BYTES or inflater.unconsumed_tail else out


def _text_of(kind: bytes, body: bytes) -> tuple[str, bytes | None]:
    """``(keyword, text bytes)``; text ``None`` when it inflates past the limit."""
    keyword, _, rest = body.partition(b"\x00")
    if kind == b"tEXt":
        return keyword.decode("latin-1"), rest
    if kind == b"zTXt":
        return keyword.decode("latin-1"), _inflate(rest[1:])
    # iTXt: compression flag, method, language\0, translated keyword\0, text
    flag = rest[:1] == b"\x01"
    parts = rest[2:].split(b"\x00", 2)
    text = parts[2] if len(parts) == 3 else b""
    return keyword.decode("latin-1"), _inflate(text) if flag else text


def read_png_text(data: bytes) -> PngText:
    """Text chunks (bounded) and notes about oversized text or ICC chunks; never raises."""
    entries: list[MetaEntry] = []
    texts: dict[str, str] = {}
    notes: list[str] = []
    n_text = 0
    for kind, start, end in _chunks(data):
        if kind == b"iCCP":
            name, _, rest = data[start:end].partition(b"\x00")
            if _inflate(rest[1:]) is None:
                notes.append(f"the ICC profile chunk ({name.decode('latin-1')!r}) inflates "
                             "past 1 MB (a decompression bomb or a damaged chunk); not read")
            continue
        if kind not in _TEXT_TYPES:
            continue
        n_text += 1
        if n_text > _MAX_TEXT_CHUNKS:
            notes.append(f"only the first {_MAX_TEXT_CHUNKS} PNG text chunks are read")
            break
        keyword, raw = _text_of(kind, data[start:end])
        if raw is None:
            notes.append(f"the PNG {kind.decode()} chunk {keyword!r} inflates past 1 MB (a "
                         "decompression bomb or a damaged chunk); its text is not shown")
            continue
        text = raw.decode("utf-8" if kind == b"iTXt" else "latin-1", "replace")
        texts.setdefault(keyword, text)
        entries.append(entry("PNG text", keyword, text))
    return PngText(tuple(entries), texts, tuple(notes))


def strip_oversized_metadata_chunks(data: bytes) -> bytes:
    """The PNG without text/ICC chunks that inflate past the limit (pixels untouched).

    For the media layer: Pillow refuses a whole PNG whose text or ICC chunk inflates past
    1 MB; the same bytes minus those ancillary chunks decode to the same pixels (an ICC
    profile is only a colour-space label, which the analysis does not apply).
    """
    if not data.startswith(PNG_SIGNATURE):
        return data
    kept = [PNG_SIGNATURE]
    at = len(PNG_SIGNATURE)
    for kind, start, end in _chunks(data):
        drop = False
        if kind in _METADATA_TYPES:
            body = data[start:end]
            if kind == b"iCCP":
                drop = _inflate(body.partition(b"\x00")[2][1:]) is None
            else:
                drop = _text_of(kind, body)[1] is None
        if not drop:
            kept.append(data[at : end + 4])
        at = end + 4
    kept.append(data[at:])
    return b"".join(kept)
