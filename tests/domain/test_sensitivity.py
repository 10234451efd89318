"""The tornado: every bar is an exact recomputation through compare()."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.domain.engine import ScenarioError, compare
from app.domain.scenario import Scenario
from app.domain.sensitivity import Bound, sensitivity
from app.pricing import Catalog, get_catalog

TODAY = date(2026, 8, 1)

# Explicit prices on both arms, so the expected values below are hand-computable:
# prompted per query (1000*2 + 500*2 + 250*8)/1e6 = 0.005 USD;
# fine-tuned per query (200*0.8 + 500*0.8 + 250*3.2)/1e6 = 0.00136 USD;
# fine-tuned one-time: data 1000*2 + training 1000*1000*3 epochs/1e6*5 + eval 2000 + setup 10000 = 14015.
HAND: dict[str, Any] = {
    "workload": {"queries_per_month": 100_000, "horizon_months": 12},
    "prompted": {
        "prices": {"input": 2.0, "output": 8.0},
        "static_prompt_tokens": 1000,
        "dynamic_input_tokens": 500,
        "output_tokens": 250,
    },
    "finetuned": {
        "prices": {"input": 0.8, "output": 3.2},
        "training": {"price_per_mtok": 5.0},
        "static_prompt_tokens": 200,
        "dynamic_input_tokens": 500,
        "output_tokens": 250,
    },
}
SELF_HOSTED: dict[str, Any] = {
    "workload": {"queries_per_month": 2_000_000, "monthly_growth": 0.05, "peak_to_average": 3},
    "prompted": {
        "model": "gpt-4.1",
        "cache_hit_rate": 0.5,
        "error_rate": 0.02,
        "cost_per_error": 1.5,
    },
    "finetuned": {
        "self_hosted": {
            "gpu_hourly_price": 2.0,
            "prefill_tokens_per_s": 20_000,
            "decode_tokens_per_s": 2_000,
        },
        "training": {"gpu_hours": 20},
        "retrain_every_months": 3,
        "new_examples_per_retrain": 300,
        "error_rate": 0.03,
        "cost_per_error": 1.5,
    },
}
CATALOG_PRICED: dict[str, Any] = {
    "workload": {"queries_per_month": 400_000, "monthly_growth": 0.02},
    "prompted": {"model": "gpt-4.1", "cache_hit_rate": 0.4, "batch_share": 0.2},
    "finetuned": {
        "model": "ft:gpt-4.1-mini",
        "retrain_every_months": 6,
        "error_rate": 0.01,
        "cost_per_error": 2,
    },
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return get_catalog()


def _set(data: dict[str, Any], name: str, value: float) -> dict[str, Any]:
    out: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    node = out
    *groups, leaf = name.split(".")
    for part in groups:
        child = dict(node.get(part) or {})
        node[part] = child
        node = child
    node[leaf] = value
    return out


def test_queries_bar_matches_hand_computed_totals(catalog: Catalog) -> None:
    result = sensitivity(Scenario.model_validate(HAND), catalog, today=TODAY)
    bar = next(b for b in result.bars if b.input == "workload.queries_per_month")
    assert (bar.low_value, bar.high_value) == (50_000, 200_000)
    # 50k: prompted 2000 + 12*(250 + 500) = 11000; fine-tuned 14015 + 12*(68 + 1000) = 26831.
    assert bar.savings_low == pytest.approx(11_000 - 26_831, rel=1e-12)
    # 200k: prompted 2000 + 12*1500 = 20000; fine-tuned 14015 + 12*(272 + 1000) = 29279.
    assert bar.savings_high == pytest.approx(20_000 - 29_279, rel=1e-12)
    assert result.base_savings == pytest.approx(14_000 - 27_647, rel=1e-12)
    # The break-even volume does not depend on the volume profile: 18015 / (12 * 0.00364).
    assert bar.break_even_low == bar.break_even_high == result.base_break_even_volume
    assert result.base_break_even_volume == pytest.approx(18_015 / 0.04368, rel=1e-12)


@pytest.mark.parametrize(
    "data", [HAND, SELF_HOSTED, CATALOG_PRICED], ids=["hand", "self_hosted", "catalog"]
)
def test_every_bar_equals_a_direct_compare(catalog: Catalog, data: dict[str, Any]) -> None:
    scenario = Scenario.model_validate(data)
    result = sensitivity(scenario, catalog, today=TODAY)
    assert result.bars
    base = compare(scenario, catalog, today=TODAY)
    assert result.base_savings == base.savings_over_horizon
    # Catalog prices are varied as explicit prices on the same (named) model.
    pinned = data
    for arm in (base.prompted, base.finetuned):
        if arm.model is not None:
            pinned = _set(
                pinned, f"{'prompted' if arm is base.prompted else 'finetuned'}.model", arm.model
            )
    for bar in result.bars:
        for value, savings, volume, payback in (
            (bar.low_value, bar.savings_low, bar.break_even_low, bar.payback_low),
            (bar.high_value, bar.savings_high, bar.break_even_high, bar.payback_high),
        ):
            direct = compare(
                Scenario.model_validate(_set(pinned, bar.input, value)), catalog, today=TODAY
            )
            assert savings == direct.savings_over_horizon, bar.input
            assert volume == direct.break_even.monthly_volume, bar.input
            assert payback == direct.break_even.payback_month, bar.input


def test_bars_are_ranked_by_savings_swing(catalog: Catalog) -> None:
    result = sensitivity(Scenario.model_validate(CATALOG_PRICED), catalog, today=TODAY)
    swings = [b.savings_swing for b in result.bars]
    assert swings == sorted(swings, reverse=True)
    for b in result.bars:
        values = (b.savings_low, result.base_savings, b.savings_high)
        assert b.savings_swing == max(values) - min(values)


def test_rates_move_by_absolute_steps_clamped_to_their_limits(catalog: Catalog) -> None:
    data = _set(
        _set(CATALOG_PRICED, "prompted.cache_hit_rate", 0.9), "workload.monthly_growth", -0.48
    )
    bars = {
        b.input: b for b in sensitivity(Scenario.model_validate(data), catalog, today=TODAY).bars
    }
    assert (
        bars["prompted.cache_hit_rate"].low_value,
        bars["prompted.cache_hit_rate"].high_value,
    ) == pytest.approx((0.65, 1.0))
    assert (
        bars["workload.monthly_growth"].low_value,
        bars["workload.monthly_growth"].high_value,
    ) == pytest.approx((-0.5, -0.43))
    # Relative rule for error rates: 0.01 -> 0.005 and 0.02.
    assert (
        bars["finetuned.error_rate"].low_value,
        bars["finetuned.error_rate"].high_value,
    ) == pytest.approx((0.005, 0.02))
    # Integer inputs stay integers: a 6-month cadence becomes 3 and 12.
    assert (
        bars["finetuned.retrain_every_months"].low_value,
        bars["finetuned.retrain_every_months"].high_value,
    ) == (3, 12)


def test_catalog_price_is_varied_around_its_effective_value(catalog: Catalog) -> None:
    scenario = Scenario.model_validate(CATALOG_PRICED)
    base = compare(scenario, catalog, today=TODAY)
    bar = next(
        b
        for b in sensitivity(scenario, catalog, today=TODAY).bars
        if b.input == "prompted.prices.output"
    )
    price = base.prompted.prices["output"].value
    assert (bar.base_value, bar.low_value, bar.high_value) == (price, price * 0.5, price * 2)
    assert bar.savings_high > bar.savings_low  # a dearer prompted model favours fine-tuning


def test_inputs_that_do_not_apply_are_skipped_with_a_reason(catalog: Catalog) -> None:
    result = sensitivity(Scenario.model_validate(SELF_HOSTED), catalog, today=TODAY)
    skipped = {s.input: s.reason for s in result.skipped}
    assert "self-hosted" in skipped["finetuned.prices.input"]
    assert "finetuned.training.price_per_mtok" in skipped
    names = {b.input for b in result.bars}
    assert {
        "finetuned.self_hosted.gpu_hourly_price",
        "workload.peak_to_average",
        "finetuned.training.gpu_hours",
    } <= names
    per_token = sensitivity(Scenario.model_validate(HAND), catalog, today=TODAY)
    skipped = {s.input: s.reason for s in per_token.skipped}
    assert skipped["workload.peak_to_average"].startswith("only sizes self-hosted")
    assert skipped["finetuned.self_hosted.gpu_hourly_price"] == "finetuned.self_hosted is not set"
    assert "never retrained" in skipped["finetuned.retrain_every_months"]


def test_a_bar_flips_when_the_sign_of_the_savings_changes(catalog: Catalog) -> None:
    # HAND at 500k queries saves money (V* ~ 412k); at 250k it does not.
    data = _set(HAND, "workload.queries_per_month", 500_000)
    bars = {
        b.input: b for b in sensitivity(Scenario.model_validate(data), catalog, today=TODAY).bars
    }
    assert bars["workload.queries_per_month"].flips
    assert (
        bars["workload.queries_per_month"].savings_low
        < 0
        < bars["workload.queries_per_month"].savings_high
    )
    assert not bars["prompted.setup_cost"].flips


def test_explicit_bounds_replace_the_defaults_and_add_inputs(catalog: Catalog) -> None:
    scenario = Scenario.model_validate(HAND)
    result = sensitivity(
        scenario,
        catalog,
        {
            "workload.queries_per_month": Bound(low=10_000, high=1_000_000),
            "finetuned.retrain_every_months": Bound(low=1, high=6),
        },
        today=TODAY,
    )
    bars = {b.input: b for b in result.bars}
    assert (
        bars["workload.queries_per_month"].low_value,
        bars["workload.queries_per_month"].high_value,
    ) == (10_000, 1_000_000)
    assert bars["finetuned.retrain_every_months"].base_value == 0
    # Retraining monthly costs 12 extra runs of 15 (training) + 2000 (evaluation).
    assert bars["finetuned.retrain_every_months"].savings_low == pytest.approx(
        result.base_savings - 12 * 2015, rel=1e-12
    )


@pytest.mark.parametrize(
    ("bounds", "field", "reason"),
    [
        ({"workload.querys": Bound(low=1, high=2)}, "workload.querys", "not a numeric input"),
        (
            {"workload.horizon_months": Bound(low=6, high=24)},
            "workload.horizon_months",
            "cannot vary",
        ),
        (
            {"prompted.cache_hit_rate": Bound(low=0.5, high=1.5)},
            "prompted.cache_hit_rate",
            "high (1.5) must be a number in [0, 1]",
        ),
        (
            {"finetuned.training.examples": Bound(low=10.5, high=20)},
            "finetuned.training.examples",
            "must be an integer",
        ),
        (
            {"prompted.setup_cost": Bound(low=5, high=1)},
            "prompted.setup_cost",
            "low (5) is above high (1)",
        ),
    ],
)
def test_bad_bounds_are_rejected_naming_the_input(
    catalog: Catalog, bounds: dict[str, Bound], field: str, reason: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        sensitivity(Scenario.model_validate(HAND), catalog, bounds, today=TODAY)
    assert info.value.issues[0].field == field
    assert reason in info.value.issues[0].reason
