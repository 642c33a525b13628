"""Storage of one part of the cache: its arrays, its manifest rows and its done marker.

Layout of a finished part folder ``<out>/parts/<source>/<part>/``::

    crops.npy          (N, S, S, 3) uint8 RGB face crops (open with mmap_mode="r")
    landmarks.npy      (N, 478, 2) float32 Face Mesh landmarks in crop pixels
    crop_to_frame.npy  (N, 2, 3) float64 affine, crop pixels -> source frame pixels
    items.csv          one CropRow per crop, row i describes array index i (split empty)
    rejected.csv       one RejectedRow per input, frame or face box without a crop
    done.json          counts; its presence marks the part finished

A part is written into ``<part>.tmp`` and renamed when complete, so a folder without the
``.tmp`` suffix is always whole.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.data.manifest import CropRow, RejectedRow, read_rows, write_rows

__all__ = ["PartBuffer", "is_done", "read_part_rows"]

_DONE = "done.json"


@dataclass
class PartBuffer:
    """Crops and rows of one part, collected in memory until :meth:`write`."""

    source: str
    part: str
    size: int
    crops: list[np.ndarray] = field(default_factory=list)
    landmarks: list[np.ndarray] = field(default_factory=list)
    affines: list[np.ndarray] = field(default_factory=list)
    rows: list[CropRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    n_capped: int = 0

    def add(
        self,
        crop: tuple[np.ndarray, np.ndarray, np.ndarray],
        row: CropRow,
    ) -> None:
        """Add one crop ``(crop_rgb_u8, landmarks_crop_xy, crop_to_frame)`` and its row."""
        crop_rgb_u8, landmarks_crop_xy, crop_to_frame = crop
        if crop_rgb_u8.shape != (self.size, self.size, 3):
            raise ValueError(f"crop has shape {crop_rgb_u8.shape}, the cache holds {self.size} px")
        self.rows.append(row)
        self.crops.append(crop_rgb_u8)
        self.landmarks.append(landmarks_crop_xy.astype(np.float32))
        self.affines.append(np.asarray(crop_to_frame, dtype=np.float64))

    def reject(self, file: str, frame_idx: int, label: str, reason: str) -> None:
        """Record an input, frame or box that gave no crop, and why."""
        self.rejected.append(RejectedRow(self.source, file, frame_idx, label, reason))

    @property
    def next_row(self) -> int:
        """Array index the next added crop will get."""
        return len(self.rows)

    def write(self, folder: Path, extra: dict[str, object] | None = None) -> None:
        """Write the part to ``folder`` atomically (via ``<folder>.tmp``)."""
        tmp = folder.with_name(folder.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        n = len(self.rows)
        s = self.size
        np.save(tmp / "crops.npy", _stack(self.crops, (0, s, s, 3), np.uint8))
        np.save(tmp / "landmarks.npy", _stack(self.landmarks, (0, 478, 2), np.float32))
        np.save(tmp / "crop_to_frame.npy", _stack(self.affines, (0, 2, 3), np.float64))
        write_rows(tmp / "items.csv", self.rows, CropRow)
        write_rows(tmp / "rejected.csv", self.rejected, RejectedRow)
        done = {"n_items": n, "n_rejected": len(self.rejected), "n_capped": self.n_capped}
        (tmp / _DONE).write_text(json.dumps({**done, **(extra or {})}, indent=1))
        if folder.exists():
            shutil.rmtree(folder)
        tmp.replace(folder)


def _stack(arrays: list[np.ndarray], empty_shape: tuple[int, ...], dtype: type) -> np.ndarray:
    return np.stack(arrays).astype(dtype, copy=False) if arrays else np.zeros(empty_shape, dtype)


def is_done(folder: Path) -> bool:
    """Whether ``folder`` holds a finished part."""
    return (folder / _DONE).is_file()


def read_part_rows(folder: Path) -> tuple[list[CropRow], list[RejectedRow]]:
    """The crop rows and rejected rows of a finished part."""
    return read_rows(folder / "items.csv", CropRow), read_rows(folder / "rejected.csv", RejectedRow)
