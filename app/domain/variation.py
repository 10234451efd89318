"""Shared by the sensitivity and uncertainty analyses: which inputs can vary, their limits,
how to build a scenario with some inputs changed, and the three headline outcomes.

Names are the dotted field names of the API (`workload.queries_per_month`,
`finetuned.training.examples`). Limits are read from the scenario models' own JSON schema,
so they can never drift from what a request would accept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel

from app.domain.engine import (
    Resolved,
    arm_timeline,
    break_even_volume,
    monthly_volumes,
    payback_month,
    resolve,
)
from app.domain.scenario import Scenario
from app.pricing.catalog import Catalog

M = TypeVar("M", bound=BaseModel)

# Inputs that cannot be given as a range, and why (reported to the caller as the reason).
NOT_VARIABLE = {
    "workload.horizon_months": "the horizon frames the question; compare horizons separately",
    "factors.min_examples": "does not change any cost",
}


@dataclass(frozen=True)
class NumericField:
    name: str
    integer: bool
    minimum: float
    maximum: float
    exclusive_minimum: bool
    optional: bool  # None is a valid value (an unset price, no gpu_hours)

    def contains(self, value: float) -> bool:
        above = value > self.minimum if self.exclusive_minimum else value >= self.minimum
        return above and value <= self.maximum and (not self.integer or value == int(value))

    def describe(self) -> str:
        left = "(" if self.exclusive_minimum else "["
        kind = "an integer" if self.integer else "a number"
        return f"{kind} in {left}{self.minimum:g}, {self.maximum:g}]"

    def clamp(self, value: float) -> float:
        """The nearest value inside the limits (an exclusive minimum is approached, not met)."""
        if self.integer:
            value = float(round(value))
        lo = self.minimum
        if self.exclusive_minimum and value <= lo:
            # Nudge off an open bound: 1% of the way to the maximum, or the next float.
            return max(math.nextafter(lo, math.inf), lo + (self.maximum - lo) * 0.01)
        return min(max(value, lo), self.maximum)


def _numeric(prop: dict[str, Any]) -> tuple[dict[str, Any], bool] | None:
    """The number schema inside a property, and whether null is allowed."""
    options = prop.get("anyOf", [prop])
    numbers = [o for o in options if o.get("type") in ("number", "integer")]
    if len(numbers) != 1:
        return None
    return numbers[0], any(o.get("type") == "null" for o in options)


@lru_cache(maxsize=1)
def numeric_fields() -> dict[str, NumericField]:
    """Every numeric leaf of `Scenario` by dotted name, with its declared limits."""
    schema = Scenario.model_json_schema()
    defs: dict[str, Any] = schema.get("$defs", {})
    out: dict[str, NumericField] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, prop in node.get("properties", {}).items():
            ref = prop.get("$ref") or next(
                (o["$ref"] for o in prop.get("anyOf", []) if "$ref" in o), None
            )
            if ref:
                walk(defs[ref.split("/")[-1]], f"{prefix}{key}.")
                continue
            found = _numeric(prop)
            if found is None:
                continue
            number, optional = found
            name = f"{prefix}{key}"
            exclusive = "exclusiveMinimum" in number
            out[name] = NumericField(
                name=name,
                integer=number["type"] == "integer",
                minimum=float(number.get("exclusiveMinimum", number.get("minimum", -math.inf))),
                maximum=float(number.get("maximum", math.inf)),
                exclusive_minimum=exclusive,
                optional=optional,
            )

    walk(schema, "")
    # Training's validator, not its schema, bounds epochs (a number or 'auto').
    out["finetuned.training.epochs"] = NumericField(
        "finetuned.training.epochs", False, 0.0, 100.0, exclusive_minimum=True, optional=True
    )
    return out


def variable_fields() -> dict[str, NumericField]:
    return {k: v for k, v in numeric_fields().items() if k not in NOT_VARIABLE}


def get_value(scenario: BaseModel, name: str) -> Any:
    node: Any = scenario
    for part in name.split("."):
        if node is None:
            return None
        # A list position (`candidates.2.setup_cost`), or an attribute.
        node = node[int(part)] if isinstance(node, list) else getattr(node, part)
    return node


def missing_group(scenario: Scenario, name: str) -> str | None:
    """The dotted group a name lives in when that group is absent (e.g. no self_hosted)."""
    node: Any = scenario
    parts = name.split(".")
    for i, part in enumerate(parts[:-1]):
        node = getattr(node, part)
        if node is None:
            return ".".join(parts[: i + 1])
    return None


def with_values(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """A copy of `scenario` with the named numeric inputs replaced (no re-validation:
    callers pass values inside the fields' limits). Integer fields get ints."""
    fields = numeric_fields()
    tree: dict[str, Any] = {}
    for name, value in values.items():
        node = tree
        *groups, leaf = name.split(".")
        for part in groups:
            node = node.setdefault(part, {})
        node[leaf] = int(value) if fields[name].integer else float(value)

    def apply(model: BaseModel, update: dict[str, Any]) -> BaseModel:
        changes: dict[str, Any] = {}
        for key, value in update.items():
            if isinstance(value, dict):
                child = getattr(model, key)
                if child is None:
                    raise ValueError(f"cannot set {key}.*: the group is not set")
                changes[key] = apply(child, value)
            else:
                changes[key] = value
        # model_copy records updated keys as set, which is what an explicit value means.
        return model.model_copy(update=changes)

    result = apply(scenario, tree)
    assert isinstance(result, Scenario)
    return result


def pin_models(scenario: Scenario, resolved: Resolved) -> Scenario:
    """Name each arm's catalog model explicitly.

    An arm without `model` and without prices uses the default model; once an explicit price
    is set on it (to vary that price) it would lose its catalog row. Pinning the row the
    engine already chose keeps every other number identical.
    """
    updates: dict[str, Any] = {}
    for costs in (resolved.prompted, resolved.finetuned):
        arm = getattr(scenario, costs.name)
        if arm.model is None and costs.model is not None:
            updates[costs.name] = arm.model_copy(update={"model": costs.model})
    return scenario.model_copy(update=updates) if updates else scenario


@dataclass(frozen=True)
class Outcome:
    savings_over_horizon: float
    payback_month: int | None
    break_even_volume: float | None


def outcome(resolved: Resolved) -> Outcome:
    """The numbers `compare` would return, computed with the engine's own functions."""
    w = resolved.scenario.workload
    volumes = monthly_volumes(w.queries_per_month, w.monthly_growth, w.horizon_months)
    pr_rows = arm_timeline(resolved.prompted, volumes)
    ft_rows = arm_timeline(resolved.finetuned, volumes)
    return Outcome(
        savings_over_horizon=pr_rows[-1].cumulative - ft_rows[-1].cumulative,
        payback_month=payback_month(pr_rows, ft_rows),
        break_even_volume=break_even_volume(
            resolved.prompted, resolved.finetuned, w.horizon_months
        ),
    )


def outcome_of(scenario: Scenario, catalog: Catalog) -> Outcome:
    return outcome(resolve(scenario, catalog))


def dated(scenario: M, today: date | None = None) -> M:
    """The scenario with its start date set (today when not given): an analysis varies many
    copies of one scenario, and all of them must sit on the same calendar."""
    start = scenario.workload.start_date or today or date.today()  # type: ignore[attr-defined]
    workload = scenario.workload.model_copy(update={"start_date": start})  # type: ignore[attr-defined]
    return scenario.model_copy(update={"workload": workload})
