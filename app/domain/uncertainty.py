"""Uncertainty (Monte Carlo): how likely fine-tuning is to pay back, given ranges of guesses.

Any numeric input can be given as a range {low, mode, high} with a triangular or PERT
distribution. Each sample is a full scenario; the cost model of COST_MODEL.md is evaluated on
all samples at once by a numpy kernel that mirrors engine.py's formulas *and their order of
operations*, so a sample equals what `compare` returns for that scenario (exactly where no
power of a sampled growth rate is involved, to a few ulps where one is: numpy's vectorised
`pow` may round differently from the C library's).

Null outcomes are kept honest: a sample with no payback month (or no break-even volume) ranks
above every sample that has one, so a percentile that falls among them is null, and the share
of such samples is reported.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal, TypeGuard

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.domain.engine import (
    HOURS_PER_MONTH,
    MTOK,
    SECONDS_PER_MONTH,
    TIE,
    ArmCosts,
    FieldIssue,
    Resolved,
    ScenarioError,
    resolve,
)
from app.domain.scenario import MAX_VOLUME, Scenario
from app.domain.solve import Steps, first_root
from app.domain.variation import (
    NOT_VARIABLE,
    Outcome,
    dated,
    get_value,
    missing_group,
    numeric_fields,
    outcome,
    pin_models,
    variable_fields,
    with_values,
)
from app.pricing.catalog import Catalog
from app.pricing.schema import ModelEntry

DEFAULT_SAMPLES = 10_000
MAX_SAMPLES = 100_000
DEFAULT_BINS = 30
MAX_BINS = 200
_CHUNK_CELLS = 1_000_000  # samples x months evaluated at once: bounds memory, not results

Array = npt.NDArray[np.float64]
Value = float | Array  # an input: one number for every sample, or one per sample


class Range(BaseModel):
    """A guess: lowest plausible, most likely and highest plausible value."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    low: float
    mode: float = Field(description="Most likely value")
    high: float
    distribution: Literal["triangular", "pert"] = "pert"

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not (self.low <= self.mode <= self.high):
            raise ValueError(
                f"need low <= mode <= high, got {self.low:g}, {self.mode:g}, {self.high:g}"
            )
        return self


class Distribution(BaseModel):
    """Percentiles of one outcome over all samples; null where the percentile falls among
    samples without a value (no payback, no break-even)."""

    p10: float | None
    p50: float | None
    p90: float | None
    mean: float | None = Field(description="Mean over the samples that have a value")
    min: float | None
    max: float | None
    share_without_value: float = Field(description="Share of samples with no value (null)")


class HistogramBin(BaseModel):
    low: float = Field(description="USD, inclusive")
    high: float = Field(description="USD, exclusive except for the last bin")
    count: int


class PointOutcome(BaseModel):
    savings_over_horizon: float
    payback_month: int | None
    break_even_volume: float | None


class Uncertainty(BaseModel):
    samples: int
    seed: int = Field(description="Seed of this run: pass it again to reproduce it")
    horizon_months: int
    ranges: dict[str, Range]
    at_mode: PointOutcome = Field(
        description="The deterministic result with every ranged input at its mode"
    )
    savings: Distribution = Field(description="savings_over_horizon (USD)")
    payback_month: Distribution
    break_even_volume: Distribution = Field(description="break_even.monthly_volume")
    probability_payback_within_horizon: float = Field(
        description="Share of samples where fine-tuning pays back within the horizon"
    )
    probability_savings_positive: float = Field(
        description="Share of samples where fine-tuning saves money over the horizon"
    )
    savings_histogram: list[HistogramBin]


# --- validation -------------------------------------------------------------------------


def check_ranges(scenario: Scenario, ranges: dict[str, Range]) -> list[FieldIssue]:
    """Issues with the ranges, each naming the range (a dotted input name)."""
    fields = variable_fields()
    issues: list[FieldIssue] = []
    for name, rng in ranges.items():
        field = fields.get(name)
        if field is None:
            reason = (
                f"cannot vary: {NOT_VARIABLE[name]}"
                if name in NOT_VARIABLE
                else "not a numeric input of the scenario"
            )
            issues.append(FieldIssue(name, reason))
            continue
        group = missing_group(scenario, name)
        if group is not None:
            issues.append(FieldIssue(name, f"{group} is not set in the scenario"))
            continue
        for which in ("low", "mode", "high"):
            value = getattr(rng, which)
            if not field.contains(value):
                issues.append(FieldIssue(name, f"{which} ({value:g}) must be {field.describe()}"))
    return issues


# --- sampling ---------------------------------------------------------------------------


def sample_range(rng: np.random.Generator, r: Range, n: int, integer: bool) -> Value:
    """`n` draws, or the single value when the range is a point (so it stays exact)."""
    if r.low == r.high:
        return r.low
    width = r.high - r.low
    if r.distribution == "pert":
        alpha = 1 + 4 * (r.mode - r.low) / width
        beta = 1 + 4 * (r.high - r.mode) / width
        x = r.low + rng.beta(alpha, beta, n) * width
    else:
        # Inverse CDF of the triangular distribution (numpy's own rejects low == high).
        u = rng.random(n)
        split = (r.mode - r.low) / width
        x = np.where(
            u < split,
            r.low + np.sqrt(u * width * (r.mode - r.low)),
            r.high - np.sqrt((1 - u) * width * (r.high - r.mode)),
        )
    x = np.clip(x, r.low, r.high)
    return np.rint(x) if integer else x


def draw(
    ranges: dict[str, Range], n: int, seed: int, integers: set[str] | None = None
) -> dict[str, Value]:
    """Samples per ranged input, in name order so a seed means the same draws for any
    request key order. `integers`: the names sampled as whole numbers (default: the
    scenario's integer fields)."""
    rng = np.random.default_rng(seed)
    if integers is None:
        fields = numeric_fields()
        integers = {name for name in ranges if fields[name].integer}
    return {name: sample_range(rng, ranges[name], n, name in integers) for name in sorted(ranges)}


# --- the vectorised cost model ----------------------------------------------------------


@dataclass(frozen=True)
class Outcomes:
    """Per-sample results. payback: -1 where none; break_even: nan where none."""

    savings: Array
    payback: npt.NDArray[np.int64]
    break_even: Array


def _per_sample(x: object) -> TypeGuard[Array]:
    return isinstance(x, np.ndarray) and x.ndim == 1


def _col(x: Value) -> Value:
    """An input as a column for (samples x months) broadcasting."""
    return x[:, None] if _per_sample(x) else x


def _at_most(a: Value, b: Value) -> npt.NDArray[np.bool_]:
    # engine._at_most, elementwise.
    return np.asarray(a <= b + TIE * np.maximum(np.maximum(np.abs(a), np.abs(b)), 1.0))


def _auto_epochs(examples: Value) -> Value:
    # engine.auto_epochs, elementwise, on integer-valued floats.
    ex = np.asarray(examples, dtype=np.float64)
    safe = np.maximum(ex, 1.0)
    small = np.minimum(25.0, np.floor_divide(100.0, safe))
    large = np.maximum(1.0, np.floor_divide(25_000.0, safe))
    out = np.where(
        ex <= 0, 3.0, np.where(ex * 3 < 100, small, np.where(ex * 3 > 25_000, large, 3.0))
    )
    return out if isinstance(examples, np.ndarray) else float(out)


@dataclass(frozen=True)
class _Arm:
    """ArmCosts with array-valued numbers: month arrays are (samples or 1, H)."""

    variable: Array
    fixed: Array
    one_off: Array
    one_time: Value
    # self-hosted serving, or None for per-token
    seconds_per_query: Value | None = None
    peak_to_average: Value = 1.0
    target_utilization: Value = 1.0
    min_replicas: Value = 0.0
    replica_monthly_cost: Value = 0.0
    share: Value = 1.0  # of the volume the self-hosted capacity serves (a hybrid's core)


class _Inputs:
    """Reads an input: its samples when ranged, else the (mode) scenario's value."""

    def __init__(self, scenario: Scenario, samples: dict[str, Value]) -> None:
        self.scenario = scenario
        self.samples = samples

    def __call__(self, name: str) -> Value:
        value = self.get(name)
        assert value is not None, name
        return value

    def get(self, name: str) -> Value | None:
        if name in self.samples:
            return self.samples[name]
        value = get_value(self.scenario, name)
        if value is None or isinstance(value, str):
            return None
        return float(value)


Mask = npt.NDArray[np.bool_] | bool


def _price(
    p: _Inputs,
    arm: str,
    key: str,
    entry: ModelEntry | None,
    in_force: dict[str, tuple[float, str]],
    long_context: Mask | None,
) -> Value:
    """engine._token_regime for one key; nan where the arm has no such price."""
    explicit = p.get(f"{arm}.prices.{key}")
    if explicit is not None:
        return explicit
    if entry is None:
        return math.nan
    base = in_force[key][0] if key in in_force else math.nan
    if long_context is not None and entry.long_context is not None:
        tier = getattr(entry.long_context.prices, key)
        if tier is not None:
            return np.where(long_context, float(tier), base)
    return base


def _variable_per_token(
    p: _Inputs, arm: str, entry: ModelEntry | None, in_force: dict[str, tuple[float, str]]
) -> Value:
    S = p(f"{arm}.static_prompt_tokens")
    D = p(f"{arm}.dynamic_input_tokens")
    O = p(f"{arm}.output_tokens")
    h = p(f"{arm}.cache_hit_rate")
    errors = p(f"{arm}.error_rate") * p(f"{arm}.cost_per_error")
    long_context: Mask | None = None
    if entry is not None and entry.long_context is not None:
        long_context = entry.long_context.threshold_tokens < S + D
    p_in = _price(p, arm, "input", entry, in_force, long_context)
    p_out = _price(p, arm, "output", entry, in_force, long_context)
    p_cached = _price(p, arm, "cached_input", entry, in_force, long_context)
    p_write = _price(p, arm, "cache_write", entry, in_force, long_context)
    p_write = np.where(np.isnan(p_write), p_in, p_write)  # a miss billed as input
    has_cached = ~np.isnan(p_cached)
    discount = p.get(f"{arm}.prices.batch_discount")
    if discount is None:
        discount = entry.batch_discount if entry is not None else 0.0
    minimum = entry.min_cacheable_tokens if entry is not None else 0
    # engine._effective_hit_rate: no cache price, or a prefix below the model's minimum -> 0.
    h_eff = np.where((h == 0) | (S == 0), h, np.where(has_cached & ~(minimum > S), h, 0.0))
    p_read = np.where(has_cached, p_cached, p_in)
    keep = 1 - p(f"{arm}.batch_share") * discount
    tokens_cost = (S * (h_eff * p_read + (1 - h_eff) * p_write) + D * p_in + O * p_out) / MTOK
    return tokens_cost * keep + errors


def _training_cost(
    p: _Inputs, entry: ModelEntry | None, fallback: ModelEntry | None, arm: str = "finetuned"
) -> Value:
    """engine._training_cost, elementwise: `entry`'s price first, then `fallback`'s."""
    t = f"{arm}.training"
    rows = [r.training for r in (entry, fallback) if r is not None and r.training is not None]
    gpu_hours = p.get(f"{t}.gpu_hours")
    if gpu_hours is not None:
        hourly = p.get(f"{t}.gpu_hourly_price")
        minimum = 0.0
        if hourly is None:
            for tr in rows:
                if tr.price_per_hour is not None:
                    hourly, minimum = tr.price_per_hour, tr.minimum_per_job or 0.0
                    break
        if hourly is None:
            hourly = p(f"{arm}.self_hosted.gpu_hourly_price")
        return np.where(gpu_hours > 0, np.maximum(gpu_hours * hourly, minimum), 0.0)
    examples = p(f"{t}.examples")
    epochs = p.get(f"{t}.epochs")
    if epochs is None:  # 'auto'
        epochs = _auto_epochs(examples)
    tokens = examples * p(f"{t}.tokens_per_example") * epochs
    price = p.get(f"{t}.price_per_mtok")
    minimum = 0.0
    if price is None:
        found = next((tr for tr in rows if tr.price_per_mtok is not None), None)
        # nan is only ever multiplied by tokens == 0: resolve() rejected the rest.
        price = math.nan if found is None or found.price_per_mtok is None else found.price_per_mtok
        minimum = 0.0 if found is None else found.minimum_per_job or 0.0
    return np.where(tokens == 0, 0.0, np.maximum(tokens / MTOK * price, minimum))


def _months(x: Value, horizon: int) -> Array:
    """A per-sample or single value as a (samples or 1, H) month array."""
    return np.broadcast_to(np.asarray(_col(x), dtype=np.float64), (np.size(x), horizon))


def _arm(p: _Inputs, name: str, costs: ArmCosts, horizon: int) -> _Arm:
    """The kernel's arm, priced on the same months (rows, dated prices, switches) as `costs`.
    `name` prefixes the inputs (`prompted`, `finetuned`, `candidates.2`)."""
    ft = costs.role == "finetuned"
    months = np.arange(1, horizon + 1, dtype=np.float64)[None, :]
    if costs.self_hosted is None:
        per_regime = [_variable_per_token(p, name, row, force) for row, force in costs.regimes]
        size = max(np.size(v) for v in per_regime)
        stacked = np.stack(
            [np.broadcast_to(np.asarray(v, dtype=np.float64), (size,)) for v in per_regime]
        )
        variable = stacked[list(costs.regime_of), :].T
    else:
        variable = _months(p(f"{name}.error_rate") * p(f"{name}.cost_per_error"), horizon)
    # Fixed: upkeep plus the hosting fees of the row in force (engine.resolve_arm).
    fees_hour = p.get(f"{name}.hosting_per_hour") if ft else 0.0
    fees_month = p.get(f"{name}.hosting_per_month") if ft else 0.0
    hour: Value = (
        np.array([[r.hosting_per_hour if r is not None else 0.0 for r in costs.rows]])
        if fees_hour is None
        else _col(fees_hour)
    )
    month: Value = (
        np.array([[r.hosting_per_month if r is not None else 0.0 for r in costs.rows]])
        if fees_month is None
        else _col(fees_month)
    )
    upkeep = _col(p(f"{name}.monthly_fixed_cost"))
    fixed = np.atleast_2d(np.asarray(upkeep + hour * HOURS_PER_MONTH + month, dtype=np.float64))
    fixed = np.broadcast_to(fixed, (fixed.shape[0], horizon))
    one_off: Value = np.zeros((1, horizon))
    own = costs.entry
    migration_given = p.get(f"{name}.migration_cost")
    if not ft:
        one_time = p(f"{name}.setup_cost")
        for k, _row in costs.switches:
            mig = migration_given if migration_given is not None else one_time
            one_off = one_off + np.where(months == k, _col(mig), 0.0)
        return _Arm(variable, fixed, np.asarray(one_off), one_time)
    f = name
    training = _training_cost(p, own, None, f)
    cost_per_example = p(f"{f}.cost_per_example")
    evaluation = p(f"{f}.evaluation_cost")
    data = p(f"{f}.training.examples") * cost_per_example
    one_time = data + training + evaluation + p(f"{f}.setup_cost")
    for k, row in costs.switches:
        mig = (
            migration_given
            if migration_given is not None
            else _training_cost(p, row, own, f) + evaluation
        )
        one_off = one_off + np.where(months == k, _col(mig), 0.0)
    every = _col(p(f"{f}.retrain_every_months"))
    extra = p(f"{f}.new_examples_per_retrain") * cost_per_example
    retrain = _col(training + evaluation + extra)
    for k, row in costs.switches:
        after = _training_cost(p, row, own, f) + evaluation + extra
        retrain = np.where(months >= k, _col(after), retrain)
    due = (every > 0) & (months % np.maximum(every, 1) == 0)
    one_off = one_off + np.where(due, retrain, 0.0)
    arm = _Arm(variable, fixed, np.asarray(one_off), one_time)
    if costs.self_hosted is None:
        return arm
    sh = f"{f}.self_hosted"
    prompt = p(f"{f}.static_prompt_tokens") + p(f"{f}.dynamic_input_tokens")
    return replace(
        arm,
        seconds_per_query=prompt / p(f"{sh}.prefill_tokens_per_s")
        + p(f"{f}.output_tokens") / p(f"{sh}.decode_tokens_per_s"),
        peak_to_average=p("workload.peak_to_average"),
        target_utilization=p(f"{sh}.target_utilization"),
        min_replicas=p(f"{sh}.min_replicas"),
        replica_monthly_cost=p(f"{sh}.gpus_per_replica")
        * p(f"{sh}.gpu_hourly_price")
        * HOURS_PER_MONTH,
    )


def _take(x: Value, rows: slice) -> Value:
    if isinstance(x, np.ndarray) and x.ndim == 2:
        return x[rows] if x.shape[0] > 1 else x
    return x[rows] if _per_sample(x) else x


def _rows(arm: _Arm, rows: slice) -> _Arm:
    return replace(arm, **{k: _take(v, rows) for k, v in arm.__dict__.items() if v is not None})  # type: ignore[arg-type]


def _hosting(arm: _Arm, volumes: Array) -> Value:
    if arm.seconds_per_query is None:
        return 0.0
    if _per_sample(arm.share) or arm.share != 1.0:
        volumes = volumes * _col(arm.share)
    peak_qps = volumes / SECONDS_PER_MONTH * _col(arm.peak_to_average)
    replicas = np.maximum(
        _col(arm.min_replicas),
        np.ceil(peak_qps * _col(arm.seconds_per_query) / _col(arm.target_utilization)),
    )
    return replicas * _col(arm.replica_monthly_cost)


def _cumulative(arm: _Arm, volumes: Array) -> Array:
    """engine.arm_timeline's cumulative column, one row per sample: (n, H + 1)."""
    n, horizon = volumes.shape
    cost = volumes * arm.variable + arm.fixed + _hosting(arm, volumes) + arm.one_off
    table = np.empty((n, horizon + 1))
    table[:, 0] = arm.one_time
    table[:, 1:] = cost
    return np.cumsum(table, axis=1)  # sequential, as the scalar running sum


def _in_order(x: Array) -> Array:
    """Row sums added left to right, as engine.volume_root's `sum`."""
    return np.cumsum(x, axis=1)[:, -1]


def _break_even(pr: _Arm, ft: _Arm, horizon: int, n: int) -> Array:
    """engine.break_even_volume, elementwise; nan where it is None."""

    def full(x: Value) -> Array:
        return np.broadcast_to(np.asarray(x, dtype=np.float64), (n,))

    def months(x: Array) -> Array:
        return np.broadcast_to(x, (n, horizon))

    s = _in_order(months(ft.variable - pr.variable))
    a = (full(ft.one_time) - full(pr.one_time)) + _in_order(
        months((ft.fixed + ft.one_off) - (pr.fixed + pr.one_off))
    )
    zero = np.zeros((n, 1))
    steady_pr = full(pr.one_time) + months(pr.fixed + pr.one_off).sum(axis=1)
    steady_ft = (
        full(ft.one_time)
        + months(ft.fixed + ft.one_off).sum(axis=1)
        + horizon * np.broadcast_to(np.asarray(_hosting(ft, zero), dtype=np.float64), (n, 1))[:, 0]
    )
    thr = TIE * np.maximum(np.maximum(np.abs(steady_pr), np.abs(steady_ft)), 1.0)
    if ft.seconds_per_query is None:
        # solve._linear with lo = 0
        v = -a / np.where(s == 0, -1.0, s)
        root = np.where((s < 0) & (v <= MAX_VOLUME), np.maximum(v, 0.0), np.nan)
        return np.where(a <= thr, 0.0, root)
    result = np.empty(n)
    spq, peak, util = (
        full(ft.seconds_per_query),
        full(ft.peak_to_average),
        full(ft.target_utilization),
    )
    floor, replica = full(ft.min_replicas), full(ft.replica_monthly_cost)
    for i in range(n):
        load = peak[i] * spq[i] / util[i]
        width = math.inf if load == 0 else SECONDS_PER_MONTH / load
        steps = Steps(horizon * float(replica[i]), width, int(floor[i]))
        found = first_root(float(a[i]), float(s[i]), steps, None, 0.0, MAX_VOLUME, float(thr[i]))
        result[i] = math.nan if found.volume is None else found.volume
    return result


def _growth_factors(growth: Value, horizon: int) -> Array:
    if _per_sample(growth):
        return np.power(1 + growth[:, None], np.arange(horizon, dtype=np.float64)[None, :])
    # One growth rate: the scalar engine's own powers, so the result is bit-identical.
    return np.array([[(1 + growth) ** (m - 1) for m in range(1, horizon + 1)]])


def evaluate(
    scenario: Scenario,
    catalog: Catalog,
    samples: dict[str, Value],
    n: int,
    resolved: Resolved | None = None,
) -> Outcomes:
    """The cost model on `n` samples. `scenario` gives every input not in `samples`; it must
    resolve (and so must the samples' extremes: see `simulate`)."""
    resolved = resolved or resolve(scenario, catalog)
    p = _Inputs(scenario, samples)

    horizon = scenario.workload.horizon_months
    with np.errstate(all="ignore"):
        pr = _arm(p, "prompted", resolved.prompted, horizon)
        ft = _arm(p, "finetuned", resolved.finetuned, horizon)
        q1, growth = p("workload.queries_per_month"), p("workload.monthly_growth")
        savings = np.empty(n)
        payback = np.empty(n, dtype=np.int64)
        chunk = max(1, _CHUNK_CELLS // (horizon + 1))
        for start in range(0, n, chunk):
            rows = slice(start, min(n, start + chunk))
            size = rows.stop - rows.start
            g = _take(growth, rows)
            volumes = np.broadcast_to(
                _col(_take(q1, rows)) * _growth_factors(g, horizon), (size, horizon)
            )
            cum_pr = _cumulative(_rows(pr, rows), volumes)
            cum_ft = _cumulative(_rows(ft, rows), volumes)
            savings[rows] = cum_pr[:, -1] - cum_ft[:, -1]
            paid = _at_most(cum_ft, cum_pr)
            payback[rows] = np.where(paid.any(axis=1), paid.argmax(axis=1), -1)
        break_even = _break_even(pr, ft, horizon, n)
    return Outcomes(savings, payback, break_even)


# --- summaries --------------------------------------------------------------------------


def _percentile(
    values: Array, total: int, q: float, method: Literal["linear", "lower_cdf"]
) -> float | None:
    """Percentile q (0..100) of `total` samples of which `values` (sorted) have a value and
    the rest rank above them all. `linear` is numpy's default; `lower_cdf` returns a value some
    sample has (numpy's 'inverted_cdf'), used for whole months."""
    known = len(values)
    if total == 0:
        return None
    if method == "lower_cdf":
        index = max(0, math.ceil(q / 100 * total) - 1)
        return float(values[index]) if index < known else None
    position = q / 100 * (total - 1)
    i = math.floor(position)
    fraction = position - i
    if i >= known:
        return None
    if fraction == 0:
        return float(values[i])
    if i + 1 >= known:
        return None
    return float(values[i] + (values[i + 1] - values[i]) * fraction)


def summarise(
    values: Array, total: int, method: Literal["linear", "lower_cdf"] = "linear"
) -> Distribution:
    """`values` holds the samples that have a value (nan = none already removed)."""
    ordered = np.sort(values)
    have = len(ordered)

    def pct(q: float) -> float | None:
        return _percentile(ordered, total, q, method)

    return Distribution(
        p10=pct(10),
        p50=pct(50),
        p90=pct(90),
        mean=float(ordered.mean()) if have else None,
        min=float(ordered[0]) if have else None,
        max=float(ordered[-1]) if have else None,
        share_without_value=(total - have) / total,
    )


def histogram(values: Array, bins: int) -> list[HistogramBin]:
    lo, hi = float(values.min()), float(values.max())
    if hi - lo <= 1e-9 * max(abs(lo), abs(hi), 1.0):
        # All samples (nearly) equal: numpy cannot split a range narrower than the float
        # spacing at this magnitude into bins, so report one bin holding every sample.
        return [HistogramBin(low=lo, high=hi, count=len(values))]
    counts, edges = np.histogram(values, bins=bins)
    return [
        HistogramBin(low=float(edges[i]), high=float(edges[i + 1]), count=int(counts[i]))
        for i in range(len(counts))
    ]


# --- the run ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One Monte Carlo run, with the per-sample inputs and outcomes (for tests and charts)."""

    scenario: Scenario  # every ranged input at its mode, catalog models pinned
    samples: dict[str, Value]
    outcomes: Outcomes
    at_mode: Outcome
    seed: int
    n: int


def run(
    scenario: Scenario,
    catalog: Catalog,
    ranges: dict[str, Range],
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = None,
    today: date | None = None,
) -> Run:
    issues = check_ranges(scenario, ranges)
    if not 1 <= samples <= MAX_SAMPLES:
        issues.append(FieldIssue("samples", f"must be between 1 and {MAX_SAMPLES}"))
    if issues:
        raise ScenarioError(issues)
    seed = secrets.randbits(63) if seed is None else seed
    scenario = dated(scenario, today)  # one calendar for every variation
    pinned = pin_models(scenario, resolve(scenario, catalog))
    at_mode = with_values(pinned, {k: r.mode for k, r in ranges.items()})
    resolved = resolve(at_mode, catalog)
    # Every "required when X > 0" rule of resolve() is monotone in the inputs, so checking
    # both extremes finds any sample the engine would refuse to price.
    for corner in ("low", "high"):
        resolve(with_values(pinned, {k: getattr(r, corner) for k, r in ranges.items()}), catalog)
    drawn = draw(ranges, samples, seed)
    outcomes = evaluate(at_mode, catalog, drawn, samples, resolved)
    return Run(at_mode, drawn, outcomes, outcome(resolved), seed, samples)


def simulate(
    scenario: Scenario,
    catalog: Catalog,
    ranges: dict[str, Range],
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = None,
    bins: int = DEFAULT_BINS,
    today: date | None = None,
) -> Uncertainty:
    """Monte Carlo over the ranges; every other input as in `scenario`."""
    result = run(scenario, catalog, ranges, samples=samples, seed=seed, today=today)
    o, n = result.outcomes, result.n
    paid = o.payback >= 0
    has_volume = ~np.isnan(o.break_even)
    return Uncertainty(
        samples=n,
        seed=result.seed,
        horizon_months=scenario.workload.horizon_months,
        ranges=ranges,
        at_mode=PointOutcome(
            savings_over_horizon=result.at_mode.savings_over_horizon,
            payback_month=result.at_mode.payback_month,
            break_even_volume=result.at_mode.break_even_volume,
        ),
        savings=summarise(o.savings, n),
        payback_month=summarise(o.payback[paid].astype(np.float64), n, "lower_cdf"),
        break_even_volume=summarise(o.break_even[has_volume], n),
        probability_payback_within_horizon=float(paid.mean()),
        probability_savings_positive=float((o.savings > 0).mean()),
        savings_histogram=histogram(o.savings, min(bins, MAX_BINS)),
    )


__all__: list[str] = [
    "DEFAULT_SAMPLES",
    "MAX_SAMPLES",
    "Distribution",
    "HistogramBin",
    "Range",
    "Run",
    "Uncertainty",
    "check_ranges",
    "evaluate",
    "run",
    "simulate",
]
