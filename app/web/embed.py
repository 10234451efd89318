"""GET /embed: a compact view of a scenario for an iframe in a wiki page.

The query string is the scenario (the page's dotted names) plus a few options named
`embed.*`, which are not scenario fields. It renders the one computation (`run_compare`)
with the page's words and chart partials. An invalid field or option is shown inside the
frame (422), never as a bare error page: the frame is all a wiki reader sees.
Framing is allowed by app.middleware (CSP frame-ancestors from FRAME_ANCESTORS).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Literal, get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.api import cache
from app.api.candidates import run_candidates
from app.api.deps import CatalogDep, run_compare
from app.api.errors import FieldError, errors_from_pydantic
from app.domain import charts
from app.domain.candidates import (
    CandidatesComparison,
    CandidatesScenario,
    Costed,
    candidate_curves,
)
from app.domain.comparison import Comparison
from app.domain.engine import Resolved
from app.pricing import Catalog
from app.templating import templates
from app.web import candidates as candidates_page
from app.web import form, links
from app.web.pages import field_view, summary_context

router = APIRouter(include_in_schema=False)

PREFIX = "embed."
Part = Literal["recommendation", "break_even", "chart"]
ChartKind = Literal["volume", "cumulative"]
Theme = Literal["light", "dark", "auto"]
PARTS: tuple[Part, ...] = get_args(Part)
# The sliders an embed offers with embed.inputs=true: what a reader most wants to move.
INPUTS = ("workload.queries_per_month", "workload.monthly_growth", "workload.horizon_months")
# The chart's own viewBox: about the width it is drawn at in a 600-pixel frame (60% of it),
# so its 12.5-unit text is at least 10 CSS px there and when the frame is 100% of a column.
CHART_FRAME = charts.Frame(width=360, height=240, left=54, right=12, top=14, bottom=40)
MAX_ECHO = 100  # characters of a bad option value quoted back


class Options(BaseModel):
    """The embed's options; each field is `embed.<name>` in the query string."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    show: tuple[Part, ...] = Field(default=PARTS, min_length=1)
    chart: ChartKind = "volume"
    theme: Theme = "auto"
    inputs: bool = False


@dataclass
class OptionReading:
    options: Options
    errors: list[FieldError] = dc_field(default_factory=list)


def read_options(items: Sequence[tuple[str, str]]) -> tuple[OptionReading, list[tuple[str, str]]]:
    """Split `embed.*` options from the scenario; a bad option keeps its default and is reported."""
    raw: dict[str, str] = {}
    scenario: list[tuple[str, str]] = []
    for key, value in items:
        if key.startswith(PREFIX):
            if value != "":  # empty means "not given", as for scenario fields
                raw[key.removeprefix(PREFIX)] = value  # the last one wins, as in a form
        else:
            scenario.append((key, value))
    good: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, value in raw.items():
        data: Any = value
        if name == "show":
            data = tuple(dict.fromkeys(p.strip() for p in value.split(",") if p.strip()))
        try:
            Options.model_validate({name: data})
        except ValidationError as exc:
            errors.append(_option_error(name, value, exc))
            continue
        good[name] = data
    return OptionReading(Options.model_validate(good), errors), scenario


def _option_error(name: str, value: str, exc: ValidationError) -> FieldError:
    echoed = value if len(value) <= MAX_ECHO else value[:MAX_ECHO] + "…"
    if name not in Options.model_fields:
        known = ", ".join(PREFIX + n for n in Options.model_fields)
        return FieldError(
            field=(PREFIX + name)[:MAX_ECHO],
            reason=f"not an embed option; the options are {known}",
            type="extra_forbidden",
        )
    first = errors_from_pydantic(exc.errors())[0]
    reason = first.reason
    if name == "show":
        reason = "a comma-separated list of " + ", ".join(PARTS)
    return FieldError(field=PREFIX + name, reason=reason, type=first.type, input=echoed)


def embed_context(
    request: Request,
    reading: form.Reading,
    result: tuple[Resolved, Comparison] | None,
    opts: OptionReading,
    catalog: Catalog,
) -> dict[str, Any]:
    context = summary_context(reading, result, catalog)
    scenario_items = [
        (k, v) for k, v in request.query_params.multi_items() if not k.startswith(PREFIX)
    ]
    context.update(
        options=opts.options,
        option_errors=opts.errors,
        # The full calculator on the same scenario, as given (invalid fields included, so
        # the calculator marks them where they are typed).
        calculator_query=links.encode(scenario_items),
    )
    if context["comparison"] is not None:
        curve = context["curves"]
        context["embed_chart"] = (
            charts.cumulative_chart(curve, CHART_FRAME)
            if opts.options.chart == "cumulative"
            else charts.volume_chart(curve, CHART_FRAME)
        )
    if opts.options.inputs:
        context.update(slider_inputs(request, reading, catalog))
    return context


def slider_inputs(request: Request, reading: form.Reading, catalog: Catalog) -> dict[str, Any]:
    """The sliders of embed.inputs=true; everything else in the query travels with each
    htmx request as hidden fields."""
    return {
        "inputs": [field_view(form.ALL_INPUTS[name], reading, catalog) for name in INPUTS],
        "hidden": [(k, v) for k, v in request.query_params.multi_items() if k not in INPUTS],
    }


def candidates_embed_context(
    request: Request,
    reading: form.Reading,
    result: tuple[Costed, CandidatesComparison] | None,
    opts: OptionReading,
    catalog: Catalog,
) -> dict[str, Any]:
    """Several candidates in the frame: the ranking, and the volume chart with the ranges
    where each is cheapest (embed.chart=cumulative draws every candidate's cumulative cost)."""
    context = candidates_page.results_context(reading, result)
    scenario_items = [
        (k, v) for k, v in request.query_params.multi_items() if not k.startswith(PREFIX)
    ]
    context.update(
        candidates_mode=True,
        options=opts.options,
        option_errors=opts.errors,
        calculator_query=links.encode(scenario_items),
    )
    if result is not None:
        curve = candidate_curves(*result)
        context["embed_chart"] = (
            charts.candidate_cumulative_chart(curve, CHART_FRAME)
            if opts.options.chart == "cumulative"
            else charts.candidate_volume_chart(curve, CHART_FRAME)
        )
    if opts.options.inputs:
        context.update(slider_inputs(request, reading, catalog))
    return context


@router.get("/embed", response_class=HTMLResponse)
async def read_embed(request: Request, catalog: CatalogDep) -> Response:
    """A compact view of a scenario for an iframe; an htmx request gets only its results."""
    key = cache.responses.key(request, catalog)
    if (hit := cache.responses.get(key)) is not None:
        return hit  # a wiki page with an embed is opened by many readers: same URL
    opts, scenario_items = read_options(request.query_params.multi_items())
    fragment = (
        "HX-Request" in request.headers and "HX-History-Restore-Request" not in request.headers
    )
    if candidates_page.wants_candidates(scenario_items):
        reading, result = form.read(
            scenario_items,
            lambda scenario: run_candidates(scenario, catalog),
            model=CandidatesScenario,
            prepare=candidates_page.listed,
        )
        context = candidates_embed_context(request, reading, result, opts, catalog)
        template = "_partials/_embed_candidates.html" if fragment else "embed.html"
    else:
        reading, result = form.read(scenario_items, lambda s: run_compare(s, catalog))
        context = embed_context(request, reading, result, opts, catalog)
        template = "_partials/_embed_results.html" if fragment else "embed.html"
    status = 422 if reading.errors or opts.errors else 200
    response = templates.TemplateResponse(request, template, context, status_code=status)
    response.headers["Vary"] = "HX-Request"
    return cache.responses.put(key, response)
