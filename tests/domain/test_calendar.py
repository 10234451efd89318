"""COST_MODEL.md, "Calendar": worked examples by hand, one per rule, and the laws that hold."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.calendar import Calendar
from app.domain.engine import ScenarioError, compare
from app.domain.scenario import Scenario
from app.pricing.catalog import Catalog, load_catalog

FIXTURES = Path(__file__).parent.parent / "fixtures" / "calendar"
TODAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def cal() -> Catalog:
    return load_catalog(FIXTURES)


def prompted(**arm: Any) -> dict[str, Any]:
    return {
        "model": "old-big",
        "static_prompt_tokens": 0,
        "dynamic_input_tokens": 1000,
        "output_tokens": 500,
        "setup_cost": 2000,
        "monthly_fixed_cost": 0,
        **arm,
    }


def finetuned(**arm: Any) -> dict[str, Any]:
    return {
        "model": "ft:old-small",
        "static_prompt_tokens": 0,
        "dynamic_input_tokens": 1000,
        "output_tokens": 500,
        "setup_cost": 0,
        "monthly_fixed_cost": 0,
        "cost_per_example": 0,
        "evaluation_cost": 100,
        "training": {"examples": 1000, "tokens_per_example": 1000, "epochs": 1},
        **arm,
    }


def scenario(workload: dict[str, Any] | None = None, **arms: Any) -> Scenario:
    return Scenario.model_validate(
        {
            "workload": {
                "queries_per_month": 1000,
                "horizon_months": 4,
                "start_date": "2026-12-01",
                **(workload or {}),
            },
            "prompted": arms.get("prompted", prompted()),
            "finetuned": arms.get("finetuned", finetuned()),
        }
    )


def costs(rows: Any) -> list[float]:
    return [m.cost for m in rows]


def codes(result: Any) -> list[str]:
    return [w.code for w in result.warnings]


def test_months_start_on_the_same_day_clamped_to_the_month_end() -> None:
    c = Calendar.of(date(2027, 1, 31), 3)
    assert c.firsts == (date(2026, 12, 31), date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31))
    assert c.end == date(2027, 4, 30)


def test_shutdown_switches_to_the_successor_and_charges_the_prompt_migration(cal: Catalog) -> None:
    r = compare(scenario(), cal, today=TODAY)
    rows = r.prompted.monthly
    # Dec: (1000*2 + 500*8)/1e6 = 0.006/query. old-big shuts down 2027-01-14: month 2 on
    # new-big (0.003/query) plus the migration (setup_cost, 2000). From 2027-03-01 new-big's
    # input is 1.5: 0.0035/query.
    assert costs(rows) == pytest.approx([2000, 6.0, 3.0 + 2000, 3.0, 3.5], rel=1e-12)
    assert r.prompted.total_cost == pytest.approx(4015.5, rel=1e-12)
    assert [m.model for m in rows] == ["old-big", "old-big", "new-big", "new-big", "new-big"]
    assert [e.code for e in rows[2].events] == ["shutdown_switch", "migration"]
    assert [e.code for e in rows[4].events] == ["price_change"]
    assert r.prompted.variable_cost_per_query == pytest.approx(0.006)
    shutdown = next(w for w in r.warnings if w.code == "model_shutdown" and w.arm == "prompted")
    assert "month 2" in shutdown.message and "new-big" in shutdown.message
    assert "$2,000" in shutdown.message


def test_fine_tuned_row_shuts_down_with_its_base_and_migrates_by_retraining(cal: Catalog) -> None:
    s = scenario(finetuned=finetuned(retrain_every_months=2))
    r = compare(s, cal, today=TODAY)
    rows = r.finetuned.monthly
    # One-time: training 1e6 tokens * 5/MTok = 5, plus evaluation 100. ft:old-small's base shuts
    # down 2027-01-14 (before its own 2027-06-30): month 2 on ft:new-small (0.0015/query);
    # migration = a training run at the successor's 3/MTok + evaluation = 103; retraining in
    # months 2 and 4 after the switch costs the same 103.
    assert costs(rows) == pytest.approx([105, 2.4, 1.5 + 103 + 103, 1.5, 1.5 + 103], rel=1e-12)
    assert r.finetuned.total_cost == pytest.approx(420.9, rel=1e-12)
    assert [e.code for e in rows[2].events] == ["shutdown_switch", "migration", "retraining"]
    # Fine-tuning on ft:old-small closes 2027-01-06: month 4 (from 2027-03-01) is after it.
    assert [e.code for e in rows[4].events] == ["retraining", "retraining_after_closure"]
    late = next(w for w in r.warnings if w.code == "retraining_after_closure")
    assert "months 4" in late.message
    assert "fine_tuning_closed" not in codes(r)


def test_no_successor_keeps_prices_and_still_charges_the_migration(cal: Catalog) -> None:
    r = compare(scenario(prompted=prompted(model="lonely")), cal, today=TODAY)
    # lonely: (1000*1 + 500*1)/1e6 = 0.0015/query; shuts down 2027-02-10, month 3.
    assert costs(r.prompted.monthly) == pytest.approx([2000, 1.5, 1.5, 1.5 + 2000, 1.5])
    assert {"model_shutdown", "no_successor"} <= set(codes(r))
    assert [m.model for m in r.prompted.monthly][3] == "lonely"


def test_a_given_migration_cost_and_successor_win(cal: Catalog) -> None:
    s = scenario(prompted=prompted(successor="lonely", migration_cost=50))
    r = compare(s, cal, today=TODAY)
    # Month 2 on: lonely at 0.0015/query; migration 50. lonely then shuts down in month 3 with
    # no successor of its own: another migration of its setup cost... given as 50 as well.
    assert costs(r.prompted.monthly)[:3] == pytest.approx([2000, 6.0, 1.5 + 50])


def test_given_prices_win_in_every_month(cal: Catalog) -> None:
    s = scenario(prompted=prompted(prices={"input": 2.0, "output": 8.0}))
    r = compare(s, cal, today=TODAY)
    assert costs(r.prompted.monthly) == pytest.approx([2000, 6.0, 6.0 + 2000, 6.0, 6.0])


def test_a_model_already_shut_down_is_refused_with_its_successor(cal: Catalog) -> None:
    with pytest.raises(ScenarioError) as exc:
        compare(scenario(prompted=prompted(model="gone")), cal, today=TODAY)
    issue = exc.value.issues[0]
    assert issue.field == "prompted.model"
    assert issue.suggestions == ("new-big",)
    assert "new-big" in issue.reason
    # The start date decides, not today: a scenario starting after 2027-01-14 refuses old-big.
    with pytest.raises(ScenarioError, match=r"prompted\.model"):
        compare(scenario({"start_date": "2027-01-14"}), cal, today=TODAY)


def test_closure_before_month_zero_warns_and_never_advises_fine_tuning(cal: Catalog) -> None:
    # ft:closing takes no jobs from 2026-12-15; month 0 of a 2027-01-20 start begins 2026-12-20.
    s = scenario(
        {"start_date": "2027-01-20", "queries_per_month": 10_000_000},
        prompted=prompted(model="new-big"),
        finetuned=finetuned(model="ft:closing"),
    )
    r = compare(s, cal, today=TODAY)
    assert "fine_tuning_closed" in codes(r)
    assert r.savings_over_horizon > 0  # cheaper, yet:
    assert r.recommendation.approach == "prompt_engineering"
    # Month 0 of a 2027-01-14 start begins 2026-12-14, before the closure: still open.
    open_ = compare(
        scenario(
            {"start_date": "2027-01-14"},
            prompted=prompted(model="new-big"),
            finetuned=finetuned(model="ft:closing"),
        ),
        cal,
        today=TODAY,
    )
    assert "fine_tuning_closed" not in codes(open_)


def test_ignore_bills_every_month_at_start_prices_but_still_warns(cal: Catalog) -> None:
    r = compare(
        scenario({"lifecycle": "ignore"}, finetuned=finetuned(retrain_every_months=2)),
        cal,
        today=TODAY,
    )
    assert costs(r.prompted.monthly) == pytest.approx([2000, 6.0, 6.0, 6.0, 6.0])
    # Retraining at ft:old-small's own price: 5 + 100.
    assert costs(r.finetuned.monthly) == pytest.approx([105, 2.4, 2.4 + 105, 2.4, 2.4 + 105])
    assert all(
        not m.events or {e.code for e in m.events} <= {"retraining", "retraining_after_closure"}
        for m in r.finetuned.monthly
    )
    assert {"model_shutdown", "retraining_after_closure"} <= set(codes(r))


def test_present_value_discounts_month_m_by_its_twelfth_power(cal: Catalog) -> None:
    r = compare(scenario({"discount_rate": 0.12}), cal, today=TODAY)
    expected = sum(c * 1.12 ** (-m / 12) for m, c in enumerate(costs(r.prompted.monthly)))
    assert r.present_value.prompted == pytest.approx(expected, rel=1e-12)
    assert r.present_value.savings == pytest.approx(
        r.present_value.prompted - r.present_value.finetuned
    )
    flat = compare(scenario(), cal, today=TODAY)
    assert flat.present_value.prompted == flat.prompted.total_cost
    assert flat.present_value.savings == flat.savings_over_horizon


def test_break_even_volume_sums_each_months_prices(cal: Catalog) -> None:
    r = compare(scenario(finetuned=finetuned(setup_cost=5000)), cal, today=TODAY)
    # Constant V: prompted 2000 + 2000 + V*(0.006 + 0.003 + 0.003 + 0.0035);
    # fine-tuned 5105 + 103 + V*(0.0024 + 3*0.0015). Equal at V = 1208/0.0086.
    assert r.break_even.monthly_volume == pytest.approx(1208 / 0.0086, rel=1e-12)


def test_queries_to_recoup_uses_month_one_as_billed_migration_included(cal: Catalog) -> None:
    # Starting 2027-01-02, old-big's shutdown (2027-01-14) falls in month 1.
    s = scenario(
        {"start_date": "2027-01-02"}, finetuned=finetuned(model="ft:new-small", setup_cost=5000)
    )
    r = compare(s, cal, today=TODAY)
    assert r.prompted.monthly[1].cost == pytest.approx(3.0 + 2000)
    saving = (2003.0 - 1.5) / 1000
    assert r.break_even.queries_to_recoup == pytest.approx((5103 - 2000) / saving, rel=1e-12)


# --- laws -------------------------------------------------------------------------------

volumes = st.floats(min_value=0, max_value=1e8, allow_nan=False)
growth = st.floats(min_value=-0.5, max_value=1.0, allow_nan=False)
horizons = st.integers(min_value=1, max_value=36)
starts = st.dates(min_value=date(2026, 6, 2), max_value=date(2027, 12, 31))


def _without_lifecycles(catalog: Catalog) -> Catalog:
    models = {
        k: m.model_copy(update={"lifecycle": None, "price_changes": []})
        for k, m in catalog.models.items()
    }
    return Catalog(models=models, provenance=catalog.provenance)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    q=volumes,
    g=growth,
    h=horizons,
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 5, 1)),
)
def test_ignore_with_no_price_changes_equals_a_catalog_without_calendar(
    q: float, g: float, h: int, start: date
) -> None:
    cal = load_catalog(FIXTURES)
    flat = _without_lifecycles(cal)
    s = scenario(
        {
            "queries_per_month": q,
            "monthly_growth": g,
            "horizon_months": h,
            "start_date": start.isoformat(),
            "lifecycle": "ignore",
        },
        prompted=prompted(model="lonely"),
        finetuned=finetuned(model="ft:new-small", retrain_every_months=3),
    )
    a = compare(s, cal, today=TODAY)
    b = compare(s, flat, today=TODAY)
    assert costs(a.prompted.monthly) == costs(b.prompted.monthly)
    assert costs(a.finetuned.monthly) == costs(b.finetuned.monthly)
    assert a.break_even == b.break_even


@settings(max_examples=60, deadline=None, derandomize=True)
@given(q=volumes, h=horizons, first=st.integers(0, 40), later=st.integers(0, 40))
def test_a_later_shutdown_never_costs_more_when_the_successor_is_dearer(
    q: float, h: int, first: int, later: int
) -> None:
    cal = load_catalog(FIXTURES)
    dearer = cal.models["new-big"].model_copy(
        update={
            "prices": cal.models["new-big"].prices.model_copy(update={"input": 3.0, "output": 9.0}),
            "price_changes": [],
        }
    )

    def total(months_after: int) -> float:
        when = Calendar.of(date(2026, 12, 2), 60).firsts[1 + months_after]
        old = cal.models["old-big"]
        moved = old.model_copy(
            update={"lifecycle": old.lifecycle.model_copy(update={"shutdown": when})}
        )  # type: ignore[union-attr]
        catalog = Catalog(
            models={**cal.models, "old-big": moved, "new-big": dearer}, provenance=cal.provenance
        )
        s = scenario({"queries_per_month": q, "horizon_months": h, "start_date": "2026-12-01"})
        return compare(s, catalog, today=TODAY).prompted.total_cost

    lo, hi = sorted((first, later))
    assert total(hi) <= total(lo) * (1 + 1e-12)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(q=volumes, g=growth, h=horizons, start=starts)
def test_a_zero_discount_rate_leaves_present_values_equal_to_totals(
    q: float, g: float, h: int, start: date
) -> None:
    cal = load_catalog(FIXTURES)
    s = scenario(
        {
            "queries_per_month": q,
            "monthly_growth": g,
            "horizon_months": h,
            "start_date": start.isoformat(),
        },
        prompted=prompted(model="new-big"),
        finetuned=finetuned(model="ft:new-small"),
    )
    r = compare(s, cal, today=TODAY)
    assert r.present_value.prompted == r.prompted.total_cost
    assert r.present_value.finetuned == r.finetuned.total_cost
    assert r.present_value.savings == r.savings_over_horizon
