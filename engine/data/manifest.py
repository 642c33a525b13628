"""The dataset manifest: one row per cached face crop, one per rejected input, and the split.

Rows are plain CSV so a person can open them; every crop row says where the face came from
(source, file, frame, track), what it is (label), which split it belongs to, and how sure the
face detector was. Rejected inputs (no face, no landmarks, unreadable file) get their own rows
with a reason, so nothing leaves the dataset unseen.

Splits are identity- or clip-disjoint and follow from the seed alone:

- the face-image sources have no identity ids, so every file is treated as its own identity
  (UTKFace and CelebA may hold the same person in several files; such pairs can straddle the
  split);
- ``videos_real`` holds whole videos out: ``n_val_liveportrait`` ``liveportrait_*`` clips and
  ``n_val_ghost`` ``ghost_*`` clips, drawn with the seed; the ``pyfeat_*`` clips, which show
  the same few people, stay together in train;
- the ``dev_eval`` sources are never trained on: their split is ``"dev_eval"``.
"""

from __future__ import annotations

import csv
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

__all__ = [
    "DEV_EVAL_SPLIT",
    "CropRow",
    "RejectedRow",
    "SplitPlan",
    "assign_splits",
    "read_rows",
    "write_rows",
]

DEV_EVAL_SPLIT = "dev_eval"

_T = TypeVar("_T")


@dataclass(frozen=True)
class CropRow:
    """One cached face crop.

    Attributes:
        source: the source name (``utkface``, ``videos_real``, ...).
        part: the part (shard) of the source the arrays live in.
        row: index of the crop in that part's arrays.
        file: the input file, relative to the data root.
        identity: the unit the split keeps together (file for images, video for clips).
        clip_id: ``"<video file name>/t<track id>"`` for video faces, empty for images.
        track_id: face track in the video (0 for images).
        frame_idx: frame of the video (0 for images).
        label: ``"real"`` or ``"fake"``.
        split: ``"train"``, ``"val"`` or ``"dev_eval"`` (empty until assigned).
        det_score: face detector confidence in [0, 1].
        face_px: longer side of the landmark box in source pixels.
        too_small: 1 when ``face_px`` is below the pipeline's minimum face size.
        n_faces: faces found in the image or frame (a dataset image may show a second face).
    """

    source: str
    part: str
    row: int
    file: str
    identity: str
    clip_id: str
    track_id: int
    frame_idx: int
    label: str
    split: str
    det_score: float
    face_px: float
    too_small: int
    n_faces: int


@dataclass(frozen=True)
class RejectedRow:
    """One input (or frame, or face box) that produced no cached crop, and why."""

    source: str
    file: str
    frame_idx: int
    label: str
    reason: str


@dataclass(frozen=True)
class SplitPlan:
    """How to split; see the module docstring."""

    seed: int = 0
    val_fraction: float = 0.1
    # NOTE: 2 of the 12 liveportrait clips (+ 1 of 3 ghost clips) keep about a quarter of the
    # video crops for validation; 3 can take over a third when the largest clips are drawn.
    n_val_liveportrait: int = 2
    n_val_ghost: int = 1


def assign_splits(
    rows: Sequence[CropRow], plan: SplitPlan, dev_eval_sources: Iterable[str]
) -> list[CropRow]:
    """Copies of ``rows`` with ``split`` filled in (deterministic given ``plan.seed``)."""
    dev_eval = set(dev_eval_sources)
    val_identities: set[tuple[str, str]] = set()
    by_source: dict[str, set[str]] = {}
    for r in rows:
        by_source.setdefault(r.source, set()).add(r.identity)
    for source, identities in sorted(by_source.items()):
        if source in dev_eval:
            continue
        chosen = _val_identities(source, sorted(identities), plan)
        val_identities.update((source, identity) for identity in chosen)
    out = []
    for r in rows:
        if r.source in dev_eval:
            split = DEV_EVAL_SPLIT
        else:
            split = "val" if (r.source, r.identity) in val_identities else "train"
        out.append(replace(r, split=split))
    return out


def _val_identities(source: str, identities: list[str], plan: SplitPlan) -> list[str]:
    # NOTE: one generator per source, seeded by (seed, crc32(source)), so adding a source or
    # limiting another one never changes this source's split.
    rng = np.random.default_rng([plan.seed, zlib.crc32(source.encode())])
    if source == "videos_real":
        chosen: list[str] = []
        for prefix, n_val in (
            ("liveportrait_", plan.n_val_liveportrait),
            ("ghost_", plan.n_val_ghost),
        ):
            pool = [i for i in identities if i.startswith(prefix)]
            if pool:
                picks = rng.choice(len(pool), size=min(n_val, len(pool)), replace=False)
                chosen += [pool[int(k)] for k in sorted(picks)]
        return chosen
    n_val = round(plan.val_fraction * len(identities))
    order = rng.permutation(len(identities))
    return [identities[int(k)] for k in order[:n_val]]


def write_rows(path: Path, rows: Sequence[CropRow] | Sequence[RejectedRow], kind: type) -> None:
    """Write ``rows`` (all of dataclass ``kind``) as CSV with a header, atomically."""
    names = [f.name for f in fields(kind)]
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=names)
        writer.writeheader()
        for r in rows:
            writer.writerow(asdict(r))
    tmp.replace(path)


def read_rows(path: Path, kind: type[_T]) -> list[_T]:
    """Read rows written by :func:`write_rows` back into ``kind`` instances."""
    types = {f.name: f.type for f in fields(kind)}  # type: ignore[arg-type]
    casts = {"int": int, "float": float, "str": str}
    out = []
    with path.open(newline="", encoding="utf-8") as fh:
        for record in csv.DictReader(fh):
            values = {k: casts[str(types[k])](v) for k, v in record.items()}
            out.append(kind(**values))
    return out
