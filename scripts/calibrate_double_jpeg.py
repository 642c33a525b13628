"""Calibrate the double-JPEG hint (engine.provenance.jpeg_double) on images you provide.

Single saves (quality q2) and double saves (q1 then q2) are made in memory from each source
image and scored; the script prints the score distribution per (q1, q2). Sources should never
have been JPEG-compressed on the same 8x8 grid: PNG frames decoded from video, or JPEGs resized
first (``--resize``) so their old grid is gone. Nothing is written to disk.

    python scripts/calibrate_double_jpeg.py SOURCE_DIR [--resize 384]

The figures in jpeg_double's docstring came from 73 frames (4 per clip) of ../shared/data/
videos_real and 20 portraits of ../shared/data/faces_gan resized to 384x384 (frames written as
PNG to a temporary folder first).
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image

from engine.provenance.jpeg_double import periodicity_score
from engine.provenance.jpeg_quant import read_jpeg_header

_Q2 = (75, 85, 90, 95)
_Q1 = (50, 60, 70, 80, 90)


def _save(rgb_u8: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb_u8).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _score(data: bytes) -> float:
    header = read_jpeg_header(data)
    score = None if header is None else periodicity_score(data, header)
    return np.nan if score is None else score


def _sources(folder: Path, resize: int | None) -> list[np.ndarray]:
    images = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            continue
        img = Image.open(path).convert("RGB")
        if resize:
            img = img.resize((resize, resize), Image.Resampling.LANCZOS)
        images.append(np.asarray(img))
    return images


def _describe(label: str, values: list[float]) -> None:
    arr = np.asarray(values)
    print(f"{label}: median {np.nanmedian(arr):6.2f}  p5 {np.nanpercentile(arr, 5):6.2f}  "
          f"p95 {np.nanpercentile(arr, 95):6.2f}  max {np.nanmax(arr):6.2f}  n={arr.size}")


def main() -> None:
    """Print the score distributions."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", type=Path)
    parser.add_argument("--resize", type=int, default=None)
    args = parser.parse_args()
    images = _sources(args.sources, args.resize)
    for q2 in _Q2:
        _describe(f"q2={q2} single   ", [_score(_save(img, q2)) for img in images])
        for q1 in _Q1:
            if q1 != q2:
                scores = [_score(_save(_decode(_save(img, q1)), q2)) for img in images]
                _describe(f"q2={q2} q1={q1:3d}", scores)


if __name__ == "__main__":
    main()
