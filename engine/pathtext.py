"""File names as the operating system gives them, and as text that can be shown or stored.

On Linux a file name is bytes, not text; Python hands undecodable bytes over as lone
surrogates (``surrogateescape``: byte 0xFF becomes ``"\\udcff"``), which is exact (``os.fsencode``
gives the bytes back) and is what every ``os`` call wants. But such a string cannot be encoded
as UTF-8: SQLite, JSON consumers, Qt and PDF writers refuse or mangle it. So a path is kept
as the OS gave it wherever it is *used*, and turned into :func:`printable` text (each
undecodable byte written as ``\\xNN``) wherever it is *shown* or stored as text, with
:func:`path_bytes` (the exact bytes) kept beside it when the two differ.
"""

from __future__ import annotations

import base64
import os
from typing import Any

__all__ = [
    "exact_path_from_b64",
    "has_undecodable_bytes",
    "path_b64",
    "path_bytes",
    "printable",
    "printable_tree",
]


def has_undecodable_bytes(text: str) -> bool:
    """Whether ``text`` holds lone surrogates (bytes that were not valid UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def printable(text: str) -> str:
    """``text`` with every undecodable byte shown as ``\\xNN`` (valid UTF-8, one line)."""
    if not has_undecodable_bytes(text):
        return text
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # surrogates that did not come from bytes: show their code
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def path_bytes(path: str | os.PathLike[str]) -> bytes:
    """The exact bytes of a path as the OS has them."""
    return os.fsencode(path)


def path_b64(path: str | os.PathLike[str]) -> str | None:
    """Base64 of the path's bytes when its text form is not exact (else ``None``)."""
    text = os.fspath(path)
    if not has_undecodable_bytes(text):
        return None
    return base64.b64encode(path_bytes(text)).decode("ascii")


def exact_path_from_b64(encoded: str) -> str:
    """The path (``surrogateescape`` text, usable with every ``os`` call) of :func:`path_b64`."""
    return os.fsdecode(base64.b64decode(encoded.encode("ascii"), validate=True))


def printable_tree(value: Any) -> Any:
    """``value`` (JSON-like: dicts, lists, tuples, strings, numbers) with every string made
    :func:`printable`; tuples become lists."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_tree(k): printable_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable_tree(v) for v in value]
    return value
