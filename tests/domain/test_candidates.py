"""COST_MODEL.md, "Several candidates, and hybrids": the two-arm special case, hybrids, the
envelope against brute force, ranking and the cross-field rules."""

from __future__ import annotations

import itertools
import math
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.candidates import (
    CandidatesScenario,
    compare_candidates,
    cost,
    envelope,
    volume_free_key,
)
from app.domain.engine import ScenarioError, compare
from app.domain.scenario import Scenario
from app.pricing.catalog import load_catalog

TODAY = date(2026, 10, 1)
CATALOG = load_catalog(Path(__file__).parent.parent / "fixtures" / "catalog")


def candidates(
    *items: dict[str, Any], workload: dict[str, Any] | None = None, **rest: Any
) -> CandidatesScenario:
    return CandidatesScenario.model_validate(
        {
            "workload": {"start_date": "2026-10-01", **(workload or {})},
            "candidates": list(items),
            **rest,
        }
    )


SELF_HOSTED = {
    "training": {"gpu_hours": 10, "gpu_hourly_price": 3},
    "self_hosted": {
        "gpu_hourly_price": 2,
        "prefill_tokens_per_s": 20000,
        "decode_tokens_per_s": 2000,
    },
}

prompt_arms = st.fixed_dictionaries(
    {
        "model": st.sampled_from(["big", "small", "claude-like"]),
        "static_prompt_tokens": st.integers(0, 5000),
        "cache_hit_rate": st.floats(0, 1),
        "setup_cost": st.floats(0, 1e5),
        "monthly_fixed_cost": st.floats(0, 1e4),
    }
)
tuned_arms = st.one_of(
    st.fixed_dictionaries(
        {
            "model": st.just("ft:small"),
            "training": st.fixed_dictionaries({"examples": st.integers(0, 50_000)}),
            "retrain_every_months": st.integers(0, 6),
            "monthly_fixed_cost": st.floats(0, 1e4),
        }
    ),
    st.fixed_dictionaries(
        {
            "training": st.just({"gpu_hours": 10, "gpu_hourly_price": 3}),
            "self_hosted": st.fixed_dictionaries(
                {
                    "gpu_hourly_price": st.floats(0.5, 10),
                    "prefill_tokens_per_s": st.floats(100, 1e5),
                    "decode_tokens_per_s": st.floats(10, 1e4),
                    "min_replicas": st.integers(0, 3),
                }
            ),
        }
    ),
)
workloads = st.fixed_dictionaries(
    {
        "queries_per_month": st.floats(0, 1e8),
        "monthly_growth": st.floats(-0.5, 1),
        "horizon_months": st.integers(1, 36),
    }
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(w=workloads, base=prompt_arms, others=st.lists(tuned_arms, min_size=1, max_size=5))
def test_every_candidate_equals_the_two_arm_comparison_against_the_baseline(
    w: dict[str, Any], base: dict[str, Any], others: list[dict[str, Any]]
) -> None:
    items = [{"id": "base", "kind": "prompted", **base}] + [
        {"id": f"c{i}", "kind": "finetuned", **arm} for i, arm in enumerate(others)
    ]
    result = compare_candidates(candidates(*items, workload=w), CATALOG, today=TODAY)
    for arm, c in zip(others, result.candidates[1:], strict=True):
        two = compare(
            Scenario.model_validate(
                {"workload": {"start_date": "2026-10-01", **w}, "prompted": base, "finetuned": arm}
            ),
            CATALOG,
            today=TODAY,
        )
        assert c.total_cost == two.finetuned.total_cost
        assert [m.cost for m in c.monthly] == [m.cost for m in two.finetuned.monthly]
        assert c.vs_baseline.savings_over_horizon == two.savings_over_horizon
        assert c.vs_baseline.payback_month == two.break_even.payback_month
        assert c.vs_baseline.monthly_volume == two.break_even.monthly_volume
        assert c.vs_baseline.queries_to_recoup == two.break_even.queries_to_recoup
    b = result.candidates[0].vs_baseline
    assert (b.savings_over_horizon, b.payback_month, b.monthly_volume, b.queries_to_recoup) == (
        0,
        0,
        0,
        None,
    )


@pytest.mark.parametrize(
    "core", [{"model": "ft:small"}, SELF_HOSTED], ids=["per_token", "self_hosted"]
)
def test_a_hybrid_sending_everything_to_its_core_equals_the_core(core: dict[str, Any]) -> None:
    free = {"setup_cost": 0, "monthly_fixed_cost": 0, "model": "small"}
    s = candidates(
        {"id": "edge", "kind": "prompted", **free},
        {"id": "core", "kind": "finetuned", **core},
        {"id": "mix", "kind": "hybrid", "core": "core", "fallback": "edge", "core_share": 1},
        workload={"queries_per_month": 250_000, "monthly_growth": 0.1},
    )
    r = compare_candidates(s, CATALOG, today=TODAY)
    core_r, mix = r.candidates[1], r.candidates[2]
    assert [m.cost for m in mix.monthly] == [m.cost for m in core_r.monthly]
    assert mix.vs_baseline == core_r.vs_baseline


def test_a_hybrid_splits_variable_costs_and_sizes_a_self_hosted_core_for_its_share() -> None:
    s = candidates(
        {
            "id": "edge",
            "kind": "prompted",
            "model": "big",
            "static_prompt_tokens": 0,
            "setup_cost": 0,
            "monthly_fixed_cost": 100,
        },
        {
            "id": "core",
            "kind": "finetuned",
            **SELF_HOSTED,
            "setup_cost": 0,
            "monthly_fixed_cost": 0,
        },
        {"id": "mix", "kind": "hybrid", "core": "core", "fallback": "edge", "core_share": 0.75},
        workload={"queries_per_month": 10_000_000, "horizon_months": 1},
    )
    costed = cost(s, CATALOG, TODAY)
    edge, core, mix = costed.units
    assert mix.variable[0] == pytest.approx(0.75 * core.variable[0] + 0.25 * edge.variable[0])
    assert mix.fixed[0] == edge.fixed[0] + core.fixed[0]
    assert mix.one_time == edge.one_time + core.one_time
    assert mix.hosting(10_000_000)[1] == core.hosting(7_500_000)[1]


def _brute_cheapest(units: list[Any], v: float) -> int:
    totals = [u.steady_total(v) for u in units]
    return min(range(len(units)), key=lambda i: (totals[i], i))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    base=prompt_arms,
    others=st.lists(
        st.one_of(tuned_arms, prompt_arms.map(lambda a: {**a, "_prompted": True})),
        min_size=1,
        max_size=5,
    ),
    h=st.integers(1, 24),
)
def test_the_envelope_matches_a_dense_brute_force_grid(
    base: dict[str, Any], others: list[dict[str, Any]], h: int
) -> None:
    items = [{"id": "c0", "kind": "prompted", **base}]
    for i, arm in enumerate(others, start=1):
        kind = "prompted" if arm.pop("_prompted", False) else "finetuned"
        items.append({"id": f"c{i}", "kind": kind, **arm})
    costed = cost(candidates(*items, workload={"horizon_months": h}), CATALOG, TODAY)
    ids = costed.ids
    segments, complete = envelope(costed.units, ids)
    assert segments[0].from_volume == 0 and segments[-1].to_volume == 1e12
    assert all(a.to_volume == b.from_volume for a, b in itertools.pairwise(segments))
    assert all(a.candidate != b.candidate for a, b in itertools.pairwise(segments))
    if not complete:
        return
    grid = [0.0] + [10 ** (k / 40) for k in range(0, 481)]
    for seg in segments:  # and points just inside every segment
        width = seg.to_volume - seg.from_volume
        grid += [seg.from_volume + width * f for f in (1e-6, 0.5, 1 - 1e-6)]
    for v in grid:
        seg = next(s for s in segments if s.from_volume <= v <= s.to_volume)
        near_edge = any(
            abs(v - x) <= 1e-9 * max(x, 1.0) for s in segments for x in (s.from_volume, s.to_volume)
        )
        if near_edge:
            continue
        best = _brute_cheapest(costed.units, v)
        got = ids.index(seg.candidate)
        totals = (costed.units[best].steady_total(v), costed.units[got].steady_total(v))
        assert got == best or math.isclose(*totals, rel_tol=1e-9), (v, seg, ids[best])


def test_envelope_by_hand_prompted_then_fine_tuned() -> None:
    # Totals over 12 months at constant V: 'now' big model 2000 + 12*500 + V*12*0.005;
    # 'lora' 14015 + 12*1000 + V*12*0.00136 (HAND scenario of the sensitivity tests).
    s = candidates(
        {
            "id": "now",
            "kind": "prompted",
            "prices": {"input": 2.0, "output": 8.0},
            "static_prompt_tokens": 1000,
            "dynamic_input_tokens": 500,
            "output_tokens": 250,
        },
        {
            "id": "lora",
            "kind": "finetuned",
            "prices": {"input": 0.8, "output": 3.2},
            "training": {"price_per_mtok": 5},
            "static_prompt_tokens": 200,
            "dynamic_input_tokens": 500,
            "output_tokens": 250,
        },
    )
    r = compare_candidates(s, CATALOG, today=TODAY)
    assert [seg.candidate for seg in r.cheapest_by_volume] == ["now", "lora"]
    # 0.005 - 0.00136 = 0.00364 per query; 18015 more up front and in fixed costs.
    assert r.cheapest_by_volume[0].to_volume == pytest.approx(18_015 / (12 * 0.00364), rel=1e-12)
    assert r.cheapest_by_volume[0].to_volume == r.candidates[1].vs_baseline.monthly_volume


def test_ranking_is_by_total_and_a_tie_keeps_list_order() -> None:
    same = {"kind": "prompted", "model": "small"}
    s = candidates({"id": "a", **same, "model": "big"}, {"id": "b", **same}, {"id": "c", **same})
    r = compare_candidates(s, CATALOG, today=TODAY)
    assert r.ranking == ["b", "c", "a"]
    assert [seg.candidate for seg in r.cheapest_by_volume] == ["b"]


def test_baseline_can_be_any_candidate() -> None:
    s = candidates(
        {"id": "lora", "kind": "finetuned", "model": "ft:small"},
        {"id": "now", "kind": "prompted", "model": "big"},
        baseline="now",
    )
    r = compare_candidates(s, CATALOG, today=TODAY)
    assert r.baseline == "now"
    assert r.candidates[1].vs_baseline.savings_over_horizon == 0


@pytest.mark.parametrize(
    ("items", "extra", "field"),
    [
        ([{"id": "a", "kind": "prompted"}, {"id": "a", "kind": "prompted"}], {}, "candidates.1.id"),
        (
            [
                {"id": "a", "kind": "prompted"},
                {"id": "h", "kind": "hybrid", "core": "a", "fallback": "a"},
            ],
            {},
            "candidates.1.core",
        ),
        (
            [
                {"id": "f", "kind": "finetuned"},
                {"id": "h", "kind": "hybrid", "core": "f", "fallback": "f"},
            ],
            {},
            "candidates.1.fallback",
        ),
        (
            [
                {"id": "a", "kind": "prompted"},
                {"id": "h", "kind": "hybrid", "core": "x", "fallback": "a"},
            ],
            {},
            "candidates.1.core",
        ),
        (
            [{"id": "a", "kind": "prompted"}, {"id": "b", "kind": "prompted"}],
            {"baseline": "z"},
            "baseline",
        ),
    ],
)
def test_cross_field_errors_name_the_field(
    items: list[dict[str, Any]], extra: dict[str, Any], field: str
) -> None:
    with pytest.raises(ScenarioError) as exc:
        cost(candidates(*items, **extra), CATALOG, TODAY)
    assert field in [i.field for i in exc.value.issues]


def test_a_price_problem_names_the_candidate_path() -> None:
    s = candidates(
        {"id": "a", "kind": "prompted", "model": "big"},
        {"id": "b", "kind": "prompted", "prices": {"input": 1.0}},
    )
    with pytest.raises(ScenarioError) as exc:
        cost(s, CATALOG, TODAY)
    assert [i.field for i in exc.value.issues] == ["candidates.1.prices.output"]


# --- what moves the answer --------------------------------------------------------------

MIXED = candidates(
    {"id": "now", "kind": "prompted", "model": "big"},
    {"id": "cheap", "kind": "prompted", "model": "small"},
    {"id": "lora", "kind": "finetuned", "model": "ft:small", "training": {"examples": 2000}},
    {"id": "own", "kind": "finetuned", **SELF_HOSTED},
    {"id": "mix", "kind": "hybrid", "core": "own", "fallback": "now", "core_share": 0.9},
    workload={"queries_per_month": 2_000_000},
)


def test_collapsed_ranges_give_the_engines_totals_and_a_certain_winner() -> None:
    from app.domain.candidate_analysis import simulate_candidates
    from app.domain.uncertainty import Range

    point = Range(low=2e6, mode=2e6, high=2e6)
    mc = simulate_candidates(
        MIXED, CATALOG, {"workload.queries_per_month": point}, samples=50, seed=1, today=TODAY
    )
    direct = compare_candidates(MIXED, CATALOG, today=TODAY)
    for odds, c in zip(mc.candidates, direct.candidates, strict=True):
        assert odds.total_cost.p10 == odds.total_cost.p90 == c.total_cost
        assert odds.probability_cheapest == (1.0 if c.id == direct.ranking[0] else 0.0)


def test_the_odds_of_being_cheapest_add_up_and_follow_volume() -> None:
    from app.domain.candidate_analysis import simulate_candidates
    from app.domain.uncertainty import Range

    ranges = {
        "workload.queries_per_month": Range(low=1e4, mode=2e6, high=5e7),
        "candidates.4.core_share": Range(low=0.5, mode=0.9, high=1.0),
    }
    mc = simulate_candidates(MIXED, CATALOG, ranges, samples=2000, seed=7, today=TODAY)
    assert sum(o.probability_cheapest for o in mc.candidates) == pytest.approx(1.0)
    again = simulate_candidates(MIXED, CATALOG, ranges, samples=2000, seed=7, today=TODAY)
    assert again == mc
    # At low volume the cheap prompted model wins, at high volume the GPUs: both happen.
    odds = {o.id: o.probability_cheapest for o in mc.candidates}
    assert odds["cheap"] > 0 and odds["own"] > 0


def test_the_tornado_is_for_the_leader_against_the_baseline() -> None:
    from app.domain.candidate_analysis import candidate_sensitivity, with_value

    lead, tornado = candidate_sensitivity(MIXED, CATALOG, today=TODAY)
    direct = compare_candidates(MIXED, CATALOG, today=TODAY)
    assert lead == direct.ranking[0] != "now"
    leader = next(c for c in direct.candidates if c.id == lead)
    assert tornado.base_savings == leader.vs_baseline.savings_over_horizon
    bar = next(b for b in tornado.bars if b.input == "workload.queries_per_month")
    low = compare_candidates(with_value(MIXED, bar.input, bar.low_value), CATALOG, today=TODAY)
    assert (
        bar.savings_low
        == next(c for c in low.candidates if c.id == lead).vs_baseline.savings_over_horizon
    )
    assert all(
        b.input.startswith(("workload.", "candidates.0.", "candidates.3.")) for b in tornado.bars
    )


@settings(max_examples=60, deadline=None)
@given(
    prompt_arms,
    st.floats(0, 1e8),
    st.floats(-0.5, 0.3),
    st.floats(0, 0.5),
)
def test_costing_reads_nothing_of_the_volume(
    arm: dict[str, Any], volume: float, growth: float, rate: float
) -> None:
    # What app/api/cache.py relies on for the candidates: the same key and the same units
    # whatever the volume, growth and discount rate, and different keys for different cards.
    a = candidates(
        {"id": "a", "kind": "prompted", **arm}, {"id": "b", "kind": "finetuned", **SELF_HOSTED}
    )
    b = a.model_copy(
        update={
            "workload": a.workload.model_copy(
                update={
                    "queries_per_month": volume,
                    "monthly_growth": growth,
                    "discount_rate": rate,
                }
            )
        }
    )
    assert volume_free_key(a) == volume_free_key(b)
    assert cost(a, CATALOG, TODAY).units == cost(b, CATALOG, TODAY).units
    other = candidates(
        {"id": "a", "kind": "prompted", **arm}, {"id": "c", "kind": "finetuned", **SELF_HOSTED}
    )
    assert volume_free_key(other) != volume_free_key(a)
