"""What a model card's measured limits say to the analyst, a sentence each.

Two measurements on the dev bench's real faces end up in a face-swap detector's card: benign
edits that push real faces over its threshold (``engine.evaluation.benign_edits``) and photo
composites of face parts it does not see (``engine.evaluation.part_composites``). Their wording
is kept apart from the measuring modules (OpenCV, the training crop store) so that the app's
detector catalog can word a card's figures without importing either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.evaluation.intervals import rate_text

__all__ = ["BENIGN_EDITS_KEY", "PART_COMPOSITES_KEY", "PART_VARIANTS", "composite_row_key",
           "limits_sentences", "part_composite_reach", "strongest_trigger"]

BENIGN_EDITS_KEY = "benign_edits"
PART_COMPOSITES_KEY = "part_composites"
# The composites that replace a part, not the whole face (``part_composites.VARIANTS``).
PART_VARIANTS = ("one_eye", "nose", "mouth", "both_eyes", "eyes_nose_mouth")
_SEES_PARTS_AUC = 0.75  # below this mean part AUC the sentence warns that it misses them


def composite_row_key(variant: str, blend: str) -> str:
    """The key of one composite's row in a card's :data:`PART_COMPOSITES_KEY` entry."""
    return f"{variant}/{blend}"


def strongest_trigger(entry: Mapping[str, Any] | None) -> str:
    """One sentence for the analyst: the benign edit that sent most real items over the
    threshold, from a card's :data:`BENIGN_EDITS_KEY` entry ('' when none was measured or none
    rose)."""
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


def part_composite_reach(entry: Mapping[str, Any] | None) -> str:
    """One sentence for the analyst: how well the detector ranks photo composites of face parts
    (clone-tool rows) against untouched faces, from a card's :data:`PART_COMPOSITES_KEY` entry
    ('' when none was measured)."""
    rows = (entry or {}).get("rows", {})
    keys = [composite_row_key(name, "poisson") for name in PART_VARIANTS]
    parts = [rows[key]["auc"] for key in keys if key in rows]
    whole = rows.get(composite_row_key("whole_face", "poisson"))
    if not parts or whole is None:
        return ""
    span = (f"AUC {min(parts):.2f}-{max(parts):.2f}" if max(parts) - min(parts) >= 0.005
            else f"AUC {parts[0]:.2f}")
    figures = (f"on the dev bench's real faces with another person's eye, nose or mouth pasted "
               f"in by a clone tool it ranks the composites at {span} against the untouched "
               f"faces (a whole face pasted in: {whole['auc']:.2f}; the model card's part "
               "composites give every row and the command)")
    if sum(parts) / len(parts) < _SEES_PARTS_AUC:
        return (f"Photo composites of face parts largely escape it: {figures}. A face with "
                "another person's eye or mouth pasted in can read 'no support'.")
    return f"Photo composites of face parts: {figures}."


def limits_sentences(card: Mapping[str, Any]) -> str:
    """Every measured-limit sentence of a card, in one string ('' when it has none)."""
    return " ".join(filter(None, (strongest_trigger(card.get(BENIGN_EDITS_KEY)),
                                  part_composite_reach(card.get(PART_COMPOSITES_KEY)))))
