"""/api/v1/candidates: several candidates costed at once, as JSON, CSV or one value."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.api import cache, formats
from app.api.analysis import MAX_RANGES
from app.api.compare import ERRORS, RESPONSES, FieldParam
from app.api.deps import CatalogDep
from app.api.errors import FieldError, InvalidInput, errors_from_pydantic
from app.api.openapi import dotted_parameters
from app.api.query import nest
from app.domain.candidate_analysis import (
    DEFAULT_CANDIDATE_SAMPLES,
    CandidatesUncertainty,
    candidate_sensitivity,
    check_candidate_ranges,
    simulate_candidates,
)
from app.domain.candidates import (
    MAX_CANDIDATES,
    CandidateCurves,
    CandidatesComparison,
    CandidatesScenario,
    Costed,
    candidate_curves,
    compare_costed,
)
from app.domain.scenario import FROM_TEXT, Factors, Workload
from app.domain.sensitivity import Bound, Sensitivity
from app.domain.uncertainty import MAX_SAMPLES, Range
from app.pricing import Catalog
from app.settings import settings

router = APIRouter(prefix="/api/v1", tags=["candidates"])

Format = Literal["json", "csv"]
RESERVED = ("format", "field")
RESERVED_CURVES = ("format", "points", "volume_min", "volume_max")
CURVE_RESPONSES = {**ERRORS, **formats.CSV_OK}


def _query_parameters() -> list[dict[str, Any]]:
    """Workload, factors, title and baseline as documented parameters; the candidates'
    own fields follow the pattern `candidates.<i>.<field>` (described on the route)."""
    params = [{**p, "name": f"workload.{p['name']}"} for p in dotted_parameters(Workload)] + [
        {**p, "name": f"factors.{p['name']}"} for p in dotted_parameters(Factors)
    ]
    for name, text in (("title", "A name for the scenario"), ("baseline", "Id of the baseline")):
        params.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": text,
                "schema": {"type": "string"},
            }
        )
    return params


QUERY = {"parameters": _query_parameters()}
DOTTED_HELP = (
    " Each candidate's fields are dotted names with its position: `candidates.0.id=now`, "
    "`candidates.0.kind=prompted`, `candidates.0.model=...`, `candidates.1.kind=hybrid`, "
    "`candidates.1.core=lora`; the same fields as the prompted and fine-tuned arms of "
    f"/api/v1/compare. 2 to {MAX_CANDIDATES} candidates, numbered from 0 without gaps."
)


def listed(data: dict[str, Any]) -> dict[str, Any]:
    """`candidates.<i>.*` groups from a dotted query as a list, in index order."""
    groups = data.get("candidates")
    if not isinstance(groups, dict):
        return data
    errors: list[FieldError] = []
    for key in groups:
        if not key.isdigit() or len(key) > 2:
            errors.append(
                FieldError(field=f"candidates.{key}", reason="not a candidate number (0, 1, ...)")
            )
    if errors:
        raise InvalidInput(errors)
    numbers = sorted(int(k) for k in groups)
    if numbers != list(range(len(numbers))):
        gap = next(i for i, n in enumerate(numbers) if n != i)
        raise InvalidInput(
            [
                FieldError(
                    field=f"candidates.{gap}", reason="candidates are numbered from 0 without gaps"
                )
            ]
        )
    return {**data, "candidates": [groups[str(n)] for n in numbers]}


def parse_candidates(items: list[tuple[str, str]], reserved: tuple[str, ...]) -> CandidatesScenario:
    try:
        return CandidatesScenario.model_validate(listed(nest(items, reserved)), context=FROM_TEXT)
    except ValidationError as exc:
        raise InvalidInput(errors_from_pydantic(exc.errors())) from exc


def run_candidates(
    scenario: CandidatesScenario, catalog: Catalog
) -> tuple[Costed, CandidatesComparison]:
    today = date.today()
    costed = cache.arms.cost(scenario, catalog, today)
    return costed, compare_costed(
        costed, today=today, stale_after_days=settings.prices_stale_after_days
    )


CSV_FIGURES = (
    "kind",
    "model",
    "total_cost",
    "present_value",
    "average_cost_per_query",
    "variable_cost_per_query",
    "one_time_cost",
    "monthly_fixed_cost",
    "total_queries",
)
VS_FIGURES = ("savings_over_horizon", "payback_month", "monthly_volume", "queries_to_recoup")


def by_id(data: dict[str, Any]) -> dict[str, Any]:
    """The result with `candidates` keyed by id, for `field=candidates.<id>.<path>`."""
    return {**data, "candidates": {c["id"]: c for c in data["candidates"]}}


def _render(result: CandidatesComparison, fmt: Format, field: str | None) -> Response:
    if field is not None:
        return formats.single_field(by_id(result.model_dump(mode="json")), field)
    if fmt == "csv":
        rank = {cid: i + 1 for i, cid in enumerate(result.ranking)}
        rows: list[tuple[Any, ...]] = []
        for c in result.candidates:
            data = c.model_dump(mode="json")
            rows.append((c.id, "rank", rank[c.id]))
            rows += [(c.id, name, data[name]) for name in CSV_FIGURES]
            rows += [(c.id, f"vs_baseline.{n}", data["vs_baseline"][n]) for n in VS_FIGURES]
        for i, seg in enumerate(result.cheapest_by_volume):
            rows.append((seg.candidate, f"cheapest_by_volume.{i}.from_volume", seg.from_volume))
            rows.append((seg.candidate, f"cheapest_by_volume.{i}.to_volume", seg.to_volume))
        return formats.csv_response(("candidate", "figure", "value"), rows, "candidates.csv")
    return Response(result.model_dump_json(), media_type="application/json")


@router.post("/candidates", response_model=CandidatesComparison, responses=RESPONSES)
async def create_candidates(
    catalog: CatalogDep,
    scenario: Annotated[CandidatesScenario, Body()],
    format: Format = "json",
    field: FieldParam = None,
) -> Response:
    """Cost 2 to 8 candidates (prompted, fine-tuned, self-hosted, hybrid) against a baseline."""
    _, result = run_candidates(scenario, catalog)
    return _render(result, format, field)


@router.get(
    "/candidates",
    response_model=CandidatesComparison,
    responses=RESPONSES,
    openapi_extra=QUERY,
    description="Cost 2 to 8 candidates against a baseline, the scenario as dotted query parameters."
    + DOTTED_HELP,
)
async def read_candidates(
    request: Request, catalog: CatalogDep, format: Format = "json", field: FieldParam = None
) -> Response:
    """The same comparison of candidates, from dotted query parameters (for spreadsheets)."""
    key = cache.responses.key(request, catalog)
    if (hit := cache.responses.get(key)) is not None:
        return hit
    scenario = parse_candidates(request.query_params.multi_items(), RESERVED)
    _, result = run_candidates(scenario, catalog)
    return cache.responses.put(key, _render(result, format, field))


def _curves(
    scenario: CandidatesScenario,
    catalog: Catalog,
    fmt: Format,
    points: int,
    volume_min: float,
    volume_max: float,
) -> Response:
    if volume_min >= volume_max:
        raise InvalidInput(
            [FieldError(field="volume_min", reason="must be below volume_max", input=volume_min)]
        )
    costed, result = run_candidates(scenario, catalog)
    out: CandidateCurves = candidate_curves(
        costed, result, points=points, volume_min=volume_min, volume_max=volume_max
    )
    if fmt == "csv":
        rows: list[tuple[Any, ...]] = [
            ("volume", p.volume, *p.costs, p.cheapest) for p in out.volume
        ]
        months = len(out.cumulative[0])
        rows += [("cumulative", m, *(c[m] for c in out.cumulative), "") for m in range(months)]
        return formats.csv_response(
            ("curve", "x", *out.ids, "cheapest"), rows, "candidate-curves.csv"
        )
    return Response(out.model_dump_json(), media_type="application/json")


Points = Annotated[int, Query(ge=2, le=500, description="Points on the volume curve")]
VolumeMin = Annotated[
    float, Query(gt=0, le=1e12, description="Lowest monthly volume of the volume curve")
]
VolumeMax = Annotated[
    float, Query(gt=0, le=1e12, description="Highest monthly volume of the volume curve")
]


@router.get(
    "/candidates/curves",
    response_model=CandidateCurves,
    responses=CURVE_RESPONSES,
    openapi_extra=QUERY,
    description="Every candidate's volume and cumulative curves, and the cheapest-by-volume envelope."
    + DOTTED_HELP,
)
async def read_candidate_curves(
    request: Request,
    catalog: CatalogDep,
    format: Format = "json",
    points: Points = 61,
    volume_min: VolumeMin = 100.0,
    volume_max: VolumeMax = 1e9,
) -> Response:
    """Every candidate's curves and the envelope, from dotted query parameters."""
    scenario = parse_candidates(request.query_params.multi_items(), RESERVED_CURVES)
    return _curves(scenario, catalog, format, points, volume_min, volume_max)


@router.post("/candidates/curves", response_model=CandidateCurves, responses=CURVE_RESPONSES)
async def create_candidate_curves(
    catalog: CatalogDep,
    scenario: Annotated[CandidatesScenario, Body()],
    format: Format = "json",
    points: Points = 61,
    volume_min: VolumeMin = 100.0,
    volume_max: VolumeMax = 1e9,
) -> Response:
    """Every candidate's curves and the envelope, for a scenario given as JSON."""
    return _curves(scenario, catalog, format, points, volume_min, volume_max)


# --- what moves the answer --------------------------------------------------------------


class CandidatesSensitivityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: CandidatesScenario
    bounds: dict[str, Bound] = Field(
        default_factory=dict,
        max_length=MAX_RANGES,
        description="Explicit {low, high} per dotted input name (candidates.<i>.<field>, workload.<field>)",
    )


class CandidatesSensitivity(BaseModel):
    leader: str = Field(
        description="The candidate the tornado is for: the cheapest, or the runner-up when the baseline is cheapest"
    )
    baseline: str
    tornado: Sensitivity


class CandidatesUncertaintyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: CandidatesScenario
    ranges: dict[str, Range] = Field(
        default_factory=dict,
        max_length=MAX_RANGES,
        description="{low, mode, high, distribution} per dotted input name",
    )
    samples: int = Field(default=DEFAULT_CANDIDATE_SAMPLES, ge=1, le=MAX_SAMPLES)
    seed: int | None = Field(
        default=None,
        ge=0,
        le=2**63 - 1,
        description="Omitted: a fresh seed, reported in the result",
    )


@router.post("/candidates/sensitivity", response_model=CandidatesSensitivity, responses=ERRORS)
def create_candidates_sensitivity(
    catalog: CatalogDep, request: Annotated[CandidatesSensitivityRequest, Body()]
) -> CandidatesSensitivity:
    """Tornado for the leading candidate against the baseline: savings, break-even volume and
    payback with each input of the two (and of the workload) at a low and a high value."""
    lead, tornado = candidate_sensitivity(request.scenario, catalog, request.bounds)
    baseline = request.scenario.baseline or request.scenario.candidates[0].id
    return CandidatesSensitivity(leader=lead, baseline=baseline, tornado=tornado)


@router.post("/candidates/uncertainty", response_model=CandidatesUncertainty, responses=ERRORS)
def create_candidates_uncertainty(
    catalog: CatalogDep, request: Annotated[CandidatesUncertaintyRequest, Body()]
) -> CandidatesUncertainty:
    """Monte Carlo over ranges: each candidate's total and savings against the baseline, and
    the probability that each is the cheapest over the horizon."""
    issues = check_candidate_ranges(request.scenario, request.ranges)
    if issues:
        raise InvalidInput(
            [FieldError(field=f"ranges.{i.field}", reason=i.reason, type="range") for i in issues],
            title="Invalid ranges",
        )
    return simulate_candidates(
        request.scenario, catalog, request.ranges, samples=request.samples, seed=request.seed
    )
