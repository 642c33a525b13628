"""What the dataset is made of: the sources under the data root and their work units (parts).

A part is the unit of resumable work and of storage: a chunk of image files, or one video. Each
part is written to its own folder with its own arrays, so an interrupted run loses at most the
part it was working on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["SOURCES", "Part", "Source", "plan_parts", "source_by_name"]

_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
_VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm"}


@dataclass(frozen=True)
class Source:
    """One folder of the data root.

    Attributes:
        name: short name used in the manifest and the cache layout.
        kind: ``"images"`` (one face per file) or ``"videos"`` (tracked faces; still images in
            the folder are one-frame videos).
        rel_dir: folder under the data root.
        label: ``"real"``/``"fake"``, or ``None`` to take it from the sub-folder name.
        dev_eval: held out from training and validation (split ``"dev_eval"``).
        n_sampled_frames: for videos, take this many evenly spaced frames instead of
            consecutive frames (``None``: consecutive, every ``video_step``-th frame).
    """

    name: str
    kind: Literal["images", "videos"]
    rel_dir: str
    label: str | None
    dev_eval: bool = False
    n_sampled_frames: int | None = None


SOURCES: tuple[Source, ...] = (
    Source("utkface", "images", "faces_real/utkface", "real"),
    Source("celeba", "images", "faces_real/celeba", "real"),
    Source("generated_photos", "images", "faces_gan/generated_photos", "fake"),
    Source("videos_real", "videos", "videos_real", "real"),
    Source("dfdc_face_crops", "images", "dev_eval/dfdc_face_crops", None, dev_eval=True),
    # NOTE: 32 evenly spaced frames is the product's default video sampling (SBI's protocol).
    Source(
        "dfdc_fake_videos", "videos", "dev_eval/dfdc_fake_videos", "fake", True, n_sampled_frames=32
    ),
)


@dataclass(frozen=True)
class Part:
    """A unit of work: ``files`` are ``(path relative to the data root, label)`` pairs."""

    source: Source
    name: str
    files: tuple[tuple[str, str], ...]


def source_by_name(name: str) -> Source:
    """The source called ``name``.

    Raises:
        KeyError: no such source; the message lists the valid names.
    """
    for source in SOURCES:
        if source.name == name:
            return source
    raise KeyError(f"unknown source {name!r}; valid: {', '.join(s.name for s in SOURCES)}")


def plan_parts(
    data_root: Path, source: Source, *, limit: int | None, chunk_size: int
) -> list[Part]:
    """The parts of ``source``: image files in sorted chunks, or one part per video.

    Args:
        data_root: the folder holding ``faces_real/``, ``videos_real/`` etc.
        source: the source.
        limit: keep only the first ``limit`` files (sorted by path) of the source.
        chunk_size: image files per part.

    Raises:
        FileNotFoundError: the source folder does not exist.
    """
    folder = data_root / source.rel_dir
    if not folder.is_dir():
        raise FileNotFoundError(f"source {source.name}: folder {folder} not found")
    files = _list_files(data_root, folder, source)
    if limit is not None:
        files = files[:limit]
    if source.kind == "videos":
        # NOTE: the file name, not the stem: a folder may hold name.jpg and name.mp4.
        return [Part(source, Path(path).name, ((path, label),)) for path, label in files]
    return [
        Part(source, f"part_{k // chunk_size:04d}", tuple(files[k : k + chunk_size]))
        for k in range(0, len(files), chunk_size)
    ]


def _list_files(data_root: Path, folder: Path, source: Source) -> list[tuple[str, str]]:
    suffixes = _IMAGE_SUFFIXES | (_VIDEO_SUFFIXES if source.kind == "videos" else set())
    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix.lower() not in suffixes:
            continue
        rel = path.relative_to(data_root).as_posix()
        label = source.label or path.parent.name.lower()
        if label not in ("real", "fake"):
            raise ValueError(f"source {source.name}: cannot tell real/fake for {rel}")
        out.append((rel, label))
    return out
