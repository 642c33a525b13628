"""Making untrusted metadata text safe to store, show and export.

Metadata is written by whoever made the file: values can be megabytes long, hold invalid UTF-8
(exiv2 hands such bytes over as lone surrogates, which SQLite and JSON writers refuse), control
characters that rewrite a terminal or a table cell, or formula prefixes a spreadsheet would run.
Every value goes through :func:`clean_text` before it reaches a record.
"""

from __future__ import annotations

import re

from engine.provenance.model import MetaEntry

__all__ = ["MAX_VALUE_CHARS", "clean_text", "entry"]

# NOTE: 400 characters show a long description or a software history line in full; a 5 MB
# XMP blob or a maker note is cut, with the entry marked as truncated.
MAX_VALUE_CHARS = 400

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(value: str, max_chars: int = MAX_VALUE_CHARS) -> tuple[str, bool]:
    """``(text, truncated)``: valid UTF-8, no control characters, at most ``max_chars`` long."""
    text = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    text = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text).strip()
    if len(text) > max_chars:
        return text[: max_chars - 1] + "\N{HORIZONTAL ELLIPSIS}", True
    return text, False


def entry(group: str, key: str, value: str) -> MetaEntry:
    """A :class:`MetaEntry` with the key and value cleaned."""
    clean_key, _ = clean_text(key, 200)
    clean_value, truncated = clean_text(value)
    return MetaEntry(group, clean_key, clean_value, truncated)
