"""Benchmark of the metadata step and the forensic filters: seconds per file, peak memory.

Run from the repository root (figures go into docs/PROVENANCE.md):

    python bench/bench_provenance.py [--repeat 3] [--keep DIR]

All media is generated (nothing third-party): a 12 MP JPEG with EXIF (quality 90, saved twice
so the double-compression check has work), a 3 MP PNG, and H.264 MP4s of 10 s and 60 s at
1280x720 written with PyAV, and the 10 s one grown to 734 MB with a sparse ``free`` box (read
from disk, not memory). It prints, best of ``--repeat``, the time of
``engine.api.inspect_provenance`` per file (the metadata step of every analysis: exiv2, JPEG
tables and DCT histograms, thumbnail, PyAV demuxer, MP4 boxes, C2PA reader) and of each filter
on the 12 MP image, with the peak Python-allocated memory of each filter (tracemalloc; the
image itself excluded). The video lines show whether the step grows with the video's length.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from engine.api import apply_filter, inspect_provenance, list_filters


def _photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (height // 16, width // 16, 3), dtype=np.uint8)
    big = np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC))
    noise = rng.normal(0, 4, big.shape)
    return np.clip(big + noise, 0, 255).astype(np.uint8)


def _jpeg(rgb: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "BenchCam", "B-1"
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality, exif=exif)
    return buf.getvalue()


def _mp4(path: Path, seconds: int, fps: int = 30) -> Path:
    import av

    frame = _photo(720, 1280, 1)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        for i in range(seconds * fps):
            shifted = np.roll(frame, i * 4, axis=1)
            for packet in stream.encode(av.VideoFrame.from_ndarray(shifted, "rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _media(folder: Path) -> dict[str, Path]:
    photo = _photo(3000, 4000)
    once = _jpeg(photo, 70)
    twice = _jpeg(np.asarray(Image.open(io.BytesIO(once)).convert("RGB")), 90)
    files = {"jpeg_12mp": folder / "photo.jpg", "png_3mp": folder / "photo.png"}
    files["jpeg_12mp"].write_bytes(twice)
    Image.fromarray(photo[:1500, :2000]).save(files["png_3mp"])
    for seconds in (10, 60):
        files[f"mp4_720p_{seconds}s"] = _mp4(folder / f"clip_{seconds}s.mp4", seconds)
    files["mp4_734mb"] = _sparse_large(files["mp4_720p_10s"], folder / "large.mp4")
    return files


def _sparse_large(clip: Path, path: Path, extra_mib: int = 700) -> Path:
    """``clip`` followed by a 700 MiB sparse ``free`` box: over the in-memory limit, so the
    metadata step reads it from disk (the C2PA reader walks its boxes)."""
    import struct

    data = clip.read_bytes()
    with path.open("wb") as out:
        out.write(data)
        size = extra_mib * 2**20
        out.write(struct.pack(">I4sQ", 1, b"free", size + 16))
        out.truncate(len(data) + 16 + size)
    return path


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="write the media here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        files = _media(folder)
        inspect_provenance(files["png_3mp"])  # first call imports exiv2, PyAV, c2pa
        print("metadata step (engine.api.inspect_provenance), best of", args.repeat)
        for name, path in files.items():
            seconds = _best(lambda p=path: inspect_provenance(p), args.repeat)
            print(f"  {name:<16} {path.stat().st_size / 1e6:7.1f} MB  {seconds:6.3f} s")
        rgb = np.asarray(Image.open(files["jpeg_12mp"]).convert("RGB"))
        print("filters on the 12 MP photo (4000x3000), best of", args.repeat)
        for info in list_filters():
            seconds = _best(lambda n=info.name: apply_filter(n, rgb, jpeg_quality=90),
                            args.repeat)
            tracemalloc.start()
            result = apply_filter(info.name, rgb, jpeg_quality=90)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"  {info.name:<12} {seconds:6.2f} s  map {result.map_f32.shape}  "
                  f"peak {peak / 1e6:5.0f} MB beyond the image")


if __name__ == "__main__":
    main()
