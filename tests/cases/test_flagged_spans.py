"""The shaded spans of the timelines (forensic_gui.cases.flagged_spans), in the app and the PDF."""

from __future__ import annotations

import pytest
from reportlab.graphics.shapes import Rect, String

from engine.types import Grade
from forensic_gui.cases.flagged_spans import FlaggedSpan, flagged_spans
from forensic_gui.cases.records import FindingRecord
from forensic_gui.cases.report_plot import SPAN_NOTE, frame_spans, timeline_drawing, timeline_series

N, W, M, S = Grade.NO_SUPPORT, Grade.WEAK, Grade.MODERATE, Grade.STRONG


def test_runs_of_weak_or_above_become_spans_widened_by_half_a_gap() -> None:
    t_sec = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    grades = [N, W, M, N, S, None, W]
    assert flagged_spans(t_sec, grades) == [
        FlaggedSpan(0.25, 1.25, M, 1, 2),   # the strongest grade inside
        FlaggedSpan(1.75, 2.25, S, 4, 4),   # one frame is a band, not a line
        FlaggedSpan(2.75, 3.25, W, 6, 6),   # a frame where nothing applied ends a run
    ]


def test_nothing_flagged_no_frame_or_one_frame() -> None:
    assert flagged_spans([0.0, 1.0], [N, None]) == []
    assert flagged_spans([], []) == []
    assert flagged_spans([4.0], [W]) == [FlaggedSpan(3.5, 4.5, W, 0, 0)]
    with pytest.raises(ValueError, match="2 times for 1 grades"):
        flagged_spans([0.0, 1.0], [W])


def _finding(t_sec: float, grade: Grade, track_id: int | None = None) -> FindingRecord:
    return FindingRecord(analysis_id=1, scope="frame", frame_idx=int(t_sec * 10), t_sec=t_sec,
                         track_id=track_id, grade=grade, p_fake=0.9, applicable_detectors=("a",),
                         rule="r")


def test_the_report_shades_the_files_own_frame_findings() -> None:
    findings = [_finding(0.2, N), _finding(0.0, W), _finding(0.1, W),
                _finding(0.2, S, track_id=3)]  # one face's finding is not the file's frame
    spans = frame_spans(findings)
    assert [(s.grade, s.first, s.last) for s in spans] == [(W, 0, 1)]
    assert (spans[0].t_start, spans[0].t_end) == pytest.approx((-0.05, 0.15))
    series = timeline_series([], findings, {})
    shaded = timeline_drawing(series, width_pt=400, spans=spans)
    plain = timeline_drawing(series, width_pt=400)
    rects = [c for c in shaded.contents if isinstance(c, Rect)]
    assert len(rects) == 1
    assert rects[0].fillOpacity < 1
    assert not [c for c in plain.contents if isinstance(c, Rect)]
    notes = [c.text for c in shaded.contents if isinstance(c, String)]
    assert SPAN_NOTE in notes
    assert SPAN_NOTE not in [c.text for c in plain.contents if isinstance(c, String)]
