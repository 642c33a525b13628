"""Benchmark of the analysis pipeline: stage floors, end to end, ONNX vs torch, images/s, RSS.

Run from the repository root (figures go into docs/PERFORMANCE.md):

    python bench/bench_pipeline.py [--clip PATH] [--faces DIR] [--n-images 64] [--frames 32]
                                   [--repeat 3] [--models-dir DIR] [--skip-torch]

What it measures, in one run, on the detectors shipped in the models directory:

1. Stage floors, each measured alone on the clip (best of ``--repeat``): decoding the sampled
   frames, face detection + Face Mesh + tracking + cropping on the decoded frames, each face
   detector on the resulting crops (ONNX Runtime, batches of 16), and each whole-picture
   (native-tile) detector on the tiles of every sampled frame, as the analysis scores them.
2. End to end: ``Analyzer.analyze(clip)`` with every detector (ONNX Runtime), best of
   ``--repeat``, against the sum of the floors (target <= 1.3x).
3. Images per second over a folder of face images with every frame detector (target >= 15).
4. Peak RSS of the ONNX pipeline (steps 2-3 run first, so the floors' extra sessions do not
   count; target <= 1.5 GB).
5. ONNX Runtime vs PyTorch on the same crops, per detector (target ONNX >= 3x faster); torch is
   imported only now, so it does not count in the RSS above.

Every detector needs its weights; with none shipped, only decoding and faces are measured and
the report says so. Everything runs in this process (``Analyzer(isolation=None)``), as before
issue #18; what the worker processes the CLI and the app now use cost on top of it is measured
by bench/bench_isolation.py (docs/ISOLATION.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("FORENSIC_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
BATCH = 16

TARGET_E2E_RATIO = 1.3
TARGET_ONNX_SPEEDUP = 3.0
TARGET_IMAGES_PER_S = 15.0
TARGET_PEAK_RSS_GB = 1.5


@dataclass(frozen=True)
class Timing:
    """Wall-clock and process CPU seconds of one timed call (CPU counts every thread)."""

    wall_s: float
    cpu_s: float


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[Timing, Any]:
    """The fastest (wall clock) of ``repeat`` timed calls of ``fn`` and its output.

    One untimed warm-up call comes first (its output is kept only if ``repeat`` is 0).
    """
    best_out = fn()
    best = Timing(float("inf"), float("inf"))
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        timing = Timing(time.perf_counter() - t0, time.process_time() - c0)
        if timing.wall_s < best.wall_s:
            best, best_out = timing, out
    return best, best_out


def peak_rss_gb() -> float:
    """Peak resident set size of this process so far, in GB (Linux reports KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib * (1 if sys.platform != "darwin" else 1 / 1024) / 1024**2


def predict_all(unit: Any, crops: np.ndarray) -> None:
    """Score ``crops`` (or clips) in batches of ``BATCH`` with a detector or a shared group."""
    predict = unit.predict_all if hasattr(unit, "predict_all") else unit.predict
    for start in range(0, len(crops), BATCH):
        predict(crops[start : start + BATCH])


def detector_inputs(crops: list[Any], clip_len: int) -> np.ndarray:
    """Face crops stacked for a frame detector, or windows of one track for a clip detector."""
    from engine.analysis.scoring import clip_windows

    if clip_len == 1:
        return np.stack([c.crop_rgb_u8 for c in crops])
    clips = []
    for track_id in sorted({c.track_id for c in crops}):
        track = [c.crop_rgb_u8 for c in crops if c.track_id == track_id]
        clips += [np.stack(track[s:e]) for s, e in clip_windows(len(track), clip_len)]
    return np.stack(clips) if clips else np.zeros((0, clip_len, 256, 256, 3), np.uint8)


def stage_floors(clip: Path, names: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """Decode, faces and each detector, each measured alone on the clip."""
    from engine.faces.crop import CropPolicy
    from engine.faces.mesh import FaceMeshDetector
    from engine.faces.pipeline import detect_faces_in_frames
    from engine.media import sample_frames
    from engine.runtime import load_detector

    t_decode, frames = best_of(args.repeat, lambda: list(sample_frames(clip, n_frames=args.frames)))
    with FaceMeshDetector() as mesh:
        t_faces, found = best_of(
            args.repeat, lambda: detect_faces_in_frames(frames, mesh, CropPolicy())
        )
    crops = found.crops
    floors = {"decode": t_decode, "faces": t_faces}
    dets = [load_detector(name, runtime="onnx", models_dir=args.models_dir) for name in names]
    # NOTE: a native-tile detector's work in a video analysis is the tiles of each sampled
    # frame (the card's per-frame budget), not the face crops: that is its floor.
    tiled = [d for d in dets if d.cfg.input_mode == "native_tiles"]
    for det in tiled:
        floors[f"tiles:{det.cfg.name}"], _ = best_of(
            args.repeat, lambda d=det: score_frame_tiles(d, frames))
    inputs = {d.cfg.name: detector_inputs(crops, d.cfg.clip_len) for d in dets}
    for unit in detector_units([d for d in dets if d not in tiled]):
        label = "+".join(unit.names) if hasattr(unit, "names") else unit.cfg.name
        x = inputs[label.split("+")[0]]
        floors[f"detector:{label}"], _ = best_of(args.repeat, lambda u=unit, x=x: predict_all(u, x))
    loaded = {d.cfg.name: (d.cfg.clip_len, inputs[d.cfg.name]) for d in dets}
    return {"floors": floors, "n_frames": len(frames), "n_crops": len(crops), "inputs": loaded}


def score_frame_tiles(det: Any, frames: list[Any]) -> None:
    """The sampled frames' whole-picture tiles, through the analysis's own stage (its default
    options: no maps)."""
    from engine.analysis.detectors import running_detector
    from engine.analysis.native_tiles import NativeTileStage

    stage = NativeTileStage([running_detector(det)], want_maps=False, media_kind="video")
    for frame_idx, frame in enumerate(frames):
        stage.tap(frame.rgb_u8, frame_idx, [])


def detector_units(dets: list[Any]) -> list[Any]:
    """What the analyzer runs as one step: a shared graph's group, or a detector alone."""
    from engine.runtime.shared import group_detectors

    groups = group_detectors(dets)
    grouped = {id(m): g for g in groups for m in g.members}
    units: list[Any] = list(groups)
    units += [d for d in dets if id(d) not in grouped]
    return units


def end_to_end(clip: Path, names: list[str], args: argparse.Namespace) -> tuple[float, Any]:
    """``Analyzer.analyze(clip)`` with every detector on ONNX Runtime, best of ``repeat``."""
    from engine.api import AnalysisOptions, Analyzer

    options = AnalysisOptions(detectors=tuple(names), runtime="onnx", n_frames=args.frames)
    # NOTE: in this process (isolation=None): this bench measures the pipeline itself (its CPU
    # time and RSS are this process's); bench/bench_isolation.py measures the worker pool.
    with Analyzer(options, isolation=None) as analyzer:
        return best_of(args.repeat, lambda: analyzer.analyze(clip))


def images_per_second(folder: Path, names: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """Analyse ``n_images`` face images with every frame detector; images per second."""
    from engine.analysis.many import DEFAULT_WORKERS
    from engine.api import AnalysisOptions, Analyzer
    from engine.runtime import WeightsStore

    store = WeightsStore(args.models_dir)
    frame_detectors = tuple(n for n in names if store.cfg(n).clip_len == 1)
    paths = sorted(p for p in folder.iterdir() if p.is_file())[: args.n_images]
    with Analyzer(AnalysisOptions(detectors=frame_detectors, runtime="onnx"),
                  isolation=None) as analyzer:  # in this process: see end_to_end
        analyzer.analyze(paths[0])  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        results = [analyzer.analyze(p) for p in paths]
        one_at_a_time_s = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        results = list(analyzer.analyze_many(paths, workers=args.workers))
        seconds, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    statuses = {s: sum(r.status == s for r in results) for s in ("ok", "no_face", "error")}
    stage_s: dict[str, float] = {}
    for r in results:
        for stage, sec in r.provenance.timings_s if r.provenance else ():
            stage_s[stage] = stage_s.get(stage, 0.0) + sec / len(results)
    return {
        "n_images": len(paths),
        "seconds": seconds,
        "images_per_s": len(paths) / seconds,
        "images_per_s_one_at_a_time": len(paths) / one_at_a_time_s,
        "workers": args.workers or DEFAULT_WORKERS,
        "cpu_ms_per_image": 1000 * cpu_s / len(paths),
        "statuses": statuses,
        "detectors": frame_detectors,
        "stage_means": {k: round(v, 4) for k, v in stage_s.items()},
    }


def onnx_vs_torch(inputs: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Per detector: seconds on the same crops with ONNX Runtime and with torch (CPU)."""
    from engine.runtime import load_detector

    out = {}
    for name, (_, x) in inputs.items():
        onnx_det = load_detector(name, runtime="onnx", models_dir=args.models_dir)
        torch_det = load_detector(name, runtime="torch", models_dir=args.models_dir)
        t_onnx, _ = best_of(args.repeat, lambda d=onnx_det, x=x: predict_all(d, x))
        t_torch, _ = best_of(args.repeat, lambda d=torch_det, x=x: predict_all(d, x))
        out[name] = (t_onnx, t_torch)
    return out


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_report(res: dict[str, Any], args: argparse.Namespace) -> None:
    """Print every figure with its target."""
    print(f"# bench_pipeline  {time.strftime('%Y-%m-%d %H:%M')}  {platform.platform()}")
    print(f"command: python {' '.join(sys.argv)}")
    print(f"cpu cores: {os.cpu_count()}  python {platform.python_version()}")
    load_start, load_end = res["load_avg"], os.getloadavg()
    print(
        f"1-min load average: {load_start[0]:.1f} at start, {load_end[0]:.1f} at end "
        "(other processes share these cores; wall times scale with the CPU left to us)"
    )
    print(f"clip: {res['clip']}  sampled frames: {res['n_frames']}  face crops: {res['n_crops']}")
    print(f"detectors: {', '.join(res['names']) or 'NONE SHIPPED (no weights found)'}")
    print_floors_and_e2e(res, args)
    ips = res["images"]
    print(
        f"\n## face images: {ips['n_images']} in {ips['seconds']:.2f} s = "
        f"{ips['images_per_s']:.1f} images/s with {ips['workers']} files in flight "
        f"(target >= {TARGET_IMAGES_PER_S}) "
        f"{_verdict(ips['images_per_s'] >= TARGET_IMAGES_PER_S)}"
    )
    print(f"  one file at a time: {ips['images_per_s_one_at_a_time']:.1f} images/s")
    print(f"  statuses {ips['statuses']}, detectors {', '.join(ips['detectors']) or 'none'}")
    print(f"  process CPU per image: {ips['cpu_ms_per_image']:.1f} ms (all threads)")
    print(f"  mean stage seconds per image: {ips['stage_means']}")
    rss = res["peak_rss_gb"]
    print(
        f"\n## peak RSS (ONNX pipeline): {rss:.2f} GB (target <= {TARGET_PEAK_RSS_GB}) "
        f"{_verdict(rss <= TARGET_PEAK_RSS_GB)}"
    )
    print_torch(res.get("torch"))


def print_floors_and_e2e(res: dict[str, Any], args: argparse.Namespace) -> None:
    """The stage floors, their sum, and the end-to-end run against it."""
    print(f"\n## stage floors (each alone, best of {args.repeat}): wall ms / process CPU ms")
    for stage, t in res["floors"].items():
        print(f"  {stage:<28} {t.wall_s * 1000:9.1f} {t.cpu_s * 1000:9.1f}")
    floor_wall = sum(t.wall_s for t in res["floors"].values())
    floor_cpu = sum(t.cpu_s for t in res["floors"].values())
    print(f"  {'sum of floors':<28} {floor_wall * 1000:9.1f} {floor_cpu * 1000:9.1f}")
    e2e: Timing = res["e2e"]
    ratio = e2e.wall_s / floor_wall
    print(
        f"\n## end to end, {args.frames} frames, all detectors: {e2e.wall_s * 1000:.1f} ms wall,"
        f" {e2e.cpu_s * 1000:.1f} ms CPU"
    )
    print(
        f"  ratio to the sum of floors: {ratio:.2f}x wall, {e2e.cpu_s / floor_cpu:.2f}x CPU "
        f"(target <= {TARGET_E2E_RATIO}x) {_verdict(ratio <= TARGET_E2E_RATIO)}"
    )
    print(f"  analyzer's own stage timings (s): {dict(res['e2e_timings'])}")


def print_torch(torch_res: dict[str, tuple[Timing, Timing]] | None) -> None:
    """The ONNX vs torch section."""
    if not torch_res:
        print("\n## ONNX vs torch: not measured (--skip-torch or no detector)")
        return
    print("\n## ONNX Runtime vs torch (CPU), same crops, batches of 16: wall ms")
    for name, (t_onnx, t_torch) in torch_res.items():
        print(
            f"  {name:<20} onnx {t_onnx.wall_s * 1000:8.1f}  torch {t_torch.wall_s * 1000:8.1f}"
            f"  torch/onnx {t_torch.wall_s / t_onnx.wall_s:5.2f}x"
        )
    total_onnx = sum(t.wall_s for t, _ in torch_res.values())
    total_torch = sum(t.wall_s for _, t in torch_res.values())
    speedup = total_torch / total_onnx
    print(
        f"  {'all detectors':<20} torch/onnx {speedup:.2f}x (target >= {TARGET_ONNX_SPEEDUP}x) "
        f"{_verdict(speedup >= TARGET_ONNX_SPEEDUP)}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clip", type=Path, default=SHARED_DATA / "videos_real" / "liveportrait_d3.mp4"
    )
    parser.add_argument("--faces", type=Path, default=SHARED_DATA / "faces_real" / "utkface")
    parser.add_argument("--n-images", type=int, default=64)
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=None,
        help="weights directory (default: the shipped resources/models)",
    )
    parser.add_argument("--skip-torch", action="store_true")
    parser.add_argument("--workers", type=int, default=None,
                        help="files in flight for the images/s run (Analyzer.analyze_many)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the report."""
    args = parse_args(argv)
    if args.models_dir is not None:
        os.environ["FORENSIC_MODELS_DIR"] = str(args.models_dir)
    from engine.analysis.catalog import shipped_names

    names = shipped_names(args.models_dir)
    res: dict[str, Any] = {"clip": args.clip, "names": names, "load_avg": os.getloadavg()}
    # NOTE: the analyzer runs first so the peak RSS is the app's pipeline alone; the floors
    # below load their own sessions (and merge graphs) again, which would count twice.
    res["e2e"], e2e_result = end_to_end(args.clip, names, args)
    res["e2e_timings"] = e2e_result.provenance.timings_s
    res["images"] = images_per_second(args.faces, names, args)
    res["peak_rss_gb"] = peak_rss_gb()
    res.update(stage_floors(args.clip, names, args))
    if names and not args.skip_torch:
        res["torch"] = onnx_vs_torch(res["inputs"], args)
    print_report(res, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
