"""What a larger face-swap backbone or input would cost the app: the merged SBI + X-ray + MAT graph
per face, for EfficientNet-Lite0/1/2 at several input sizes (issue 19, deliverable 2).

    python bench/bench_backbones.py [--threads 1] [--batch 1 8] [--repeats 15]
        [--configs lite0@192 lite0@256 lite1@256 lite2@288 ...]

The app runs SBI, Face X-ray and MAT as one merged ONNX graph that computes their shared trunk
(stem to stride 16) once per face (``engine.runtime.merge``). Each candidate here is built the
same way: the three networks on one encoder variant, X-ray's and MAT's trunk copied from SBI's
so the merge shares it, exported with the app's exporter (checked against torch) and merged. The
weights are ImageNet's (timing does not depend on them). ``lite0@192`` is the shipped
configuration and is measured in the same run, so the ratios hold on a noisy shared machine;
the last column projects the app's face images per second from the figure the app measured
(docs/PERFORMANCE.md: ``bench/bench_pipeline.py``, in CPU milliseconds per image) plus the
candidate's extra CPU milliseconds per face, assuming every other stage stays as it is. One
thread (the default) makes a wall millisecond a CPU millisecond.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from timing import median_ms_per_item

from engine.detectors.backbones import EfficientNetLite, load_imagenet_lite
from engine.detectors.face_xray import XRAY_EFFL0, XrayNet
from engine.detectors.mat import MAT_EFFL0, MatNet
from engine.detectors.sbi import SBI_EFFL0, SbiNet
from engine.runtime.export import export_net
from engine.runtime.merge import merge_graphs
from engine.runtime.onnx_rt import OnnxRuntime

# What the app measured with the shipped configuration (docs/PERFORMANCE.md, bench_pipeline.py,
# 3 files in flight): face images per second and CPU milliseconds per image, all stages.
APP_IMAGES_PER_S = 15.0
APP_CPU_MS_PER_IMAGE = 131.6
TARGET_IMAGES_PER_S = 15.0


def _parse(config: str) -> tuple[int, int]:
    name, _, size = config.partition("@")
    if not name.startswith("lite") or not size:
        raise argparse.ArgumentTypeError(f"expected liteN@SIZE, got {config!r}")
    return int(name[4:]), int(size)


def _merged_graph(variant: int, size: int, workdir: Path) -> bytes:
    """SBI + X-ray + MAT on EfficientNet-Lite``variant`` at ``size`` px, merged as the app does."""
    torch.manual_seed(0)
    encoders = [EfficientNetLite(variant, head=True), EfficientNetLite(variant),
                EfficientNetLite(variant)]
    for encoder in encoders:
        load_imagenet_lite(encoder)
    shared = encoders[0].frozen_modules(3)  # stem .. end of stride 16: the shared trunk
    for other in encoders[1:]:
        for src, dst in zip(shared, other.frozen_modules(3), strict=True):
            dst.load_state_dict(src.state_dict())
    nets = {"sbi": (SbiNet(encoders[0]), SBI_EFFL0), "xray": (XrayNet(encoders[1]), XRAY_EFFL0),
            "mat": (MatNet(encoders[2], n_maps=4, growth=16), MAT_EFFL0)}
    graphs = {}
    for name, (net, cfg) in nets.items():
        path = workdir / f"{name}_lite{variant}_{size}.onnx"
        export_net(net, dataclasses.replace(cfg, input_size=size), path, atol=1e-3)
        graphs[name] = path.read_bytes()
    merged = merge_graphs(graphs)
    return merged.model_bytes


def _ms_per_face(runtime: OnnxRuntime, size: int, batch: int, repeats: int) -> float:
    x = np.random.default_rng(0).standard_normal((batch, 3, size, size)).astype(np.float32)
    return median_ms_per_item(lambda: runtime.run_all(x), batch, repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--configs", type=_parse, nargs="+",
                        default=[(0, 192), (0, 224), (0, 256), (1, 224), (1, 256), (2, 256),
                                 (2, 288), (2, 320)])
    args = parser.parse_args(argv)
    configs = [(0, 192)] + [c for c in args.configs if c != (0, 192)]
    print(f"load average before: {os.getloadavg()}; {args.threads} threads; median of "
          f"{args.repeats} runs of the merged SBI + X-ray + MAT graph (ONNX Runtime, CPU)")
    results: dict[tuple[int, int], dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant, size in configs:
            runtime = OnnxRuntime(_merged_graph(variant, size, Path(tmp)), threads=args.threads,
                                  merged=True)
            results[(variant, size)] = {b: _ms_per_face(runtime, size, b, args.repeats)
                                        for b in args.batch}
            del runtime
    base = results[(0, 192)]
    cols = " | ".join(f"ms/face @ batch {b} (x shipped)" for b in args.batch)
    print(f"\n| backbone @ input | {cols} | projected app images/s (target "
          f">= {TARGET_IMAGES_PER_S:g}) |")
    print("|---|" + "---|" * len(args.batch) + "---|")
    for (variant, size), by_batch in results.items():
        cells = " | ".join(f"{ms:.1f} ({ms / base[b]:.2f}x)" for b, ms in by_batch.items())
        extra_ms = by_batch[args.batch[0]] - base[args.batch[0]]
        projected = APP_IMAGES_PER_S * APP_CPU_MS_PER_IMAGE / (APP_CPU_MS_PER_IMAGE + extra_ms)
        print(f"| Lite{variant} @ {size} | {cells} | {projected:.1f} |")
    print(f"\nload average after: {os.getloadavg()}. Projection: the app's measured "
          f"{APP_IMAGES_PER_S:g} images/s at {APP_CPU_MS_PER_IMAGE:g} ms of CPU per image, plus "
          f"the candidate's extra ms per face at batch {args.batch[0]} (one face per image).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
