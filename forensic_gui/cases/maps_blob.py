"""The explanation maps of an analysis as one compact, pickle-free blob stored with it.

The heatmaps are what an analyst looks at when a case is reopened days later, so they are kept
with the analysis instead of only in memory. They are display data: each (h, w) map in [0, 1] is
quantised to 1/255 (``uint8``), which no overlay can show differently, and the scores stay
exact in the result JSON. Thirty-two frames of the five shipped detectors take 100-150 KB.

The blob is a NumPy ``.npz`` archive (zip of ``.npy`` arrays) with two arrays per detector:
``"<detector>.maps"``, its (k, h, w) ``uint8`` maps, and ``"<detector>.where"``, the (k, 2)
``(frame_idx, track_id)`` of each; whole-picture maps (the generated-image detector's tiles)
are stored as the detector ``"<detector>.picture"`` with track id -1. Few large arrays instead
of one per face keep reading fast enough for the GUI thread (about 3 ms for 32 frames, against
50 ms for 160 small arrays). It is read with ``allow_pickle=False``, so a crafted file cannot
run code, and its SHA-256 is logged in the audit entry of the analysis.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import zipfile

import numpy as np

from engine.types import FrameResult, MediaResult

__all__ = [
    "MapsBlobError", "has_maps", "maps_sha256", "pack_maps", "unpack_maps", "with_maps",
]

MapKey = tuple[int, int, str]
# NOTE: whole-picture maps (FrameResult.picture_maps) have another shape than the detector's
# face maps, so they are stacked under their own key, "<detector>.picture", at track -1.
PICTURE_SUFFIX = ".picture"
PICTURE_TRACK = -1


class MapsBlobError(ValueError):
    """A stored maps blob cannot be read (damaged, or not written by this module)."""


def has_maps(result: MediaResult) -> bool:
    """Whether any face or whole picture of ``result`` carries an explanation map."""
    return any(face.maps for frame in result.frames for face in frame.faces) or any(
        frame.picture_maps for frame in result.frames)


def pack_maps(result: MediaResult) -> bytes | None:
    """Every face map of ``result`` in one compressed blob, or ``None`` when it has none."""
    maps: dict[str, list[np.ndarray]] = {}
    where: dict[str, list[tuple[int, int]]] = {}
    for frame in result.frames:
        for face in frame.faces:
            for detector, heat in face.maps.items():
                maps.setdefault(detector, []).append(_quantised(heat))
                where.setdefault(detector, []).append((frame.frame_idx, face.track_id))
        for detector, heat in frame.picture_maps.items():
            key = f"{detector}{PICTURE_SUFFIX}"
            maps.setdefault(key, []).append(_quantised(heat))
            where.setdefault(key, []).append((frame.frame_idx, PICTURE_TRACK))
    if not maps:
        return None
    arrays: dict[str, np.ndarray] = {}
    for detector, stack in maps.items():
        arrays[f"{detector}.maps"] = np.stack(stack)
        arrays[f"{detector}.where"] = np.asarray(where[detector], dtype=np.int64)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def _quantised(heat: np.ndarray) -> np.ndarray:
    return np.round(np.clip(heat, 0.0, 1.0) * 255.0).astype(np.uint8)


def maps_sha256(blob: bytes | None) -> str | None:
    """Lowercase hex SHA-256 of a blob (``None`` for no blob)."""
    return None if blob is None else hashlib.sha256(blob).hexdigest()


def unpack_maps(blob: bytes) -> dict[MapKey, np.ndarray]:
    """``{(frame_idx, track_id, detector): (h, w) float32 map in [0, 1]}`` from a blob.

    Raises:
        MapsBlobError: the blob is not an archive written by :func:`pack_maps`.
    """
    maps: dict[MapKey, np.ndarray] = {}
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
            detectors = sorted({k.rsplit(".", 1)[0] for k in archive.files})
            for detector in detectors:
                stack = archive[f"{detector}.maps"].astype(np.float32) / 255.0
                where = archive[f"{detector}.where"]
                if stack.ndim != 3 or where.shape != (len(stack), 2):
                    raise ValueError(f"{detector}: maps {stack.shape}, places {where.shape}")
                for (frame_idx, track_id), heat in zip(where.tolist(), stack, strict=True):
                    maps[(int(frame_idx), int(track_id), detector)] = heat
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise MapsBlobError(f"the stored heatmaps cannot be read: {exc}") from exc
    return maps


def with_maps(result: MediaResult, blob: bytes | None) -> MediaResult:
    """``result`` with the maps of ``blob`` put back on its faces (unchanged for ``None``)."""
    if blob is None:
        return result
    per_face: dict[tuple[int, int], dict[str, np.ndarray]] = {}
    for (frame_idx, track_id, detector), heat in unpack_maps(blob).items():
        if detector.endswith(PICTURE_SUFFIX):
            detector, track_id = detector.removesuffix(PICTURE_SUFFIX), PICTURE_TRACK
        per_face.setdefault((frame_idx, track_id), {})[detector] = heat
    frames = tuple(_frame_with_maps(frame, per_face) for frame in result.frames)
    return dataclasses.replace(result, frames=frames)


def _frame_with_maps(
    frame: FrameResult, per_face: dict[tuple[int, int], dict[str, np.ndarray]]
) -> FrameResult:
    faces = tuple(
        dataclasses.replace(face, maps=per_face.get((frame.frame_idx, face.track_id), {}))
        for face in frame.faces
    )
    pictures = per_face.get((frame.frame_idx, PICTURE_TRACK), {})
    return dataclasses.replace(frame, faces=faces, picture_maps=pictures)
