"""Real photos and video frames for the generated-image detector, read straight from the data.

The generated-image detector (``engine.detectors.gen``) learns from real pictures and fakes we
make from them (``engine.synthesis.traces``), so it needs whole pictures, not face crops: UTKFace
(200 px) and CelebA (about 100 px) files, and frames of the real clips in ``videos_real``
(scenes, 480-1280 px). Everything is decoded with the application's own decoders
(``engine.media``), so training sees the pixels inference sees.

Split (deterministic, the face cache's rule of ``engine.data.manifest``): 10% of the image files
of each source are validation, drawn with the seed; whole videos are held out
(``liveportrait_d14``, ``liveportrait_d18`` and ``ghost_nggyup`` with seed 0). ``dev_bench`` and
``faces_gan`` are never listed here: they are validation data of other people's generators.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.manifest import CropRow, SplitPlan, assign_splits
from engine.data.sources import plan_parts, source_by_name

__all__ = ["IMAGE_SOURCES", "RealItem", "list_real_items", "read_item", "video_frames"]

IMAGE_SOURCES = ("utkface", "celeba")
VIDEO_SOURCE = "videos_real"


@dataclass(frozen=True)
class RealItem:
    """One real picture: an image file, or one frame of a video.

    Attributes:
        source: ``utkface``, ``celeba`` or ``videos_real``.
        rel_path: the file, relative to the data root.
        frame_idx: the frame of a video (0 for images and stills).
        split: ``train`` or ``val``.
    """

    source: str
    rel_path: str
    frame_idx: int
    split: str


def _row(source: str, rel_path: str) -> CropRow:
    identity = Path(rel_path).name if source == VIDEO_SOURCE else Path(rel_path).stem
    return CropRow(source=source, part="", row=0, file=rel_path, identity=identity, clip_id="",
                   track_id=0, frame_idx=0, label="real", split="", det_score=1.0, face_px=0.0,
                   too_small=0, n_faces=1)


def _file_splits(data_root: Path, seed: int) -> list[CropRow]:
    rows = []
    for name in (*IMAGE_SOURCES, VIDEO_SOURCE):
        for part in plan_parts(data_root, source_by_name(name), limit=None, chunk_size=10**6):
            rows += [_row(name, rel) for rel, _ in part.files]
    return assign_splits(rows, SplitPlan(seed=seed), dev_eval_sources=())


def _frame_count(path: Path) -> int:
    from engine.media import probe

    return int(probe(str(path)).n_frames)


def list_real_items(
    data_root: Path, *, split: str, frames_per_video: int, seed: int = 0
) -> list[RealItem]:
    """Every image file of the split, and ``frames_per_video`` evenly spaced frames of each of
    its videos (a still in the video folder counts as a one-frame video).

    Raises:
        FileNotFoundError: a source folder is missing.
    """
    items: list[RealItem] = []
    for row in _file_splits(data_root, seed):
        if row.split != split:
            continue
        if row.source != VIDEO_SOURCE:
            items.append(RealItem(row.source, row.file, 0, split))
            continue
        n_frames = _frame_count(data_root / row.file)
        picks = np.unique(np.linspace(0, n_frames - 1, min(frames_per_video, n_frames)).round())
        items += [RealItem(row.source, row.file, int(k), split) for k in picks]
    return items


def read_item(data_root: Path, item: RealItem) -> np.ndarray:
    """The (H, W, 3) uint8 RGB picture of ``item`` (slow for a late video frame: prefer
    :func:`video_frames` to read many frames of one video)."""
    from engine.media import read_frame

    return read_frame(data_root / item.rel_path, item.frame_idx).rgb_u8


def video_frames(data_root: Path, items: list[RealItem]) -> Iterator[tuple[RealItem, np.ndarray]]:
    """``(item, rgb_u8)`` for ``items``, decoding each file once, in order of frames.

    Items of image files are read one by one; frames of one video in one pass.
    """
    from engine.media import iter_frames

    by_file: dict[str, list[RealItem]] = {}
    for item in items:
        by_file.setdefault(item.rel_path, []).append(item)
    for rel_path, group in by_file.items():
        wanted = {item.frame_idx: item for item in group}
        if len(group) == 1 and group[0].frame_idx == 0:
            yield group[0], read_item(data_root, group[0])
            continue
        for frame in iter_frames(data_root / rel_path, 0, max(wanted) + 1):
            if frame.frame_idx in wanted:
                yield wanted[frame.frame_idx], frame.rgb_u8
