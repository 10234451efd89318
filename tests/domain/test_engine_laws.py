"""Laws the cost model must obey for any scenario (hypothesis)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.domain.engine import (
    VOLUME_FIELDS,
    compare,
    compare_resolved,
    curves,
    resolve,
    volume_free_key,
)
from app.domain.scenario import Scenario
from app.domain.variation import with_values
from app.pricing.catalog import Catalog

TODAY = date(2026, 11, 22)
price = st.floats(min_value=0.01, max_value=50)
tokens = st.integers(min_value=0, max_value=20_000)
money = st.floats(min_value=0, max_value=50_000)
rate = st.floats(min_value=0, max_value=1)


@st.composite
def scenarios(draw: st.DrawFn, self_hosted: bool | None = None) -> Scenario:
    def arm() -> dict[str, Any]:
        p_in = draw(price)
        return {
            "prices": {
                "input": p_in,
                "cached_input": p_in * draw(rate),
                "output": draw(price),
                "batch_discount": draw(rate),
            },
            "static_prompt_tokens": draw(tokens),
            "dynamic_input_tokens": draw(tokens),
            "output_tokens": draw(tokens),
            "cache_hit_rate": draw(rate),
            "batch_share": draw(rate),
            "error_rate": draw(st.floats(0, 0.2)),
            "cost_per_error": draw(st.floats(0, 20)),
            "setup_cost": draw(money),
            "monthly_fixed_cost": draw(st.floats(0, 5000)),
        }

    finetuned = arm() | {
        "training": {
            "examples": draw(st.integers(0, 50_000)),
            "tokens_per_example": draw(st.integers(0, 5000)),
            "epochs": draw(st.integers(1, 5)),
            "price_per_mtok": draw(price),
        },
        "cost_per_example": draw(st.floats(0, 10)),
        "evaluation_cost": draw(money),
        "retrain_every_months": draw(st.integers(0, 12)),
        "new_examples_per_retrain": draw(st.integers(0, 5000)),
        "hosting_per_hour": draw(st.floats(0, 5)),
    }
    use_gpus = draw(st.booleans()) if self_hosted is None else self_hosted
    if use_gpus:
        finetuned["self_hosted"] = {
            "gpu_hourly_price": draw(st.floats(0.3, 12)),
            "gpus_per_replica": draw(st.integers(1, 8)),
            "prefill_tokens_per_s": draw(st.floats(500, 50_000)),
            "decode_tokens_per_s": draw(st.floats(50, 10_000)),
            "min_replicas": draw(st.integers(0, 3)),
            "target_utilization": draw(st.floats(0.2, 1)),
        }
    return Scenario.model_validate(
        {
            "workload": {
                "queries_per_month": draw(st.floats(0, 1e8)),
                "monthly_growth": draw(st.floats(-0.5, 0.3)),
                "horizon_months": draw(st.integers(1, 60)),
                "peak_to_average": draw(st.floats(1, 5)),
            },
            "prompted": arm(),
            "finetuned": finetuned,
        }
    )


fast = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(scenarios(), st.floats(1.0, 10.0))
def test_more_volume_never_lowers_a_total(s: Scenario, factor: float) -> None:
    catalog = Catalog()
    resolved = resolve(s, catalog)
    h = s.workload.horizon_months
    v = s.workload.queries_per_month
    for arm in (resolved.prompted, resolved.finetuned):
        assert arm.steady_total(v * factor, h) >= arm.steady_total(v, h)
    bigger = s.model_copy(
        update={"workload": s.workload.model_copy(update={"queries_per_month": v * factor})}
    )
    a, b = compare(s, catalog, today=TODAY), compare(bigger, catalog, today=TODAY)
    assert b.prompted.total_cost >= a.prompted.total_cost
    assert b.finetuned.total_cost >= a.finetuned.total_cost


@fast
@given(
    scenarios(),
    st.floats(0, 1e8),
    st.floats(-0.5, 0.3),
    st.floats(0, 0.5),
)
def test_resolve_reads_nothing_of_the_volume(
    s: Scenario, volume: float, growth: float, rate: float
) -> None:
    # What app/api/cache.py relies on: a scenario that differs only in VOLUME_FIELDS
    # resolves to the same arms and has the same key, and a copy made `at_volume`
    # compares exactly as the scenario resolved afresh.
    catalog = Catalog()
    other = with_values(
        s,
        {
            "workload.queries_per_month": volume,
            "workload.monthly_growth": growth,
            "workload.discount_rate": rate,
        },
    )
    assert set(VOLUME_FIELDS) == {"queries_per_month", "monthly_growth", "discount_rate"}
    assert volume_free_key(other) == volume_free_key(s)
    first, fresh = resolve(s, catalog, TODAY), resolve(other, catalog, TODAY)
    assert (fresh.prompted, fresh.finetuned, fresh.warnings) == (
        first.prompted,
        first.finetuned,
        first.warnings,
    )
    kept = compare_resolved(first.at_volume(other), catalog, today=TODAY, stale_after_days=120)
    assert kept == compare(other, catalog, today=TODAY)
    assert curves(first.at_volume(other), kept) == curves(fresh, kept)


def test_every_other_input_changes_the_key() -> None:
    base = Scenario()
    for path, value in [
        ("workload.horizon_months", 13),
        ("workload.peak_to_average", 2.5),
        ("workload.lifecycle", "ignore"),
        ("workload.start_date", date(2027, 2, 1)),
        ("prompted.static_prompt_tokens", 17),
        ("finetuned.training.examples", 99),
        ("title", "another"),
    ]:
        assert volume_free_key(_with(base, path, value)) != volume_free_key(base), path


def _with(s: Scenario, path: str, value: object) -> Scenario:
    parts = path.split(".")
    if len(parts) == 1:
        return s.model_copy(update={parts[0]: value})
    child = getattr(s, parts[0])
    return s.model_copy(update={parts[0]: _with(child, ".".join(parts[1:]), value)})


@fast
@given(scenarios())
def test_volume_curves_cross_at_break_even_volume(s: Scenario) -> None:
    catalog = Catalog()
    r = compare(s, catalog, today=TODAY)
    resolved = resolve(s, catalog)
    h = s.workload.horizon_months
    v = r.break_even.monthly_volume

    def diff(x: float) -> float:
        return resolved.finetuned.steady_total(x, h) - resolved.prompted.steady_total(x, h)

    def scale(x: float) -> float:
        return max(resolved.prompted.steady_total(x, h), resolved.finetuned.steady_total(x, h), 1)

    if v is None:
        for x in (0, 1e3, 1e6, 1e9, 1e12):
            assert diff(x) > -1e-9 * scale(x)
        return
    assert diff(v) <= 1e-9 * scale(v)
    if v > 0:
        below = v * (1 - 1e-7)
        assert diff(below) > -1e-9 * scale(below)


@fast
@given(scenarios())
def test_cumulative_curves_cross_at_payback_month(s: Scenario) -> None:
    r = compare(s, Catalog(), today=TODAY)
    m = r.break_even.payback_month
    pr = [x.cumulative for x in r.prompted.monthly]
    ft = [x.cumulative for x in r.finetuned.monthly]
    if m is None:
        assert all(f > p for p, f in zip(pr, ft, strict=True))
    else:
        assert ft[m] <= pr[m] * (1 + 1e-12) + 1e-12
        assert all(f > p for p, f in zip(pr[:m], ft[:m], strict=True))


@fast
@given(scenarios(self_hosted=False))
def test_savings_are_the_difference_of_totals(s: Scenario) -> None:
    r = compare(s, Catalog(), today=TODAY)
    assert r.savings_over_horizon == r.prompted.total_cost - r.finetuned.total_cost
    if r.savings_over_horizon <= 0:
        assert r.recommendation.approach in ("prompt_engineering", "prompt_then_fine_tune")


@settings(max_examples=60, deadline=None)
@given(price, price)
def test_explicit_prices_override_the_catalog(
    test_catalog: Catalog, p_in: float, p_out: float
) -> None:
    s = Scenario.model_validate(
        {
            "prompted": {
                "model": "small",
                "prices": {"input": p_in, "output": p_out},
                "static_prompt_tokens": 0,
                "dynamic_input_tokens": 1000,
                "output_tokens": 1000,
            },
            "finetuned": {"model": "ft:small"},
        }
    )
    costs = resolve(s, test_catalog).prompted
    assert costs.variable_cost_per_query == pytest.approx((1000 * p_in + 1000 * p_out) / 1e6)


def test_zero_horizon_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        Scenario.model_validate({"workload": {"horizon_months": 0}})
    assert exc.value.errors()[0]["loc"] == ("workload", "horizon_months")


def test_zero_volume_costs_only_fixed_and_one_time() -> None:
    s = Scenario.model_validate(
        {
            "workload": {"queries_per_month": 0, "horizon_months": 6},
            "prompted": {
                "prices": {"input": 1, "output": 1},
                "setup_cost": 10,
                "monthly_fixed_cost": 5,
            },
            "finetuned": {
                "prices": {"input": 1, "output": 1},
                "setup_cost": 0,
                "monthly_fixed_cost": 0,
                "evaluation_cost": 0,
                "cost_per_example": 0,
                "training": {"examples": 0},
            },
        }
    )
    r = compare(s, Catalog(), today=TODAY)
    assert r.prompted.total_cost == 10 + 6 * 5
    assert r.finetuned.total_cost == 0
    assert r.break_even.payback_month == 0
