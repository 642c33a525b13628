"""Read the face cache written by ``python -m engine.data.prepare``.

Arrays are opened as read-only memory maps, so a training loop can index random crops without
loading gigabytes: ``FaceCache(root).crops(indices)`` copies just the crops asked for. Indices
are global: row ``i`` of ``manifest.csv`` is crop ``i``. Only numpy and the stdlib are used.

Example::

    cache = FaceCache(Path("/work/cache/dataset"))
    train = cache.indices(split="train", label="real")
    batch_u8 = cache.crops(train[:32])          # (32, S, S, 3) uint8
    clips = cache.clips(split="train", min_len=8)  # {clip_id: frame-ordered indices}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.manifest import CropRow, RejectedRow, read_rows

__all__ = ["FaceCache"]


@dataclass
class _PartArrays:
    crops: np.ndarray
    landmarks: np.ndarray
    crop_to_frame: np.ndarray


class FaceCache:
    """The cached crops, landmarks, affines and manifest rows of a prepared dataset.

    Args:
        root: the ``--out`` folder of ``engine.data.prepare``.

    Raises:
        FileNotFoundError: ``root`` holds no finished cache (no ``manifest.csv``).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        manifest = self.root / "manifest.csv"
        if not manifest.is_file():
            raise FileNotFoundError(
                f"no face cache at {self.root}: run python -m engine.data.prepare first"
            )
        self.info: dict[str, object] = json.loads((self.root / "cache.json").read_text())
        self.rows: list[CropRow] = read_rows(manifest, CropRow)
        self._parts: dict[tuple[str, str], _PartArrays] = {}
        self._part_of = [(r.source, r.part) for r in self.rows]
        self._row_in_part = np.array([r.row for r in self.rows], dtype=np.int64)
        config = self.info.get("config", {})
        self.size = int(config["size"]) if isinstance(config, dict) else 0

    def __len__(self) -> int:
        return len(self.rows)

    def rejected(self) -> list[RejectedRow]:
        """Every input, frame or face box that gave no crop, with its reason."""
        return read_rows(self.root / "rejected.csv", RejectedRow)

    def indices(
        self,
        *,
        split: str | None = None,
        source: str | Sequence[str] | None = None,
        label: str | None = None,
        include_too_small: bool = False,
    ) -> np.ndarray:
        """Global indices (int64, increasing) of the crops that match every given filter."""
        sources = {source} if isinstance(source, str) else set(source or ())
        keep = [
            i
            for i, r in enumerate(self.rows)
            if (split is None or r.split == split)
            and (not sources or r.source in sources)
            and (label is None or r.label == label)
            and (include_too_small or not r.too_small)
        ]
        return np.array(keep, dtype=np.int64)

    def clips(
        self, *, split: str | None = None, source: str | None = None, min_len: int = 1
    ) -> dict[str, np.ndarray]:
        """Video face tracks with ``min_len`` or more crops: key -> global indices in frame order.

        The key is ``"<source>:<clip_id>"``, e.g. ``"videos_real:liveportrait_d0.mp4/t0"``.
        Consecutive indices are consecutive sampled frames of one face; frames where the face
        was not found are absent, so check ``rows[i].frame_idx`` where gaps matter.
        """
        by_clip: dict[str, list[tuple[int, int]]] = {}
        for i in self.indices(split=split, source=source):
            r = self.rows[i]
            if r.clip_id:
                by_clip.setdefault(f"{r.source}:{r.clip_id}", []).append((r.frame_idx, int(i)))
        return {
            clip: np.array([i for _, i in sorted(members)], dtype=np.int64)
            for clip, members in sorted(by_clip.items())
            if len(members) >= min_len
        }

    def crop(self, index: int) -> np.ndarray:
        """Crop ``index`` as an (S, S, 3) uint8 array (a read-only memory-map view)."""
        return self._arrays(index).crops[self._row_in_part[index]]

    def landmarks(self, index: int) -> np.ndarray:
        """(478, 2) float32 landmarks of crop ``index`` in crop pixels."""
        return self._arrays(index).landmarks[self._row_in_part[index]]

    def crop_to_frame(self, index: int) -> np.ndarray:
        """(2, 3) float64 affine from crop ``index``'s pixels to its source frame's pixels."""
        return self._arrays(index).crop_to_frame[self._row_in_part[index]]

    def frame_sizes(self, data_root: Path | None = None) -> np.ndarray:
        """(N, 2) int64 ``(width, height)`` of every crop's source image or frame.

        Read from the media headers (``engine.media.probe``, sizes after rotation correction)
        under ``data_root`` (default: the one ``cache.json`` records) once, then kept in
        ``frame_sizes.npy`` next to the manifest (a derived file: delete it to read again).

        Raises:
            FileNotFoundError: the cache records no data root and no sizes were stored.
        """
        path = self.root / "frame_sizes.npy"
        if path.is_file():
            sizes = np.load(path)
            if sizes.shape == (len(self.rows), 2):
                return sizes
        root = data_root if data_root is not None else self.info.get("data_root")
        if root is None:
            raise FileNotFoundError(f"{self.root}: cache.json records no data_root to read "
                                    "the source images' sizes from")
        sizes = _probe_sizes(Path(str(root)), [r.file for r in self.rows])
        tmp = self.root / "frame_sizes.tmp.npy"
        np.save(tmp, sizes)
        tmp.replace(path)
        return sizes

    def valid_xyxy(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """(N, 4) float32: the part of each crop inside its source image, in crop pixel
        coordinates ``(x0, y0, x1, y1)`` of pixel centres; outside it the crop policy padded.
        """
        idx = np.asarray(indices, dtype=np.int64)
        sizes = self.frame_sizes()[idx].astype(np.float64)
        affines = self._gather(idx, "crop_to_frame").astype(np.float64)  # crop -> frame
        sx, tx = affines[:, 0, 0], affines[:, 0, 2]
        sy, ty = affines[:, 1, 1], affines[:, 1, 2]
        # NOTE: the policy's affines are axis-aligned (scale + translation); frame pixel
        # centres span [0, W - 1], pixel edges [-0.5, W - 0.5].
        out = np.stack([(-0.5 - tx) / sx, (-0.5 - ty) / sy,
                        (sizes[:, 0] - 0.5 - tx) / sx, (sizes[:, 1] - 0.5 - ty) / sy], axis=1)
        return out.astype(np.float32)

    def crops(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 copy of the crops at ``indices``."""
        return self._gather(indices, "crops")

    def landmarks_batch(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """(N, 478, 2) float32 copy of the landmarks at ``indices``."""
        return self._gather(indices, "landmarks")

    def _gather(self, indices: Sequence[int] | np.ndarray, name: str) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.int64)
        if len(idx) == 0:
            sample = getattr(self._arrays(0), name) if len(self) else None
            tail = sample.shape[1:] if sample is not None else (0,)
            return np.zeros((0, *tail), dtype=sample.dtype if sample is not None else np.uint8)
        return np.stack([getattr(self._arrays(int(i)), name)[self._row_in_part[i]] for i in idx])

    def _arrays(self, index: int) -> _PartArrays:
        if not 0 <= index < len(self.rows):
            raise IndexError(f"crop index {index} out of range [0, {len(self.rows)})")
        key = self._part_of[index]
        if key not in self._parts:
            folder = self.root / "parts" / key[0] / key[1]
            self._parts[key] = _PartArrays(
                crops=np.load(folder / "crops.npy", mmap_mode="r"),
                landmarks=np.load(folder / "landmarks.npy", mmap_mode="r"),
                crop_to_frame=np.load(folder / "crop_to_frame.npy", mmap_mode="r"),
            )
        return self._parts[key]


def _probe_sizes(data_root: Path, files: list[str]) -> np.ndarray:
    from engine.media import probe

    known: dict[str, tuple[int, int]] = {}
    for rel in files:
        if rel not in known:
            info = probe(data_root / rel)
            known[rel] = (info.width, info.height)
    return np.array([known[rel] for rel in files], dtype=np.int64).reshape(-1, 2)
