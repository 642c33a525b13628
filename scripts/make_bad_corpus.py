"""Write the corpus of odd and broken media files into OUT_DIR, for manual checks of the app.

The files are generated, never committed. The generators live in tests/engine/bad_media.py so
the tests check exactly these files; this script loads that module by path (scripts are not a
package and must not edit sys.path).

Usage: python scripts/make_bad_corpus.py OUT_DIR [--seed 0] [--check]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

_BAD_MEDIA = Path(__file__).resolve().parents[1] / "tests" / "engine" / "bad_media.py"


def _load_generators() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bad_media", _BAD_MEDIA)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"cannot load the generators from {_BAD_MEDIA}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def _outcome(path: Path) -> str:
    """What the engine makes of the file: its MediaInfo, or the typed error."""
    from engine.errors import MediaError
    from engine.media import probe, sample_frames

    try:
        info = probe(path)
        n_sampled = len(list(sample_frames(path, n_frames=8)))
    except MediaError as exc:
        return f"{type(exc).__name__}: {exc.reason}"
    return f"ok: {info.kind} {info.format_name} {info.width}x{info.height}, {n_sampled} sampled"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder to write the corpus into")
    parser.add_argument("--seed", type=int, default=0, help="seed for the random-bytes file")
    parser.add_argument("--check", action="store_true", help="read each file with the engine")
    args = parser.parse_args(argv)
    bad_media = _load_generators()
    paths = bad_media.make_all(args.out_dir, np.random.default_rng(args.seed))
    for case in bad_media.CASES:
        expect = case.expect.__name__ if case.expect else "valid"
        line = f"{case.name:18} {expect:24} {case.note}"
        if args.check:
            line += f"\n{'':18} -> {_outcome(paths[case.name])}"
        print(line)
    print(f"{len(paths)} files in {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
