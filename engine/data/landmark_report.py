"""How often the face pipeline finds landmarks on the shared data; writes a Markdown table.

    python -m engine.data.landmark_report --data-root ../shared/data --cache /work/cache/dataset \
        --video-step 5 --out /work/cache/landmark_report.md

Face images (UTKFace): one row per file, "found" when the pipeline returned a face with
landmarks. With ``--cache`` the counts are read from a finished ``engine.data.prepare`` run
(which made exactly this detector call on every file; its ``rejected.csv`` names each failure),
otherwise the detector runs here. Clips: every ``video_step``-th frame of every file in
``videos_real``, "found" when the frame has at least one face with landmarks; faces below the
minimum size and detector boxes without landmarks are counted too. The figures go into
docs/DATA.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from engine.data.manifest import CropRow, RejectedRow, read_rows
from engine.data.sources import plan_parts, source_by_name
from engine.data.summary import reason_kind
from engine.errors import MediaError
from engine.faces.mesh import FaceMeshDetector
from engine.faces.pipeline import MIN_FACE_PX

__all__ = ["ClipCount", "ImageCount", "count_clips", "count_images", "main"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageCount:
    """Landmark success on a folder of face images."""

    source: str
    n_files: int
    n_found: int
    failures: tuple[tuple[str, str], ...]  # (file, reason)


@dataclass(frozen=True)
class ClipCount:
    """Landmark success on the sampled frames of one clip."""

    file: str
    n_frames: int
    n_found: int
    n_faces: int
    n_too_small: int
    n_boxes_without_landmarks: int


def count_images(data_root: Path, source_name: str, cache: Path | None) -> ImageCount:
    """Found/not found over every file of an image source (from ``cache`` when given)."""
    source = source_by_name(source_name)
    files = [
        f for p in plan_parts(data_root, source, limit=None, chunk_size=10**9) for f in p.files
    ]
    if cache is not None:
        found = {
            r.file for r in read_rows(cache / "manifest.csv", CropRow) if r.source == source.name
        }
        reasons = {
            r.file: r.reason
            for r in read_rows(cache / "rejected.csv", RejectedRow)
            if r.source == source.name and r.file not in found
        }
    else:
        found, reasons = _run_images(data_root, [rel for rel, _ in files])
    missing = [rel for rel, _ in files if rel not in found]
    failures = tuple((rel, reasons.get(rel, "not in the cache")) for rel in missing)
    return ImageCount(source.name, len(files), len(files) - len(missing), failures)


def _run_images(data_root: Path, files: list[str]) -> tuple[set[str], dict[str, str]]:
    from engine.media import read_image

    found: set[str] = set()
    reasons: dict[str, str] = {}
    with FaceMeshDetector() as detector:
        for rel in files:
            try:
                result = detector.analyze(read_image(data_root / rel), 0)
            except MediaError as exc:
                reasons[rel] = f"unreadable: {exc.reason}"
                continue
            if result.faces:
                found.add(rel)
            else:
                reasons[rel] = "no face found"
    return found, reasons


def count_clips(data_root: Path, video_step: int) -> list[ClipCount]:
    """Per clip of ``videos_real``: frames searched (every ``video_step``-th) and faces found."""
    from engine.media import iter_frames

    source = source_by_name("videos_real")
    counts = []
    with FaceMeshDetector() as detector:
        for part in plan_parts(data_root, source, limit=None, chunk_size=1):
            rel = part.files[0][0]
            tally: Counter[str] = Counter()
            for frame in iter_frames(data_root / rel, step=video_step):
                result = detector.analyze(frame.rgb_u8, frame.frame_idx)
                sides = [
                    max(x1 - x0, y1 - y0) for x0, y0, x1, y1 in (f.bbox_xyxy for f in result.faces)
                ]
                tally.update(
                    frames=1,
                    found=int(bool(result.faces)),
                    faces=len(result.faces),
                    too_small=sum(s < MIN_FACE_PX for s in sides),
                    boxes=len(result.boxes_without_landmarks),
                )
            counts.append(
                ClipCount(
                    rel,
                    tally["frames"],
                    tally["found"],
                    tally["faces"],
                    tally["too_small"],
                    tally["boxes"],
                )
            )
            log.info("%s: %s", rel, dict(tally))
    return counts


def render(images: list[ImageCount], clips: list[ClipCount], video_step: int) -> str:
    """The Markdown tables for docs/DATA.md."""
    lines = [
        "| image source | files | landmarks found | not found | rate |",
        "|---|---|---|---|---|",
    ]
    for c in images:
        lines.append(
            f"| {c.source} | {c.n_files} | {c.n_found} | {c.n_files - c.n_found} | "
            f"{_pct(c.n_found, c.n_files)} |"
        )
    lines += ["", f"Clips, every {video_step}th frame:", ""]
    lines += [
        "| clip | frames | frames with a face | rate | faces | faces < 40 px "
        "| boxes without landmarks |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in clips:
        lines.append(
            f"| {Path(c.file).name} | {c.n_frames} | {c.n_found} | {_pct(c.n_found, c.n_frames)} | "
            f"{c.n_faces} | {c.n_too_small} | {c.n_boxes_without_landmarks} |"
        )
    for c in images:
        reasons = Counter(reason_kind(reason) for _, reason in c.failures)
        lines += ["", f"{c.source} failures by reason: {dict(reasons)}"]
    return "\n".join(lines) + "\n"


def _pct(n: int, total: int) -> str:
    return f"{100.0 * n / total:.2f}%" if total else "n/a"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    p = argparse.ArgumentParser(prog="python -m engine.data.landmark_report")
    p.add_argument("--data-root", type=Path, required=True)
    p.add_argument("--cache", type=Path, default=None, help="finished prepare output to count from")
    p.add_argument("--images", default="utkface", help="comma list of image sources")
    p.add_argument("--video-step", type=int, default=5)
    p.add_argument("--out", type=Path, default=None, help="Markdown file (default: stdout)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    images = [count_images(args.data_root, n.strip(), args.cache) for n in args.images.split(",")]
    clips = count_clips(args.data_root, args.video_step)
    text = render(images, clips, args.video_step)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text)
        log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
