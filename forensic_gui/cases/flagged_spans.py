"""Where a video's own frames support manipulation: the shaded spans of both timelines.

The app's timeline (``forensic_gui.widgets.timeline``) and the report's
(``forensic_gui.cases.report_plot``) shade the same stretches of time, computed here once, so
the PDF shows what the analyst saw on screen. A span is a run of consecutive analysed frames
whose own finding (graded against single frames of real videos, docs/FINDINGS.md) is weak
support or above; a frame with no finding (nothing applied) ends a run. Each span reaches half
the median gap between analysed frames beyond its first and last frame, so a single flagged
frame is a visible band, and carries the strongest grade inside it (its colour).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import median

from engine.types import Grade

__all__ = ["ELEVATED_GRADES", "FlaggedSpan", "flagged_spans"]

ELEVATED_GRADES = (Grade.WEAK, Grade.MODERATE, Grade.STRONG)


@dataclass(frozen=True)
class FlaggedSpan:
    """One shaded stretch of the timeline.

    Attributes:
        t_start, t_end: seconds, widened by half the median frame gap on each side.
        grade: the strongest grade of the frames inside.
        first, last: positions (in the sequence given) of its first and last frame.
    """

    t_start: float
    t_end: float
    grade: Grade
    first: int
    last: int


def flagged_spans(t_sec: Sequence[float], grades: Sequence[Grade | None]) -> list[FlaggedSpan]:
    """The spans of ``grades`` (one per analysed frame, ``None`` where nothing applied).

    ``t_sec`` holds the frames' times in increasing order, one per grade.
    """
    if len(t_sec) != len(grades):
        raise ValueError(f"{len(t_sec)} times for {len(grades)} grades")
    half_gap = median(b - a for a, b in pairwise(t_sec)) / 2 if len(t_sec) > 1 else 0.5
    spans: list[FlaggedSpan] = []
    i = 0
    while i < len(grades):
        if grades[i] not in ELEVATED_GRADES:
            i += 1
            continue
        start = i
        while i < len(grades) and grades[i] in ELEVATED_GRADES:
            i += 1
        strongest = max((g for g in grades[start:i] if g is not None),
                        key=ELEVATED_GRADES.index)
        spans.append(FlaggedSpan(float(t_sec[start]) - half_gap, float(t_sec[i - 1]) + half_gap,
                                 strongest, start, i - 1))
    return spans
