"""Reading a labelled benchmark index: one checked :class:`BenchItem` per good row.

The index is a CSV with at least the columns ``path,label,kind`` (``dev_bench/index.csv`` also
has ``method,source_repo,source_commit,source_path,derived,licence_note``). ``path`` is relative
to the CSV's folder unless absolute. A row that cannot be used (missing file, unknown label or
kind, a label that contradicts the kind, a duplicate path) becomes a :class:`RowError` with a
message that names the row, and the other rows go on: one bad line must not cost the run.

Kinds (the dev bench's vocabulary): ``faceswap_video``, ``faceswap_image``,
``talking_head_video``, ``reenactment_video``, ``reenactment_image``, ``gan_image``,
``diffusion_image`` (fake) and ``real_video``, ``real_image`` (real).
"""

from __future__ import annotations

import csv
import logging
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FAKE_KINDS",
    "REAL_KINDS",
    "BenchItem",
    "IndexReadError",
    "RowError",
    "read_index",
    "read_index_logged",
]

logger = logging.getLogger(__name__)

FAKE_KINDS = (
    "faceswap_video",
    "faceswap_image",
    "talking_head_video",
    "reenactment_video",
    "reenactment_image",
    "gan_image",
    "diffusion_image",
)
REAL_KINDS = ("real_video", "real_image")
_REQUIRED_COLUMNS = ("path", "label", "kind")


class IndexReadError(ValueError):
    """The index as a whole cannot be read (missing, not a CSV, required columns absent)."""


@dataclass(frozen=True)
class BenchItem:
    """One labelled media file of the benchmark.

    Attributes:
        row: 1-based line number in the CSV (the header is line 1).
        rel_path: the ``path`` column as written.
        path: the file on disk (absolute).
        label: 1 = fake, 0 = real.
        kind: one of :data:`FAKE_KINDS` or :data:`REAL_KINDS`.
        method: generation method (fakes) or how the real was captured, may be ''.
        source: the source repository (``source_repo``), or '' when the index has none.
    """

    row: int
    rel_path: str
    path: str
    label: int
    kind: str
    method: str
    source: str

    @property
    def modality(self) -> str:
        """``"video"`` or ``"image"``, from the kind's name."""
        return "video" if self.kind.endswith("_video") else "image"


@dataclass(frozen=True)
class RowError:
    """A row that was skipped, and why."""

    row: int
    rel_path: str
    message: str


def read_index(index_csv: str | os.PathLike[str]) -> tuple[list[BenchItem], list[RowError]]:
    """The usable items of ``index_csv`` and the rows that were skipped.

    Raises:
        IndexReadError: the file cannot be read or lacks a required column.
    """
    index_path = Path(index_csv)
    try:
        with index_path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in _REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise IndexReadError(f"{index_path}: required column(s) missing: {missing}")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise IndexReadError(f"cannot read the index {index_path}: {exc}") from exc
    items: list[BenchItem] = []
    errors: list[RowError] = []
    seen: set[str] = set()
    for line_no, row in enumerate(rows, start=2):
        result = _parse_row(line_no, row, index_path.parent.resolve(), seen)
        (items if isinstance(result, BenchItem) else errors).append(result)  # type: ignore[arg-type]
    return items, errors


def read_index_logged(index_csv: str | os.PathLike[str]) -> list[BenchItem]:
    """:func:`read_index` for a command line: each skipped row is logged as a warning and the
    run goes on with the usable items.

    Raises:
        IndexReadError: the file cannot be read or lacks a required column.
    """
    items, errors = read_index(index_csv)
    for err in errors:
        logger.warning("index row %d (%s) skipped: %s", err.row, err.rel_path, err.message)
    return items


def _parse_row(
    line_no: int, row: dict[str, str | None], root: Path, seen: set[str]
) -> BenchItem | RowError:
    rel = (row.get("path") or "").strip()
    label_text = (row.get("label") or "").strip().lower()
    kind = (row.get("kind") or "").strip()
    if not rel:
        return RowError(line_no, rel, "empty path")
    if label_text not in ("real", "fake"):
        return RowError(line_no, rel, f"label must be 'real' or 'fake', got {label_text!r}")
    if kind not in FAKE_KINDS + REAL_KINDS:
        return RowError(line_no, rel, f"unknown kind {kind!r} (known: {FAKE_KINDS + REAL_KINDS})")
    if (label_text == "real") != (kind in REAL_KINDS):
        return RowError(line_no, rel, f"label {label_text!r} contradicts kind {kind!r}")
    path = Path(rel) if os.path.isabs(rel) else root / rel
    if not path.is_file():
        return RowError(line_no, rel, f"file not found: {path}")
    key = str(path.resolve())
    if key in seen:
        return RowError(line_no, rel, "the same file is listed twice")
    seen.add(key)
    return BenchItem(
        row=line_no,
        rel_path=rel,
        path=str(path),
        label=1 if label_text == "fake" else 0,
        kind=kind,
        method=(row.get("method") or "").strip(),
        source=(row.get("source_repo") or "").strip(),
    )
