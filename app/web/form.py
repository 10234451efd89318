"""The calculator form: which inputs it shows, and reading the query string back.

Every input is named with the dotted path `GET /api/v1/compare` uses, so the page's query
string IS the scenario. Help texts and limits come from the Field declarations in
app/domain/scenario.py: the model stays the one place that says what a field means.

Invalid input: the fields that fail are left at their defaults, the scenario is computed
anyway, and the page says above the results which fields were ignored and why (each such
field is also marked where it is typed). Only when that still cannot be priced (for example
a price that is required and missing) are there no results, just the errors.
"""

from __future__ import annotations

import dataclasses
import decimal
import functools
import math
import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from app.api.errors import FieldError, InvalidInput, errors_from_issues, errors_from_pydantic
from app.api.query import nest
from app.domain.engine import ScenarioError
from app.domain.scenario import FROM_TEXT, Scenario

Kind = Literal["number", "text", "select", "bool", "date"]
Slider = Literal["linear", "log"]

# A model-level check reports its group; the page marks the one input it is about.
_GROUP_ERROR_FIELD = {"finetuned.training": "finetuned.training.epochs"}


@dataclass(frozen=True)
class Input:
    name: str
    label: str
    unit: str
    kind: Kind = "number"
    slider: Slider | None = None
    slider_min: float | None = None  # where the slider range is narrower than the field's limits
    slider_max: float | None = None
    step: float | None = None
    options: tuple[tuple[str, str], ...] = ()  # for fixed selects (value, label)
    placeholder: str | None = None


@dataclass(frozen=True)
class Group:
    key: str
    legend: str
    inputs: tuple[Input, ...]
    advanced: tuple[Input, ...] = ()
    advanced_label: str = "More inputs"


YES_NO = (("false", "No"), ("true", "Yes"))

GROUPS: tuple[Group, ...] = (
    Group(
        "workload",
        "Workload",
        (
            Input(
                "workload.queries_per_month",
                "Queries per month",
                "queries/month",
                slider="log",
                slider_min=100,
                slider_max=1e9,
            ),
            Input(
                "workload.monthly_growth",
                "Monthly growth",
                "fraction per month",
                slider="linear",
                step=0.01,
            ),
            Input("workload.horizon_months", "Horizon", "months", slider="linear", step=1),
        ),
        (
            Input("workload.peak_to_average", "Peak to average", "ratio", step=0.1),
            Input("workload.start_date", "Start date", "date", kind="date"),
            Input(
                "workload.lifecycle",
                "Model lifecycle",
                "follow or ignore",
                kind="select",
                options=(
                    ("follow", "Follow shutdowns and dated prices"),
                    ("ignore", "Bill every month at the start date's prices"),
                ),
            ),
            Input("workload.discount_rate", "Discount rate", "fraction per year", step=0.01),
            Input("title", "Scenario name", "text", kind="text"),
        ),
        "Peak traffic, start date, lifecycle, discounting, name",
    ),
    Group(
        "prompted",
        "Prompted: a large model with a long prompt",
        (
            Input("prompted.model", "Model", "catalog id", kind="select"),
            Input(
                "prompted.static_prompt_tokens",
                "Static prompt",
                "tokens",
                slider="linear",
                slider_min=0,
                slider_max=32_000,
                step=100,
            ),
            Input("prompted.dynamic_input_tokens", "Dynamic input", "tokens"),
            Input("prompted.output_tokens", "Output", "tokens"),
            Input(
                "prompted.cache_hit_rate", "Cache hit rate", "fraction", slider="linear", step=0.01
            ),
            Input("prompted.batch_share", "Batch share", "fraction", slider="linear", step=0.01),
        ),
        (
            Input("prompted.setup_cost", "Setup", "USD, once"),
            Input("prompted.monthly_fixed_cost", "Upkeep", "USD/month"),
            Input("prompted.prices.input", "Input price", "USD/1M tokens", placeholder="catalog"),
            Input(
                "prompted.prices.cached_input",
                "Cached input price",
                "USD/1M tokens",
                placeholder="catalog",
            ),
            Input(
                "prompted.prices.cache_write",
                "Cache write price",
                "USD/1M tokens",
                placeholder="catalog",
            ),
            Input("prompted.prices.output", "Output price", "USD/1M tokens", placeholder="catalog"),
            Input(
                "prompted.prices.batch_discount",
                "Batch discount",
                "fraction",
                placeholder="catalog",
            ),
            Input("prompted.successor", "Successor at shutdown", "catalog id", kind="text"),
            Input(
                "prompted.migration_cost", "Migration cost", "USD, once", placeholder="setup cost"
            ),
        ),
        "Setup, upkeep, negotiated prices, successor",
    ),
    Group(
        "finetuned",
        "Fine-tuned: a smaller model with a short prompt",
        (
            Input("finetuned.model", "Model", "catalog id", kind="select"),
            Input("finetuned.static_prompt_tokens", "Short prompt", "tokens"),
            Input("finetuned.dynamic_input_tokens", "Dynamic input", "tokens"),
            Input("finetuned.output_tokens", "Output", "tokens"),
            Input("finetuned.training.examples", "Training examples", "examples"),
            Input("finetuned.cost_per_example", "Cost per example", "USD/example"),
            Input("finetuned.retrain_every_months", "Retrain every", "months (0 = never)", step=1),
        ),
        (
            Input("finetuned.training.tokens_per_example", "Tokens per example", "tokens"),
            Input("finetuned.training.epochs", "Epochs", "passes or 'auto'", kind="text"),
            Input(
                "finetuned.training.price_per_mtok",
                "Training price",
                "USD/1M tokens",
                placeholder="catalog",
            ),
            Input(
                "finetuned.training.gpu_hours",
                "Training GPU hours",
                "hours per run",
                placeholder="per token",
            ),
            Input(
                "finetuned.training.gpu_hourly_price",
                "Training GPU price",
                "USD/GPU-hour",
                placeholder="catalog",
            ),
            Input("finetuned.evaluation_cost", "Evaluation", "USD per training run"),
            Input("finetuned.setup_cost", "Setup", "USD, once"),
            Input("finetuned.monthly_fixed_cost", "MLOps upkeep", "USD/month"),
            Input("finetuned.new_examples_per_retrain", "New examples per retraining", "examples"),
            Input("finetuned.hosting_per_hour", "Hosting", "USD/hour", placeholder="catalog"),
            Input(
                "finetuned.hosting_per_month",
                "Storage or hosting",
                "USD/month",
                placeholder="catalog",
            ),
            Input("finetuned.successor", "Successor at shutdown", "catalog id", kind="text"),
            Input(
                "finetuned.migration_cost",
                "Migration cost",
                "USD, once",
                placeholder="a retraining",
            ),
            Input("finetuned.cache_hit_rate", "Cache hit rate", "fraction", step=0.01),
            Input("finetuned.batch_share", "Batch share", "fraction", step=0.01),
            Input("finetuned.prices.input", "Input price", "USD/1M tokens", placeholder="catalog"),
            Input(
                "finetuned.prices.cached_input",
                "Cached input price",
                "USD/1M tokens",
                placeholder="catalog",
            ),
            Input(
                "finetuned.prices.cache_write",
                "Cache write price",
                "USD/1M tokens",
                placeholder="catalog",
            ),
            Input(
                "finetuned.prices.output", "Output price", "USD/1M tokens", placeholder="catalog"
            ),
            Input(
                "finetuned.prices.batch_discount",
                "Batch discount",
                "fraction",
                placeholder="catalog",
            ),
        ),
        "Training details, setup, upkeep, hosting, prices",
    ),
    Group(
        "self_hosted",
        "Self-hosted GPU serving (instead of per-token)",
        (
            Input(
                "finetuned.self_hosted.gpu_hourly_price",
                "GPU price",
                "USD/GPU-hour",
                placeholder="not self-hosted",
            ),
            Input("finetuned.self_hosted.gpus_per_replica", "GPUs per replica", "GPUs", step=1),
            Input(
                "finetuned.self_hosted.prefill_tokens_per_s",
                "Prefill throughput",
                "tokens/s per replica",
                placeholder="required",
            ),
            Input(
                "finetuned.self_hosted.decode_tokens_per_s",
                "Decode throughput",
                "tokens/s per replica",
                placeholder="required",
            ),
            Input("finetuned.self_hosted.min_replicas", "Minimum replicas", "replicas", step=1),
            Input(
                "finetuned.self_hosted.target_utilization",
                "Target utilisation",
                "fraction",
                step=0.05,
            ),
        ),
    ),
    Group(
        "quality",
        "Quality",
        (
            Input(
                "prompted.error_rate",
                "Prompted error rate",
                "fraction of answers",
                slider="linear",
                step=0.005,
            ),
            Input(
                "finetuned.error_rate",
                "Fine-tuned error rate",
                "fraction of answers",
                slider="linear",
                step=0.005,
            ),
            Input("prompted.cost_per_error", "Cost per error (prompted)", "USD/error"),
            Input("finetuned.cost_per_error", "Cost per error (fine-tuned)", "USD/error"),
        ),
    ),
    Group(
        "factors",
        "Decision factors",
        (
            Input(
                "factors.requirements_volatility",
                "Requirements change",
                "how often",
                kind="select",
                options=(("low", "Rarely"), ("medium", "Sometimes"), ("high", "Often")),
            ),
            Input(
                "factors.strict_format",
                "Strict output format",
                "yes/no",
                kind="bool",
                options=YES_NO,
            ),
            Input(
                "factors.specialised_domain",
                "Specialised vocabulary",
                "yes/no",
                kind="bool",
                options=YES_NO,
            ),
            Input("factors.min_examples", "Fewest examples worth tuning on", "examples"),
        ),
    ),
)

ALL_INPUTS: dict[str, Input] = {i.name: i for g in GROUPS for i in (*g.inputs, *g.advanced)}


# --- what the model says about a field --------------------------------------------------


# What the model says about a field never changes while the process runs; the candidates
# page asks it for every input of every card on every move (48 fields for 2 cards).
@functools.cache
def field_info(path: str, model: type[BaseModel] = Scenario) -> FieldInfo:
    """The pydantic FieldInfo of a dotted path, descending through nested (optional) models."""
    parts = path.split(".")
    info: FieldInfo | None = None
    current: type[BaseModel] | None = model
    for part in parts:
        if current is None:
            raise KeyError(path)
        info = current.model_fields[part]
        current = _model_of(info.annotation)
    assert info is not None
    return info


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _metadata(info: FieldInfo) -> list[Any]:
    # `Price | None` hides its Field(ge=..., le=...) inside the union's Annotated member.
    found = list(info.metadata)
    if (
        isinstance(info.annotation, types.UnionType)
        or typing.get_origin(info.annotation) is typing.Union
    ):
        for arg in typing.get_args(info.annotation):
            if typing.get_origin(arg) is typing.Annotated:
                for meta in arg.__metadata__:
                    found.extend(getattr(meta, "metadata", [meta]))
    return found


@functools.cache
def limits(path: str) -> tuple[float | None, float | None]:
    """The field's inclusive/exclusive lower and upper bounds, as declared on the model."""
    lo = hi = None
    bound: Any
    for meta in _metadata(field_info(path)):
        if isinstance(meta, annotated_types.Ge | annotated_types.Gt):
            bound = meta.ge if isinstance(meta, annotated_types.Ge) else meta.gt
            lo = float(bound)
        if isinstance(meta, annotated_types.Le | annotated_types.Lt):
            bound = meta.le if isinstance(meta, annotated_types.Le) else meta.lt
            hi = float(bound)
    return lo, hi


def help_text(path: str) -> str:
    return field_info(path).description or ""


def display(value: Any) -> str:
    """A value as the form shows it: 100000 rather than 100000.0, 'true' for booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


@functools.cache
def _defaults() -> Scenario:
    return Scenario()


def default_of(path: str) -> Any:
    """The default of a dotted path, read from one default Scenario (callers only read it)."""
    node: Any = _defaults()
    for part in path.split("."):
        if node is None:
            return None
        node = getattr(node, part)
    return node


# --- reading a query string -------------------------------------------------------------


@dataclass
class Reading:
    """What the page makes of a query string."""

    raw: dict[str, str]  # the last value typed for each name, kept verbatim
    errors: list[FieldError]  # every problem, in the order found
    ignored: list[str]  # dotted names left at their defaults because of an error
    scenario: Scenario | None  # what was computed (None: nothing could be)
    # What a humanely typed number was read as ("2M" -> "2000000"), shown under the field.
    normalised: dict[str, str] = dataclasses.field(default_factory=dict)

    def error_for(self, name: str) -> FieldError | None:
        return next((e for e in self.errors if e.field == name), None)


def _remove(data: dict[str, Any], path: str, missing: bool) -> str | None:
    """Drop the given value at `path`; for a missing required field, drop its optional group
    (a half-filled self-hosted block is ignored whole). Returns the dotted name removed, or
    None when nothing the user gave can be blamed (then nothing is computed)."""
    parts = path.split(".")
    if missing:
        parts = parts[:-1]
    if not parts:
        return None
    node: Any = data
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if not isinstance(node, dict) or parts[-1] not in node:
        return None
    del node[parts[-1]]
    return ".".join(parts)


def _merge(errors: Iterable[FieldError]) -> list[FieldError]:
    """One error per field: a union member's failures ('float', 'auto') read as one reason."""
    merged: dict[str, FieldError] = {}
    for err in errors:
        field = (
            _GROUP_ERROR_FIELD.get(err.field, err.field) if err.type == "value_error" else err.field
        )
        err = err.model_copy(update={"field": field})
        if field in merged:
            old = merged[field]
            if err.reason not in old.reason:
                merged[field] = old.model_copy(update={"reason": f"{old.reason}; or {err.reason}"})
        else:
            merged[field] = err
    return list(merged.values())


# --- numbers as people type them --------------------------------------------------------

_SUFFIXES = {"k": 3, "m": 6, "b": 9}  # powers of ten
_PLAIN = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")


def humane_number(text: str, unit: str) -> tuple[str | None, str | None]:
    """("2000000", None) for "2,000,000", "2M", "2m" or "2 million"; ("0.6", None) for
    "60%" in a fraction field; (None, reason) for what is ambiguous or not a number; and
    (text, None) unchanged for a plain number or anything the model should judge itself
    (so its own message names the problem).

    Thousands separators must group by three ("1,5" could be 1.5 or 15: refused); a suffix is
    k, M or B (any case: a cost field has no use for milli); a percentage only in a field whose
    unit is a fraction."""
    t = text.strip().replace("\u00a0", " ").replace("_", "")
    if t == "" or _PLAIN.fullmatch(t):
        return text, None
    low = t.lower()
    factor = 0  # a power of ten: exact in decimal, so 1.1k is 1100, not 1100.0000000000002
    percent = False
    if low.endswith("%"):
        percent, low = True, low[:-1].strip()
    for word, size in (("thousand", 3), ("million", 6), ("billion", 9), ("bn", 9)):
        if low.endswith(word):
            factor, low = size, low[: -len(word)].strip()
            break
    else:
        if low[-1:] in _SUFFIXES and len(low) > 1:
            factor, low = _SUFFIXES[low[-1]], low[:-1].strip()
    if low.startswith("$"):
        low = low[1:].strip()
    if "," in low:
        if not _GROUPED.fullmatch(low):
            return None, (
                f"'{text.strip()}' is ambiguous: a comma groups thousands (2,000,000) and a dot "
                "marks decimals (1.5)"
            )
        low = low.replace(",", "")
    if not _PLAIN.fullmatch(low):
        return text, None  # not a number at all: the model says why
    if percent:
        if factor:
            return None, f"'{text.strip()}' mixes a percentage with a k/M/B suffix"
        if not unit.startswith("fraction"):
            return (
                None,
                f"'{text.strip()}': a percentage is only for rates (this field is in {unit})",
            )
        factor = -2
    exact = decimal.Decimal(low).scaleb(factor)
    if not exact.is_finite() or abs(exact) > decimal.Decimal("1e300"):
        return text, None
    if exact == exact.to_integral_value():
        return str(int(exact)), None
    return format(exact.normalize(), "f"), None


def _normalise(key: str, value: str) -> tuple[str | None, FieldError | None]:
    spec = ALL_INPUTS.get(key)
    if spec is None or spec.kind != "number":
        return value, None
    normal, reason = humane_number(value, spec.unit)
    if reason is not None:
        return None, FieldError(
            field=key, reason=reason, type="ambiguous_number", input=value[:200]
        )
    return normal, None


def read(
    items: Sequence[tuple[str, str]],
    price: Any,
    model: type[BaseModel] = Scenario,
    prepare: Any = None,
) -> tuple[Reading, Any]:
    """Parse, validate and price a query string, leaving bad fields at their defaults.

    `price(scenario)` runs the engine; its ScenarioError marks fields too. Returns the
    reading and whatever `price` returned (None when nothing could be priced). `model` is the
    scenario's class; `prepare(data)` reshapes the nested dict before validation (the
    candidates page turns `candidates.<i>` groups into a list there).
    """
    raw: dict[str, str] = {}
    errors: list[FieldError] = []
    good: list[tuple[str, str]] = []
    ignored: list[str] = []
    normalised: dict[str, str] = {}
    for key, value in items:
        try:
            nest([(key, value)])
        except InvalidInput as exc:
            errors.extend(exc.errors)
            continue
        raw[key] = value
        normal, problem = _normalise(key, value)
        if problem is not None:
            errors.append(problem)
            ignored.append(key)
            continue
        assert normal is not None
        if normal != value:
            normalised[key] = normal
        good.append((key, normal))
    try:
        data = nest(good)
    except InvalidInput as exc:  # a name used both as a value and as a group
        errors.extend(exc.errors)
        return Reading(raw, _merge(errors), ignored, None, normalised), None
    # Each round removes at least one given field, so this ends; the bound is a backstop.
    for _ in range(len(good) + 2):
        try:
            scenario = model.model_validate(prepare(data) if prepare else data, context=FROM_TEXT)
        except ValidationError as exc:
            found = _merge(errors_from_pydantic(exc.errors()))
            removed = _drop(data, found, ignored)
            errors.extend(found)
            if not removed:
                return Reading(raw, _merge(errors), ignored, None, normalised), None
            continue
        try:
            # The candidates page reads a CandidatesScenario: Reading only passes it back.
            reading = Reading(raw, _merge(errors), ignored, scenario, normalised)  # type: ignore[arg-type]
            return reading, price(scenario)
        except ScenarioError as exc:
            found = errors_from_issues(exc.issues)
            removed = _drop(data, found, ignored)
            errors.extend(found)
            if not removed:
                return Reading(raw, _merge(errors), ignored, None, normalised), None
    return Reading(raw, _merge(errors), ignored, None, normalised), None


def _drop(data: dict[str, Any], found: list[FieldError], ignored: list[str]) -> bool:
    removed = False
    for err in found:
        name = _remove(data, err.field, err.type == "missing")
        if name is not None:
            ignored.append(name)
            removed = True
    return removed
