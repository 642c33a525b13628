"""What the GUI lists as detectors: the shipped cards whose weights are on disk.

A detector is shipped when its card (``<name>.json``) is in the models directory and the
weights file the card names for a runtime exists (the SHA-256 is checked later, when the weights
are loaded). It is in the default set (what runs when no detector is named) unless its card
says ``"default_set": false``. A card whose files are missing is a broken install: it is left
out and logged, not hidden silently. Display fields come from the card: ``display_name``,
``scope`` and ``summary`` (the detector's limits, one paragraph) when it has them, else the
``## Limits`` section of the human model card ``<name>.md``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.evaluation.card_text import limits_sentences

if TYPE_CHECKING:
    from engine.api import DetectorInfo

__all__ = [
    "MAP_KIND_WORDS",
    "TILE_MAP_WORDS",
    "default_names",
    "detector_info",
    "shipped_detectors",
    "shipped_names",
]

log = logging.getLogger(__name__)

MAP_KIND_WORDS = {
    "gradcam": "grad-cam",
    "xray": "blending boundary",
    "attention": "attention",
    "none": None,
}
TILE_MAP_WORDS = "probability of each tile"


def shipped_names(models_dir: Path | None = None) -> list[str]:
    """Names of the shipped detectors whose weights are present, sorted."""
    from engine.runtime import WeightsStore

    store = WeightsStore(models_dir)
    names = []
    for name in store.names():
        cfg = store.cfg(name)
        # NOTE: the ONNX graph is what the app runs; the offline bundle ships no torch and no
        # .pt files (loading one with runtime="torch" fails with a clear error instead).
        files = [f for f in (cfg.onnx_file, cfg.weights_file) if f]
        if cfg.onnx_file and (store.root / cfg.onnx_file).is_file():
            names.append(name)
        else:
            log.warning("detector %s has a card but its ONNX graph %s is missing", name, files)
    return names


def default_names(models_dir: Path | None = None) -> list[str]:
    """The shipped detectors an analysis runs when none are named: every shipped one whose
    card does not say ``"default_set": false`` (a detector shipped beside the default set, to
    be named explicitly, e.g. one that did not beat its predecessor on held-out media)."""
    from engine.runtime import WeightsStore

    store = WeightsStore(models_dir)
    return [n for n in shipped_names(models_dir) if store.card(n).get("default_set", True)]


def shipped_detectors(models_dir: Path | None = None) -> list[DetectorInfo]:
    """:class:`engine.api.DetectorInfo` of every shipped detector, sorted by name."""
    from engine.runtime import WeightsStore

    store = WeightsStore(models_dir)
    return [detector_info(store, name) for name in shipped_names(models_dir)]


def detector_info(store: Any, name: str) -> DetectorInfo:
    """The :class:`DetectorInfo` of ``name`` from its card in ``store``."""
    from engine.api import DetectorInfo

    card = store.card(name)
    cfg = store.cfg(name)
    return DetectorInfo(
        name=cfg.name,
        display_name=str(card.get("display_name") or cfg.name),
        method=cfg.paper,
        scope=str(card.get("scope") or ("clip" if cfg.clip_len > 1 else "face")),
        version=cfg.version,
        threshold=float(cfg.threshold),
        weights_sha256=str(cfg.onnx_sha256 or cfg.weights_sha256 or ""),
        # NOTE: a native-tile detector's map is its tiles' probabilities, whatever its network's
        # own map would be (engine.analysis.native_tiles).
        map_kind=(TILE_MAP_WORDS if cfg.input_mode == "native_tiles"
                  else MAP_KIND_WORDS.get(cfg.map_kind)),
        card_summary=" ".join(filter(None, (
            str(card.get("summary") or _limits_section(store.root / f"{name}.md")),
            limits_sentences(card)))),
    )


def _limits_section(card_md: Path) -> str:
    """The text under a ``## Limits`` / ``## Limitations`` heading of a model card, or ''."""
    if not card_md.is_file():
        return ""
    text = card_md.read_text(encoding="utf-8")
    match = re.search(r"^##+\s*Limit\w*\s*$(.*?)(?=^##|\Z)", text, flags=re.M | re.S)
    return " ".join(match.group(1).split()) if match else ""
