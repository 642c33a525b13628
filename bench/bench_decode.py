"""Benchmark of video decoding: a 32-frame sample and random frame seeks on long videos.

Run from the repository root (figures go into docs/PERFORMANCE.md, "Video decoding"):

    python bench/bench_decode.py [--cache-dir /tmp/bench_media] [--repeat 3] [--seeks 20]
    python bench/bench_decode.py --generate-only     # only write the test videos
    python bench/bench_decode.py --vs-opencv VIDEO...  # frames identical to OpenCV's?

The test videos are generated once into ``--cache-dir`` (outside the repository) with PyAV's
libx264 encoder (preset ultrafast, a panned blurred-noise pattern so every frame differs) and
reused afterwards; a cut-off generation leaves only a ``.part`` file, which the next run
replaces. Encoding the hour of 1080p takes about 25 minutes on one core.

What it measures (each figure the median of ``--repeat`` runs, the frame-index cache cleared
before every run, so building the index counts every time):

1. ``sample_frames(path, n_frames=32)`` on a 1-hour vs a 1-minute 1080p25 H.264 file (GOP 2 s),
   and on a 10-minute vs a 1-minute 720p30 file (GOP 2 s, and GOP 5 s); target: long <= 1.5x
   short.
2. ``read_frame(path, i)`` at ``--seeks`` random frames of each long file, each call on its own
   (a fresh decoder, as the GUI's frame view does); target: every seek <= 300 ms.
3. For the record: building the frame index from a full packet scan of the 1-hour file (what a
   variable-frame-rate or Matroska file of that length would cost), and decoding with OpenCV
   from the start to the last sampled frame (what the old decoder did), on the 1-minute files.

``--vs-opencv`` instead checks that every frame engine.media decodes is the frame OpenCV decodes
at the same index, bit for bit (the detectors were calibrated on OpenCV's frames).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

TARGET_LENGTH_RATIO = 1.5
TARGET_SEEK_S = 0.300


@dataclass(frozen=True)
class Clip:
    """One generated test video."""

    name: str
    width: int
    height: int
    fps: int
    seconds: int
    gop_frames: int

    @property
    def filename(self) -> str:
        """File name in the cache directory (says what the file is)."""
        return (
            f"h264_{self.height}p{self.fps}_{self.seconds}s_gop{self.gop_frames}_ultrafast.mp4"
        )


# NOTE: keyframe intervals (GOPs) of 2 s (web uploads, broadcast) and 5 s, within the 2-10 s
# range real encoders use. A sample costs at most one GOP of decoding whatever the length, so
# the long/short ratio depends on the GOP: 32 samples x GOP/2 frames against the whole short
# file (docs/PERFORMANCE.md, "Video decoding").
CLIPS = {
    "1080p_60min": Clip("1080p_60min", 1920, 1080, 25, 3600, 50),
    "1080p_1min": Clip("1080p_1min", 1920, 1080, 25, 60, 50),
    "720p_10min_gop2s": Clip("720p_10min_gop2s", 1280, 720, 30, 600, 60),
    "720p_1min_gop2s": Clip("720p_1min_gop2s", 1280, 720, 30, 60, 60),
    "720p_10min_gop5s": Clip("720p_10min_gop5s", 1280, 720, 30, 600, 150),
    "720p_1min_gop5s": Clip("720p_1min_gop5s", 1280, 720, 30, 60, 150),
}
PAIRS = (
    ("1080p_60min", "1080p_1min"),
    ("720p_10min_gop2s", "720p_1min_gop2s"),
    ("720p_10min_gop5s", "720p_1min_gop5s"),
)


def _texture(width: int, height: int) -> np.ndarray:
    """A blurred-noise luma texture 64 px larger than the frame, to pan across."""
    import cv2

    rng = np.random.default_rng(0)
    coarse = rng.integers(0, 256, ((height + 64) // 8 + 1, (width + 64) // 8 + 1), np.uint8)
    fine = coarse.repeat(8, axis=0).repeat(8, axis=1)[: height + 64, : width + 64]
    return np.ascontiguousarray(cv2.GaussianBlur(fine, (0, 0), 6))


def generate(clip: Clip, path: Path) -> None:
    """Encode ``clip`` into ``path`` (through ``path.part``, renamed when complete)."""
    import av

    part = path.with_suffix(".part")
    texture = _texture(clip.width, clip.height)
    chroma = np.full((clip.height // 2, clip.width), 128, np.uint8)
    n_frames = clip.seconds * clip.fps
    with av.open(str(part), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=clip.fps)
        stream.width, stream.height, stream.pix_fmt = clip.width, clip.height, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(clip.gop_frames), "crf": "23"}
        for frame_idx in range(n_frames):
            dx, dy = (frame_idx * 3) % 64, (frame_idx * 2) % 64
            luma = texture[dy : dy + clip.height, dx : dx + clip.width]
            frame = av.VideoFrame.from_ndarray(np.vstack([luma, chroma]), format="yuv420p")
            frame.pts = frame_idx
            out.mux(stream.encode(frame))
            if frame_idx % (clip.fps * 300) == 0:
                print(f"  {clip.name}: {frame_idx / clip.fps / 60:.0f} min encoded", flush=True)
        out.mux(stream.encode(None))
    part.rename(path)


def ensure_clips(cache_dir: Path) -> dict[str, Path]:
    """Every clip's path, generating the missing ones (shortest first)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, clip in sorted(CLIPS.items(), key=lambda item: item[1].seconds):
        path = cache_dir / clip.filename
        if not path.is_file():
            print(f"generating {path} ({clip.seconds} s of {clip.height}p) ...", flush=True)
            t0 = time.perf_counter()
            generate(clip, path)
            print(f"  done in {time.perf_counter() - t0:.0f} s", flush=True)
        paths[name] = path
    return paths


def median_s(repeat: int, fn: Callable[[], object]) -> float:
    """Median wall seconds of ``repeat`` calls of ``fn``, the index cache cleared before each."""
    from engine.media import clear_index_cache

    times = []
    for _ in range(repeat):
        clear_index_cache()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _sample_work(path: Path) -> int:
    """Frames decoded for a 32-frame sample (the machine-independent measure of its work)."""
    from engine.media import DecodeReport, sample_frames

    report = DecodeReport()
    list(sample_frames(path, report=report))
    return report.n_frames_decoded


def bench_sample(paths: dict[str, Path], repeat: int) -> None:
    """Item 1: a 32-frame sample, long vs short file (time, and frames decoded)."""
    from engine.media import sample_frames

    print("\n1. 32-frame sample (median of runs, index built each time)")
    for long_name, short_name in PAIRS:
        times, work = {}, {}
        for name in (long_name, short_name):
            times[name] = median_s(repeat, lambda n=name: list(sample_frames(paths[n])))
            work[name] = _sample_work(paths[name])
        ratio = times[long_name] / times[short_name]
        verdict = "PASS" if ratio <= TARGET_LENGTH_RATIO else "FAIL"
        print(
            f"   {long_name}: {times[long_name]:.2f} s   {short_name}: {times[short_name]:.2f} s"
            f"   ratio {ratio:.2f}x (target <= {TARGET_LENGTH_RATIO}x) {verdict}\n"
            f"      frames decoded: {work[long_name]} vs {work[short_name]} "
            f"({work[long_name] / work[short_name]:.2f}x)"
        )


def bench_seeks(paths: dict[str, Path], n_seeks: int) -> None:
    """Item 2: ``read_frame`` at random frames of each long file."""
    from engine.media import DecodeReport, probe, read_frame

    print(f"\n2. read_frame at {n_seeks} random frames (each call alone, index cached)")
    rng = np.random.default_rng(17)
    for long_name, _ in PAIRS:
        path = paths[long_name]
        n_frames = probe(path).n_frames
        read_frame(path, 0)  # builds and caches the index, as the app's first view does
        times, cpu_times, decoded = [], [], []
        for frame_idx in sorted(int(i) for i in rng.integers(0, n_frames, n_seeks)):
            report = DecodeReport()
            t0, c0 = time.perf_counter(), time.process_time()
            frame = read_frame(path, frame_idx, report=report)
            times.append(time.perf_counter() - t0)
            cpu_times.append(time.process_time() - c0)
            decoded.append(report.n_frames_decoded)
            assert frame.frame_idx == frame_idx
        worst = max(times)
        verdict = "PASS" if worst <= TARGET_SEEK_S else "FAIL"
        print(
            f"   {long_name} ({n_frames} frames): median {statistics.median(times) * 1e3:.0f} ms"
            f"   max {worst * 1e3:.0f} ms (target <= {TARGET_SEEK_S * 1e3:.0f} ms) {verdict}\n"
            f"      process CPU (all threads) median {statistics.median(cpu_times) * 1e3:.0f} ms"
            f"   max {max(cpu_times) * 1e3:.0f} ms; frames decoded per seek: max {max(decoded)}"
        )


def bench_reference(paths: dict[str, Path], repeat: int) -> None:
    """Item 3: the cost of a full packet scan, and of the old decode-from-the-start."""
    from engine.media.index_build import scan_index_of

    print("\n3. For the record")
    for name in ("1080p_60min", "1080p_1min"):
        seconds = median_s(repeat, lambda n=name: scan_index_of(str(paths[n])))
        print(f"   packet-scan index of {name}: {seconds:.2f} s")
    for name in ("1080p_1min", "720p_1min_gop5s"):
        seconds = median_s(1, lambda n=name: _opencv_decode_all(paths[n]))
        print(f"   OpenCV decoding all of {name} (the old sampler's floor): {seconds:.2f} s")


def _opencv_decode_all(path: Path) -> int:
    import cv2

    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    n_frames = 0
    while cap.grab():
        n_frames += 1
    cap.release()
    return n_frames


def _opencv_frames(path: Path) -> Iterator[np.ndarray]:
    """Every frame OpenCV decodes, in order, as RGB (its rotation handling switched off)."""
    import cv2

    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                return
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


def compare_with_opencv(paths: list[Path]) -> int:
    """Check that frame i from engine.media is OpenCV's i-th frame, bit for bit, on ``paths``.

    Returns the number of files that differ (in frame count or in any frame's pixels).
    """
    from engine.media import iter_frames

    n_bad = 0
    for path in paths:
        n_cv2 = n_ours = n_same = 0
        for theirs, ours in itertools.zip_longest(_opencv_frames(path), iter_frames(path)):
            n_cv2 += theirs is not None
            n_ours += ours is not None
            n_same += theirs is not None and ours is not None and np.array_equal(theirs,
                                                                                ours.rgb_u8)
        same = n_cv2 == n_ours == n_same
        n_bad += not same
        print(f"{'same' if same else 'DIFF'}  {path}: OpenCV {n_cv2} frames, engine.media "
              f"{n_ours}, identical {n_same}", flush=True)
    print(f"{len(paths) - n_bad} of {len(paths)} files identical")
    return n_bad


def main(argv: list[str] | None = None) -> int:
    """Generate the clips if needed, then print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/bench_media"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seeks", type=int, default=20)
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--vs-opencv", type=Path, nargs="+", metavar="VIDEO",
                        help="only compare these videos' frames with OpenCV's, bit for bit")
    args = parser.parse_args(argv)
    if args.vs_opencv:
        return 1 if compare_with_opencv(args.vs_opencv) else 0
    paths = ensure_clips(args.cache_dir)
    if args.generate_only:
        return 0
    import av

    print(f"PyAV {av.__version__}, libavcodec {av.library_versions['libavcodec']}")
    bench_sample(paths, args.repeat)
    bench_seeks(paths, args.seeks)
    bench_reference(paths, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
