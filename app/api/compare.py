"""/api/v1/compare: the comparison as JSON, CSV or a single value; and its curves."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response

from app.api import cache, formats
from app.api.deps import CatalogDep, KnownQueryOnly, run_compare
from app.api.errors import ErrorBody
from app.api.openapi import dotted_parameters
from app.api.query import parse
from app.domain.comparison import Comparison, Curves
from app.domain.engine import curves
from app.domain.scenario import Scenario

router = APIRouter(prefix="/api/v1", tags=["compare"])

Format = Literal["json", "csv"]
FieldParam = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Return one value of the result as text/plain, e.g. break_even.monthly_volume",
    ),
]
RESERVED_COMPARE = ("format", "field", "shape")
# CSV only: `long` is field,value rows; `wide` one column per field (typed columns for pandas).
ShapeParam = Annotated[
    Literal["long", "wide"],
    Query(description="CSV layout: field,value rows (long) or one column per field (wide)"),
]
RESERVED_CURVES = ("format", "points", "volume_min", "volume_max")
ERRORS: dict[int | str, dict[str, object]] = {
    422: {"model": ErrorBody, "description": "Invalid input"}
}
# JSON by default; CSV with format=csv; one value as text with field=...
RESPONSES = {**ERRORS, **formats.CSV_OR_TEXT_OK}
CURVE_RESPONSES = {**ERRORS, **formats.CSV_OK}
SCENARIO_QUERY = {"parameters": dotted_parameters(Scenario)}


def _render(
    comparison: Comparison, fmt: Format, field: str | None, shape: str = "long"
) -> Response:
    if field is not None:
        return formats.single_field(comparison.model_dump(mode="json"), field)
    if fmt == "csv" and shape == "wide":
        return formats.wide_csv(comparison.model_dump(mode="json"), "comparison.csv")
    if fmt == "csv":
        return formats.field_csv(comparison.model_dump(mode="json"), "comparison.csv")
    # Serialised once, here; `response_model` stays on the route for the OpenAPI schema only.
    return Response(comparison.model_dump_json(), media_type="application/json")


@router.post(
    "/compare", response_model=Comparison, responses=RESPONSES, dependencies=[KnownQueryOnly]
)
async def create_comparison(
    catalog: CatalogDep,
    scenario: Annotated[Scenario, Body()] = Scenario(),  # noqa: B008 - an empty body is the default scenario
    format: Format = "json",
    field: FieldParam = None,
    shape: ShapeParam = "long",
) -> Response:
    """Compare prompting with fine-tuning for a scenario given as JSON."""
    _, comparison = run_compare(scenario, catalog)
    return _render(comparison, format, field, shape)


@router.get(
    "/compare", response_model=Comparison, responses=RESPONSES, openapi_extra=SCENARIO_QUERY
)
async def read_comparison(
    request: Request,
    catalog: CatalogDep,
    format: Format = "json",
    field: FieldParam = None,
    shape: ShapeParam = "long",
) -> Response:
    """The same comparison, with the scenario as dotted query parameters (for spreadsheets)."""
    key = cache.responses.key(request, catalog)
    if (hit := cache.responses.get(key)) is not None:
        return hit
    scenario = parse(Scenario, request.query_params.multi_items(), RESERVED_COMPARE)
    _, comparison = run_compare(scenario, catalog)
    return cache.responses.put(key, _render(comparison, format, field, shape))


@router.get(
    "/compare/curves",
    response_model=Curves,
    responses=CURVE_RESPONSES,
    openapi_extra=SCENARIO_QUERY,
)
async def read_curves(
    request: Request,
    catalog: CatalogDep,
    format: Format = "json",
    points: Annotated[int, Query(ge=2, le=500, description="Points on the volume curve")] = 61,
    volume_min: Annotated[
        float, Query(gt=0, le=1e12, description="Lowest monthly volume of the volume curve")
    ] = 100.0,
    volume_max: Annotated[
        float, Query(gt=0, le=1e12, description="Highest monthly volume of the volume curve")
    ] = 1e9,
) -> Response:
    """Both curves: steady monthly cost against volume, and cumulative cost by month."""
    from app.api.errors import FieldError, InvalidInput

    if volume_min >= volume_max:
        raise InvalidInput(
            [FieldError(field="volume_min", reason="must be below volume_max", input=volume_min)]
        )
    scenario = parse(Scenario, request.query_params.multi_items(), RESERVED_CURVES)
    resolved, comparison = run_compare(scenario, catalog)
    result = curves(
        resolved, comparison, points=points, volume_min=volume_min, volume_max=volume_max
    )
    if format == "csv":
        rows = [("volume", p.volume, p.prompted, p.finetuned) for p in result.volume]
        rows += [("cumulative", p.month, p.prompted, p.finetuned) for p in result.cumulative]
        return formats.csv_response(("curve", "x", "prompted", "finetuned"), rows, "curves.csv")
    return Response(result.model_dump_json(), media_type="application/json")
