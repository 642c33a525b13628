"""What a model card's benign-edit figures say to the analyst, in one sentence.

Kept apart from ``engine.evaluation.benign_edits`` (which measures them with OpenCV and the
training crop store) so that the app's detector catalog can word a card's figures without
importing either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.evaluation.intervals import rate_text

__all__ = ["CARD_KEY", "strongest_trigger"]

CARD_KEY = "benign_edits"


def strongest_trigger(entry: Mapping[str, Any] | None) -> str:
    """One sentence for the analyst: the benign edit that sent most real items over the
    threshold, from a card's :data:`CARD_KEY` entry ('' when none was measured or none rose)."""
    if not entry:
        return ""
    edits = entry.get("edits", {})
    before = edits.get("none")
    worst = max((m for name, m in edits.items() if name != "none" and m.get("n_items")),
                key=lambda m: m["items_above"] / m["n_items"], default=None)
    if not before or worst is None or worst["items_above"] <= before["items_above"]:
        return ""
    return (f"Benign edits can trigger it: after {worst['words']}, "
            f"{rate_text(worst['items_above'], worst['n_items'])} of real items reached its "
            f"threshold ({rate_text(before['items_above'], before['n_items'])} unedited; the "
            "model card's benign edits give every edit and the command). A face smoothed by a "
            "filter app or retouching reads like a blended face to it.")
