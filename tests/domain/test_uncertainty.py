"""The Monte Carlo: its kernel agrees with the scalar engine; runs are reproducible; the
probabilities behave."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.domain.engine import ScenarioError, compare
from app.domain.scenario import Scenario
from app.domain.uncertainty import Range, evaluate, run, simulate, summarise
from app.domain.variation import numeric_fields
from app.pricing import Catalog, get_catalog

TODAY = date(2026, 8, 1)

PER_TOKEN: dict[str, Any] = {
    "workload": {"queries_per_month": 250_000, "monthly_growth": 0.04, "horizon_months": 18},
    "prompted": {
        "model": "gpt-4.1",
        "cache_hit_rate": 0.5,
        "batch_share": 0.1,
        "error_rate": 0.03,
        "cost_per_error": 0.8,
    },
    "finetuned": {
        "model": "ft:gpt-4.1-mini",
        "retrain_every_months": 4,
        "new_examples_per_retrain": 150,
        "error_rate": 0.02,
        "cost_per_error": 0.8,
    },
}
SELF_HOSTED: dict[str, Any] = {
    "workload": {"queries_per_month": 3_000_000, "monthly_growth": 0.1, "peak_to_average": 2.5},
    "prompted": {"model": "gpt-4.1"},
    "finetuned": {
        "self_hosted": {
            "gpu_hourly_price": 2.5,
            "prefill_tokens_per_s": 8_000,
            "decode_tokens_per_s": 900,
            "min_replicas": 1,
        },
        "training": {"gpu_hours": 12},
        "retrain_every_months": 3,
    },
}
LONG_CONTEXT: dict[str, Any] = {
    "workload": {"queries_per_month": 20_000},
    "prompted": {
        "model": "gpt-5.5",
        "static_prompt_tokens": 5_000,
        "dynamic_input_tokens": 260_000,
        "cache_hit_rate": 0.3,
    },
    "finetuned": {"model": "ft:gpt-4.1-mini"},
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return get_catalog()


def _scenario_of_sample(base: Scenario, samples: dict[str, Any], i: int) -> Scenario:
    """Sample i as an ordinary validated scenario, built independently of the kernel."""
    data = base.model_dump(mode="json", exclude_unset=True)
    data["prompted"]["model"] = base.prompted.model
    if base.finetuned.model is not None:
        data["finetuned"]["model"] = base.finetuned.model
    for name, values in samples.items():
        value = float(values[i]) if isinstance(values, np.ndarray) else values
        node = data
        *groups, leaf = name.split(".")
        for part in groups:
            node = node.setdefault(part, {})
        node[leaf] = int(value) if numeric_fields()[name].integer else value
    return Scenario.model_validate(data)


def _assert_sample_matches_engine(result: Any, catalog: Catalog, i: int, exact: bool) -> None:
    direct = compare(_scenario_of_sample(result.scenario, result.samples, i), catalog, today=TODAY)
    o = result.outcomes
    payback = None if o.payback[i] < 0 else int(o.payback[i])
    volume = None if math.isnan(o.break_even[i]) else float(o.break_even[i])
    if exact:
        assert o.savings[i] == direct.savings_over_horizon
        assert payback == direct.break_even.payback_month
    else:
        scale = max(direct.prompted.total_cost, direct.finetuned.total_cost, 1.0)
        assert math.isclose(
            o.savings[i], direct.savings_over_horizon, rel_tol=1e-9, abs_tol=1e-9 * scale
        )
    # Break-even volume never depends on the (pow-computed) volume profile: always exact.
    assert volume == direct.break_even.monthly_volume


@pytest.mark.parametrize(
    "data", [PER_TOKEN, SELF_HOSTED, LONG_CONTEXT], ids=["per_token", "self_hosted", "long_context"]
)
def test_collapsed_ranges_reproduce_the_engine_exactly(
    catalog: Catalog, data: dict[str, Any]
) -> None:
    scenario = Scenario.model_validate(data)
    point = {
        "workload.queries_per_month": 123_456.0,
        "workload.monthly_growth": 0.03,
        "finetuned.cost_per_error": 1.25,
        "finetuned.error_rate": 0.04,
        "finetuned.setup_cost": 7_000.0,
    }
    ranges = {k: Range(low=v, mode=v, high=v) for k, v in point.items()}
    result = simulate(scenario, catalog, ranges, samples=500, seed=3, today=TODAY)
    direct = compare(_scenario_of_sample(scenario, point, 0), catalog, today=TODAY)
    assert result.at_mode.savings_over_horizon == direct.savings_over_horizon
    for q in (
        result.savings.p10,
        result.savings.p50,
        result.savings.p90,
        result.savings.min,
        result.savings.max,
    ):
        assert q == direct.savings_over_horizon
    paid = direct.break_even.payback_month
    assert result.payback_month.p50 == (None if paid is None else float(paid))
    assert result.probability_payback_within_horizon == (0.0 if paid is None else 1.0)
    assert result.break_even_volume.p50 == direct.break_even.monthly_volume


@pytest.mark.parametrize(
    "data", [PER_TOKEN, SELF_HOSTED, LONG_CONTEXT], ids=["per_token", "self_hosted", "long_context"]
)
def test_each_sample_equals_the_engine_on_that_scenario(
    catalog: Catalog, data: dict[str, Any]
) -> None:
    scenario = Scenario.model_validate(data)
    ranges = {
        "workload.queries_per_month": Range(low=1_000, mode=200_000, high=5_000_000),
        "prompted.dynamic_input_tokens": Range(
            low=100, mode=270_000, high=400_000, distribution="triangular"
        ),
        "prompted.cache_hit_rate": Range(low=0, mode=0.3, high=0.9),
        "finetuned.output_tokens": Range(low=50, mode=300, high=2_000),
        "finetuned.training.examples": Range(
            low=20, mode=1_000, high=20_000, distribution="triangular"
        ),
        "finetuned.retrain_every_months": Range(low=0, mode=3, high=12),
    }
    if scenario.finetuned.self_hosted is not None:
        ranges["finetuned.self_hosted.gpu_hourly_price"] = Range(low=0.5, mode=2.5, high=8)
        ranges["finetuned.self_hosted.min_replicas"] = Range(low=0, mode=1, high=4)
        ranges["workload.peak_to_average"] = Range(low=1, mode=2, high=6)
    result = run(scenario, catalog, ranges, samples=200, seed=11, today=TODAY)
    for i in range(0, 200, 7):
        _assert_sample_matches_engine(result, catalog, i, exact=True)


def test_a_seed_reproduces_a_run_whatever_the_key_order(catalog: Catalog) -> None:
    scenario = Scenario.model_validate(PER_TOKEN)
    a = {
        "workload.queries_per_month": Range(low=1e5, mode=2e5, high=6e5),
        "finetuned.cost_per_example": Range(low=1, mode=3, high=10),
    }
    b = dict(reversed(list(a.items())))
    first = simulate(scenario, catalog, a, samples=2_000, seed=42, today=TODAY).model_dump()
    second = simulate(scenario, catalog, b, samples=2_000, seed=42, today=TODAY).model_dump()
    first.pop("ranges"), second.pop("ranges")
    assert first == second
    other = simulate(scenario, catalog, a, samples=2_000, seed=43, today=TODAY)
    assert other.savings.p50 != first["savings"]["p50"]


def test_a_run_without_a_seed_reports_the_seed_it_used(catalog: Catalog) -> None:
    scenario = Scenario.model_validate(PER_TOKEN)
    ranges = {"workload.queries_per_month": Range(low=1e5, mode=2e5, high=6e5)}
    first = simulate(scenario, catalog, ranges, samples=300, today=TODAY)
    again = simulate(scenario, catalog, ranges, samples=300, seed=first.seed, today=TODAY)
    assert first == again


def test_percentiles_are_null_where_they_fall_among_samples_without_a_value() -> None:
    # 3 of 10 samples have a value; the other 7 rank above them.
    d = summarise(np.array([3.0, 1.0, 2.0]), 10)
    assert d.p10 == pytest.approx(1.9)  # position 0.9 between 1 and 2
    assert d.p50 is None and d.p90 is None
    assert d.share_without_value == 0.7
    assert (d.mean, d.min, d.max) == (2.0, 1.0, 3.0)
    months = summarise(np.array([4.0, 4.0, 5.0, 6.0]), 5, "lower_cdf")
    assert (months.p10, months.p50, months.p90) == (4.0, 5.0, None)
    nothing = summarise(np.array([]), 4)
    assert (nothing.p10, nothing.mean, nothing.share_without_value) == (None, None, 1.0)


def test_triangular_and_pert_samples_stay_in_range_and_centre_on_the_mode(catalog: Catalog) -> None:
    scenario = Scenario.model_validate(PER_TOKEN)
    for dist in ("triangular", "pert"):
        r = Range(low=10_000, mode=40_000, high=100_000, distribution=dist)
        out = run(
            scenario,
            catalog,
            {"workload.queries_per_month": r},
            samples=20_000,
            seed=5,
            today=TODAY,
        )
        x = out.samples["workload.queries_per_month"]
        assert x.min() >= 10_000 and x.max() <= 100_000
        expected_mean = 50_000 if dist == "triangular" else (10_000 + 4 * 40_000 + 100_000) / 6
        assert x.mean() == pytest.approx(expected_mean, rel=0.01)


def test_integer_inputs_are_sampled_as_integers(catalog: Catalog) -> None:
    out = run(
        Scenario.model_validate(PER_TOKEN),
        catalog,
        {"finetuned.training.examples": Range(low=100, mode=150, high=900)},
        samples=1_000,
        seed=2,
        today=TODAY,
    )
    x = out.samples["finetuned.training.examples"]
    assert np.array_equal(x, np.rint(x)) and x.min() >= 100 and x.max() <= 900


@pytest.mark.parametrize(
    ("ranges", "field", "reason"),
    [
        (
            {"workload.querys": Range(low=1, mode=2, high=3)},
            "workload.querys",
            "not a numeric input",
        ),
        (
            {"workload.horizon_months": Range(low=6, mode=12, high=24)},
            "workload.horizon_months",
            "cannot vary",
        ),
        (
            {"finetuned.self_hosted.gpu_hourly_price": Range(low=1, mode=2, high=3)},
            "finetuned.self_hosted.gpu_hourly_price",
            "finetuned.self_hosted is not set",
        ),
        (
            {"workload.monthly_growth": Range(low=-0.6, mode=0, high=0.1)},
            "workload.monthly_growth",
            "low (-0.6) must be a number in [-0.5, 1]",
        ),
        (
            {"finetuned.training.examples": Range(low=1, mode=2.5, high=3)},
            "finetuned.training.examples",
            "mode (2.5) must be an integer",
        ),
        (
            {"finetuned.training.epochs": Range(low=0, mode=2, high=3)},
            "finetuned.training.epochs",
            "low (0) must be a number in (0, 100]",
        ),
    ],
)
def test_bad_ranges_are_rejected_naming_the_input(
    catalog: Catalog, ranges: dict[str, Range], field: str, reason: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        simulate(
            Scenario.model_validate(PER_TOKEN), catalog, ranges, samples=10, seed=1, today=TODAY
        )
    assert info.value.issues[0].field == field
    assert reason in info.value.issues[0].reason


def test_a_range_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="low <= mode <= high"):
        Range(low=3, mode=2, high=5)


def test_a_range_the_engine_cannot_price_at_its_extreme_is_rejected(catalog: Catalog) -> None:
    # No catalog model and no cached-input price: a cache hit rate above 0 cannot be priced.
    data = {"prompted": {"prices": {"input": 2.0, "output": 8.0}}}
    with pytest.raises(ScenarioError) as info:
        simulate(
            Scenario.model_validate(data),
            catalog,
            {"prompted.cache_hit_rate": Range(low=0, mode=0, high=0.5)},
            samples=10,
            seed=1,
            today=TODAY,
        )
    assert info.value.issues[0].field == "prompted.prices.cached_input"


# --- properties -------------------------------------------------------------------------

MODELS = st.sampled_from([None, "gpt-4.1", "gpt-5.5", "gpt-4o-mini"])
FT_MODELS = st.sampled_from(["ft:gpt-4.1-mini", "ft:gpt-4.1-nano", "ft:gpt-4o-mini"])
TOKENS = st.floats(0, 300_000)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    prompted_model = draw(MODELS)
    prompted: dict[str, Any] = {
        "static_prompt_tokens": draw(TOKENS),
        "dynamic_input_tokens": draw(TOKENS),
        "output_tokens": draw(st.floats(0, 5_000)),
        "batch_share": draw(st.floats(0, 1)),
        "error_rate": draw(st.floats(0, 0.3)),
        "cost_per_error": draw(st.floats(0, 5)),
        "setup_cost": draw(st.floats(0, 1e5)),
        "monthly_fixed_cost": draw(st.floats(0, 1e4)),
    }
    if prompted_model is None:
        prompted["prices"] = {
            "input": draw(st.floats(0.01, 20)),
            "output": draw(st.floats(0.01, 80)),
            "cached_input": 0.1,
            "batch_discount": 0.5,
        }
    else:
        prompted["model"] = prompted_model
    prompted["cache_hit_rate"] = draw(st.floats(0, 1))
    finetuned: dict[str, Any] = {
        "model": draw(FT_MODELS),
        "static_prompt_tokens": draw(st.floats(0, 3_000)),
        "dynamic_input_tokens": draw(st.floats(0, 3_000)),
        "output_tokens": draw(st.floats(0, 3_000)),
        "cost_per_example": draw(st.floats(0, 20)),
        "retrain_every_months": draw(st.integers(0, 12)),
        "new_examples_per_retrain": draw(st.integers(0, 5_000)),
        "training": {"examples": draw(st.integers(0, 50_000))},
    }
    if draw(st.booleans()):
        finetuned["self_hosted"] = {
            "gpu_hourly_price": draw(st.floats(0.1, 20)),
            "prefill_tokens_per_s": draw(st.floats(100, 1e5)),
            "decode_tokens_per_s": draw(st.floats(10, 1e4)),
            "min_replicas": draw(st.integers(0, 3)),
            "target_utilization": draw(st.floats(0.1, 1)),
        }
        finetuned["training"]["gpu_hours"] = draw(st.floats(0, 100))
    return {
        "workload": {
            "queries_per_month": draw(st.floats(0, 1e8)),
            "monthly_growth": draw(st.floats(-0.5, 1)),
            "horizon_months": draw(st.integers(1, 36)),
            "peak_to_average": draw(st.floats(1, 10)),
        },
        "prompted": prompted,
        "finetuned": finetuned,
    }


RANGEABLE = [
    ("workload.queries_per_month", 0, 1e8),
    ("workload.monthly_growth", -0.5, 1),
    ("prompted.dynamic_input_tokens", 0, 400_000),
    ("prompted.output_tokens", 0, 5_000),
    ("prompted.cache_hit_rate", 0, 1),
    ("prompted.error_rate", 0, 1),
    ("finetuned.output_tokens", 0, 3_000),
    ("finetuned.cost_per_example", 0, 20),
    ("finetuned.training.examples", 0, 50_000),
    ("finetuned.retrain_every_months", 0, 12),
]


@st.composite
def ranges(draw: st.DrawFn) -> dict[str, Range]:
    chosen = draw(st.lists(st.sampled_from(RANGEABLE), min_size=1, max_size=5, unique=True))
    out = {}
    for name, lo, hi in chosen:
        integer = numeric_fields()[name].integer
        points = sorted(
            draw(st.integers(int(lo), int(hi)) if integer else st.floats(lo, hi)) for _ in range(3)
        )
        out[name] = Range(
            low=points[0],
            mode=points[1],
            high=points[2],
            distribution=draw(st.sampled_from(["pert", "triangular"])),
        )
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenarios(), spread=ranges(), seed=st.integers(0, 2**32))
def test_random_scenarios_agree_with_the_scalar_engine(
    catalog: Catalog, data: dict[str, Any], spread: dict[str, Range], seed: int
) -> None:
    scenario = Scenario.model_validate(data)
    try:
        result = run(scenario, catalog, spread, samples=12, seed=seed, today=TODAY)
    except ScenarioError:
        return  # e.g. a cache hit rate without a cache price: refused like compare() refuses it
    growth_sampled = isinstance(result.samples.get("workload.monthly_growth"), np.ndarray)
    for i in range(12):
        _assert_sample_matches_engine(result, catalog, i, exact=not growth_sampled)
    # Unranged: the deterministic result itself.
    plain = evaluate(result.scenario, catalog, {}, 1)
    direct = compare(result.scenario, catalog, today=TODAY)
    assert plain.savings[0] == direct.savings_over_horizon == result.at_mode.savings_over_horizon


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    low=st.floats(0, 1e6),
    width=st.floats(1, 1e6),
    mode_at=st.floats(0, 1),
    shift=st.floats(0, 1e6),
    dist=st.sampled_from(["pert", "triangular"]),
    seed=st.integers(0, 2**32),
)
def test_more_volume_never_lowers_the_chance_of_payback(
    catalog: Catalog, low: float, width: float, mode_at: float, shift: float, dist: str, seed: int
) -> None:
    # Fine-tuned queries cost less than prompted ones here, so each sample shifted up in
    # volume (same seed, same shape) pays back no later and saves no less.
    scenario = Scenario.model_validate(PER_TOKEN)

    def at(offset: float) -> Any:
        r = Range(
            low=low + offset,
            mode=low + offset + width * mode_at,
            high=low + offset + width,
            distribution=dist,
        )
        return simulate(
            scenario,
            catalog,
            {"workload.queries_per_month": r},
            samples=400,
            seed=seed,
            today=TODAY,
        )

    before, after = at(0.0), at(shift)
    for p in (
        before.probability_payback_within_horizon,
        before.probability_savings_positive,
        after.probability_payback_within_horizon,
    ):
        assert 0.0 <= p <= 1.0
    assert after.probability_payback_within_horizon >= before.probability_payback_within_horizon
    assert after.probability_savings_positive >= before.probability_savings_positive
    assert after.savings.p50 is not None and before.savings.p50 is not None
    assert after.savings.p50 >= before.savings.p50 - 1e-9 * abs(before.savings.p50)


@settings(max_examples=30, deadline=None)
@given(extra=st.floats(0, 50), seed=st.integers(0, 2**32))
def test_dearer_labelling_never_raises_the_chance_of_payback(
    catalog: Catalog, extra: float, seed: int
) -> None:
    scenario = Scenario.model_validate(PER_TOKEN)
    volume = Range(low=50_000, mode=300_000, high=2_000_000)

    def at(cost: float) -> Any:
        r = {
            "workload.queries_per_month": volume,
            "finetuned.cost_per_example": Range(low=cost, mode=cost + 1, high=cost + 5),
        }
        return simulate(scenario, catalog, r, samples=400, seed=seed, today=TODAY)

    cheap, dear = at(0.5), at(0.5 + extra)
    assert dear.probability_payback_within_horizon <= cheap.probability_payback_within_horizon
    assert dear.probability_savings_positive <= cheap.probability_savings_positive


def test_histogram_of_equal_huge_values_is_one_bin() -> None:
    import numpy as np

    from app.domain.uncertainty import histogram

    bins = histogram(np.full(50, -3.0e14), 30)
    assert [(b.low, b.high, b.count) for b in bins] == [(-3.0e14, -3.0e14, 50)]
