"""/api/v1/sensitivity (the tornado) and /api/v1/uncertainty (the Monte Carlo).

POST takes JSON: {"scenario": {...}, "bounds": {...}} or {"scenario": {...}, "ranges": {...},
"samples": 10000, "seed": 1}. GET takes the scenario as dotted query parameters, as
/api/v1/compare does, plus `bound.<input>=low,high` or `range.<input>=low,mode,high[,pert]`
(docs/analysis.md). Both answer JSON, or CSV with `format=csv`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.api import formats
from app.api.deps import CatalogDep, KnownQueryOnly
from app.api.errors import ErrorBody, FieldError, InvalidInput, errors_from_pydantic
from app.api.openapi import dotted_parameters
from app.api.query import parse
from app.deadline import bounded
from app.domain.scenario import Scenario
from app.domain.sensitivity import Bound, Sensitivity, check_bounds, sensitivity
from app.domain.uncertainty import (
    DEFAULT_BINS,
    DEFAULT_SAMPLES,
    MAX_BINS,
    MAX_SAMPLES,
    Range,
    Uncertainty,
    check_ranges,
    simulate,
)

router = APIRouter(prefix="/api/v1", tags=["analysis"])

Format = Literal["json", "csv"]
MAX_RANGES = 60  # more than the scenario has numeric inputs
MAX_SEED = 2**63 - 1
ERRORS: dict[int | str, dict[str, object]] = {
    422: {"model": ErrorBody, "description": "Invalid input"}
}
RANGE_PREFIX = "range."
BOUND_PREFIX = "bound."


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SensitivityRequest(_Request):
    scenario: Scenario = Field(default_factory=Scenario)
    bounds: dict[str, Bound] = Field(
        default_factory=dict,
        max_length=MAX_RANGES,
        description="Explicit {low, high} per dotted input name; replaces the default -50%/+100%",
    )


class UncertaintyRequest(_Request):
    scenario: Scenario = Field(default_factory=Scenario)
    ranges: dict[str, Range] = Field(
        default_factory=dict,
        max_length=MAX_RANGES,
        description="{low, mode, high, distribution} per dotted input name",
    )
    samples: int = Field(default=DEFAULT_SAMPLES, ge=1, le=MAX_SAMPLES)
    seed: int | None = Field(
        default=None, ge=0, le=MAX_SEED, description="Omitted: a fresh seed, reported in the result"
    )
    bins: int = Field(
        default=DEFAULT_BINS, ge=1, le=MAX_BINS, description="Bins of the savings histogram"
    )


def _issues_to_errors(issues: Iterable[object], prefix: str) -> list[FieldError]:
    return [
        FieldError(field=f"{prefix}{i.field}", reason=i.reason, type="range")  # type: ignore[attr-defined]
        for i in issues
    ]


# --- sensitivity ------------------------------------------------------------------------

SENSITIVITY_CSV = (
    "input",
    "label",
    "unit",
    "base_value",
    "low_value",
    "high_value",
    "savings_low",
    "savings_high",
    "savings_swing",
    "break_even_low",
    "break_even_high",
    "payback_low",
    "payback_high",
    "flips",
    "note",
)


def _sensitivity_csv(result: Sensitivity) -> Response:
    rows: list[tuple[object, ...]] = [
        (
            "(base)",
            "Scenario as given",
            "",
            None,
            None,
            None,
            result.base_savings,
            result.base_savings,
            0.0,
            result.base_break_even_volume,
            result.base_break_even_volume,
            result.base_payback_month,
            result.base_payback_month,
            False,
            "",
        ),
    ]
    for b in result.bars:
        rows.append(
            (
                b.input,
                b.label,
                b.unit,
                b.base_value,
                b.low_value,
                b.high_value,
                b.savings_low,
                b.savings_high,
                b.savings_swing,
                b.break_even_low,
                b.break_even_high,
                b.payback_low,
                b.payback_high,
                b.flips,
                "",
            )
        )
    for s in result.skipped:
        rows.append((s.input, "", "", *([None] * 11), s.reason))
    return formats.csv_response(SENSITIVITY_CSV, rows, "sensitivity.csv")


def _run_sensitivity(
    scenario: Scenario, bounds: dict[str, Bound], catalog: CatalogDep, fmt: Format, prefix: str
) -> Sensitivity | Response:
    issues = check_bounds(bounds)
    if issues:
        raise InvalidInput(_issues_to_errors(issues, prefix), title="Invalid bounds")
    result = sensitivity(scenario, catalog, bounds)
    return _sensitivity_csv(result) if fmt == "csv" else result


@router.post(
    "/sensitivity",
    response_model=Sensitivity,
    responses={**ERRORS, **formats.CSV_OK},
    dependencies=[KnownQueryOnly],
)
@bounded
def create_sensitivity(
    catalog: CatalogDep,
    request: Annotated[SensitivityRequest, Body()] = SensitivityRequest(),  # noqa: B008 - empty body: default scenario
    format: Format = "json",
) -> Sensitivity | Response:
    """Tornado: savings and break-even volume with each key input at a low and a high value."""
    return _run_sensitivity(request.scenario, request.bounds, catalog, format, "bounds.")


@router.get(
    "/sensitivity",
    response_model=Sensitivity,
    responses={**ERRORS, **formats.CSV_OK},
    openapi_extra={"parameters": dotted_parameters(Scenario)},
)
@bounded
def read_sensitivity(
    request: Request, catalog: CatalogDep, format: Format = "json"
) -> Sensitivity | Response:
    """The tornado, with the scenario as dotted query parameters and `bound.<input>=low,high`."""
    items = request.query_params.multi_items()
    scenario_items, extra = _split(items, BOUND_PREFIX)
    scenario = parse(Scenario, scenario_items, ("format",))
    bounds: dict[str, Bound] = {}
    errors: list[FieldError] = []
    for name, text in extra.items():
        numbers = _numbers(text, 2)
        if numbers is None:
            errors.append(_shape_error(BOUND_PREFIX + name, text, "low,high"))
            continue
        bounds[name] = Bound(low=numbers[0], high=numbers[1])
    if errors:
        raise InvalidInput(errors, title="Invalid bounds")
    return _run_sensitivity(scenario, bounds, catalog, format, BOUND_PREFIX)


# --- uncertainty ------------------------------------------------------------------------


def _run_uncertainty(
    scenario: Scenario,
    ranges: dict[str, Range],
    catalog: CatalogDep,
    *,
    samples: int,
    seed: int | None,
    bins: int,
    fmt: Format,
    prefix: str,
) -> Uncertainty | Response:
    issues = check_ranges(scenario, ranges)
    if issues:
        raise InvalidInput(_issues_to_errors(issues, prefix), title="Invalid ranges")
    result = simulate(scenario, catalog, ranges, samples=samples, seed=seed, bins=bins)
    if fmt == "csv":
        return formats.field_csv(result.model_dump(mode="json"), "uncertainty.csv")
    return result


@router.post(
    "/uncertainty",
    response_model=Uncertainty,
    responses={**ERRORS, **formats.CSV_OK},
    dependencies=[KnownQueryOnly],
)
@bounded
def create_uncertainty(
    catalog: CatalogDep,
    request: Annotated[UncertaintyRequest, Body()] = UncertaintyRequest(),  # noqa: B008 - empty body: default scenario
    format: Format = "json",
) -> Uncertainty | Response:
    """Monte Carlo: P10/P50/P90 of savings, payback month and break-even volume, and the
    probability that fine-tuning pays back within the horizon."""
    return _run_uncertainty(
        request.scenario,
        request.ranges,
        catalog,
        samples=request.samples,
        seed=request.seed,
        bins=request.bins,
        fmt=format,
        prefix="ranges.",
    )


@router.get(
    "/uncertainty",
    response_model=Uncertainty,
    responses={**ERRORS, **formats.CSV_OK},
    openapi_extra={"parameters": dotted_parameters(Scenario)},
)
@bounded
def read_uncertainty(
    request: Request,
    catalog: CatalogDep,
    format: Format = "json",
    samples: Annotated[
        int, Query(ge=1, le=MAX_SAMPLES, description="Monte Carlo samples")
    ] = DEFAULT_SAMPLES,
    seed: Annotated[
        int | None, Query(ge=0, le=MAX_SEED, description="Seed for a reproducible run")
    ] = None,
    bins: Annotated[
        int, Query(ge=1, le=MAX_BINS, description="Bins of the savings histogram")
    ] = DEFAULT_BINS,
) -> Uncertainty | Response:
    """The Monte Carlo, with the scenario as dotted query parameters and
    `range.<input>=low,mode,high[,pert|triangular]`."""
    items = request.query_params.multi_items()
    scenario_items, extra = _split(items, RANGE_PREFIX)
    scenario = parse(Scenario, scenario_items, ("format", "samples", "seed", "bins"))
    ranges: dict[str, Range] = {}
    errors: list[FieldError] = []
    for name, text in extra.items():
        parsed = parse_range(name, text)
        if isinstance(parsed, Range):
            ranges[name] = parsed
        else:
            errors.extend(parsed)
    if errors:
        raise InvalidInput(errors, title="Invalid ranges")
    return _run_uncertainty(
        scenario,
        ranges,
        catalog,
        samples=samples,
        seed=seed,
        bins=bins,
        fmt=format,
        prefix=RANGE_PREFIX,
    )


# --- query-string helpers ---------------------------------------------------------------


def parse_range(name: str, text: str) -> Range | list[FieldError]:
    """`low,mode,high[,pert|triangular]` for input `name`, or the errors naming `range.<name>`.

    The one parser of the GET syntax: the calculator page (app/web/analysis.py) uses it too.
    """
    parts = text.split(",")
    distribution = parts.pop().strip() if len(parts) == 4 else "pert"
    numbers = _numbers(",".join(parts), 3)
    if numbers is None or distribution not in ("pert", "triangular"):
        return [_shape_error(RANGE_PREFIX + name, text, "low,mode,high[,pert|triangular]")]
    try:
        return Range(low=numbers[0], mode=numbers[1], high=numbers[2], distribution=distribution)
    except ValidationError as exc:
        return [
            err.model_copy(update={"field": RANGE_PREFIX + name, "input": text[:200]})
            for err in errors_from_pydantic(exc.errors())
        ]


def _split(
    items: list[tuple[str, str]], prefix: str
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Scenario parameters, and `<prefix><input>` values by input name (last one wins)."""
    scenario: list[tuple[str, str]] = []
    extra: dict[str, str] = {}
    for key, value in items:
        if key.startswith(prefix):
            if len(extra) >= MAX_RANGES and key[len(prefix) :] not in extra:
                raise InvalidInput(
                    [
                        FieldError(
                            field=key[:100],
                            reason=f"more than {MAX_RANGES} {prefix}* parameters",
                            type="too_many",
                        )
                    ]
                )
            extra[key[len(prefix) :]] = value
        else:
            scenario.append((key, value))
    return scenario, extra


def _numbers(text: str, count: int) -> list[float] | None:
    parts = text.split(",")
    if len(parts) != count:
        return None
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    return values if all(v == v and abs(v) != float("inf") for v in values) else None


def _shape_error(field: str, text: str, shape: str) -> FieldError:
    return FieldError(
        field=field[:100],
        reason=f"expected {shape} (finite numbers)",
        type="value_error",
        input=text[:200],
    )
