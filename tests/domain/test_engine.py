"""Worked examples of COST_MODEL.md, computed by hand: one or more per cost feature."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.engine import (
    ScenarioError,
    auto_epochs,
    compare,
    curves,
    resolve,
)
from app.pricing.catalog import Catalog
from tests.conftest import explicit

TODAY = date(2026, 11, 22)


def run(scenario, catalog):  # type: ignore[no-untyped-def]
    return compare(scenario, catalog, today=TODAY)


def test_base_example_by_hand(test_catalog: Catalog) -> None:
    r = run(explicit(), test_catalog)
    # prompted: (1000*2 + 100*2 + 100*8) / 1e6
    assert r.prompted.variable_cost_per_query == pytest.approx(0.003, rel=1e-12)
    # fine-tuned: (100*1 + 100*1 + 100*4) / 1e6
    assert r.finetuned.variable_cost_per_query == pytest.approx(0.0006, rel=1e-12)
    # training: 1000 examples * 1000 tokens * 1 epoch / 1e6 * $10
    assert r.finetuned.one_time_cost == pytest.approx(10.0)
    assert r.prompted.total_cost == pytest.approx(12 * 30.0)
    assert r.finetuned.total_cost == pytest.approx(10 + 12 * 6.0)
    assert r.savings_over_horizon == pytest.approx(360 - 82)
    assert r.break_even.payback_month == 1
    # 10 = V * 12 * (0.003 - 0.0006)
    assert r.break_even.monthly_volume == pytest.approx(10 / (12 * 0.0024))
    # 10 / ((30 - 6) / 10000)
    assert r.break_even.queries_to_recoup == pytest.approx(10 / 0.0024)
    assert r.prompted.average_cost_per_query == pytest.approx(360 / 120_000)
    assert [m.month for m in r.prompted.monthly] == list(range(13))
    assert r.finetuned.monthly[0].cost == pytest.approx(10.0)
    assert r.prices_as_of is None  # every price was given


def test_growth_compounds_monthly(test_catalog: Catalog) -> None:
    r = run(explicit(workload={"monthly_growth": 0.1, "horizon_months": 3}), test_catalog)
    assert [m.queries for m in r.prompted.monthly] == pytest.approx([0, 10_000, 11_000, 12_100])
    assert r.prompted.total_cost == pytest.approx(0.003 * 33_100)


def test_cache_hits_cost_less_than_misses(test_catalog: Catalog) -> None:
    # Static prompt 2000 tokens at $2, cached at $0.5; half the requests hit the cache.
    s = explicit(
        prompted={
            "static_prompt_tokens": 2000,
            "cache_hit_rate": 0.5,
            "prices": {"input": 2.0, "output": 8.0, "cached_input": 0.5},
        }
    )
    r = run(s, test_catalog)
    expected = (2000 * (0.5 * 0.5 + 0.5 * 2.0) + 100 * 2 + 100 * 8) / 1e6
    assert r.prompted.variable_cost_per_query == pytest.approx(expected)
    assert r.prompted.per_query is not None
    assert r.prompted.per_query.cached_input == pytest.approx(2000 * 0.5 * 0.5 / 1e6)


def test_cache_write_price_charged_on_misses(test_catalog: Catalog) -> None:
    s = explicit(
        prompted={
            "model": "claude-like",
            "prices": {},
            "static_prompt_tokens": 2000,
            "cache_hit_rate": 0.9,
        }
    )
    r = run(s, test_catalog)
    # 2000 * (0.9 * 0.3 + 0.1 * 3.75) + 100 * 3 + 100 * 15
    expected = (2000 * (0.9 * 0.3 + 0.1 * 3.75) + 300 + 1500) / 1e6
    assert r.prompted.variable_cost_per_query == pytest.approx(expected)
    assert r.prompted.prices["cache_write"].source == "catalog:claude-like"


def test_prefix_below_minimum_gets_no_cache_discount(test_catalog: Catalog) -> None:
    s = explicit(
        prompted={"model": "big", "prices": {}, "static_prompt_tokens": 1000, "cache_hit_rate": 0.8}
    )
    r = run(s, test_catalog)
    # big needs 1024 tokens to cache: h is treated as 0.
    assert r.prompted.variable_cost_per_query == pytest.approx((1000 * 2 + 100 * 2 + 100 * 8) / 1e6)
    assert any(w.code == "cache_below_minimum" and w.arm == "prompted" for w in r.warnings)


def test_batch_share_takes_the_discount_on_that_share(test_catalog: Catalog) -> None:
    s = explicit(
        prompted={
            "batch_share": 0.4,
            "prices": {"input": 2.0, "output": 8.0, "batch_discount": 0.5},
        }
    )
    r = run(s, test_catalog)
    assert r.prompted.variable_cost_per_query == pytest.approx(0.003 * (1 - 0.4 * 0.5))


def test_batch_share_without_model_needs_a_discount(test_catalog: Catalog) -> None:
    with pytest.raises(ScenarioError) as exc:
        run(explicit(prompted={"batch_share": 0.4}), test_catalog)
    assert exc.value.issues[0].field == "prompted.prices.batch_discount"


def test_long_context_tier_bills_whole_request_at_tier_price(test_catalog: Catalog) -> None:
    s = explicit(
        prompted={
            "model": "big",
            "prices": {},
            "static_prompt_tokens": 90_000,
            "dynamic_input_tokens": 20_000,
        }
    )
    r = run(s, test_catalog)
    # 110,000 > 100,000: input 4, output 12 for the whole request
    assert r.prompted.variable_cost_per_query == pytest.approx((110_000 * 4 + 100 * 12) / 1e6)
    assert r.prompted.prices["input"].source == "catalog:big (long context)"
    assert any(w.code == "long_context_tier" for w in r.warnings)


def test_explicit_price_beats_long_context_tier(test_catalog: Catalog) -> None:
    s = explicit(
        prompted={
            "model": "big",
            "prices": {"input": 1.0},
            "static_prompt_tokens": 90_000,
            "dynamic_input_tokens": 20_000,
        }
    )
    r = run(s, test_catalog)
    assert r.prompted.variable_cost_per_query == pytest.approx((110_000 * 1 + 100 * 12) / 1e6)


def test_error_cost_adds_expected_cost_per_query(test_catalog: Catalog) -> None:
    s = explicit(
        prompted={"error_rate": 0.02, "cost_per_error": 5.0},
        finetuned={"error_rate": 0.01, "cost_per_error": 5.0},
    )
    r = run(s, test_catalog)
    assert r.prompted.variable_cost_per_query == pytest.approx(0.003 + 0.1)
    assert r.finetuned.variable_cost_per_query == pytest.approx(0.0006 + 0.05)
    assert any(x.code == "fewer_errors" for x in r.recommendation.reasons)


def test_batch_discount_does_not_touch_error_cost(test_catalog: Catalog) -> None:
    s = explicit(
        prompted={
            "error_rate": 0.1,
            "cost_per_error": 1.0,
            "batch_share": 1.0,
            "prices": {"input": 2.0, "output": 8.0, "batch_discount": 0.5},
        }
    )
    r = run(s, test_catalog)
    assert r.prompted.variable_cost_per_query == pytest.approx(0.003 * 0.5 + 0.1)


def test_one_time_investment_adds_data_training_evaluation_setup(test_catalog: Catalog) -> None:
    s = explicit(
        finetuned={
            "cost_per_example": 3.0,
            "evaluation_cost": 500,
            "setup_cost": 7000,
            "training": {
                "examples": 2000,
                "tokens_per_example": 500,
                "epochs": 3,
                "price_per_mtok": 8.0,
            },
        }
    )
    r = run(s, test_catalog)
    data, training = 2000 * 3.0, 2000 * 500 * 3 / 1e6 * 8.0
    assert r.finetuned.one_time_cost == pytest.approx(data + training + 500 + 7000)


def test_training_by_gpu_hours(test_catalog: Catalog) -> None:
    s = explicit(finetuned={"training": {"gpu_hours": 40, "gpu_hourly_price": 2.5}})
    assert run(s, test_catalog).finetuned.one_time_cost == pytest.approx(100.0)


def test_training_billed_by_the_hour_in_catalog_needs_hours(test_catalog: Catalog) -> None:
    s = explicit(
        finetuned={"model": "ft:hourly", "prices": {}, "training": {"price_per_mtok": None}}
    )
    with pytest.raises(ScenarioError) as exc:
        run(s, test_catalog)
    assert exc.value.issues[0].field == "finetuned.training.gpu_hours"
    s = explicit(
        finetuned={
            "model": "ft:hourly",
            "prices": {},
            "training": {"price_per_mtok": None, "gpu_hours": 3},
        }
    )
    assert run(s, test_catalog).finetuned.one_time_cost == pytest.approx(300.0)


def test_auto_epochs_follow_openai_default_rule() -> None:
    assert auto_epochs(1000) == 3
    assert auto_epochs(10) == 10  # 100 // 10
    assert auto_epochs(2) == 25  # min(25, 50)
    assert auto_epochs(20_000) == 1  # max(1, 25000 // 20000)
    assert auto_epochs(5000) == 3  # 15,000 training examples seen: within bounds
    assert auto_epochs(10_000) == 2  # 25000 // 10000


def test_retraining_every_r_months(test_catalog: Catalog) -> None:
    s = explicit(
        workload={"horizon_months": 7},
        finetuned={
            "retrain_every_months": 3,
            "new_examples_per_retrain": 100,
            "cost_per_example": 2.0,
            "evaluation_cost": 50,
        },
    )
    r = run(s, test_catalog)
    retrain = 10 + 50 + 100 * 2.0  # training + evaluation + new examples
    costs = [m.cost for m in r.finetuned.monthly]
    assert costs[3] == pytest.approx(6 + retrain)
    assert costs[6] == pytest.approx(6 + retrain)
    assert costs[1] == costs[2] == costs[4] == pytest.approx(6.0)
    one_time = 10 + 50 + 1000 * 2.0
    assert r.finetuned.total_cost == pytest.approx(one_time + 7 * 6 + 2 * retrain)


def test_hourly_hosting_fee_is_730_hours_a_month(test_catalog: Catalog) -> None:
    s = explicit(finetuned={"hosting_per_hour": 1.7})
    r = run(s, test_catalog)
    assert r.finetuned.monthly[1].cost == pytest.approx(6 + 1.7 * 730)


def self_hosted(**extra):  # type: ignore[no-untyped-def]
    sh = {
        "gpu_hourly_price": 2.0,
        "gpus_per_replica": 1,
        "prefill_tokens_per_s": 10_000,
        "decode_tokens_per_s": 1_000,
        "min_replicas": 1,
        "target_utilization": 0.5,
    }
    sh.update(extra)
    return explicit(
        workload={"queries_per_month": 10_000_000, "peak_to_average": 2.0},
        finetuned={"prices": {}, "self_hosted": sh},
    )


def test_self_hosted_replicas_by_hand(test_catalog: Catalog) -> None:
    r = run(self_hosted(), test_catalog)
    # seconds/query = 200/10000 + 100/1000 = 0.12; peak qps = 1e7 / 2,628,000 * 2 = 7.6104
    # replicas = ceil(7.6104 * 0.12 / 0.5) = ceil(1.8265) = 2
    assert r.finetuned.monthly[1].replicas == 2
    assert r.finetuned.monthly[1].cost == pytest.approx(2 * 2.0 * 730)
    assert r.finetuned.variable_cost_per_query == 0.0
    assert r.finetuned.serving == "self_hosted"


def test_self_hosted_min_replicas_floor(test_catalog: Catalog) -> None:
    r = run(self_hosted(min_replicas=3), test_catalog)
    assert r.finetuned.monthly[1].replicas == 3


def test_self_hosted_break_even_solved_over_steps(test_catalog: Catalog) -> None:
    # Prompted 0.003/query, no fixed costs; self-hosted: replicas of $1460/month, one per
    # w = 2,628,000 * 0.5 / (2 * 0.12) = 5,475,000 queries/month. One-time 10 over 12 months.
    r = run(self_hosted(), test_catalog)
    v = r.break_even.monthly_volume
    # one replica: 12 * 0.003 * V >= 10 + 12 * 1460 -> V = 487,000.27..., inside step 1
    assert v == pytest.approx((10 + 12 * 1460) / (12 * 0.003))
    s = self_hosted()
    resolved = resolve(s, test_catalog)
    h = 12
    assert resolved.finetuned.steady_total(v, h) == pytest.approx(
        resolved.prompted.steady_total(v, h)
    )


def test_self_hosted_break_even_in_a_later_step(test_catalog: Catalog) -> None:
    # A $8 GPU: one replica ($5,840/month) is only paid back by the traffic of a later step,
    # so the root lies inside a step with more than one replica. Checked against brute force.
    s = self_hosted(min_replicas=0, gpu_hourly_price=8.0)
    r = run(s, test_catalog)
    resolved = resolve(s, test_catalog)
    v = r.break_even.monthly_volume
    assert v is not None

    def diff(x: float) -> float:
        return resolved.finetuned.steady_total(x, 12) - resolved.prompted.steady_total(x, 12)

    assert diff(v) <= 1e-9 * resolved.prompted.steady_total(v, 12)
    # just below the root fine-tuning is dearer
    assert diff(v * (1 - 1e-9)) > 0
    # brute force on a grid finds nothing earlier
    grid = [v * i / 2000 for i in range(2000)]
    assert all(diff(x) > 0 for x in grid)


def test_self_hosted_never_breaks_even_when_replica_costs_more_than_it_saves(
    test_catalog: Catalog,
) -> None:
    # saving per replica-step: w * 12 * 0.003 = 197,100; replica costs 12 * 730 * 30 = 262,800.
    s = self_hosted(gpu_hourly_price=30.0)
    assert run(s, test_catalog).break_even.monthly_volume is None


def test_break_even_zero_when_fine_tuning_no_dearer_at_zero_volume(test_catalog: Catalog) -> None:
    s = explicit(prompted={"monthly_fixed_cost": 100}, finetuned={"training": {"examples": 0}})
    r = run(s, test_catalog)
    assert r.break_even.monthly_volume == 0.0
    assert r.break_even.payback_month == 0


def test_no_break_even_when_fine_tuned_query_costs_more(test_catalog: Catalog) -> None:
    s = explicit(finetuned={"prices": {"input": 5.0, "output": 20.0}})
    r = run(s, test_catalog)
    assert r.break_even.monthly_volume is None
    assert r.break_even.queries_to_recoup is None
    assert r.break_even.payback_month is None
    assert r.savings_over_horizon < 0
    assert r.recommendation.approach == "prompt_engineering"


def test_queries_to_recoup_is_zero_when_no_extra_investment(test_catalog: Catalog) -> None:
    s = explicit(prompted={"setup_cost": 50})
    assert run(s, test_catalog).break_even.queries_to_recoup == 0.0


def test_zero_volume_has_no_average_and_no_recoup(test_catalog: Catalog) -> None:
    r = run(explicit(workload={"queries_per_month": 0}), test_catalog)
    assert r.prompted.average_cost_per_query is None
    assert r.prompted.per_query is None
    assert r.break_even.queries_to_recoup is None
    assert r.break_even.payback_month is None  # fine-tuning's one-time cost is never recouped


def test_curves_cross_at_break_even_volume(test_catalog: Catalog) -> None:
    s = explicit()
    r = run(s, test_catalog)
    c = curves(resolve(s, test_catalog), r, points=5, volume_min=100, volume_max=1e6)
    assert [p.volume for p in c.volume] == pytest.approx([100, 1000, 10_000, 100_000, 1e6])
    v = r.break_even.monthly_volume
    first = c.volume[0]
    assert first.volume < v and first.finetuned > first.prompted
    assert all(p.finetuned <= p.prompted for p in c.volume if p.volume > v)
    # steady monthly cost at 1000/month: prompted 3, fine-tuned 0.6 + 10/12
    assert c.volume[1].prompted == pytest.approx(3.0)
    assert c.volume[1].finetuned == pytest.approx(0.6 + 10 / 12)
    assert [p.month for p in c.cumulative] == list(range(13))


def test_default_model_used_only_when_arm_gives_no_prices(test_catalog: Catalog) -> None:
    s = explicit(prompted={"prices": {"input": 2.0, "output": 8.0}})
    assert resolve(s, test_catalog).prompted.model is None


def test_missing_prices_without_model_named(test_catalog: Catalog) -> None:
    with pytest.raises(ScenarioError) as exc:
        run(explicit(prompted={"prices": {"output": 8.0}}), test_catalog)
    assert [i.field for i in exc.value.issues] == ["prompted.prices.input"]


def test_unknown_model_suggests_close_ids(test_catalog: Catalog) -> None:
    with pytest.raises(ScenarioError) as exc:
        run(explicit(prompted={"model": "ft:smal"}), test_catalog)
    issue = exc.value.issues[0]
    assert issue.field == "prompted.model"
    assert "ft:small" in issue.suggestions


def test_base_model_resolves_to_its_fine_tuned_variant(test_catalog: Catalog) -> None:
    s = explicit(finetuned={"model": "small", "prices": {}, "training": {"price_per_mtok": None}})
    r = run(s, test_catalog)
    assert r.finetuned.model == "ft:small"
    assert r.finetuned.prices["input"].value == 0.8
    assert r.finetuned.one_time_cost == pytest.approx(1000 * 1000 / 1e6 * 5.0)
    assert r.prices_as_of == date(2026, 9, 1)
    assert any(w.code == "fine_tuned_variant_used" for w in r.warnings)


def test_explicit_prices_override_catalog(test_catalog: Catalog) -> None:
    s = explicit(prompted={"model": "big", "prices": {"input": 1.0}})
    r = run(s, test_catalog)
    assert r.prompted.prices["input"].source == "request"
    assert r.prompted.prices["output"].source == "catalog:big"
    assert r.prompted.variable_cost_per_query == pytest.approx((1100 * 1.0 + 100 * 8.0) / 1e6)


def test_shutdown_inside_horizon_warns_and_names_arm(test_catalog: Catalog) -> None:
    s = explicit(prompted={"model": "big", "prices": {}}, workload={"start_date": "2026-12-01"})
    r = run(s, test_catalog)
    w = next(w for w in r.warnings if w.code == "model_shutdown")
    assert w.arm == "prompted" and "month 4" in w.message
    assert any(x.code == "lifecycle" for x in r.recommendation.reasons)


def test_retraining_after_fine_tuning_closes_warns(test_catalog: Catalog) -> None:
    s = explicit(
        finetuned={
            "model": "ft:small",
            "prices": {},
            "retrain_every_months": 3,
            "training": {"price_per_mtok": None},
        },
        workload={"start_date": "2026-12-01"},
    )
    r = run(s, test_catalog)
    assert any(w.code == "retraining_after_closure" for w in r.warnings)


def test_stale_prices_flagged(test_catalog: Catalog) -> None:
    # Started before 'big' shuts down (2027-03-15), so it can still be priced on 2027-06-01.
    s = explicit(prompted={"model": "big", "prices": {}}, workload={"start_date": "2026-11-01"})
    fresh = compare(s, test_catalog, today=date(2026, 10, 30), stale_after_days=120)
    stale = compare(s, test_catalog, today=date(2027, 6, 1), stale_after_days=120)
    assert not fresh.prices_stale and stale.prices_stale
    assert any(w.code == "stale_prices" for w in stale.warnings)
