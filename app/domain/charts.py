"""Chart geometry for the page's inline SVG: scales, ticks, polyline points, markers.

Pure functions of the result models, so the same scenario always draws the same chart
(snapshot-friendly) and the templates only place what is computed here. Coordinates are SVG
user units inside a fixed viewBox; the SVG scales to its container with CSS.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from app.domain.comparison import Comparison, Curves, VolumePoint

if TYPE_CHECKING:
    from app.domain.candidates import CandidateCurves
from app.domain.formatting import usd
from app.domain.sensitivity import TornadoBar
from app.domain.uncertainty import HistogramBin

# Every chart function is total: any finite input draws a chart (issue 12). Amounts below
# TINY (a trillionth of a dollar, 5e-324 included) are drawn as zero: an axis scaled to them
# would need ticks below the smallest float. A log axis spans at most MAX_DECADES decades
# under its largest value; smaller values sit on its floor.
TINY = 1e-12
MAX_DECADES = 12
MAX_TICKS = 100

# Parts of the per-query cost, in the order they are stacked and listed.
PARTS: tuple[tuple[str, str], ...] = (
    ("cached_input", "Cached input"),
    ("cache_write", "Static prompt, uncached (cache write)"),
    ("input", "Dynamic input"),
    ("output", "Output"),
    ("errors", "Errors"),
    ("fixed", "Fixed monthly"),
    ("one_time", "One-time"),
)


@dataclass(frozen=True)
class Frame:
    """The viewBox and the plot area inside it."""

    width: float = 640
    height: float = 300
    left: float = 64
    right: float = 16
    top: float = 14
    bottom: float = 40

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - self.right

    @property
    def y0(self) -> float:
        """Bottom edge of the plot (SVG y grows downwards)."""
        return self.height - self.bottom

    @property
    def y1(self) -> float:
        return self.top


@dataclass(frozen=True)
class Scale:
    """Maps a data interval onto a pixel interval, linearly or by log10."""

    lo: float
    hi: float
    px_lo: float
    px_hi: float
    log: bool = False
    _log_lo: float = field(init=False, default=0.0, repr=False, compare=False)
    _log_span: float = field(init=False, default=1.0, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Called hundreds of times per chart: take the logs of the bounds once.
        if self.log:
            if not self.lo > 0:
                raise ValueError(f"a log scale needs a positive lower bound, not {self.lo!r}")
            span = math.log10(self.hi) - math.log10(self.lo)
            object.__setattr__(self, "_log_lo", math.log10(self.lo))
            object.__setattr__(self, "_log_span", span if span > 0 else 1.0)
        elif not self.hi > self.lo:
            # An empty interval: one value maps to the low end instead of dividing by zero.
            object.__setattr__(self, "hi", self.lo + 1.0)

    def __call__(self, value: float) -> float:
        if self.log:
            # Values at or below zero cannot sit on a log axis; they are drawn on its floor.
            v = min(max(value, self.lo), self.hi)
            t = (math.log10(v) - self._log_lo) / self._log_span
        else:
            t = (min(max(value, self.lo), self.hi) - self.lo) / (self.hi - self.lo)
        return round(self.px_lo + t * (self.px_hi - self.px_lo), 1)

    def many(self, values: Sequence[float]) -> NDArray[np.float64]:
        """The scale applied to a whole series at once: a chart line's 61 points cost a
        fifth of calling the scale on each (numpy rounds half to even, as round() does).
        Values outside the axis are drawn on its edge."""
        v = np.clip(np.asarray(values, dtype=np.float64), self.lo, self.hi)
        if self.log:
            t = (np.log10(v) - self._log_lo) / self._log_span
        else:
            t = (v - self.lo) / (self.hi - self.lo)
        return np.round(self.px_lo + t * (self.px_hi - self.px_lo), 1)


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass(frozen=True)
class Line:
    arm: str
    label: str
    points: str  # "x,y x,y ..." for <polyline points>


@dataclass(frozen=True)
class Marker:
    kind: Literal["break_even", "current", "payback", "percentile", "event"]
    x: float
    label: str
    anchor: Literal["start", "end"]  # which side of the line the label sits on
    row: int = 0  # label line, counted from the top of the plot (see place_markers)


@dataclass(frozen=True)
class Band:
    """A shaded x-range of a chart: where one candidate is the cheapest."""

    series: str  # CSS class suffix, as Line.arm
    label: str
    x: float
    width: float


@dataclass(frozen=True)
class LineChart:
    frame: Frame
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    lines: list[Line]
    markers: list[Marker]
    x_label: str
    y_label: str
    bands: list[Band] = field(default_factory=list)

    @property
    def grid(self) -> str:
        return grid_path(self.frame, self.x_ticks, self.y_ticks)


@dataclass(frozen=True)
class Segment:
    part: str
    label: str
    x: float
    width: float
    value: float
    tooltip: str  # "Prompted, Output: $0.0021 per query": the segment's <title>


@dataclass(frozen=True)
class Bar:
    arm: str
    label: str
    y: float
    height: float
    total: float
    total_label: str
    segments: list[Segment]


@dataclass(frozen=True)
class BarChart:
    frame: Frame
    bars: list[Bar]
    x_ticks: list[Tick]

    @property
    def grid(self) -> str:
        return grid_path(self.frame, self.x_ticks, [])


# --- numbers for axes -------------------------------------------------------------------


def short_count(value: float) -> str:
    """Axis labels for volumes: 100, 10k, 1M, 1B."""
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def short_usd(value: float) -> str:
    """Axis labels for money: $0, $500, $12k, $1.5M."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= size:
            return f"{sign}${v / size:.3g}{suffix}"
    if v >= 1 or v == 0:
        return f"{sign}${v:.3g}"
    return f"{sign}${v:.2g}"


def nice_step(span: float, count: int) -> float:
    """A 1-2-5 step that cuts `span` into about `count` intervals (1 for an empty, a
    subnormal or an infinite span)."""
    if not (TINY * 1e-200 < span < math.inf):
        return 1.0
    raw = span / count
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10.0 * magnitude  # pragma: no cover - the loop always returns


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi]; the last tick is at or above hi."""
    step = nice_step(hi - lo, count)
    start = math.floor(lo / step) * step
    ticks = []
    digits = max(0, -math.floor(math.log10(step))) + 1
    # About count + 1 ticks; the bound only matters where a step is below the float spacing
    # of its values (lo near 1e20 with a span of 1e3), where adding it may not move.
    for i in range(MAX_TICKS):
        # Rounding to the step's decimals keeps 0.30000000000000004 out of labels.
        value = round(start + i * step, digits)
        ticks.append(value)
        if value >= hi - step * 1e-9:
            return ticks
    ticks.append(hi)
    return ticks


def linear_top(value: float) -> float:
    """The top of a linear money axis that starts at 0: 1 when every amount is about zero."""
    return value if TINY < value < math.inf else 1.0


def decade_bounds(values: Sequence[float]) -> tuple[float, float]:
    """The powers of ten around the positive values (1 and 10 when there are none)."""
    positive = [v for v in values if TINY <= v < math.inf]
    if not positive:
        return 1.0, 10.0
    top = math.ceil(math.log10(max(positive)))
    bottom = max(math.floor(math.log10(min(positive))), top - MAX_DECADES)
    if top <= bottom:
        top = bottom + 1
    return 10.0**bottom, 10.0**top


def decade_ticks(lo: float, hi: float, max_labels: int = 8) -> list[float]:
    """Powers of ten from lo to hi, thinned to every 2nd/3rd... when there are many."""
    first, last = round(math.log10(lo)), round(math.log10(hi))
    every = max(1, math.ceil((last - first) / max_labels))
    return [10.0**e for e in range(first, last + 1) if (e - first) % every == 0]


def _points(xs: Sequence[float], ys: Sequence[float], sx: Scale, sy: Scale) -> str:
    if len(xs) != len(ys):
        raise ValueError(f"{len(xs)} x values for {len(ys)} y values")
    # One format operation for the whole line: "x,y x,y ...".
    flat = np.column_stack((sx.many(xs), sy.many(ys))).ravel().tolist()
    return ("%g,%g " * len(xs) % tuple(flat))[:-1]


def grid_path(frame: Frame, x_ticks: Sequence[Tick], y_ticks: Sequence[Tick]) -> str:
    """Every grid line of a chart as one SVG path ("M x,y V y" per vertical line): one
    element, and one value for the template to place, instead of four per line."""
    vertical = "".join(f"M{t.pos:g},{frame.y0:g}V{frame.y1:g}" for t in x_ticks)
    horizontal = "".join(f"M{frame.x0:g},{t.pos:g}H{frame.x1:g}" for t in y_ticks)
    return vertical + horizontal


def _anchor(x: float, frame: Frame) -> Literal["start", "end"]:
    # Labels near the right edge go on the left of their line so they stay inside the box.
    return "end" if x > frame.x0 + 0.6 * (frame.x1 - frame.x0) else "start"


# Text of the charts in viewBox units (static/app.css sets the same sizes), and the width of
# one character of it: labels are placed from these, so they never run into each other.
LABEL_FONT = 12.5
CHAR_WIDTH = 0.64  # of the font size: digits and lower case of system-ui at weight 600
LABEL_ROWS = 3


def label_width(text: str, font: float = LABEL_FONT) -> float:
    return len(text) * font * CHAR_WIDTH


def place_markers(
    markers: Sequence[Marker],
    frame: Frame,
    font: float = LABEL_FONT,
    rows: int = LABEL_ROWS,
    avoid_lines: bool = True,
) -> list[Marker]:
    """Give each marker's label a side and a row where it stays inside the plot, crosses no
    other marker's line and overlaps no label placed before it. Markers are placed left to
    right; the preferred side is the one with more room; a label that fits nowhere loses its
    unit ("break-even 191k/mo" -> "break-even 191k"). When no place crosses no line, one that
    overlaps no label; when not even that, the last row on the preferred side (very crowded
    charts). `avoid_lines=False` for labels drawn where the lines do not reach."""
    lines = [m.x for m in markers]
    placed: list[tuple[int, float, float]] = []  # (row, left, right)
    out: dict[int, Marker] = {}
    for i, m in sorted(enumerate(markers), key=lambda im: im[1].x):
        sides: list[Literal["start", "end"]] = (
            ["end", "start"] if _anchor(m.x, frame) == "end" else ["start", "end"]
        )
        choice = _place(m, sides, frame, font, rows, lines, placed, avoid_lines)
        if choice is None and avoid_lines:
            choice = _place(m, sides, frame, font, rows, lines, placed, False)
        if choice is None:
            choice = (m.label.removesuffix("/mo"), sides[0], rows - 1)
        out[i] = Marker(m.kind, m.x, choice[0], choice[1], choice[2])
    return [out[i] for i in range(len(markers))]  # in the order given


def _place(
    m: Marker,
    sides: Sequence[Literal["start", "end"]],
    frame: Frame,
    font: float,
    rows: int,
    lines: Sequence[float],
    placed: list[tuple[int, float, float]],
    avoid_lines: bool,
) -> tuple[str, Literal["start", "end"], int] | None:
    for text in dict.fromkeys((m.label, m.label.removesuffix("/mo"))):
        w = label_width(text, font) + 4
        for row in range(rows):
            for side in sides:
                left, right = (m.x + 2, m.x + 2 + w) if side == "start" else (m.x - 2 - w, m.x - 2)
                inside = frame.x0 <= left and right <= frame.x1
                crosses = avoid_lines and any(left < x < right for x in lines if x != m.x)
                overlaps = any(r == row and left < b and a < right for r, a, b in placed)
                if inside and not crosses and not overlaps:
                    placed.append((row, left, right))
                    return text, side, row
    return None


# --- the three charts -------------------------------------------------------------------


@dataclass(frozen=True)
class VolumeAxes:
    """The volume chart without its markers: what the volume curve alone decides, so it is
    the same for every volume of one scenario (app/web/pages.py keeps it with the arms)."""

    frame: Frame
    sx: Scale
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    lines: list[Line]
    span: tuple[float, float]  # the curve's first and last volume


def volume_axes(points: Sequence[VolumePoint], frame: Frame | None = None) -> VolumeAxes:
    frame = frame or Frame()
    vols = [p.volume for p in points]
    sx = Scale(vols[0], vols[-1], frame.x0, frame.x1, log=True)
    costs = [p.prompted for p in points] + [p.finetuned for p in points]
    y_lo, y_hi = decade_bounds(costs)
    sy = Scale(y_lo, y_hi, frame.y0, frame.y1, log=True)
    return VolumeAxes(
        frame=frame,
        sx=sx,
        x_ticks=[Tick(sx(v), short_count(v)) for v in decade_ticks(vols[0], vols[-1])],
        y_ticks=[Tick(sy(v), short_usd(v)) for v in decade_ticks(y_lo, y_hi, max_labels=6)],
        lines=[
            Line("prompted", "Prompted", _points(vols, [p.prompted for p in points], sx, sy)),
            Line("finetuned", "Fine-tuned", _points(vols, [p.finetuned for p in points], sx, sy)),
        ],
        span=(vols[0], vols[-1]),
    )


def volume_chart(
    curves: Curves, frame: Frame | None = None, axes: VolumeAxes | None = None
) -> LineChart:
    """Steady monthly cost of each arm against monthly volume, log-log. `axes`, when given,
    must be `volume_axes(curves.volume, frame)`."""
    axes = axes or volume_axes(curves.volume, frame)
    frame, sx = axes.frame, axes.sx
    lo, hi = axes.span
    markers: list[Marker] = []
    be = curves.break_even_volume
    if be is not None and lo <= be <= hi:
        x = sx(be)
        markers.append(
            Marker("break_even", x, f"break-even {short_count(be)}/mo", _anchor(x, frame))
        )
    cur = curves.current_volume
    if lo <= cur <= hi:
        x = sx(cur)
        markers.append(Marker("current", x, f"you: {short_count(cur)}/mo", _anchor(x, frame)))
    return LineChart(
        frame=frame,
        x_ticks=axes.x_ticks,
        y_ticks=axes.y_ticks,
        lines=axes.lines,
        markers=place_markers(markers, frame),
        x_label="queries per month (log scale)",
        y_label="USD per month (log scale)",
    )


def cumulative_chart(curves: Curves, frame: Frame | None = None) -> LineChart:
    """Cumulative cost of each arm by month, month 0 holding the one-time costs."""
    frame = frame or Frame()
    months = [p.month for p in curves.cumulative]
    horizon = max(months[-1], 1)
    sx = Scale(0, horizon, frame.x0, frame.x1)
    top = max([p.prompted for p in curves.cumulative] + [p.finetuned for p in curves.cumulative])
    y_ticks = nice_ticks(0, linear_top(top), 5)
    sy = Scale(0, y_ticks[-1], frame.y0, frame.y1)
    x_ticks = [t for t in nice_ticks(0, horizon, 6) if t <= horizon]
    markers: list[Marker] = []
    if curves.payback_month is not None:
        x = sx(curves.payback_month)
        markers.append(
            Marker("payback", x, f"pays back: month {curves.payback_month}", _anchor(x, frame))
        )
    # The calendar's events: a labelled tick per month where a price changed, a model was
    # switched or a migration paid ("prompted: switch"), both arms' in one label.
    by_month: dict[int, list[str]] = {}
    for event in curves.events:
        words = ", ".join(EVENT_WORDS[c] for c in event.codes if c in EVENT_WORDS)
        by_month.setdefault(event.month, []).append(f"{event.arm}: {words}")
    for month, texts in sorted(by_month.items()):
        x = sx(month)
        markers.append(Marker("event", x, "; ".join(texts), _anchor(x, frame)))
    markers = place_markers(markers, frame)
    return LineChart(
        frame=frame,
        x_ticks=[Tick(sx(t), f"{t:g}") for t in x_ticks],
        y_ticks=[Tick(sy(t), short_usd(t)) for t in y_ticks],
        lines=[
            Line(
                "prompted",
                "Prompted",
                _points(months, [p.prompted for p in curves.cumulative], sx, sy),
            ),
            Line(
                "finetuned",
                "Fine-tuned",
                _points(months, [p.finetuned for p in curves.cumulative], sx, sy),
            ),
        ],
        markers=markers,
        x_label="month (0 = before launch)",
        y_label="cumulative USD",
    )


def breakdown_chart(comparison: Comparison, frame: Frame | None = None) -> BarChart | None:
    """One stacked bar per arm: average cost of a query over the horizon, by part.

    None when there are no queries (the per-query split is undefined then).
    """
    frame = frame or Frame(height=150, left=96, right=40, bottom=30, top=8)
    arms = (
        ("prompted", "Prompted", comparison.prompted),
        ("finetuned", "Fine-tuned", comparison.finetuned),
    )
    if any(arm.per_query is None for _, _, arm in arms):
        return None
    totals = [sum(getattr(arm.per_query, p) for p, _ in PARTS) for _, _, arm in arms]
    if not all(math.isfinite(t) for t in totals):
        # A volume so small that spreading the fixed costs over it overflows (below about
        # 1e-305 queries a month): there is no scale to draw the bars on.
        return None
    ticks = nice_ticks(0, linear_top(max(totals)), 4)
    sx = Scale(0, ticks[-1], frame.x0, frame.x1)
    band = (frame.y0 - frame.y1) / len(arms)
    bars = []
    for i, ((key, label, arm), total) in enumerate(zip(arms, totals, strict=True)):
        x = frame.x0
        segments = []
        running = 0.0
        for part, part_label in PARTS:
            value = getattr(arm.per_query, part)
            running += value
            end = sx(running)
            if value > 0:
                tooltip = f"{label}, {part_label}: {usd(value)} per query"
                segments.append(Segment(part, part_label, x, round(end - x, 1), value, tooltip))
            x = end
        bars.append(
            Bar(
                arm=key,
                label=label,
                y=round(frame.y1 + i * band + band * 0.2, 1),
                height=round(band * 0.6, 1),
                total=total,
                total_label=short_usd(total),
                segments=segments,
            )
        )
    return BarChart(frame=frame, bars=bars, x_ticks=[Tick(sx(t), short_usd(t)) for t in ticks])


# --- what moves the answer: the tornado and the savings histogram -----------------------


def input_value(value: float, unit: str) -> str:
    """An input's value for a chart label, in the input's own unit."""
    if unit.startswith("fraction"):
        return f"{value * 100:.3g}%"
    if unit.startswith("USD"):
        return short_usd(value)
    if unit in ("tokens", "examples", "queries/month", "tokens/s", "replicas"):
        return short_count(value)
    return f"{value:.3g}"


@dataclass(frozen=True)
class TornadoSpan:
    """One side of a tornado bar: from the base savings to the savings at one end."""

    end: Literal["low", "high"]
    x: float
    width: float
    savings: float
    value: float  # the input's value at this end
    value_label: str
    flips: bool  # saving vs losing differs from the base here


@dataclass(frozen=True)
class TornadoRow:
    input: str
    label: str
    range_label: str  # "25k to 100k": the input's low and high values
    y: float
    height: float
    spans: tuple[TornadoSpan, TornadoSpan]
    flips: bool


@dataclass(frozen=True)
class TornadoChart:
    frame: Frame
    rows: list[TornadoRow]
    x_ticks: list[Tick]
    base_x: float
    base_label: str
    zero_x: float


ROW = 34.0  # px per tornado row


def tornado_chart(
    base_savings: float,
    bars: Sequence[TornadoBar],
    top: int = 10,
    frame: Frame | None = None,
    row: float = ROW,
    label_band: float = 0.0,
) -> TornadoChart | None:
    """The first `top` bars (already ranked) around the base savings; None without bars.

    The axis always contains 0 and the base, so the zero line (where fine-tuning stops
    saving money) is on the chart and a bar that crosses it visibly flips the answer.
    """
    shown = list(bars[:top])
    if not shown:
        return None
    frame = frame or Frame(height=8 + ROW * len(shown) + 36, left=240, right=48, top=8, bottom=36)
    values = [0.0, base_savings] + [s for b in shown for s in (b.savings_low, b.savings_high)]
    lo, hi = min(values), max(values)
    if hi - lo <= 1e-9 * max(abs(lo), abs(hi), 1.0):
        lo, hi = lo - 1.0, hi + 1.0  # every bar has no width: any visible axis will do
    step = nice_step(hi - lo, 5)
    t_lo, t_hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    ticks = nice_ticks(t_lo, t_hi, 5)
    sx = Scale(ticks[0], ticks[-1], frame.x0, frame.x1)
    base_x = sx(base_savings)
    base_positive = base_savings > 0
    rows = []
    for i, bar in enumerate(shown):
        spans = []
        for end, savings, value in (
            ("low", bar.savings_low, bar.low_value),
            ("high", bar.savings_high, bar.high_value),
        ):
            x = sx(savings)
            spans.append(
                TornadoSpan(
                    end=end,  # type: ignore[arg-type]
                    x=min(x, base_x),
                    width=round(abs(x - base_x), 1),
                    savings=savings,
                    value=value,
                    value_label=input_value(value, bar.unit),
                    flips=(savings > 0) != base_positive,
                )
            )
        rows.append(
            TornadoRow(
                input=bar.input,
                label=bar.label,
                range_label=f"{spans[0].value_label} to {spans[1].value_label}",
                # label_band: room above each bar for its label (narrow charts).
                y=round(frame.y1 + i * row + label_band + (row - label_band) * 0.2, 1),
                height=round((row - label_band) * 0.6, 1),
                spans=(spans[0], spans[1]),
                flips=bar.flips,
            )
        )
    return TornadoChart(
        frame=frame,
        rows=rows,
        x_ticks=[Tick(sx(t), short_usd(t)) for t in ticks],
        base_x=base_x,
        base_label=f"as given: {short_usd(base_savings)}",
        zero_x=sx(0.0),
    )


@dataclass(frozen=True)
class HistogramBar:
    x: float
    y: float
    width: float
    height: float
    low: float
    high: float
    count: int
    sign: Literal["loss", "gain", "mixed"]  # the bin's savings: all <= 0, all > 0, or both


@dataclass(frozen=True)
class HistogramChart:
    frame: Frame
    bars: list[HistogramBar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    zero_x: float | None  # None when 0 is far outside the samples (the axis would squash them)
    markers: list[Marker]


def histogram_chart(
    bins: Sequence[HistogramBin],
    percentiles: Sequence[tuple[str, float | None]] = (),
    frame: Frame | None = None,
) -> HistogramChart | None:
    """Counts of samples per savings bin, with a zero line and percentile markers."""
    if not bins:
        return None
    frame = frame or Frame(height=220, left=56, right=16, top=14, bottom=40)
    lo, hi = bins[0].low, bins[-1].high
    span = hi - lo
    if span <= 1e-9 * max(abs(lo), abs(hi), 1.0):
        pad = max(abs(lo) * 0.05, 1.0)  # one bin of equal samples: give it some width
        lo, hi, span = lo - pad, hi + pad, 2 * pad
    # Zero joins the axis when it is near the samples; far away it would squash them.
    if lo > 0 and lo <= span:
        lo = 0.0
    elif hi < 0 and -hi <= span:
        hi = 0.0
    step = nice_step(hi - lo, 6)
    ticks = nice_ticks(math.floor(lo / step) * step, math.ceil(hi / step) * step, 6)
    sx = Scale(ticks[0], ticks[-1], frame.x0, frame.x1)
    most = max(b.count for b in bins)
    y_ticks = [t for t in nice_ticks(0, max(most, 1), 4) if float(t).is_integer()]
    sy = Scale(0, y_ticks[-1], frame.y0, frame.y1)
    bars = []
    for b in bins:
        if len(bins) == 1 and b.high - b.low <= 1e-9 * max(abs(b.low), 1.0):
            x0, x1 = sx(b.low) - 2, sx(b.low) + 2  # a point mass: a thin visible bar
        else:
            x0, x1 = sx(b.low), sx(b.high)
        y = sy(b.count)
        sign: Literal["loss", "gain", "mixed"] = (
            "gain" if b.low > 0 else "loss" if b.high <= 0 else "mixed"
        )
        bars.append(
            HistogramBar(
                x=x0,
                y=y,
                width=round(x1 - x0, 1),
                height=round(frame.y0 - y, 1),
                low=b.low,
                high=b.high,
                count=b.count,
                sign=sign,
            )
        )
    markers = []
    for label, value in percentiles:
        if value is not None:
            x = sx(value)
            markers.append(
                Marker("percentile", x, f"{label} {short_usd(value)}", _anchor(x, frame))
            )
    # The labels sit in a band above the plot, which the marker lines do not reach.
    markers = place_markers(markers, frame, avoid_lines=False)
    zero_x = sx(0.0) if ticks[0] <= 0 <= ticks[-1] else None
    return HistogramChart(
        frame=frame,
        bars=bars,
        x_ticks=[Tick(sx(t), short_usd(t)) for t in ticks],
        y_ticks=[Tick(sy(t), f"{t:g}") for t in y_ticks],
        zero_x=zero_x,
        markers=markers,
    )


# What a calendar event is called on the cumulative chart (a migration goes with a switch).
EVENT_WORDS = {"price_change": "price change", "shutdown_switch": "switch"}


# --- several candidates -----------------------------------------------------------------


def series(index: int) -> str:
    """The CSS series of the index-th candidate: one colour and dash pattern per position,
    the same in every chart (static/app.css, `line-s0` ...)."""
    return f"s{index % 8}"


def candidate_volume_chart(curves: CandidateCurves, frame: Frame | None = None) -> LineChart:
    """Every candidate's steady monthly cost against volume, log-log, with the ranges where
    each is the cheapest shaded."""
    frame = frame or Frame()
    vols = [p.volume for p in curves.volume]
    sx = Scale(vols[0], vols[-1], frame.x0, frame.x1, log=True)
    y_lo, y_hi = decade_bounds([c for p in curves.volume for c in p.costs])
    sy = Scale(y_lo, y_hi, frame.y0, frame.y1, log=True)
    lines = [
        Line(series(i), cid, _points(vols, [p.costs[i] for p in curves.volume], sx, sy))
        for i, cid in enumerate(curves.ids)
    ]
    bands = []
    for seg in curves.cheapest_by_volume:
        lo, hi = max(seg.from_volume, vols[0]), min(seg.to_volume, vols[-1])
        if hi <= lo:
            continue
        x0, x1 = sx(lo), sx(hi)
        i = curves.ids.index(seg.candidate)
        bands.append(Band(series(i), f"{seg.candidate} cheapest", x0, round(x1 - x0, 1)))
    markers: list[Marker] = []
    cur = curves.current_volume
    if vols[0] <= cur <= vols[-1]:
        x = sx(cur)
        markers.append(Marker("current", x, f"you: {short_count(cur)}/mo", _anchor(x, frame)))
    return LineChart(
        frame=frame,
        x_ticks=[Tick(sx(v), short_count(v)) for v in decade_ticks(vols[0], vols[-1])],
        y_ticks=[Tick(sy(v), short_usd(v)) for v in decade_ticks(y_lo, y_hi, max_labels=6)],
        lines=lines,
        markers=markers,
        x_label="queries per month (log scale)",
        y_label="USD per month (log scale)",
        bands=bands,
    )


def candidate_cumulative_chart(curves: CandidateCurves, frame: Frame | None = None) -> LineChart:
    """Every candidate's cumulative cost by month, month 0 holding the one-time costs."""
    frame = frame or Frame()
    horizon = max(len(curves.cumulative[0]) - 1, 1)
    months = list(range(len(curves.cumulative[0])))
    sx = Scale(0, horizon, frame.x0, frame.x1)
    top = max(max(c) for c in curves.cumulative)
    y_ticks = nice_ticks(0, top if top > 0 and math.isfinite(top) else 1, 5)
    sy = Scale(0, y_ticks[-1], frame.y0, frame.y1)
    return LineChart(
        frame=frame,
        x_ticks=[Tick(sx(t), f"{t:g}") for t in nice_ticks(0, horizon, 6) if t <= horizon],
        y_ticks=[Tick(sy(t), short_usd(t)) for t in y_ticks],
        lines=[
            Line(series(i), cid, _points(months, curves.cumulative[i], sx, sy))
            for i, cid in enumerate(curves.ids)
        ],
        markers=[],
        x_label="month (0 = before launch)",
        y_label="cumulative USD",
    )
