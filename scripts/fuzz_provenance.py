"""Mutation fuzzing of the metadata step: random byte changes in files with rich metadata.

The readers behind ``engine.api.inspect_provenance`` include native code (libexiv2 in C++, the
C2PA library in Rust, FFmpeg's demuxers in C). Python exceptions are caught there; a crash in
native code would end the process, which no ``try`` can catch. This script makes seed files
(a JPEG with EXIF, XMP, GPS, thumbnail and a C2PA manifest; a PNG with text chunks; an MP4),
mutates them (random bytes flipped, overwritten, truncated, chunks duplicated) and reads each
mutant in a child process, in batches; it prints how many batches ended with a crash (a
negative exit status) or a timeout, and saves the mutants of failed batches for bisection.

    PYTHONPATH=. python scripts/fuzz_provenance.py --n 400 --batch 50 --out /tmp/fuzz
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

REPO = Path(__file__).resolve().parents[1]
_CHILD = ("import sys; from engine.api import inspect_provenance as i\n"
          "for p in sys.argv[1:]: i(p).to_dict()\n")


def _seeds() -> dict[str, bytes]:
    sys.path.insert(0, str(REPO))
    from tests.provenance_media import (
        jpeg_bytes,
        make_pki,
        sign_jpeg,
        textured_rgb,
        thumbnail_of,
        with_metadata,
    )

    rgb = textured_rgb(120, 160)
    jpeg = sign_jpeg(with_metadata(jpeg_bytes(rgb), {
        "Exif.Image.Make": "Canon", "Exif.Image.Software": "GIMP",
        "Exif.Photo.DateTimeOriginal": "2024:01:01 10:00:00",
        "Exif.GPSInfo.GPSLatitudeRef": "N", "Exif.GPSInfo.GPSLatitude": "1/1 2/1 3/1"},
        xmp={"Xmp.xmp.CreatorTool": "Photoshop"}, thumbnail_jpeg=thumbnail_of(rgb)), make_pki())
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "Steps: 20")
    info.add_itxt("Description", "x" * 500, zip=True)
    png = io.BytesIO()
    Image.fromarray(rgb).save(png, "PNG", pnginfo=info)
    return {"jpg": jpeg, "png": png.getvalue(), "mp4": (REPO / "resources" / "sample" /
                                                          "demo_real.mp4").read_bytes()[:400_000]}


def _mutate(data: bytes, rng: np.random.Generator) -> bytes:
    out = bytearray(data)
    kind = rng.integers(0, 4)
    if kind == 0:  # flip a few bytes in the first 64 kB (where the metadata lives)
        for at in rng.integers(0, min(len(out), 65536), rng.integers(1, 16)):
            out[at] ^= int(rng.integers(1, 256))
    elif kind == 1:  # overwrite a run with 0xFF or 0x00 (lengths and offsets)
        at = int(rng.integers(0, min(len(out), 65536)))
        out[at : at + int(rng.integers(2, 64))] = bytes([int(rng.choice([0, 255]))]) * 8
    elif kind == 2:  # truncate
        del out[int(rng.integers(16, len(out))):]
    else:  # duplicate a slice into the header region
        at = int(rng.integers(0, len(out) - 256))
        insert = int(rng.integers(2, min(len(out), 65536)))
        out[insert:insert] = out[at : at + int(rng.integers(16, 256))]
    return bytes(out)


def main() -> None:
    """Run the batches and print the outcome."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    seeds = _seeds()
    names = list(seeds)
    failed = 0
    for start in range(0, args.n, args.batch):
        folder = args.out / f"batch_{start:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for i in range(start, min(args.n, start + args.batch)):
            ext = names[i % len(names)]
            path = folder / f"m{i:05d}.{ext}"
            path.write_bytes(_mutate(seeds[ext], rng))
            paths.append(str(path))
        try:
            done = subprocess.run([sys.executable, "-c", _CHILD, *paths], cwd=REPO,
                                  capture_output=True, text=True, timeout=600, check=False)
            status = done.returncode
        except subprocess.TimeoutExpired:
            status = "timeout"
        if status != 0:
            failed += 1
            print(f"{folder}: exit {status}")
        else:
            for path in paths:
                Path(path).unlink()
            folder.rmdir()
    print(f"{args.n} mutants in {-(-args.n // args.batch)} batches: {failed} batch(es) failed")


if __name__ == "__main__":
    main()
