"""What moves the answer when there are several candidates.

- The tornado for the leading candidate (the cheapest over the horizon, or the runner-up when
  the baseline leads) against the baseline: each input of the two, and of the workload, at a
  low and a high value, with the leader's savings, break-even volume and payback against the
  baseline recomputed by the same engine.
- The Monte Carlo: for every sample, every candidate's total by the vectorised kernel of
  uncertainty.py, and from them the probability that each candidate is the cheapest.

Input names are the dotted names of /api/v1/candidates (`candidates.2.static_prompt_tokens`).
Limits and default bounds come from the two arms' fields: a prompted candidate's inputs are
the prompted arm's, a fine-tuned candidate's the fine-tuned arm's.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from app.domain.candidates import (
    CandidatesScenario,
    Costed,
    HybridCandidate,
    cost,
    timelines,
)
from app.domain.engine import FieldIssue, ScenarioError, pair_break_even
from app.domain.sensitivity import (
    SPECS,
    Bound,
    Sensitivity,
    SkippedInput,
    Spec,
    TornadoBar,
    _default_bounds,
    _spread,
)
from app.domain.uncertainty import (
    _CHUNK_CELLS,
    MAX_SAMPLES,
    Distribution,
    Range,
    _arm,
    _col,
    _cumulative,
    _growth_factors,
    _Inputs,
    _rows,
    _take,
    draw,
    summarise,
)
from app.domain.variation import dated, get_value, numeric_fields
from app.pricing.catalog import Catalog

DEFAULT_CANDIDATE_SAMPLES = 5_000


def _role_name(scenario: CandidatesScenario, name: str) -> str | None:
    """The two-arm field a candidate input stands for (`candidates.2.output_tokens` is
    `finetuned.output_tokens` for a fine-tuned candidate), for its limits and bounds."""
    parts = name.split(".")
    if parts[0] != "candidates":
        return name
    if len(parts) < 3 or not parts[1].isdigit() or int(parts[1]) >= len(scenario.candidates):
        return None
    c = scenario.candidates[int(parts[1])]
    rest = ".".join(parts[2:])
    if isinstance(c, HybridCandidate):
        return "hybrid.core_share" if rest == "core_share" else None
    return f"{c.kind}.{rest}"


def _limits(scenario: CandidatesScenario, name: str) -> tuple[float, float, bool] | None:
    role = _role_name(scenario, name)
    if role == "hybrid.core_share":
        return 0.0, 1.0, False
    field = numeric_fields().get(role or "")
    if field is None:
        return None
    return field.minimum, field.maximum, field.integer


def with_value(scenario: CandidatesScenario, name: str, value: float) -> CandidatesScenario:
    """A copy with one numeric input replaced (nested groups created, as explicit values)."""
    data = scenario.model_dump(exclude_unset=True)
    limits = _limits(scenario, name)
    integer = limits is not None and limits[2]
    node: Any = data
    parts = name.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    node[parts[-1]] = int(value) if integer else float(value)
    return CandidatesScenario.model_validate(data)


def _pinned(scenario: CandidatesScenario, costed: Costed) -> CandidatesScenario:
    """Name each candidate's catalog model, so setting a price keeps the rest of its row."""
    data = scenario.model_dump(exclude_unset=True)
    for item, unit in zip(data["candidates"], costed.units, strict=True):
        if item["kind"] != "hybrid" and item.get("model") is None and unit.model is not None:
            item["model"] = unit.model
    return CandidatesScenario.model_validate(data)


def leader(costed: Costed, totals: list[float]) -> int:
    """The cheapest candidate over the horizon; the runner-up when it is the baseline."""
    order = sorted(range(len(totals)), key=lambda i: (totals[i], i))
    b = costed.baseline_index
    return next(i for i in order if i != b)


def _outcome(costed: Costed, i: int) -> tuple[float, float | None, int | None]:
    rows = timelines(costed)
    b = costed.baseline_index
    w = costed.scenario.workload
    be = pair_break_even(costed.units[b], costed.units[i], rows[b], rows[i], w.queries_per_month)
    return rows[b][-1].cumulative - rows[i][-1].cumulative, be.monthly_volume, be.payback_month


def _specs_for(scenario: CandidatesScenario, indices: list[int]) -> list[tuple[str, Spec]]:
    """(candidate input name, the two-arm spec it borrows) for the candidates given."""
    out: list[tuple[str, Spec]] = [(s.name, s) for s in SPECS if s.name.startswith("workload.")]
    for i in indices:
        c = scenario.candidates[i]
        if isinstance(c, HybridCandidate):
            out.append(
                (
                    f"candidates.{i}.core_share",
                    Spec("hybrid.core_share", f"{c.id}: core share", "fraction", "absolute", 0.2),
                )
            )
            continue
        for spec in SPECS:
            arm, _, rest = spec.name.partition(".")
            if arm == c.kind:
                label = spec.label.split(": ", 1)[-1]
                out.append(
                    (
                        f"candidates.{i}.{rest}",
                        Spec(
                            spec.name,
                            f"{c.id}: {label}",
                            spec.unit,
                            spec.rule,
                            spec.delta,
                            spec.floor,
                        ),
                    )
                )
    return out


def _base_value(scenario: CandidatesScenario, costed: Costed, name: str) -> float | str:
    parts = name.split(".")
    if parts[0] == "candidates":
        i, rest = int(parts[1]), ".".join(parts[2:])
        c = scenario.candidates[i]
        unit = costed.units[i]
        if rest.startswith("prices."):
            used = unit.prices.get(rest.removeprefix("prices."))
            if used is None or used.source == "input price":
                return "the candidate has no such price of its own"
            return used.value
        if rest.startswith("self_hosted.") and getattr(c, "self_hosted", None) is None:
            return "self_hosted is not set"
        if unit.self_hosted is not None and (
            rest.startswith("prices.") or rest in ("cache_hit_rate", "batch_share")
        ):
            return "self-hosted serving has no token prices"
    try:
        value = get_value(scenario, name)
    except (AttributeError, IndexError):
        return "not an input of this candidate"
    if value is None or isinstance(value, str):
        return "not set in this scenario"
    return float(value)


def candidate_sensitivity(
    scenario: CandidatesScenario,
    catalog: Catalog,
    bounds: dict[str, Bound] | None = None,
    today: date | None = None,
) -> tuple[str, Sensitivity]:
    """The tornado for the leading candidate against the baseline: (leader id, tornado)."""
    bounds = bounds or {}
    scenario = dated(scenario, today)  # one calendar for every variation
    costed = cost(scenario, catalog, today)
    scenario = _pinned(scenario, costed)
    costed = cost(scenario, catalog, today)
    totals = [rows[-1].cumulative for rows in timelines(costed)]
    lead = leader(costed, totals)
    b = costed.baseline_index
    involved = [b, lead]
    c = scenario.candidates[lead]
    if isinstance(c, HybridCandidate):
        ids = [x.id for x in scenario.candidates]
        involved += [ids.index(c.core), ids.index(c.fallback)]
    issues = [
        FieldIssue(f"bounds.{name}", "not a numeric input of these candidates")
        for name in bounds
        if _limits(scenario, name) is None
    ]
    if issues:
        raise ScenarioError(issues)
    base = _outcome(costed, lead)
    bars: list[tuple[tuple[float, int], TornadoBar]] = []
    skipped: list[SkippedInput] = []
    specs = _specs_for(scenario, list(dict.fromkeys(involved)))
    names = [n for n, _ in specs] + [n for n in bounds if n not in dict(specs)]
    spec_of = dict(specs)
    for order, name in enumerate(names):
        spec = spec_of.get(name) or Spec(_role_name(scenario, name) or name, name, "")
        found = _base_value(scenario, costed, name)
        if name in bounds:
            low, high = bounds[name].low, bounds[name].high
            base_value = found if isinstance(found, float) else None
        elif isinstance(found, str):
            skipped.append(SkippedInput(input=name, reason=found))
            continue
        else:
            base_value = found
            if spec.name == "hybrid.core_share":
                low, high = max(0.0, found - spec.delta), min(1.0, found + spec.delta)
            else:
                low, high = _default_bounds(spec, found)
            if low == high:
                skipped.append(
                    SkippedInput(
                        input=name,
                        reason="the value is 0, so a relative change moves nothing; give bounds",
                    )
                )
                continue
        try:
            at = [
                _outcome(cost(with_value(scenario, name, v), catalog, today), lead)
                for v in (low, high)
            ]
        except (ScenarioError, ValueError) as exc:
            skipped.append(
                SkippedInput(input=name, reason=f"cannot be priced within the bounds: {exc}")
            )
            continue
        savings = [at[0][0], base[0], at[1][0]]
        bars.append(
            (
                (-_spread(savings), order),
                TornadoBar(
                    input=name,
                    label=spec.label,
                    unit=spec.unit,
                    base_value=base_value,
                    low_value=low,
                    high_value=high,
                    savings_low=at[0][0],
                    savings_high=at[1][0],
                    savings_swing=_spread(savings),
                    break_even_low=at[0][1],
                    break_even_high=at[1][1],
                    payback_low=at[0][2],
                    payback_high=at[1][2],
                    flips=len({x > 0 for x in savings}) > 1,
                ),
            )
        )
    bars.sort(key=lambda item: item[0])
    return scenario.candidates[lead].id, Sensitivity(
        horizon_months=scenario.workload.horizon_months,
        base_savings=base[0],
        base_break_even_volume=base[1],
        base_payback_month=base[2],
        bars=[bar for _, bar in bars],
        skipped=skipped,
    )


# --- the Monte Carlo --------------------------------------------------------------------


class CandidateOdds(BaseModel):
    id: str
    probability_cheapest: float = Field(
        description="Share of samples where it costs least over the horizon (ties: the earlier)"
    )
    total_cost: Distribution
    savings_vs_baseline: Distribution


class CandidatesUncertainty(BaseModel):
    samples: int
    seed: int
    horizon_months: int
    baseline: str
    ranges: dict[str, Range]
    candidates: list[CandidateOdds]


def check_candidate_ranges(
    scenario: CandidatesScenario, ranges: dict[str, Range]
) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    for name, rng in ranges.items():
        limits = _limits(scenario, name)
        if limits is None or name == "workload.horizon_months":
            issues.append(FieldIssue(name, "not a numeric input of these candidates that can vary"))
            continue
        lo, hi, integer = limits
        for which in ("low", "mode", "high"):
            v = getattr(rng, which)
            if not (lo <= v <= hi) or (integer and v != int(v)):
                issues.append(FieldIssue(name, f"{which} ({v:g}) must be in [{lo:g}, {hi:g}]"))
        try:
            get_value(scenario, name)
        except (AttributeError, IndexError):
            issues.append(FieldIssue(name, "not an input of this candidate"))
    return issues


def simulate_candidates(
    scenario: CandidatesScenario,
    catalog: Catalog,
    ranges: dict[str, Range],
    *,
    samples: int = DEFAULT_CANDIDATE_SAMPLES,
    seed: int | None = None,
    today: date | None = None,
) -> CandidatesUncertainty:
    """Every candidate's total on each sample; the odds that each is the cheapest."""
    issues = check_candidate_ranges(scenario, ranges)
    if not 1 <= samples <= MAX_SAMPLES:
        issues.append(FieldIssue("samples", f"must be between 1 and {MAX_SAMPLES}"))
    if issues:
        raise ScenarioError(issues)
    seed = secrets.randbits(63) if seed is None else seed
    scenario = dated(scenario, today)  # one calendar for every variation
    scenario = _pinned(scenario, cost(scenario, catalog, today))
    at_mode = scenario
    for name, r in ranges.items():
        at_mode = with_value(at_mode, name, r.mode)
    # Each "required when X > 0" rule is monotone in the inputs: both extremes must price.
    for corner in ("low", "high"):
        s = at_mode
        for name, r in ranges.items():
            s = with_value(s, name, getattr(r, corner))
        cost(s, catalog, today)
    costed = cost(at_mode, catalog, today)
    integers = {n for n in ranges if (limits := _limits(at_mode, n)) is not None and limits[2]}
    drawn = draw(ranges, samples, seed, integers)
    p = _Inputs(at_mode, drawn)  # type: ignore[arg-type]
    H = at_mode.workload.horizon_months
    totals = np.empty((len(costed.units), samples))
    with np.errstate(all="ignore"):
        arms: dict[int, Any] = {}
        for i, (c, unit) in enumerate(zip(at_mode.candidates, costed.units, strict=True)):
            if not isinstance(c, HybridCandidate):
                arms[i] = _arm(p, f"candidates.{i}", unit, H)
        ids = [c.id for c in at_mode.candidates]
        for i, c in enumerate(at_mode.candidates):
            if isinstance(c, HybridCandidate):
                core, fb = arms[ids.index(c.core)], arms[ids.index(c.fallback)]
                share = p(f"candidates.{i}.core_share")
                sc = _col(share)
                arms[i] = replace(
                    core,
                    variable=sc * core.variable + (1 - sc) * fb.variable,
                    fixed=core.fixed + fb.fixed,
                    one_off=core.one_off + fb.one_off,
                    one_time=core.one_time + fb.one_time,
                    share=share,
                )
        q1, growth = p("workload.queries_per_month"), p("workload.monthly_growth")
        chunk = max(1, _CHUNK_CELLS // (H + 1))
        for lo in range(0, samples, chunk):
            rows = slice(lo, min(samples, lo + chunk))
            size = rows.stop - rows.start
            volumes = np.broadcast_to(
                _col(_take(q1, rows)) * _growth_factors(_take(growth, rows), H), (size, H)
            )
            for i, arm in arms.items():
                totals[i, rows] = _cumulative(_rows(arm, rows), volumes)[:, -1]
    cheapest = np.argmin(totals, axis=0)  # the first of equal totals: list order wins ties
    b = costed.baseline_index
    odds = [
        CandidateOdds(
            id=cid,
            probability_cheapest=float((cheapest == i).mean()),
            total_cost=summarise(totals[i], samples),
            savings_vs_baseline=summarise(totals[b] - totals[i], samples),
        )
        for i, cid in enumerate(ids)
    ]
    return CandidatesUncertainty(
        samples=samples,
        seed=seed,
        horizon_months=H,
        baseline=ids[b],
        ranges=ranges,
        candidates=odds,
    )


__all__ = [
    "CandidateOdds",
    "CandidatesUncertainty",
    "candidate_sensitivity",
    "leader",
    "simulate_candidates",
    "with_value",
]
