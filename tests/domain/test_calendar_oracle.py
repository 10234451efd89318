"""The engine on the calendar against a second, naive reading of COST_MODEL.md's calendar.

Random catalogs of four rows (a prompted model and its successor, a fine-tune and its
successor) with random shutdowns, a dated price change, a fine-tuning closure; random start
dates, horizons, discount rates and both lifecycle modes. The oracle walks the months from
the contract's words with no code shared with app/domain (its own date arithmetic, a
brute-force grid and bisection for the break-even volume). Per-token serving only: the
self-hosted steps are covered by test_spec_oracle.py and test_solve.py.
"""

from __future__ import annotations

import calendar
import math
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.engine import compare
from app.domain.scenario import Scenario
from app.pricing.catalog import Catalog
from app.pricing.schema import ModelEntry

TODAY = date(2026, 12, 1)
SRC = {"source": "https://example.com/p", "as_of": "2026-11-01", "confidence": "provider"}


def month_start(start: date, k: int) -> date:
    """start + k calendar months, the day clamped: written again here on purpose."""
    total = start.year * 12 + (start.month - 1) + k
    y, m = divmod(total, 12)
    return date(y, m + 1, min(start.day, calendar.monthrange(y, m + 1)[1]))


def oracle(s: dict[str, Any], rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    w = s["workload"]
    H, Q1, g = w["horizon_months"], w["queries_per_month"], w["monthly_growth"]
    start = date.fromisoformat(w["start_date"])
    follow = w["lifecycle"] == "follow"
    r = w["discount_rate"]
    first = [month_start(start, m - 1) for m in range(H + 1)]  # first[0]: month 0
    end = month_start(start, H)

    def shutdown(rid: str) -> date | None:
        row = rows[rid]
        dates = [row["shutdown"]] if row.get("shutdown") else []
        base = rows.get(row.get("base") or "")
        if base and base.get("shutdown"):
            dates.append(base["shutdown"])
        return min(dates) if dates else None

    def prices(rid: str, when: date) -> dict[str, float]:
        p = dict(rows[rid]["prices"])
        for change in rows[rid].get("changes", []):
            if change["from"] <= when:
                p.update(change["prices"])
        return p

    def month_of(when: date) -> int:
        return next(
            m for m in range(1, H + 1) if first[m] <= when < (first[m + 1] if m < H else end)
        )

    warnings: set[str] = set()

    def arm_costs(arm_name: str) -> Any:
        arm = s[arm_name]
        rid = arm["model"]
        switches: list[tuple[int, str | None]] = []
        current: str | None = rid
        while current is not None:
            d = shutdown(current)
            if d is None or d >= end:
                break
            successor = rows[current].get("successor")
            switches.append((month_of(max(d, start)), successor))
            warnings.add("model_shutdown")
            if successor is None:
                warnings.add("no_successor")
            current = successor

        def row_in(m: int) -> str:
            row = rid
            if follow:
                for k, succ in switches:
                    if m >= k and succ is not None:
                        row = succ
            return row

        def variable(m: int) -> float:
            row = row_in(m)
            p = prices(row, first[m] if follow else start)
            S, D, O = arm["static_prompt_tokens"], arm["dynamic_input_tokens"], arm["output_tokens"]
            return (S * p["input"] + D * p["input"] + O * p["output"]) / 1e6

        def training(row: str | None) -> float:
            t = arm["training"]
            own = rows[rid]["training"]
            price = rows[row]["training"] if row is not None and rows[row].get("training") else own
            return t["examples"] * t["tokens_per_example"] * t["epochs"] / 1e6 * price

        one_off = [0.0] * (H + 1)
        if arm_name == "prompted":
            one_time = arm["setup_cost"]
            for k, _ in switches if follow else []:
                one_off[k] += arm["setup_cost"]
        else:
            t = arm["training"]
            one_time = (
                t["examples"] * arm["cost_per_example"]
                + training(rid)
                + arm["evaluation_cost"]
                + arm["setup_cost"]
            )
            for k, succ in switches if follow else []:
                one_off[k] += training(succ) + arm["evaluation_cost"]
            R = arm["retrain_every_months"]
            closes = rows[rid].get("closes")
            if closes and closes <= first[0]:
                warnings.add("fine_tuning_closed")
            for m in range(R, H + 1, R) if R else []:
                row = None
                for k, succ in switches if follow else []:
                    if m >= k:
                        row = succ
                one_off[m] += (
                    training(row)
                    + arm["evaluation_cost"]
                    + arm["new_examples_per_retrain"] * arm["cost_per_example"]
                )
                if closes and first[m] >= closes:
                    warnings.add("retraining_after_closure")

        def month_costs(q_of: Any) -> list[float]:
            return [one_time] + [
                q_of(m) * variable(m) + arm["monthly_fixed_cost"] + one_off[m]
                for m in range(1, H + 1)
            ]

        return month_costs

    out = {name: arm_costs(name) for name in ("prompted", "finetuned")}
    volumes = lambda m: Q1 * (1 + g) ** (m - 1)  # noqa: E731
    pr, ft = out["prompted"](volumes), out["finetuned"](volumes)
    cum_pr = [sum(pr[: m + 1]) for m in range(H + 1)]
    cum_ft = [sum(ft[: m + 1]) for m in range(H + 1)]
    payback = next(
        (m for m in range(H + 1) if cum_ft[m] <= cum_pr[m] + 1e-9 * max(abs(cum_pr[m]), 1)), None
    )

    def diff(v: float) -> float:
        return sum(out["finetuned"](lambda m: v)) - sum(out["prompted"](lambda m: v))

    volume: float | None
    if diff(0.0) <= 1e-9 * max(sum(out["prompted"](lambda m: 0.0)), 1):
        volume = 0.0
    else:
        grid = [10 ** (k / 50) for k in range(0, 601)]
        hit = next((v for v in grid if diff(v) <= 0), None)
        if hit is None:
            volume = None
        else:
            lo, hi = hit / 10 ** (1 / 50), hit
            for _ in range(200):
                mid = (lo + hi) / 2
                lo, hi = (lo, mid) if diff(mid) <= 0 else (mid, hi)
            volume = hi
    pv = [sum(c * (1 + r) ** (-m / 12) for m, c in enumerate(x)) for x in (pr, ft)]
    saving = (pr[1] - ft[1]) / Q1 if Q1 > 0 else 0.0
    extra = ft[0] - pr[0]
    recoup = None if Q1 == 0 or saving <= 0 else (0.0 if extra <= 0 else extra / saving)
    return {
        "monthly_prompted": pr,
        "monthly_finetuned": ft,
        "payback": payback,
        "volume": volume,
        "recoup": recoup,
        "pv": pv,
        "warnings": warnings,
    }


days = st.dates(min_value=date(2026, 7, 1), max_value=date(2029, 6, 30))


@st.composite
def worlds(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    def price() -> dict[str, float]:
        return {"input": draw(st.floats(0.05, 20)), "output": draw(st.floats(0.1, 60))}

    rows: dict[str, dict[str, Any]] = {
        "p-old": {"prices": price(), "shutdown": draw(st.none() | days), "successor": "p-new"},
        "p-new": {
            "prices": price(),
            "changes": [{"from": draw(days), "prices": {"input": draw(st.floats(0.05, 20))}}],
        },
        "f-old": {
            "prices": price(),
            "training": draw(st.floats(0.5, 30)),
            "shutdown": draw(st.none() | days),
            "closes": draw(st.none() | days),
            "successor": draw(st.sampled_from(["f-new", "p-new", None])),
        },
        "f-new": {"prices": price(), "training": draw(st.none() | st.floats(0.5, 30))},
    }
    if draw(st.booleans()):
        rows["p-old"]["successor"] = None
    start = draw(st.dates(min_value=date(2026, 6, 1), max_value=date(2027, 12, 31)))
    for rid in ("p-old", "f-old"):  # the scenario's own models must still run at the start
        if rows[rid]["shutdown"] is not None and rows[rid]["shutdown"] <= start:
            rows[rid]["shutdown"] = None

    def arm(ft: bool) -> dict[str, Any]:
        return {
            "model": "f-old" if ft else "p-old",
            "static_prompt_tokens": draw(st.integers(0, 4000)),
            "dynamic_input_tokens": draw(st.integers(0, 2000)),
            "output_tokens": draw(st.integers(1, 1000)),
            "setup_cost": draw(st.floats(0, 20_000)),
            "monthly_fixed_cost": draw(st.floats(0, 2000)),
        }

    ft = arm(True) | {
        "training": {
            "examples": draw(st.integers(0, 10_000)),
            "tokens_per_example": draw(st.integers(0, 2000)),
            "epochs": draw(st.integers(1, 4)),
        },
        "cost_per_example": draw(st.floats(0, 5)),
        "evaluation_cost": draw(st.floats(0, 3000)),
        "retrain_every_months": draw(st.integers(0, 6)),
        "new_examples_per_retrain": draw(st.integers(0, 1000)),
    }
    scenario = {
        "workload": {
            "queries_per_month": draw(st.floats(0, 2e7)),
            "monthly_growth": draw(st.floats(-0.2, 0.3)),
            "horizon_months": draw(st.integers(1, 36)),
            "start_date": start.isoformat(),
            "lifecycle": draw(st.sampled_from(["follow", "ignore"])),
            "discount_rate": draw(st.sampled_from([0.0, 0.08, 0.5])),
        },
        "prompted": arm(False),
        "finetuned": ft,
    }
    return scenario, rows


def catalog_of(rows: dict[str, dict[str, Any]]) -> Catalog:
    models = {}
    for rid, row in rows.items():
        fine = rid.startswith("f-")
        data: dict[str, Any] = {
            "id": rid,
            "name": rid,
            "provider": "oracle",
            "kind": "fine_tuned" if fine else "general",
            "prices": row["prices"],
            **SRC,
        }
        if fine:
            data["base_model"] = "nobase"
            data["training"] = (
                {"price_per_mtok": row["training"]} if row.get("training") is not None else {}
            )
        life = {k: row[k] for k in ("shutdown", "successor") if row.get(k) is not None}
        if row.get("closes"):
            life["fine_tuning_closes"] = row["closes"]
        if life:
            data["lifecycle"] = life
        if row.get("changes"):
            data["price_changes"] = [{**c, **SRC} for c in row["changes"]]
        models[rid] = ModelEntry.model_validate(data)
    return Catalog(models=models)


def close(a: float | None, b: float | None, rel: float) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


LIFECYCLE = {"model_shutdown", "no_successor", "fine_tuning_closed", "retraining_after_closure"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_engine_agrees_with_a_naive_reading_of_the_calendar(world: Any) -> None:
    data, rows = world
    expected = oracle(data, rows)
    r = compare(Scenario.model_validate(data), catalog_of(rows), today=TODAY)
    for got, want in (
        (r.prompted.monthly, expected["monthly_prompted"]),
        (r.finetuned.monthly, expected["monthly_finetuned"]),
    ):
        assert all(close(m.cost, c, 1e-9) for m, c in zip(got, want, strict=True)), (
            [m.cost for m in got],
            want,
        )
    assert r.break_even.payback_month == expected["payback"]
    assert close(r.break_even.queries_to_recoup, expected["recoup"], 1e-9)
    assert close(r.break_even.monthly_volume, expected["volume"], 1e-6)
    assert close(r.present_value.prompted, expected["pv"][0], 1e-9)
    assert close(r.present_value.finetuned, expected["pv"][1], 1e-9)
    assert {w.code for w in r.warnings} & LIFECYCLE == expected["warnings"]
