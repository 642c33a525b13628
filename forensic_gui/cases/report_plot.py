"""The timeline plot of a case report: per-frame scores per detector, the fused score, thresholds.

Drawn with ``reportlab.graphics`` (vector, no Qt, no matplotlib). Frames where a detector did
not apply are gaps in its line, never zeros: a missing number must not look like "authentic".
Frames whose own finding supports manipulation are shaded, the same spans as the app's
timeline (``forensic_gui.cases.flagged_spans``), so the PDF shows what the analyst saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Group, Rect, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors

from engine.types import Grade
from forensic_gui.cases.flagged_spans import FlaggedSpan, flagged_spans
from forensic_gui.cases.records import FindingRecord, ScoreRecord

__all__ = [
    "FUSED_LABEL",
    "SPAN_NOTE",
    "TimelineSeries",
    "frame_spans",
    "timeline_drawing",
    "timeline_series",
]

FUSED_LABEL = "finding (strongest kind)"
# NOTE: colour-blind-safe palette (Okabe-Ito), fused always black.
_PALETTE = (
    colors.HexColor("#0072B2"),
    colors.HexColor("#E69F00"),
    colors.HexColor("#009E73"),
    colors.HexColor("#CC79A7"),
    colors.HexColor("#D55E00"),
    colors.HexColor("#56B4E9"),
)

# NOTE: the app's span colours (amber for weak, red for moderate, deeper red for strong).
_SPAN_FILL = {Grade.WEAK: (colors.HexColor("#FBBC04"), 0.25),
              Grade.MODERATE: (colors.HexColor("#D93025"), 0.22),
              Grade.STRONG: (colors.HexColor("#D93025"), 0.38)}
SPAN_NOTE = "shaded: frames graded weak or above"

Point = tuple[float, float]


@dataclass(frozen=True)
class TimelineSeries:
    """One line of the plot: ``runs`` are the unbroken stretches of (t_sec, p_fake) points."""

    label: str
    runs: tuple[tuple[Point, ...], ...]
    threshold: float | None


def _runs(points: Sequence[tuple[float, float | None]]) -> tuple[tuple[Point, ...], ...]:
    runs: list[tuple[Point, ...]] = []
    current: list[Point] = []
    for t_sec, p_fake in sorted(points, key=lambda point: point[0]):
        if p_fake is None:
            if current:
                runs.append(tuple(current))
            current = []
        else:
            current.append((t_sec, p_fake))
    if current:
        runs.append(tuple(current))
    return tuple(runs)


def timeline_series(
    frame_scores: Sequence[ScoreRecord],
    frame_findings: Sequence[FindingRecord],
    thresholds: Mapping[str, float],
) -> tuple[TimelineSeries, ...]:
    """The per-detector series (frame scope only) and the fused series, in a stable order."""
    by_detector: dict[str, list[tuple[float, float | None]]] = {}
    for score in frame_scores:
        if score.scope == "frame" and score.t_sec is not None:
            by_detector.setdefault(score.detector, []).append((score.t_sec, score.p_fake))
    series = [
        TimelineSeries(name, _runs(points), thresholds.get(name))
        for name, points in sorted(by_detector.items())
    ]
    fused = [
        (f.t_sec, f.p_fake) for f in frame_findings if f.scope == "frame" and f.t_sec is not None
    ]
    if fused:
        series.append(TimelineSeries(FUSED_LABEL, _runs(fused), None))
    return tuple(series)


def frame_spans(frame_findings: Sequence[FindingRecord]) -> list[FlaggedSpan]:
    """The shaded spans of the file's frame findings (all faces: no track), in time order."""
    frames = sorted((f for f in frame_findings if f.scope == "frame" and f.track_id is None
                     and f.t_sec is not None), key=lambda f: f.t_sec or 0.0)
    return flagged_spans([f.t_sec or 0.0 for f in frames], [f.grade for f in frames])


def _add_spans(drawing: Drawing, plot: LinePlot, spans: Sequence[FlaggedSpan],
               t_range: Point) -> None:
    """Each span as a translucent band behind the lines, clipped to the plot."""
    scale = plot.width / (t_range[1] - t_range[0])
    for span in spans:
        x0 = plot.x + (max(span.t_start, t_range[0]) - t_range[0]) * scale
        x1 = plot.x + (min(span.t_end, t_range[1]) - t_range[0]) * scale
        fill, opacity = _SPAN_FILL[span.grade]
        drawing.add(Rect(x0, plot.y, max(x1 - x0, 0.5), plot.height, fillColor=fill,
                         fillOpacity=opacity, strokeColor=None))


def _time_range(series: Sequence[TimelineSeries]) -> tuple[float, float]:
    times = [t for s in series for run in s.runs for t, _ in run]
    t_min, t_max = (min(times), max(times)) if times else (0.0, 1.0)
    return (t_min, t_max) if t_max > t_min else (t_min, t_min + 1.0)


def _add_lines(plot: LinePlot, series: Sequence[TimelineSeries], t_range: Point) -> None:
    data: list[tuple[Point, ...]] = []
    styles: list[tuple[colors.Color, float, list[float] | None, bool]] = []
    for i, line in enumerate(series):
        is_fused = line.label == FUSED_LABEL
        color = colors.black if is_fused else _PALETTE[i % len(_PALETTE)]
        for run in line.runs:
            data.append(run)
            styles.append((color, 2.0 if is_fused else 1.0, None, len(run) == 1))
        if line.threshold is not None:
            data.append(((t_range[0], line.threshold), (t_range[1], line.threshold)))
            styles.append((color, 0.6, [3, 2], False))
    plot.data = data
    for i, (color, width, dash, lone_point) in enumerate(styles):
        plot.lines[i].strokeColor = color
        plot.lines[i].strokeWidth = width
        plot.lines[i].strokeDashArray = dash
        if lone_point:  # a single applicable frame between gaps would otherwise be invisible
            plot.lines[i].symbol = makeMarker("FilledCircle", size=3, fillColor=color)


def _legend(series: Sequence[TimelineSeries], x: float, y: float) -> Legend:
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName, legend.fontSize = "Helvetica", 7
    legend.alignment = "right"  # text to the right of the swatch
    legend.dx, legend.dy = 8, 6
    legend.deltay = 9
    legend.columnMaximum = max(1, len(series))  # one column: "fused" under the detectors
    legend.colorNamePairs = [
        (
            colors.black if line.label == FUSED_LABEL else _PALETTE[i % len(_PALETTE)],
            line.label if line.threshold is None else f"{line.label} (dashed: threshold)",
        )
        for i, line in enumerate(series)
    ]
    return legend


def timeline_drawing(
    series: Sequence[TimelineSeries], *, width_pt: float, height_pt: float = 170.0,
    spans: Sequence[FlaggedSpan] = (),
) -> Drawing:
    """A vector plot of ``series`` against time, y axis calibrated p_fake in [0, 1], with
    ``spans`` (:func:`frame_spans`) shaded behind the lines."""
    drawing = Drawing(width_pt, height_pt)
    legend_w = 150.0
    plot = LinePlot()
    plot.x, plot.y = 34.0, 28.0
    plot.width = width_pt - plot.x - legend_w - 10.0
    plot.height = height_pt - plot.y - 10.0
    t_range = _time_range(series)
    _add_lines(plot, series, t_range)
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = t_range
    plot.xValueAxis.labels.fontSize = 7
    plot.xValueAxis.labelTextFormat = "%.1f"
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = 0, 1, 0.25
    plot.yValueAxis.labels.fontSize = 7
    plot.yValueAxis.visibleGrid = True
    plot.yValueAxis.gridStrokeColor = colors.HexColor("#DDDDDD")
    _add_spans(drawing, plot, spans, t_range)
    drawing.add(plot)
    drawing.add(
        String(plot.x + plot.width / 2, 4, "time in the video (s)", fontSize=7, textAnchor="middle")
    )
    y_label = Group(String(0, 0, "calibrated p_fake", fontSize=7, textAnchor="middle"))
    y_label.transform = (0, 1, -1, 0, 9, plot.y + plot.height / 2)  # rotated 90 degrees
    drawing.add(y_label)
    legend = _legend(series, plot.x + plot.width + 12.0, plot.y + plot.height)
    drawing.add(legend)
    if spans:
        note_y = plot.y + plot.height - legend.deltay * (len(series) + 1)
        drawing.add(String(legend.x, note_y, SPAN_NOTE, fontSize=7))
    return drawing
