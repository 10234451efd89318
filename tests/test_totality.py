"""Issue 12's law: over the whole valid input space, extremes included, every public entry
point returns or refuses with the documented validation error, in bounded time; nothing else.

Driven through public entry points only (`app.domain.engine.compare`, `resolve`, `curves`,
the chart functions and the HTTP renderers), so it holds across a rewrite of the engine.
The bound is app.deadline.limit (and, over HTTP, the request time limit, whose 503 fails
the test): an endless loop fails here in seconds instead of hanging the suite.

Self-hosted serving is drawn in tests/test_hardening_engine.py, which waits for the engine's
bounded break-even search.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.api.query import flatten_input
from app.deadline import limit
from app.domain import charts
from app.domain.engine import ScenarioError, compare, curves, resolve
from app.domain.scenario import MAX_MONEY, MAX_PRICE, MAX_TOKENS, MAX_VOLUME, Scenario
from app.domain.sensitivity import TornadoBar
from app.domain.uncertainty import HistogramBin
from app.main import app
from app.pricing.catalog import Catalog

SECONDS = 20.0  # far above any real computation; only an endless one reaches it
EXTREMES = (0.0, 5e-324, 1e-300, 1e-12, 1.0)


Amount = Any  # (hi, lo=0.0, positive=False) -> a strategy of floats in [lo, hi]


def amount(hi: float, lo: float = 0.0, *, positive: bool = False) -> st.SearchStrategy[float]:
    """A value in [lo, hi]: the extremes (subnormal, tiny, the documented maximum) often."""
    edges = [v for v in (lo, *EXTREMES, hi) if lo <= v <= hi and not (positive and v <= 0)]
    floats = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if positive:
        floats = floats.filter(lambda v: v > 0)
    return st.one_of(st.sampled_from(edges), floats)


def tiny(hi: float, lo: float = 0.0, *, positive: bool = False) -> st.SearchStrategy[float]:
    """Every amount about zero at once (one value per example, or zero): the world where a
    chart's axis has nothing to scale."""
    shared = st.shared(st.sampled_from([5e-324, 1e-320, 1e-300]), key="tiny")
    if lo > 0:
        return st.just(lo)
    return shared if positive else st.one_of(shared, st.just(0.0))


def maximal(hi: float, lo: float = 0.0, *, positive: bool = False) -> st.SearchStrategy[float]:
    """Every amount at its documented maximum (or its minimum): the largest sums there are."""
    return st.sampled_from([hi, hi, lo if lo > 0 or not positive else hi])


def count(hi: int, lo: int = 0) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from([lo, hi]), st.integers(lo, hi))


def world(amount: Amount) -> st.SearchStrategy[dict[str, Any]]:
    """Scenarios whose amounts are drawn by `amount`."""

    def prices() -> st.SearchStrategy[dict[str, Any]]:
        return st.fixed_dictionaries(
            {"input": amount(MAX_PRICE), "output": amount(MAX_PRICE)},
            optional={
                "cached_input": amount(MAX_PRICE),
                "cache_write": amount(MAX_PRICE),
                "batch_discount": amount(1.0),
            },
        )

    def arm(**extra: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.fixed_dictionaries(
            {
                "prices": prices(),
                "setup_cost": amount(MAX_MONEY),
                "monthly_fixed_cost": amount(MAX_MONEY),
            },
            optional={
                "static_prompt_tokens": amount(MAX_TOKENS),
                "dynamic_input_tokens": amount(MAX_TOKENS),
                "output_tokens": amount(MAX_TOKENS),
                "cache_hit_rate": amount(1.0),
                "batch_share": amount(1.0),
                "error_rate": amount(1.0),
                "cost_per_error": amount(MAX_MONEY),
                **extra,
            },
        )

    training = st.fixed_dictionaries(
        {"price_per_mtok": amount(MAX_PRICE)},
        optional={
            "examples": count(100_000_000),
            "tokens_per_example": amount(MAX_TOKENS),
            "epochs": st.one_of(st.just("auto"), amount(100.0, positive=True)),
            "gpu_hours": amount(1e7),
            "gpu_hourly_price": amount(1e4),
        },
    )
    return st.fixed_dictionaries(
        {
            "workload": st.fixed_dictionaries(
                {
                    "queries_per_month": amount(MAX_VOLUME),
                    "monthly_growth": st.one_of(st.just(-0.5), st.just(1.0), amount(1.0, -0.5)),
                    "horizon_months": st.one_of(st.just(120), count(120, 1)),
                },
                optional={"peak_to_average": amount(100.0, 1.0)},
            ),
            "prompted": arm(),
            "finetuned": arm(
                training=training,
                cost_per_example=amount(MAX_MONEY),
                evaluation_cost=amount(MAX_MONEY),
                retrain_every_months=count(120),
                new_examples_per_retrain=count(100_000_000),
                hosting_per_hour=amount(MAX_MONEY),
            ),
        },
        optional={"title": st.text(max_size=30)},
    )


scenarios = st.one_of(world(amount), world(tiny), world(maximal))


def scenario_or_none(data: dict[str, Any]) -> Scenario | None:
    try:
        return Scenario.model_validate(data)
    except ValidationError:
        return None  # a documented refusal (e.g. a title of spaces)


def finite_numbers(value: Any) -> Iterator[float]:
    if isinstance(value, dict):
        for v in value.values():
            yield from finite_numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from finite_numbers(v)
    elif isinstance(value, float):
        yield value


PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


# Issue 12's chart crash: token costs of zero (batch discount 1 on every request) and
# one-time and monthly costs of 5e-324 put the whole volume chart below the smallest decade.
DENORMAL_PROMPTED: dict[str, Any] = {
    "workload": {"queries_per_month": 100_000, "monthly_growth": 0.0, "horizon_months": 12},
    "prompted": {
        "prices": {"input": 100_000, "output": 0, "batch_discount": 1},
        "batch_share": 1,
        "setup_cost": 5e-324,
        "monthly_fixed_cost": 5e-324,
    },
    "finetuned": {
        "prices": {"input": 0, "output": 0},
        "setup_cost": 0,
        "monthly_fixed_cost": 0,
        "evaluation_cost": 0,
        "cost_per_example": 0,
        "training": {"price_per_mtok": 0},
    },
}


@PROPERTY
@given(scenarios)
@example(DENORMAL_PROMPTED)
def test_the_engine_curves_and_charts_end_for_every_valid_scenario(
    test_catalog: Catalog, data: dict[str, Any]
) -> None:
    scenario = scenario_or_none(data)
    if scenario is None:
        return
    with limit(SECONDS):
        try:
            comparison = compare(scenario, test_catalog)
            resolved = resolve(scenario, test_catalog)
        except ScenarioError:
            return  # the documented refusal: a price the scenario needs is missing
        curve = curves(resolved, comparison)
        for chart in (charts.volume_chart(curve), charts.cumulative_chart(curve)):
            assert len(chart.lines) == 2
            assert all(
                "nan" not in line.points and "inf" not in line.points for line in chart.lines
            )
        charts.breakdown_chart(comparison)
    assert all(not math.isnan(v) for v in finite_numbers(comparison.model_dump(mode="json")))


def _bar(savings: tuple[float, float], values: tuple[float, float], unit: str) -> TornadoBar:
    return TornadoBar(
        input="workload.queries_per_month",
        label="Queries",
        unit=unit,
        base_value=values[0],
        low_value=values[0],
        high_value=values[1],
        savings_low=savings[0],
        savings_high=savings[1],
        savings_swing=abs(savings[1] - savings[0]),
        break_even_low=None,
        break_even_high=None,
        payback_low=None,
        payback_high=None,
        flips=False,
    )


money = st.one_of(
    st.sampled_from([0.0, 5e-324, -5e-324, 1e-300, 1e15, -1e15]), st.floats(-1e40, 1e40)
)


@PROPERTY
@given(
    base=money,
    sides=st.lists(st.tuples(money, money), max_size=12),
    unit=st.sampled_from(["USD", "fraction", "tokens", "months"]),
)
def test_the_tornado_is_drawn_for_any_finite_savings(
    base: float, sides: list[tuple[float, float]], unit: str
) -> None:
    bars = [_bar(s, (0.0, 1.0), unit) for s in sides]
    with limit(SECONDS):
        chart = charts.tornado_chart(base, bars)
    assert (chart is None) == (not bars)


@PROPERTY
@given(
    edges=st.lists(money, min_size=2, max_size=30, unique=True).map(sorted),
    counts=st.lists(st.integers(0, 100_000), min_size=29, max_size=29),
)
def test_the_histogram_is_drawn_for_any_finite_bins(edges: list[float], counts: list[int]) -> None:
    bins = [
        HistogramBin(low=lo, high=hi, count=n)
        for (lo, hi), n in zip(itertools.pairwise(edges), counts, strict=False)
    ]
    with limit(SECONDS):
        chart = charts.histogram_chart(bins, [("P50", edges[0])])
    assert chart is not None and len(chart.bars) == len(bins)


@pytest.fixture(scope="module")
def http() -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


RENDERERS: tuple[tuple[str, dict[str, str]], ...] = (
    ("/", {}),
    ("/", {"HX-Request": "true"}),
    ("/embed", {}),
    ("/embed?embed.chart=cumulative", {}),
    ("/api/v1/compare", {}),
    ("/api/v1/compare?format=csv", {}),
    ("/api/v1/compare/curves?format=csv", {}),
)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(scenarios)
@example(DENORMAL_PROMPTED)
def test_every_renderer_answers_200_or_the_documented_422(
    http: TestClient, data: dict[str, Any]
) -> None:
    query = urlencode(flatten_input(data))
    for path, headers in RENDERERS:
        r = http.get(path + ("&" if "?" in path else "?") + query, headers=headers)
        assert r.status_code in (200, 422), (path, r.status_code, r.text[:300])
        if r.status_code == 422 and path.startswith("/api/"):
            body = r.json()
            assert body["status"] == 422 and body["errors"]
