"""The calendar on the page: event ticks on the cumulative chart, the model that priced each
month, present values when a discount rate is given."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.domain import charts
from app.domain.comparison import ChartEvent, Curves, MonthPoint, VolumePoint

# gpt-4.1 shuts down on 2027-01-14 (month 2 from this start) and moves to its successor.
SWITCHING = (
    "workload.start_date=2026-12-01&prompted.model=gpt-4.1"
    "&finetuned.prices.input=0.8&finetuned.prices.output=3.2&finetuned.training.price_per_mtok=5"
)


def test_the_cumulative_chart_marks_each_event_month() -> None:
    curves = Curves(
        volume=[VolumePoint(100, 1, 2), VolumePoint(1000, 2, 3)],
        cumulative=[MonthPoint(m, m * 10.0, m * 8.0) for m in range(13)],
        break_even_volume=None,
        payback_month=None,
        current_volume=100,
        events=[
            ChartEvent(2, "prompted", ("shutdown_switch", "migration")),
            ChartEvent(2, "finetuned", ("price_change",)),
            ChartEvent(7, "finetuned", ("shutdown_switch", "migration")),
        ],
    )
    chart = charts.cumulative_chart(curves)
    events = [m for m in chart.markers if m.kind == "event"]
    assert [m.label for m in events] == [
        "prompted: switch; finetuned: price change",
        "finetuned: switch",
    ]
    assert events[0].x < events[1].x


def test_the_page_shows_the_switch_the_model_of_each_month_and_present_value(
    client: TestClient,
) -> None:
    html = client.get("/?" + SWITCHING).text
    assert 'class="marker-label marker-event"' in html and "prompted: switch" in html
    assert "<td>gpt-4.1 / your prices</td>" in html
    assert "<td>gpt-6-luna / your prices</td>" in html
    assert 'id="fig-pv-savings"' not in html  # no discount rate: totals are present values
    discounted = client.get("/?" + SWITCHING + "&workload.discount_rate=0.1").text
    assert 'id="fig-pv-savings"' in discounted
