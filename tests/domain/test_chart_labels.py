"""Marker labels are placed, not nudged: inside the plot, across no other marker's line, over
no other label (charts.place_markers)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.domain import charts
from app.domain.charts import Frame, Marker, label_width, place_markers

FRAME = Frame(width=400, height=250, left=54, right=12, top=14, bottom=40)


def _extent(m: Marker) -> tuple[float, float]:
    w = label_width(m.label) + 4
    return (m.x + 2, m.x + 2 + w) if m.anchor == "start" else (m.x - 2 - w, m.x - 2)


def test_close_markers_get_opposite_sides_rather_than_crossing() -> None:
    # "break-even 191k/mo" is 18 x 8 + 4 = 148 units: to the right of x = 220 it would cross
    # the "you" line at 265; to the left it fits (220 - 150 = 70 is inside the plot).
    placed = place_markers(
        [
            Marker("break_even", 220, "break-even 191k/mo", "start"),
            Marker("current", 265, "you: 2M/mo", "start"),
        ],
        FRAME,
    )
    be, you = placed
    assert (be.anchor, you.anchor) == ("end", "start")
    assert be.row == you.row == 0
    assert be.label == "break-even 191k/mo"


def test_a_label_too_long_for_either_side_drops_its_unit() -> None:
    # Left of x = 185 there are 131 units: too few for the 148 of the full label, enough for
    # the 124 of "break-even 191k"; to the right it would cross the line at 230.
    placed = place_markers(
        [
            Marker("break_even", 185, "break-even 191k/mo", "start"),
            Marker("current", 230, "you: 2M/mo", "start"),
        ],
        FRAME,
    )
    assert (placed[0].label, placed[0].anchor) == ("break-even 191k", "end")
    left, right = _extent(placed[0])
    assert FRAME.x0 <= left and right <= FRAME.x1
    assert not left < 230 < right


def test_markers_keep_their_order() -> None:
    given = [Marker("current", 300, "you: 1M/mo", "end"), Marker("break_even", 100, "b", "start")]
    assert [m.kind for m in place_markers(given, FRAME)] == ["current", "break_even"]


@given(st.lists(st.floats(min_value=FRAME.x0, max_value=FRAME.x1), min_size=1, max_size=3))
def test_placed_labels_never_collide_when_a_place_exists(xs: list[float]) -> None:
    markers = [Marker("percentile", x, f"P{10 * (i + 1)} $12k", "start") for i, x in enumerate(xs)]
    placed = place_markers(markers, FRAME)
    fitted = []
    for m in placed:
        left, right = _extent(m)
        ok = (
            FRAME.x0 <= left
            and right <= FRAME.x1
            and not any(left < o.x < right for o in placed if o.x != m.x)
        )
        if ok:
            fitted.append((m.row, left, right))
    # Labels that found a place overlap no other label in their row.
    for i, (row, a, b) in enumerate(fitted):
        for row2, c, d in fitted[i + 1 :]:
            assert row != row2 or b <= c or d <= a


def test_the_volume_chart_places_its_markers() -> None:
    from app.domain.comparison import Curves, VolumePoint

    vols = [100 * 10 ** (i / 10) for i in range(71)]
    curves = Curves(
        volume=[VolumePoint(v, v * 0.01 + 500, v * 0.004 + 2000) for v in vols],
        cumulative=[],
        break_even_volume=190_000,
        payback_month=None,
        current_volume=2_000_000,
    )
    chart = charts.volume_chart(curves, FRAME)
    be, you = chart.markers
    for m, other in ((be, you), (you, be)):
        left, right = _extent(m)
        assert FRAME.x0 <= left and right <= FRAME.x1
        assert not left < other.x < right
