"""Write the corpus of odd and broken media files into OUT_DIR, for manual checks of the app.

The files are generated, never committed. The generators live in tests/engine/bad_media.py (and
the modules beside it) so the tests check exactly these files. Scripts are not a package and
must not edit sys.path, so :func:`load_tests_package` registers the repository's ``tests``
package from its path; ``tests.engine.bad_media`` then imports as it does under pytest.

Usage: python scripts/make_bad_corpus.py OUT_DIR [--seed 0] [--check]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

_TESTS_DIR = Path(__file__).resolve().parents[1] / "tests"


def load_tests_package() -> ModuleType:
    """Import the repository's ``tests`` package from its folder (once per process).

    Analysis worker processes started from here import the test doubles (a face finder that
    crashes, ...) by name, so the repository root is put on this process's ``sys.path`` (a
    worker starts with the caller's ``sys.path``: ``engine.analysis.pool.worker_command``) and
    on ``PYTHONPATH`` (for subprocesses started otherwise).
    """
    root = str(_TESTS_DIR.parent)
    if root not in sys.path:
        sys.path.append(root)
    if "tests" in sys.modules:
        return sys.modules["tests"]
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([root, *paths])
    spec = importlib.util.spec_from_file_location(
        "tests", _TESTS_DIR / "__init__.py", submodule_search_locations=[str(_TESTS_DIR)]
    )
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"cannot load the test helpers from {_TESTS_DIR}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["tests"] = module
    spec.loader.exec_module(module)
    return module


def _load_generators() -> ModuleType:
    load_tests_package()
    return importlib.import_module("tests.engine.bad_media")


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
        expect = case.expect.__name__ if case.expect else f"valid, {case.analysis_status}"
        line = f"{case.name:20} {expect:24} {case.note}"
        if args.check:
            line += f"\n{'':20} -> {_outcome(paths[case.name])}"
        print(line)
    print(f"{len(paths)} files in {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
