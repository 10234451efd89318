"""The worked example of docs/cost-model.md, number by number."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.engine import compare
from app.domain.scenario import Scenario
from app.pricing.catalog import Catalog


def example(volume: float) -> Scenario:
    return Scenario.model_validate(
        {
            "workload": {"queries_per_month": volume, "horizon_months": 12},
            "prompted": {
                "prices": {"input": 2, "cached_input": 0.5, "output": 8},
                "static_prompt_tokens": 3000,
                "dynamic_input_tokens": 500,
                "output_tokens": 300,
                "cache_hit_rate": 0.6,
                "setup_cost": 2000,
                "monthly_fixed_cost": 500,
            },
            "finetuned": {
                "prices": {"input": 0.8, "cached_input": 0.2, "output": 3.2},
                "static_prompt_tokens": 200,
                "dynamic_input_tokens": 500,
                "output_tokens": 300,
                "training": {
                    "examples": 1500,
                    "tokens_per_example": 1000,
                    "epochs": 3,
                    "price_per_mtok": 5,
                },
                "cost_per_example": 4,
                "evaluation_cost": 2000,
                "setup_cost": 10000,
                "monthly_fixed_cost": 1000,
                "retrain_every_months": 6,
                "new_examples_per_retrain": 300,
            },
        }
    )


def test_worked_example_at_200k_queries() -> None:
    r = compare(example(200_000), Catalog(), today=date(2026, 11, 22))
    assert r.prompted.variable_cost_per_query == pytest.approx(0.0067)
    assert r.finetuned.variable_cost_per_query == pytest.approx(0.00152)
    assert r.finetuned.one_time_cost == pytest.approx(18_022.50)
    assert r.finetuned.recurring_one_time_cost == pytest.approx(3_222.50)
    assert r.prompted.total_cost == pytest.approx(24_080)
    assert r.finetuned.total_cost == pytest.approx(40_115.50)
    assert r.savings_over_horizon == pytest.approx(-16_035.50)
    assert r.break_even.payback_month is None
    assert r.break_even.monthly_volume == pytest.approx(457_971.36, abs=0.01)
    assert r.break_even.queries_to_recoup == pytest.approx(5_978_544.78, abs=0.01)
    assert r.recommendation.approach == "prompt_engineering"
    assert (
        r.recommendation.headline
        == "Keep prompting: fine-tuning would cost $16,036 more over 12 months."
    )


def test_worked_example_at_1m_queries() -> None:
    r = compare(example(1_000_000), Catalog(), today=date(2026, 11, 22))
    diffs = [
        f.cumulative - p.cumulative
        for p, f in zip(r.prompted.monthly, r.finetuned.monthly, strict=True)
    ]
    assert diffs[:5] == pytest.approx([16_022.50, 11_342.50, 6_662.50, 1_982.50, -2_697.50])
    assert r.break_even.payback_month == 4
    assert r.savings_over_horizon == pytest.approx(33_692.50)
    assert r.break_even.queries_to_recoup == pytest.approx(3_423_611.1, abs=0.1)
    assert r.recommendation.approach == "fine_tune_plus_prompt"
