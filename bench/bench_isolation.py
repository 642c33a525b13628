"""What isolating analyses in worker processes costs: per file, per folder, at start, in memory.

Run from the repository root (figures go into docs/RELIABILITY.md, "What isolation costs"):

    PYTHONPATH=. python bench/bench_isolation.py [--faces DIR] [--n-images 200] [--clip PATH]
        [--repeat 3] [--workers 1 2 3]

In one run, on the shipped detectors (ONNX Runtime), it measures the same work in this process
(``Analyzer(isolation=None)``, three files in flight, the pre-isolation default) and in the
worker pool (``Analyzer(isolation=IsolationSettings(n_workers=N))``, N = 1, 2, 3):

1. start-up: building the analyzer (loading the models; with a pool, in each worker);
2. one photo at a time: mean wall time per file over ``--repeat`` x 20 photos (the per-file
   cost of the pool: pickling the request and the result, the supervision poll);
3. a folder of ``--n-images`` face photos with the four frame detectors through
   ``analyze_many``: images per second (target >= 15 on 2 cores);
4. a 32-frame video with all five detectors, in this process and with one worker: best and
   median of ``--repeat`` (target <= 5 s);
5. memory: resident memory of this process plus its workers after 20 photos, each
   configuration in a fresh process (so no other configuration's models count);
6. the file-change check (identity of the open descriptor and of the path after decoding),
   against re-hashing the file, per photo and per video.

Steps 2-4 build every configuration once and then measure them in turn, ``--repeat`` rounds,
and report medians: the machine is shared and its load changes from minute to minute. Compare
the figures of one run, not across runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("FORENSIC_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
TARGET_IMAGES_PER_S = 15.0
TARGET_VIDEO_S = 5.0
_CHECKS = 2000


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (Linux /proc)."""
    with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def build(isolation: Any, detectors: tuple[str, ...]) -> tuple[float, Any]:
    """Seconds to build an analyzer, and the analyzer."""
    from engine.api import AnalysisOptions, Analyzer

    options = AnalysisOptions(detectors=detectors, runtime="onnx")
    return timed(lambda: Analyzer(options, isolation=isolation))


def memory_mb(analyzer: Any) -> tuple[float, float]:
    """(this process, this process + the analyzer's workers) resident MB."""
    own = rss_mb(os.getpid())
    pool = getattr(analyzer._backend, "pool", None)
    workers = sum(rss_mb(pid) for pid in pool.worker_pids()) if pool is not None else 0.0
    return own, own + workers


def start_and_memory(isolation: Any, photos: list[Path], frame_dets: tuple[str, ...]
                     ) -> dict[str, float]:
    """Start-up seconds, and resident MB of this process and its workers after 20 photos.

    Run in a fresh process per configuration (``--memory-of``), so no other configuration's
    models count.
    """
    start_s, analyzer = build(isolation, frame_dets)
    with analyzer:
        for photo in photos[:20]:
            analyzer.analyze(photo)
        own, total = memory_mb(analyzer)
    return {"start_s": start_s, "rss_own_mb": own, "rss_total_mb": total}


def _median(values: list[float]) -> float:
    return float(sorted(values)[len(values) // 2])


def interleaved(configs: dict[str, Any], photos: list[Path], clip: Path, names: tuple[str, ...],
                frame_dets: tuple[str, ...], args: argparse.Namespace) -> dict[str, Any]:
    """Every configuration built once, then measured in turn, ``repeat`` rounds (the machine's
    load changes from minute to minute; taking turns exposes each to the same load)."""
    built = {label: build(iso, frame_dets)[1] for label, iso in configs.items()}
    video = {label: build(iso, names)[1] for label, iso in list(configs.items())[:2]}
    folder: dict[str, list[float]] = {label: [] for label in built}
    per_photo: dict[str, list[float]] = {label: [] for label in built}
    clip_s: dict[str, list[float]] = {label: [] for label in video}
    statuses: dict[str, dict[str, int]] = {}
    try:
        for analyzer in [*built.values(), *video.values()]:
            analyzer.analyze(photos[0] if analyzer in built.values() else clip)  # warm-up
        for _ in range(args.repeat):
            for label, analyzer in built.items():
                seconds, results = timed(lambda a=analyzer: list(a.analyze_many(photos)))
                folder[label].append(len(photos) / seconds)
                statuses[label] = {s: sum(r.status == s for r in results)
                                   for s in ("ok", "no_face", "error")}
            for photo in photos[:20]:
                for label, analyzer in built.items():
                    per_photo[label].append(timed(lambda a=analyzer, p=photo: a.analyze(p))[0])
            for label, analyzer in video.items():
                clip_s[label].append(timed(lambda a=analyzer: a.analyze(clip))[0])
    finally:
        for analyzer in [*built.values(), *video.values()]:
            analyzer.close()
    return {"images_per_s": {k: _median(v) for k, v in folder.items()},
            "images_per_s_all": folder,
            "per_photo_ms": {k: 1000 * _median(v) for k, v in per_photo.items()},
            "clip_s": {k: min(v) for k, v in clip_s.items()},
            "clip_s_median": {k: _median(v) for k, v in clip_s.items()},
            "statuses": statuses}


def change_check_cost(photo: Path, clip: Path) -> dict[str, float]:
    """Microseconds of the identity check vs milliseconds of re-hashing, per file."""
    from engine.analysis.media_io import open_evidence
    from engine.media import sha256_file

    out: dict[str, float] = {}
    for name, path in (("photo", photo), ("video", clip)):
        with open_evidence(str(path)) as evidence:
            t, _ = timed(lambda ev=evidence: [ev.check_unchanged() for _ in range(_CHECKS)])
            out[f"{name}_check_us"] = 1e6 * t / _CHECKS
        t, _ = timed(lambda p=path: [sha256_file(p) for _ in range(20)])
        out[f"{name}_rehash_ms"] = 1000 * t / 20
        out[f"{name}_bytes"] = float(path.stat().st_size)
    return out


def report(memory: dict[str, dict[str, float]], speed: dict[str, Any],
           check: dict[str, float], args: argparse.Namespace) -> None:
    print(f"# bench_isolation  {time.strftime('%Y-%m-%d %H:%M')}  {platform.platform()}")
    print(f"command: python {' '.join(sys.argv)}")
    print(f"cpu cores: {os.cpu_count()}; 1-min load average now {os.getloadavg()[0]:.1f}")
    print(f"\n## {args.n_images} face photos, 4 frame detectors ({args.faces}); medians of "
          f"{args.repeat} rounds taken in turn")
    print("| configuration | start-up s | ms per photo, one at a time | images/s, folder "
          "(each round) | RSS MB: this process / with workers | statuses |")
    print("|---|---|---|---|---|---|")
    for label, mem in memory.items():
        rounds = ", ".join(f"{v:.1f}" for v in speed["images_per_s_all"][label])
        print(f"| {label} | {mem['start_s']:.1f} | {speed['per_photo_ms'][label]:.1f} | "
              f"{speed['images_per_s'][label]:.1f} ({rounds}) | {mem['rss_own_mb']:.0f} / "
              f"{mem['rss_total_mb']:.0f} | {speed['statuses'][label]} |")
    base = next(iter(memory))
    for label in list(memory)[1:]:
        ips, ips0 = speed["images_per_s"][label], speed["images_per_s"][base]
        print(f"- {label}: {speed['per_photo_ms'][label] - speed['per_photo_ms'][base]:+.1f} ms "
              f"per photo one at a time; folder {ips / ips0:.2f}x the in-process rate "
              f"({args.n_images} photos: {args.n_images / ips:.1f} s vs "
              f"{args.n_images / ips0:.1f} s); memory "
              f"{memory[label]['rss_total_mb'] - memory[base]['rss_total_mb']:+.0f} MB")
    print(f"\n## 32-frame video, 5 detectors ({args.clip.name}): best / median of {args.repeat}")
    for label, seconds in speed["clip_s"].items():
        verdict = "PASS" if seconds <= TARGET_VIDEO_S else "FAIL"
        print(f"- {label}: {seconds:.2f} s / {speed['clip_s_median'][label]:.2f} s "
              f"(target <= {TARGET_VIDEO_S:g} s) {verdict}")
    print("\n## file-change check (after decoding) vs re-hashing")
    for name in ("photo", "video"):
        print(f"- {name} ({check[f'{name}_bytes'] / 1e6:.2f} MB): identity check "
              f"{check[f'{name}_check_us']:.1f} us; re-hash {check[f'{name}_rehash_ms']:.2f} ms")


def _configs(workers: list[int]) -> dict[str, Any]:
    from engine.api import IsolationSettings

    configs: dict[str, Any] = {"in this process (3 files in flight, no isolation)": None}
    configs.update({f"worker pool, {n} worker(s)": IsolationSettings(n_workers=n)
                    for n in workers})
    return configs


def _memory_in_fresh_processes(labels: list[str], argv: list[str]) -> dict[str, Any]:
    """Run ``--memory-of LABEL`` in a child process per configuration; their JSON answers."""
    import json
    import subprocess

    out = {}
    for label in labels:
        done = subprocess.run([sys.executable, __file__, *argv, "--memory-of", label],
                              capture_output=True, text=True, check=True)
        out[label] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=SHARED_DATA / "faces_real" / "utkface")
    parser.add_argument("--n-images", type=int, default=200)
    parser.add_argument("--clip", type=Path,
                        default=SHARED_DATA / "videos_real" / "liveportrait_d3.mp4")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--memory-of", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from engine.analysis.catalog import shipped_names
    from engine.runtime import WeightsStore

    names = tuple(shipped_names())
    store = WeightsStore(None)
    frame_dets = tuple(n for n in names if store.cfg(n).clip_len == 1)
    photos = sorted(p for p in args.faces.iterdir() if p.is_file())[: args.n_images]
    configs = _configs(args.workers)
    if args.memory_of is not None:
        import json

        print(json.dumps(start_and_memory(configs[args.memory_of], photos, frame_dets)))
        return 0
    own_argv = sys.argv[1:] if argv is None else argv
    memory = _memory_in_fresh_processes(list(configs), own_argv)
    speed = interleaved(configs, photos, args.clip, names, frame_dets, args)
    report(memory, speed, change_check_cost(photos[0], args.clip), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
