"""Markdown tables of ``engine.training.gen_eval``'s results (one table per scoring level)."""

from __future__ import annotations

from typing import Any

__all__ = ["render_tables"]

_LEVELS = {
    "face": "Faces (picture score = highest face; each video frame is a picture)",
    "whole": "Whole pictures (each video frame is a picture)",
    "frame": "Frame score as the application records it (max of faces and whole picture)",
    "face_video": "Faces, per video (mean over its frames); stills as above",
    "whole_video": "Whole pictures, per video (mean over its frames); stills as above",
    "frame_video": "Frame scores, per video (mean over its frames): the file's score",
}


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def _index(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["group"]: row for row in rows}


def _level_table(tables: dict[str, Any], level: str) -> list[str]:
    names = list(tables)
    views = list(next(iter(tables.values()))[level])
    head = ["group", "n"]
    for name in names:
        head += [f"{name} AUC vs photos ({v})" for v in views]
        head += [f"{name} AUC vs all reals (native)", f"{name} flagged (native)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    first = _index(tables[names[0]][level][views[0]])
    for group, row in first.items():
        cells = [group, str(row["n"])]
        for name in names:
            per_view = {v: _index(tables[name][level][v]).get(group, {}) for v in views}
            cells += [_fmt(per_view[v].get("auc_vs_real_photos")) for v in views]
            cells += [_fmt(per_view[views[0]].get("auc_vs_all_reals")),
                      _fmt(per_view[views[0]].get("flagged"))]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render_tables(tables: dict[str, Any], command: str) -> str:
    """All levels as Markdown, with the command that produced them."""
    out = [f"Produced by `{command}`.", ""]
    for level, title in _LEVELS.items():
        out += [f"### {title}", "", *_level_table(tables, level), ""]
    return "\n".join(out)
