"""The recommendation's rules (COST_MODEL.md, DECISION_FRAMEWORK.md): approach and reasons."""

from __future__ import annotations

from datetime import date

from app.domain.calendar import add_months, month_of
from app.domain.comparison import Comparison
from app.domain.engine import compare
from app.pricing.catalog import Catalog
from tests.conftest import explicit


def run(**parts: object) -> Comparison:
    return compare(explicit(**parts), Catalog(), today=date(2026, 11, 22))  # type: ignore[arg-type]


def codes(r: Comparison) -> set[str]:
    return {x.code for x in r.recommendation.reasons}


def test_cheaper_fine_tuning_with_a_short_prompt_is_fine_tune_plus_prompt() -> None:
    r = run()
    assert r.savings_over_horizon > 0
    assert r.recommendation.approach == "fine_tune_plus_prompt"
    assert "fine_tuning_cheaper" in codes(r)


def test_no_prompt_left_is_plain_fine_tuning() -> None:
    r = run(finetuned={"static_prompt_tokens": 0})
    assert r.recommendation.approach == "fine_tuning"


def test_never_fine_tuning_on_cost_grounds_when_it_saves_nothing() -> None:
    r = run(
        finetuned={"setup_cost": 1_000_000},
        factors={"strict_format": True, "specialised_domain": True},
    )
    assert r.savings_over_horizon < 0
    assert r.recommendation.approach == "prompt_engineering"
    # the qualitative factors are still named
    assert {"strict_format", "specialised_domain"} <= codes(r)


def test_growth_past_break_even_is_prompt_now_fine_tune_later() -> None:
    # Break-even volume with 30,000 of extra set-up: 30,010 / (12 * 0.0024) = 1,042,013/month.
    r = run(
        workload={"queries_per_month": 500_000, "monthly_growth": 0.1},
        finetuned={"setup_cost": 30_000},
    )
    v = r.break_even.monthly_volume
    assert v is not None and v > 500_000
    # 500,000 * 1.1^(m-1) >= v first in month 9 (1.1^8 = 2.14)
    assert r.recommendation.approach == "prompt_then_fine_tune"
    assert "month 9" in r.recommendation.headline
    reason = next(x for x in r.recommendation.reasons if x.code == "volume_grows_past_break_even")
    assert reason.fields == ["workload.queries_per_month", "workload.monthly_growth"]


def test_too_few_examples_means_collect_data_first() -> None:
    r = run(finetuned={"training": {"examples": 120}})
    assert r.savings_over_horizon > 0
    assert r.recommendation.approach == "prompt_then_fine_tune"
    assert "too_few_examples" in codes(r)
    assert "collect" in r.recommendation.headline.lower()


def test_min_examples_threshold_is_adjustable() -> None:
    r = run(finetuned={"training": {"examples": 120}}, factors={"min_examples": 100})
    assert "too_few_examples" not in codes(r)


def test_volatile_requirements_favour_prompting_first() -> None:
    r = run(factors={"requirements_volatility": "high"})
    assert r.recommendation.approach == "prompt_then_fine_tune"
    assert "requirements_change_often" in codes(r)


def test_every_reason_names_its_inputs() -> None:
    r = run(factors={"strict_format": True}, prompted={"static_prompt_tokens": 5000})
    assert all(x.fields for x in r.recommendation.reasons)
    assert "long_prompt" in codes(r)


def test_calendar_months() -> None:
    start = date(2026, 1, 31)
    assert add_months(start, 1) == date(2026, 2, 28)
    assert month_of(start, date(2026, 1, 31)) == 1
    assert month_of(start, date(2026, 2, 27)) == 1
    assert month_of(start, date(2026, 2, 28)) == 2
    assert month_of(start, date(2025, 12, 1)) == 0
