"""Scoring a benchmark with the app's own analyzer, cached by the exact models and options.

Every item is analysed by :class:`engine.api.Analyzer` - the object the app and the CLI use -
so the benchmark measures the product, not a re-implementation of it. The stored result is
``engine.api.result_to_dict`` (every per-face, per-frame and per-file detector score, no maps),
so any fusion rule, calibration or grade band can be re-evaluated from the cache without running
a network again: a rerun after a fusion-only change takes seconds.

The cache key is the SHA-256 of the detectors' provenance (name, version, weights SHA-256,
threshold, calibration) and of the analysis options; each entry is named by the file's SHA-256,
so a renamed file is not re-analysed and a changed file is. New weights or options give a new
key, hence a fresh run, and the old entries stay for comparison.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine.evaluation.bench_index import BenchItem

__all__ = ["ScoredItem", "atomic_write_text", "cache_key", "score_items"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoredItem:
    """One benchmark item with its stored analysis (``engine.api.result_to_dict`` form)."""

    item: BenchItem
    result: dict[str, Any]
    from_cache: bool


def cache_key(provenance: Sequence[Any], options: Any) -> str:
    """SHA-256 over the detectors' provenance, how each scores a picture (input mode and tile
    policy from its card: the same weights scored another way give other numbers) and the
    analysis options. Not the detectors' thresholds: no score depends on them, and the
    benchmark itself refits them (``engine.evaluation.fit_thresholds``)."""
    payload = {
        "detectors": [{k: v for k, v in asdict(p).items() if k != "threshold"}
                      for p in provenance],
        "scoring": _scoring_modes([p.name for p in provenance]),
        "options": {
            "n_frames": options.n_frames,
            "fps": options.fps,
            "max_faces": options.max_faces,
            "detectors": list(options.detectors) if options.detectors else None,
        },
    }
    text = json.dumps(payload, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _scoring_modes(names: Sequence[str]) -> dict[str, Any]:
    """Per detector, its input mode and tile policy (from the shipped or configured cards)."""
    from engine.runtime import WeightsStore

    store = WeightsStore()
    modes: dict[str, Any] = {}
    for name in names:
        if name in store.names():
            card = store.card(name)
            modes[name] = [card["cfg"].get("input_mode", "face_crop"), card.get("tile_policy")]
    return modes


def score_items(
    items: Sequence[BenchItem],
    *,
    cache_dir: Path,
    options: Any,
    rescore: bool = False,
    on_item: Callable[[int, int, ScoredItem], None] | None = None,
) -> tuple[list[ScoredItem], str]:
    """Analyse every item (or read it from the cache); returns the items and the cache key.

    Args:
        items: the benchmark items, in the order wanted.
        cache_dir: root of the cache; entries go to ``cache_dir/<key[:16]>/<sha256>.json``.
        options: ``engine.api.AnalysisOptions``.
        rescore: analyse again even where a cache entry exists.
        on_item: called after each item with ``(done, total, scored)`` (for progress lines).
    """
    from engine.api import Analyzer, result_to_dict, sha256_file

    with Analyzer(options) as analyzer:
        key = cache_key(analyzer.detector_provenance, options)
        folder = cache_dir / key[:16]
        folder.mkdir(parents=True, exist_ok=True)
        _write_key_note(folder, analyzer.detector_provenance, options)
        hashes = {it.path: sha256_file(it.path) for it in items}
        todo = [it for it in items if rescore or not (folder / f"{hashes[it.path]}.json").is_file()]
        log.info("%d of %d items to analyse (cache %s)", len(todo), len(items), folder)
        fresh: dict[str, dict[str, Any]] = {}
        t0 = time.perf_counter()
        results = analyzer.analyze_many([it.path for it in todo])
        for n, (it, result) in enumerate(zip(todo, results, strict=True), start=1):
            data = result_to_dict(result)
            _atomic_write_json(folder / f"{hashes[it.path]}.json", data)
            fresh[it.path] = data
            if on_item is not None:
                on_item(n, len(todo), ScoredItem(it, data, False))
        if todo:
            log.info("analysed %d items in %.0f s", len(todo), time.perf_counter() - t0)
    scored = []
    for it in items:
        data = fresh.get(it.path)
        if data is None:
            data = json.loads((folder / f"{hashes[it.path]}.json").read_text(encoding="utf-8"))
        scored.append(ScoredItem(it, data, it.path not in fresh))
    return scored, key


def _write_key_note(folder: Path, provenance: Sequence[Any], options: Any) -> None:
    """A readable note of what the key stands for, next to the entries."""
    note = {
        "detectors": [asdict(p) for p in provenance],
        "n_frames": options.n_frames,
        "fps": options.fps,
        "max_faces": options.max_faces,
    }
    _atomic_write_json(folder / "_key.json", note)


def _atomic_write_json(target: Path, data: Any) -> None:
    atomic_write_text(target, json.dumps(data, allow_nan=False))


def atomic_write_text(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` whole or not at all: a temporary file beside it, renamed
    over it, so a reader (the app, a rerun) never meets half a file."""
    tmp = target.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
