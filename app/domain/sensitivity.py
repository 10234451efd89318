"""Sensitivity (the tornado): which guesses move the answer, and by how much.

For each key input, the scenario is recomputed through the engine with that input at a low
and at a high value, everything else unchanged, and the bars are ranked by how far the
savings over the horizon move. No linearisation: every bar is an exact recomputation.

Default bounds: -50% / +100% for counts, tokens, money and prices; absolute steps for rates
(see `SPECS`), clamped to the field's own limits. A caller can give explicit bounds per input.
Where a price comes from the catalog it is varied as an explicit price override, with the
arm's catalog model pinned so nothing else changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from app.domain.engine import (
    FieldIssue,
    Resolved,
    ScenarioError,
    _training_cost,
    auto_epochs,
    resolve,
)
from app.domain.scenario import Scenario
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

RELATIVE_LOW = 0.5  # -50%
RELATIVE_HIGH = 2.0  # +100%


@dataclass(frozen=True)
class Spec:
    name: str
    label: str
    unit: str
    rule: Literal["relative", "absolute"] = "relative"
    delta: float = 0.0  # the step of an absolute rule
    floor: float | None = None  # lowest value a default bound may take


def _arm_specs(arm: str, title: str) -> list[Spec]:
    return [
        Spec(f"{arm}.static_prompt_tokens", f"{title}: static prompt tokens", "tokens"),
        Spec(f"{arm}.dynamic_input_tokens", f"{title}: dynamic input tokens", "tokens"),
        Spec(f"{arm}.output_tokens", f"{title}: output tokens", "tokens"),
        Spec(f"{arm}.cache_hit_rate", f"{title}: cache hit rate", "fraction", "absolute", 0.25),
        Spec(f"{arm}.batch_share", f"{title}: batch share", "fraction", "absolute", 0.25),
        Spec(f"{arm}.prices.input", f"{title}: input price", "USD/1M tokens"),
        Spec(f"{arm}.prices.cached_input", f"{title}: cached input price", "USD/1M tokens"),
        Spec(f"{arm}.prices.cache_write", f"{title}: cache write price", "USD/1M tokens"),
        Spec(f"{arm}.prices.output", f"{title}: output price", "USD/1M tokens"),
        Spec(
            f"{arm}.prices.batch_discount", f"{title}: batch discount", "fraction", "absolute", 0.25
        ),
        Spec(f"{arm}.error_rate", f"{title}: error rate", "fraction"),
        Spec(f"{arm}.cost_per_error", f"{title}: cost per error", "USD"),
        Spec(f"{arm}.setup_cost", f"{title}: setup cost", "USD"),
        Spec(f"{arm}.monthly_fixed_cost", f"{title}: monthly fixed cost", "USD/month"),
        Spec(f"{arm}.migration_cost", f"{title}: migration at shutdown", "USD"),
    ]


# The key inputs of the tornado, in a stable order (ties in effect keep this order).
SPECS: tuple[Spec, ...] = (
    Spec("workload.queries_per_month", "Queries per month", "queries/month"),
    Spec("workload.monthly_growth", "Monthly growth", "fraction/month", "absolute", 0.05),
    Spec("workload.peak_to_average", "Peak-to-average traffic", "ratio"),
    *_arm_specs("prompted", "Prompted"),
    *_arm_specs("finetuned", "Fine-tuned"),
    Spec("finetuned.training.examples", "Training examples", "examples"),
    Spec("finetuned.cost_per_example", "Cost per example", "USD"),
    Spec("finetuned.training.tokens_per_example", "Tokens per training example", "tokens"),
    Spec("finetuned.training.epochs", "Training epochs", "epochs"),
    Spec("finetuned.training.price_per_mtok", "Training price", "USD/1M tokens"),
    Spec("finetuned.training.gpu_hours", "Training GPU hours", "hours"),
    Spec("finetuned.training.gpu_hourly_price", "Training GPU price", "USD/hour"),
    Spec("finetuned.evaluation_cost", "Evaluation cost per run", "USD"),
    Spec("finetuned.retrain_every_months", "Retraining cadence", "months", floor=1),
    Spec("finetuned.new_examples_per_retrain", "New examples per retraining", "examples"),
    Spec("finetuned.hosting_per_hour", "Fine-tuned hosting fee", "USD/hour"),
    Spec("finetuned.self_hosted.gpu_hourly_price", "Serving GPU price", "USD/hour"),
    Spec("finetuned.self_hosted.prefill_tokens_per_s", "Prefill throughput", "tokens/s"),
    Spec("finetuned.self_hosted.decode_tokens_per_s", "Decode throughput", "tokens/s"),
    Spec(
        "finetuned.self_hosted.target_utilization",
        "Target GPU utilisation",
        "fraction",
        "absolute",
        0.2,
    ),
    Spec("finetuned.self_hosted.min_replicas", "Minimum replicas", "replicas"),
)
SPEC_BY_NAME = {s.name: s for s in SPECS}


class Bound(BaseModel):
    """Explicit low and high values for one input of the tornado."""

    low: float = Field(allow_inf_nan=False)
    high: float = Field(allow_inf_nan=False)


class TornadoBar(BaseModel):
    input: str = Field(description="Dotted field name")
    label: str
    unit: str
    base_value: float | None = Field(
        description="The value in the scenario (effective price for catalog prices)"
    )
    low_value: float
    high_value: float
    savings_low: float = Field(description="savings_over_horizon with the input at low_value (USD)")
    savings_high: float
    savings_swing: float = Field(
        description="Spread of savings across low, base and high (USD); the ranking key"
    )
    break_even_low: float | None = Field(description="break_even.monthly_volume at low_value")
    break_even_high: float | None
    payback_low: int | None = Field(description="break_even.payback_month at low_value")
    payback_high: int | None
    flips: bool = Field(
        description="Whether fine-tuning saving money (savings > 0) changes inside the bounds"
    )


class SkippedInput(BaseModel):
    input: str
    reason: str


class Sensitivity(BaseModel):
    horizon_months: int
    base_savings: float = Field(description="savings_over_horizon of the scenario as given (USD)")
    base_break_even_volume: float | None
    base_payback_month: int | None
    bars: list[TornadoBar] = Field(description="Largest effect on savings first")
    skipped: list[SkippedInput] = Field(
        description="Inputs that do not apply to this scenario, and why"
    )


def check_bounds(bounds: dict[str, Bound]) -> list[FieldIssue]:
    """Names must be variable numeric inputs; low <= high, both inside the field's limits."""
    fields = variable_fields()
    issues: list[FieldIssue] = []
    for name, bound in bounds.items():
        field = fields.get(name)
        if field is None:
            issues.append(FieldIssue(name, _unknown_reason(name)))
            continue
        if bound.low > bound.high:
            issues.append(FieldIssue(name, f"low ({bound.low:g}) is above high ({bound.high:g})"))
        for which, value in (("low", bound.low), ("high", bound.high)):
            if not field.contains(value):
                issues.append(FieldIssue(name, f"{which} ({value:g}) must be {field.describe()}"))
    return issues


def _unknown_reason(name: str) -> str:
    if name in NOT_VARIABLE:
        return f"cannot vary: {NOT_VARIABLE[name]}"
    return "not a numeric input of the scenario"


def _base(spec_name: str, scenario: Scenario, resolved: Resolved, catalog: Catalog) -> float | str:
    """The input's value in this scenario, or why it does not apply."""
    ft = scenario.finetuned
    self_hosted = ft.self_hosted is not None
    group = missing_group(scenario, spec_name)
    if group is not None:
        return f"{group} is not set"
    arm_name, _, rest = spec_name.partition(".")
    if rest == "migration_cost":
        return _migration_base(scenario, resolved, arm_name)
    if spec_name == "workload.peak_to_average" and not self_hosted:
        return "only sizes self-hosted GPU replicas; the fine-tuned arm is served per token"
    if (
        arm_name == "finetuned"
        and self_hosted
        and (rest.startswith("prices.") or rest in ("cache_hit_rate", "batch_share"))
    ):
        return "self-hosted serving has no token prices"
    if rest.startswith("prices."):
        key = rest.removeprefix("prices.")
        costs = resolved.prompted if arm_name == "prompted" else resolved.finetuned
        used = costs.prices.get(key)
        if used is None:
            return "the arm has no such price"
        if key == "cache_write" and used.source == "input price":
            return "follows the input price (no separate cache-write price)"
        return used.value
    if rest in ("error_rate", "cost_per_error"):
        arm = scenario.prompted if arm_name == "prompted" else ft
        if arm.error_rate == 0 or arm.cost_per_error == 0:
            other = "cost_per_error" if rest == "error_rate" else "error_rate"
            if getattr(arm, other) == 0:
                return f"no effect while {arm_name}.{other} is 0"
    training = ft.training
    if spec_name in (
        "finetuned.training.price_per_mtok",
        "finetuned.training.epochs",
        "finetuned.training.tokens_per_example",
    ):
        if training.gpu_hours is not None:
            return "training is billed by the GPU hour (gpu_hours is set)"
        if spec_name == "finetuned.training.epochs":
            return float(
                auto_epochs(training.examples) if training.epochs == "auto" else training.epochs
            )
        if spec_name == "finetuned.training.price_per_mtok":
            if training.price_per_mtok is not None:
                return training.price_per_mtok
            entry = catalog.get(resolved.finetuned.model) if resolved.finetuned.model else None
            if entry is None or entry.training is None or entry.training.price_per_mtok is None:
                return "no training price per token applies"
            return entry.training.price_per_mtok
    if spec_name == "finetuned.training.gpu_hourly_price":
        if training.gpu_hours is None:
            return "training is billed per token (gpu_hours is not set)"
        if training.gpu_hourly_price is not None:
            return training.gpu_hourly_price
        entry = catalog.get(resolved.finetuned.model) if resolved.finetuned.model else None
        if (
            entry is not None
            and entry.training is not None
            and entry.training.price_per_hour is not None
        ):
            return entry.training.price_per_hour
        assert ft.self_hosted is not None  # resolve() succeeded, so a price was found
        return ft.self_hosted.gpu_hourly_price
    if spec_name == "finetuned.new_examples_per_retrain" and ft.retrain_every_months == 0:
        return "no effect: the model is never retrained (retrain_every_months is 0)"
    value = get_value(scenario, spec_name)
    if value is None:
        return "not set in this scenario"
    if spec_name == "finetuned.retrain_every_months" and value == 0:
        return "the model is never retrained; give bounds to try a cadence"
    return float(value)


def _migration_base(scenario: Scenario, resolved: Resolved, arm_name: str) -> float | str:
    """The migration cost the engine charges at the arm's first shutdown (given or default)."""
    costs = resolved.prompted if arm_name == "prompted" else resolved.finetuned
    if not costs.switches:
        return "no effect: the model does not shut down inside the horizon"
    arm = scenario.prompted if arm_name == "prompted" else scenario.finetuned
    if arm.migration_cost is not None:
        return arm.migration_cost
    if arm_name == "prompted":
        return arm.setup_cost
    ft = scenario.finetuned
    return (
        _training_cost(ft, "finetuned", costs.switches[0][1], costs.entry)[0] + ft.evaluation_cost
    )


def _default_bounds(spec: Spec, base: float) -> tuple[float, float]:
    field = numeric_fields()[spec.name]
    if spec.rule == "relative":
        low, high = base * RELATIVE_LOW, base * RELATIVE_HIGH
    else:
        low, high = base - spec.delta, base + spec.delta
    low, high = field.clamp(low), field.clamp(high)
    if spec.floor is not None:
        low = max(low, spec.floor)
    return low, high


def _spread(values: list[float]) -> float:
    return max(values) - min(values)


def _nullable_spread(values: list[float | None]) -> float:
    known = [v for v in values if v is not None]
    if len(known) != len(values):
        return math.inf if known else 0.0
    return _spread(known)


def sensitivity(
    scenario: Scenario,
    catalog: Catalog,
    bounds: dict[str, Bound] | None = None,
    today: date | None = None,
) -> Sensitivity:
    """The tornado for `scenario`: default inputs plus any with explicit `bounds`."""
    bounds = bounds or {}
    scenario = dated(scenario, today)  # one calendar for every variation
    issues = check_bounds(bounds)
    if issues:
        raise ScenarioError(issues)
    resolved = resolve(scenario, catalog)
    base = outcome(resolved)
    pinned = pin_models(scenario, resolved)
    fields = numeric_fields()

    bars: list[tuple[tuple[float, float, int], TornadoBar]] = []
    skipped: list[SkippedInput] = []
    names = [s.name for s in SPECS] + [n for n in bounds if n not in SPEC_BY_NAME]
    for order, name in enumerate(names):
        spec = SPEC_BY_NAME.get(name) or Spec(name, name, "")
        found = _base(name, scenario, resolved, catalog)
        if name in bounds:
            group = missing_group(scenario, name)
            if group is not None:
                skipped.append(SkippedInput(input=name, reason=f"{group} is not set"))
                continue
            given = get_value(scenario, name)
            base_value = found if isinstance(found, float) else given
            base_value = None if base_value is None else float(base_value)
            low, high = bounds[name].low, bounds[name].high
        elif isinstance(found, str):
            skipped.append(SkippedInput(input=name, reason=found))
            continue
        else:
            base_value = found
            low, high = _default_bounds(spec, found)
            if low == high == base_value:
                skipped.append(
                    SkippedInput(
                        input=name,
                        reason="the value is 0, so a relative change moves nothing; give bounds",
                    )
                )
                continue
        try:
            at_low = _outcome_with(pinned, name, low, catalog)
            at_high = _outcome_with(pinned, name, high, catalog)
        except ScenarioError as exc:
            skipped.append(
                SkippedInput(input=name, reason=f"cannot be priced within the bounds: {exc}")
            )
            continue
        savings = [
            at_low.savings_over_horizon,
            base.savings_over_horizon,
            at_high.savings_over_horizon,
        ]
        volumes = [at_low.break_even_volume, base.break_even_volume, at_high.break_even_volume]
        positive = {s > 0 for s in savings}
        bar = TornadoBar(
            input=name,
            label=spec.label,
            unit=spec.unit,
            base_value=base_value,
            low_value=float(int(low)) if fields[name].integer else low,
            high_value=float(int(high)) if fields[name].integer else high,
            savings_low=at_low.savings_over_horizon,
            savings_high=at_high.savings_over_horizon,
            savings_swing=_spread(savings),
            break_even_low=at_low.break_even_volume,
            break_even_high=at_high.break_even_volume,
            payback_low=at_low.payback_month,
            payback_high=at_high.payback_month,
            flips=len(positive) > 1,
        )
        bars.append(((-bar.savings_swing, -_nullable_spread(volumes), order), bar))

    bars.sort(key=lambda item: item[0])
    return Sensitivity(
        horizon_months=scenario.workload.horizon_months,
        base_savings=base.savings_over_horizon,
        base_break_even_volume=base.break_even_volume,
        base_payback_month=base.payback_month,
        bars=[bar for _, bar in bars],
        skipped=skipped,
    )


def _outcome_with(scenario: Scenario, name: str, value: float, catalog: Catalog) -> Outcome:
    return outcome(resolve(with_values(scenario, {name: value}), catalog))


__all__ = [
    "SPECS",
    "Bound",
    "Sensitivity",
    "SkippedInput",
    "TornadoBar",
    "check_bounds",
    "sensitivity",
]
