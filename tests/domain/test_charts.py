"""Chart geometry: scales, ticks, points and markers, with hand-computed positions."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.domain import charts
from app.domain.charts import Frame, Scale
from app.domain.comparison import Curves, MonthPoint, VolumePoint
from app.domain.engine import compare_resolved, curves, resolve
from app.domain.formatting import count, usd, usd_fine
from app.domain.scenario import Scenario
from app.domain.sensitivity import TornadoBar
from app.domain.uncertainty import HistogramBin
from app.pricing import get_catalog

FRAME = Frame(
    width=640, height=300, left=64, right=16, top=14, bottom=40
)  # plot x 64..624, y 260..14


def make_curves(
    volumes: list[float],
    prompted: list[float],
    finetuned: list[float],
    break_even: float | None = None,
    current: float = 1000.0,
    cumulative: list[tuple[float, float]] | None = None,
    payback: int | None = None,
) -> Curves:
    cum = cumulative or [(0.0, 100.0), (50.0, 120.0)]
    return Curves(
        volume=[
            VolumePoint(volume=v, prompted=p, finetuned=f)
            for v, p, f in zip(volumes, prompted, finetuned, strict=True)
        ],
        cumulative=[MonthPoint(month=m, prompted=p, finetuned=f) for m, (p, f) in enumerate(cum)],
        break_even_volume=break_even,
        payback_month=payback,
        current_volume=current,
    )


def test_linear_scale_maps_the_midpoint_to_the_middle() -> None:
    assert Scale(0, 10, 0, 100)(5) == 50


def test_log_scale_places_each_decade_an_equal_distance_apart() -> None:
    # 100..1e9 is 7 decades over 560 px: 80 px a decade, so 1e4 sits 2 decades in.
    s = Scale(100, 1e9, 64, 624, log=True)
    assert s(100) == 64
    assert s(1e4) == 224
    assert s(1e9) == 624


def test_log_scale_draws_zero_on_the_axis_floor() -> None:
    assert Scale(1, 1000, 260, 14, log=True)(0) == 260


def test_nice_ticks_use_one_two_five_steps_and_cover_the_top() -> None:
    assert charts.nice_ticks(0, 9500, 5) == [0, 2000, 4000, 6000, 8000, 10000]
    assert charts.nice_ticks(0, 0.0123, 4) == [0, 0.005, 0.01, 0.015]
    assert charts.nice_ticks(0, 12, 6) == [0, 2, 4, 6, 8, 10, 12]


def test_decade_bounds_round_outwards_to_powers_of_ten() -> None:
    assert charts.decade_bounds([150, 42_000]) == (100, 100_000)
    assert charts.decade_bounds([0, 0]) == (1, 10)
    assert charts.decade_bounds([1000]) == (1000, 10_000)


def test_decade_ticks_thin_out_when_there_are_many_decades() -> None:
    assert charts.decade_ticks(100, 1e9) == [1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]
    assert charts.decade_ticks(1e-3, 1e9, max_labels=6) == [1e-3, 1e-1, 1e1, 1e3, 1e5, 1e7, 1e9]


@pytest.mark.parametrize(
    ("value", "label"),
    [(100, "100"), (1000, "1k"), (190_514, "191k"), (1e6, "1M"), (2.5e9, "2.5B"), (1e12, "1T")],
)
def test_short_count_labels(value: float, label: str) -> None:
    assert charts.short_count(value) == label


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (0, "$0"),
        (0.005, "$0.005"),
        (50, "$50"),
        (12_000, "$12k"),
        (1_500_000, "$1.5M"),
        (-2000, "-$2k"),
    ],
)
def test_short_usd_labels(value: float, label: str) -> None:
    assert charts.short_usd(value) == label


def test_volume_chart_spans_the_plot_and_marks_break_even_and_current_volume() -> None:
    c = make_curves(
        [100, 1e4, 1e6], [10, 1000, 100_000], [500, 600, 20_000], break_even=1e5, current=1e4
    )
    chart = charts.volume_chart(c, FRAME)
    # x: 100..1e6 is 4 decades over 560 px (140 px each); y: 10..1e5 is 4 decades over 246 px.
    assert chart.lines[0].points == "64,260 344,137 624,14"
    # $500 is log10(50) = 1.699 decades above $10: 260 - 1.699/4 * 246 = 155.5.
    assert chart.lines[1].points == "64,155.5 344,150.6 624,57"
    assert [(m.kind, m.x, m.label) for m in chart.markers] == [
        ("break_even", 484, "break-even 100k"),  # the full label would cross the other line
        ("current", 344, "you: 10k/mo"),
    ]
    # Placed, not nudged: the short label fits right of its line, clear of "you: 10k/mo".
    assert [m.anchor for m in chart.markers] == ["start", "start"]
    assert [t.label for t in chart.x_ticks] == ["100", "1k", "10k", "100k", "1M"]
    assert [t.label for t in chart.y_ticks] == ["$10", "$100", "$1k", "$10k", "$100k"]


@pytest.mark.parametrize("current", [100, 3e4, 1e6, 5e7])
def test_volume_chart_from_kept_axes_is_the_chart_drawn_afresh(current: float) -> None:
    # The page keeps a scenario's axes and lines across volumes and adds only the markers.
    c = make_curves(
        [100, 1e4, 1e6], [10, 1000, 100_000], [500, 600, 20_000], break_even=1e5, current=current
    )
    axes = charts.volume_axes(c.volume, FRAME)
    assert charts.volume_chart(c, FRAME, axes) == charts.volume_chart(c, FRAME)


def test_grid_is_one_path_with_a_line_at_every_tick() -> None:
    c = make_curves([100, 1e4, 1e6], [10, 1000, 100_000], [500, 600, 20_000])
    chart = charts.volume_chart(c, FRAME)
    # Vertical lines run from the plot's bottom (260) to its top (14), horizontal ones across.
    vertical = "".join(f"M{t.pos:g},260V14" for t in chart.x_ticks)
    horizontal = "".join(f"M64,{t.pos:g}H624" for t in chart.y_ticks)
    assert chart.grid == vertical + horizontal
    assert chart.grid.count("M") == len(chart.x_ticks) + len(chart.y_ticks)


@given(
    st.lists(st.floats(min_value=-1e12, max_value=1e12), min_size=1, max_size=50),
    st.booleans(),
)
def test_a_scaled_series_matches_the_scale_point_by_point(values: list[float], log: bool) -> None:
    scale = Scale(1.0, 1e9, 64, 624, log=log) if log else Scale(-1e12, 1e12, 260, 14)
    many = scale.many(values).tolist()
    # numpy and round() may round a value lying on a half tenth differently: 0.1 px at most.
    assert many == pytest.approx([scale(v) for v in values], abs=0.1 + 1e-9)


def test_volume_chart_leaves_out_a_break_even_beyond_the_range() -> None:
    c = make_curves([100, 1e4], [1, 2], [3, 4], break_even=None, current=1e7)
    assert charts.volume_chart(c, FRAME).markers == []
    c = make_curves([100, 1e4], [1, 2], [3, 4], break_even=5e4, current=50)
    assert charts.volume_chart(c, FRAME).markers == []


def test_cumulative_chart_marks_the_payback_month() -> None:
    c = make_curves(
        [100, 1000],
        [1, 1],
        [1, 1],
        cumulative=[(0, 9000), (1000, 9100), (2000, 9200), (3000, 9300), (4000, 9400)],
        payback=4,
    )
    chart = charts.cumulative_chart(c, FRAME)
    assert [t.label for t in chart.y_ticks] == ["$0", "$2k", "$4k", "$6k", "$8k", "$10k"]
    assert chart.markers[0].kind == "payback"
    assert chart.markers[0].x == 624  # month 4 of 4 is the right edge
    # Prompted starts at $0 (bottom), fine-tuned at $9,000 of a $10,000 axis.
    assert chart.lines[0].points.split()[0] == "64,260"
    assert chart.lines[1].points.split()[0] == "64,38.6"


def test_charts_are_identical_on_every_run() -> None:
    c = make_curves([100, 1e4, 1e6], [10, 1000, 100_000], [500, 600, 20_000], break_even=1e5)
    assert charts.volume_chart(c) == charts.volume_chart(c)


def _real(scenario: Scenario) -> tuple[Curves, object]:
    catalog = get_catalog()
    resolved = resolve(scenario, catalog)
    comparison = compare_resolved(resolved, catalog, today=date(2026, 8, 1), stale_after_days=120)
    return curves(resolved, comparison), comparison


def test_break_even_marker_sits_where_the_drawn_curves_cross() -> None:
    cv, _ = _real(Scenario.model_validate({"workload": {"queries_per_month": 1e6}}))
    assert cv.break_even_volume is not None
    chart = charts.volume_chart(cv)
    marker = next(m for m in chart.markers if m.kind == "break_even")
    before = [p for p in cv.volume if p.volume < cv.break_even_volume]
    after = [p for p in cv.volume if p.volume > cv.break_even_volume]
    # Below the break-even volume fine-tuning is dearer, above it cheaper.
    assert before[-1].finetuned > before[-1].prompted
    assert after[0].finetuned < after[0].prompted
    xs = [float(pt.split(",")[0]) for pt in chart.lines[0].points.split()]
    assert xs[len(before) - 1] < marker.x < xs[len(before)]


def test_breakdown_bars_stack_to_each_arms_cost_per_query() -> None:
    _, comparison = _real(Scenario())
    chart = charts.breakdown_chart(comparison)  # type: ignore[arg-type]
    assert chart is not None
    frame = chart.frame
    top = float(chart.x_ticks[-1].label.strip("$"))
    for bar in chart.bars:
        drawn = sum(s.width for s in bar.segments)
        expected = bar.total / top * (frame.x1 - frame.x0)
        assert drawn == pytest.approx(expected, abs=0.1 * len(bar.segments) + 0.1)
        assert all(s.value > 0 for s in bar.segments)  # empty parts are not drawn
        for s in bar.segments:
            assert s.tooltip == f"{bar.label}, {s.label}: {usd(s.value)} per query"


def test_breakdown_is_absent_without_queries() -> None:
    _, comparison = _real(Scenario.model_validate({"workload": {"queries_per_month": 0}}))
    assert charts.breakdown_chart(comparison) is None  # type: ignore[arg-type]


@given(st.floats(0, 1e9), st.floats(1e-6, 1e9))
def test_nice_ticks_cover_the_interval_with_a_round_step(lo: float, span: float) -> None:
    # Charts start their linear axes at 0; a sliver far from 0 is not an axis we draw.
    assume(span >= lo * 1e-3)
    ticks = charts.nice_ticks(lo, lo + span, 5)
    assert ticks[0] <= lo + 1e-9 * max(1.0, abs(lo))
    assert ticks[-1] >= (lo + span) * (1 - 1e-9)
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    # The step is read back by subtracting large ticks, so allow float noise.
    assert min(abs(mantissa - m) for m in (1, 2, 5, 10)) < 1e-3
    assert len(ticks) <= 12


@given(st.floats(1, 1e12), st.floats(1, 1e12))
def test_log_scale_preserves_order(a: float, b: float) -> None:
    s = Scale(1, 1e12, 0, 1000, log=True)
    if a < b:
        assert s(a) <= s(b)


# --- the tornado and the savings histogram ----------------------------------------------

TORNADO_FRAME = Frame(width=640, height=112, left=240, right=48, top=8, bottom=36)


def _bar(
    name: str, low: float, high: float, s_low: float, s_high: float, flips: bool
) -> TornadoBar:
    return TornadoBar(
        input=name,
        label=name.title(),
        unit="queries/month",
        base_value=(low + high) / 2,
        low_value=low,
        high_value=high,
        savings_low=s_low,
        savings_high=s_high,
        savings_swing=abs(s_high - s_low),
        break_even_low=None,
        break_even_high=None,
        payback_low=None,
        payback_high=None,
        flips=flips,
    )


def test_tornado_bars_grow_from_the_base_savings_and_mark_the_flipping_end() -> None:
    bars = [
        _bar("a", 25_000, 100_000, -1000, 3000, flips=True),
        _bar("b", 10, 40, 500, 1500, flips=False),
    ]
    chart = charts.tornado_chart(1000, bars, frame=TORNADO_FRAME)
    assert chart is not None
    # Axis -$1k..$3k (step $1k) over x 240..592: 0.088 px per dollar.
    assert [t.label for t in chart.x_ticks] == ["-$1k", "$0", "$1k", "$2k", "$3k"]
    assert chart.base_x == 416  # 240 + 2000 * 0.088
    assert chart.zero_x == 328
    a, b = chart.rows
    assert (a.y, a.height, b.y) == (14.8, 20.4, 48.8)  # 8 + 34 * i + 34 * 0.2
    low, high = a.spans
    assert (low.x, low.width, low.flips) == (240, 176, True)  # -$1,000 is a loss: flips
    assert (high.x, high.width, high.flips) == (416, 176, False)
    assert a.range_label == "25k to 100k"
    assert [(s.x, s.width) for s in b.spans] == [(372, 44), (416, 44)]
    assert not any(s.flips for s in b.spans)


def test_tornado_shows_the_top_bars_only_and_nothing_without_bars() -> None:
    bars = [_bar(f"x{i}", 1, 2, -i, i, flips=i > 0) for i in range(12)]
    chart = charts.tornado_chart(0, bars, top=10)
    assert chart is not None
    assert [r.input for r in chart.rows] == [f"x{i}" for i in range(10)]
    assert chart.frame.height == 8 + 34 * 10 + 36
    assert charts.tornado_chart(0, []) is None


def test_tornado_keeps_zero_on_the_axis_when_every_bar_saves_money() -> None:
    chart = charts.tornado_chart(50_000, [_bar("a", 1, 2, 40_000, 60_000, False)])
    assert chart is not None
    assert chart.x_ticks[0].label == "$0"
    assert chart.zero_x == chart.frame.x0


@pytest.mark.parametrize(
    ("value", "unit", "label"),
    [
        (0.05, "fraction/month", "5%"),
        (0.6, "fraction", "60%"),
        (1500, "USD", "$1.5k"),
        (25_000, "queries/month", "25k"),
        (1.5, "ratio", "1.5"),
    ],
)
def test_tornado_values_are_labelled_in_the_inputs_unit(
    value: float, unit: str, label: str
) -> None:
    assert charts.input_value(value, unit) == label


HIST_FRAME = Frame(width=640, height=220, left=56, right=16, top=14, bottom=40)


def test_histogram_bars_count_samples_with_a_zero_line() -> None:
    bins = [
        HistogramBin(low=-100, high=0, count=5),
        HistogramBin(low=0, high=100, count=10),
        HistogramBin(low=100, high=200, count=5),
    ]
    chart = charts.histogram_chart(bins, [("P50", 50.0), ("P90", None)], frame=HIST_FRAME)
    assert chart is not None
    # x: -$100..$200 over 56..624 (568 px); y: 0..10 samples over 180..14 (166 px).
    assert [t.label for t in chart.x_ticks] == [
        "-$100",
        "-$50",
        "$0",
        "$50",
        "$100",
        "$150",
        "$200",
    ]
    assert [t.label for t in chart.y_ticks] == ["0", "5", "10"]
    assert chart.zero_x == 245.3
    assert [(b.x, b.width) for b in chart.bars] == [(56, 189.3), (245.3, 189.4), (434.7, 189.3)]
    assert [(b.y, b.height) for b in chart.bars] == [(97, 83), (14, 166), (97, 83)]
    assert [b.sign for b in chart.bars] == ["loss", "mixed", "gain"]
    # A percentile without a value (None) is not drawn.
    assert [(m.label, m.x) for m in chart.markers] == [("P50 $50", 340)]  # 56 + 150 * 568 / 300


def test_histogram_leaves_zero_off_an_axis_it_would_squash() -> None:
    far = [HistogramBin(low=1000, high=1100, count=5), HistogramBin(low=1100, high=1200, count=5)]
    chart = charts.histogram_chart(far)
    assert chart is not None and chart.zero_x is None
    near = [HistogramBin(low=100, high=200, count=5), HistogramBin(low=200, high=300, count=5)]
    chart = charts.histogram_chart(near)
    assert chart is not None and chart.zero_x == chart.frame.x0


def test_histogram_of_equal_samples_draws_one_visible_bar() -> None:
    chart = charts.histogram_chart([HistogramBin(low=500, high=500, count=10_000)])
    assert chart is not None
    (bar,) = chart.bars
    assert bar.width == 4 and bar.height == chart.frame.y0 - chart.frame.y1
    assert charts.histogram_chart([]) is None


@given(
    st.floats(-1e7, 1e7),
    st.lists(st.tuples(st.floats(-1e7, 1e7), st.floats(-1e7, 1e7)), min_size=1, max_size=12),
)
def test_every_tornado_span_runs_from_the_base_to_its_savings(
    base: float, savings: list[tuple[float, float]]
) -> None:
    bars = [_bar(f"x{i}", 1, 2, lo, hi, False) for i, (lo, hi) in enumerate(savings)]
    chart = charts.tornado_chart(base, bars, top=12)
    assert chart is not None
    fr = chart.frame
    for row in chart.rows:
        for span in row.spans:
            assert fr.x0 - 0.1 <= span.x and span.x + span.width <= fr.x1 + 0.2
            # One edge sits on the base line (to display rounding).
            edges = (span.x, span.x + span.width)
            assert min(abs(chart.base_x - e) for e in edges) <= 0.11


# Chart geometry and the data tables' cells are written into the page unescaped (see
# templates/_partials/_charts.html): no value may hold a character HTML treats specially.
HTML_SPECIAL = set("<>&\"'")


def strings_in(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [s for item in value for s in strings_in(item)]
    if hasattr(value, "__dataclass_fields__"):
        return [s for name in value.__dataclass_fields__ for s in strings_in(getattr(value, name))]
    return []


@given(
    st.floats(min_value=0, max_value=1e12),
    st.integers(min_value=1, max_value=120),
    st.integers(min_value=0, max_value=100_000),
)
def test_chart_labels_and_geometry_hold_no_html_special_characters(
    volume: float, horizon: int, output_tokens: int
) -> None:
    cv, comparison = _real(
        Scenario.model_validate(
            {
                "workload": {"queries_per_month": volume, "horizon_months": horizon},
                "prompted": {"output_tokens": output_tokens},
            }
        )
    )
    drawn = [charts.volume_chart(cv), charts.cumulative_chart(cv)]
    drawn.append(charts.breakdown_chart(comparison))  # type: ignore[arg-type]
    texts = [s for chart in drawn for s in strings_in(chart)]
    texts += [chart.grid for chart in drawn if chart is not None]
    assert texts and not {c for s in texts for c in s} & HTML_SPECIAL


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_formatted_numbers_hold_no_html_special_characters(value: float) -> None:
    for text in (usd(value), usd_fine(value), count(value)):
        assert not set(text) & HTML_SPECIAL
    if math.isfinite(value):
        assert not set(charts.short_usd(value) + charts.short_count(value)) & HTML_SPECIAL
