"""Media provenance and forensic filters: the part of :mod:`engine.api` about the file itself.

Re-exported by :mod:`engine.api` (the GUI imports them from there, never from here). Only stdlib
and numpy are imported at module level; exiv2, PyAV, c2pa-python and OpenCV load on first use.
See docs/PROVENANCE.md.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from engine.filters.base import FilterInfo, FilterResult
from engine.jobs import CancelToken
from engine.provenance.model import FileProvenance
from engine.provenance.trust import TrustList

__all__ = [
    "apply_filter",
    "file_provenance_from_dict",
    "inspect_provenance",
    "list_filters",
    "load_trust_list",
    "render_filter",
]


def inspect_provenance(
    path: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    trust_list: TrustList | None = None,
) -> FileProvenance:
    """What a file says about its origin, without analysing its pixels; never raises.

    Args:
        path: the file (read-only).
        sha256: its expected SHA-256; a file read into memory must match it, or the record
            says so instead of describing other bytes.
        trust_list: trust anchors for C2PA signatures (:func:`load_trust_list`), or ``None``.
    """
    from engine.provenance.inspect import inspect_file

    return inspect_file(os.fspath(path), sha256=sha256, trust=trust_list)


def load_trust_list(path: str | os.PathLike[str]) -> TrustList:
    """Read and check a PEM bundle of C2PA trust anchors (raises :class:`TrustListError`)."""
    from engine.provenance.trust import load_trust_list as _load

    return _load(path)


def file_provenance_from_dict(data: dict[str, Any]) -> FileProvenance:
    """A stored :class:`FileProvenance` (raises ``ValueError`` on a damaged record)."""
    return FileProvenance.from_dict(data)


def list_filters() -> list[FilterInfo]:
    """The forensic filters, each with its how-to-read / what-not-to-conclude guidance."""
    from engine.filters import list_filters as _list

    return _list()


def apply_filter(
    name: str,
    rgb_u8: np.ndarray,
    *,
    jpeg_quality: int | None = None,
    cancel: CancelToken | None = None,
) -> FilterResult:
    """Run one forensic filter on an (H, W, 3) uint8 RGB image; the map is bounded in size.

    ``jpeg_quality`` is the image's own JPEG quality where known (JPEG ghosts test below it).

    Raises:
        KeyError: unknown filter name.
        ValueError: not an (H, W, 3) uint8 image.
        JobCancelled: ``cancel`` was set.
    """
    from engine.filters import apply_filter as _apply

    return _apply(name, rgb_u8, jpeg_quality=jpeg_quality, cancel=cancel)


def render_filter(result: FilterResult) -> np.ndarray:
    """A filter map as an (h, w, 3) uint8 RGB image (each pixel covers ``cell_px`` squared)."""
    from engine.filters import render_filter as _render

    return _render(result)
