"""GET /: the calculator page, or (for an htmx request) only its results fragment.

The query string is the scenario, with the dotted names of GET /api/v1/compare. Both the page
and the fragment render the one computation (`run_compare`), so their figures are the API's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic_core import PydanticUndefined

from app.api import cache
from app.api.deps import CatalogDep, run_compare
from app.api.errors import FieldError
from app.api.query import query_string
from app.api.tokens import counter_view
from app.domain import charts
from app.domain.comparison import Comparison, Curves
from app.domain.engine import Resolved, curves
from app.domain.scenario import DEFAULT_FINETUNED_MODEL, DEFAULT_PROMPTED_MODEL
from app.pricing import Catalog
from app.templating import templates
from app.web import analysis, form, snippet, view
from app.web import candidates as candidates_page
from app.web.presets import PRESETS

router = APIRouter(include_in_schema=False)

# All script and style come from /static; app.middleware sends the CSP that enforces it.


@dataclass(frozen=True)
class FieldView:
    """One input as the template draws it: its spec, the model's words and the user's value."""

    spec: form.Input
    help: str
    lo: float | None
    hi: float | None
    value: str  # what the user typed, verbatim, or the default
    default: str | None  # the value that equals "not given" (None: always submitted)
    placeholder: str
    error: FieldError | None
    options: list[tuple[str, str]]
    slider_lo: float | None = None
    slider_hi: float | None = None
    slider_value: float | None = None

    @property
    def id(self) -> str:
        return "f-" + self.spec.name.replace(".", "-")


def _field_default(name: str) -> Any:
    default = form.field_info(name).default
    return None if default is PydanticUndefined else default


def _slider(
    spec: form.Input, lo: float | None, hi: float | None, value: str
) -> tuple[float, float, float] | None:
    if spec.slider is None:
        return None
    s_lo = spec.slider_min if spec.slider_min is not None else (lo or 0.0)
    s_hi = spec.slider_max if spec.slider_max is not None else (hi or 1.0)
    try:
        v = float(value)
    except ValueError:
        v = s_lo
    if not math.isfinite(v):
        v = s_lo
    v = min(max(v, s_lo), s_hi)
    if spec.slider == "log":
        # The range input carries log10 of the value; its paired number field the value.
        return math.log10(s_lo), math.log10(s_hi), round(math.log10(max(v, s_lo)), 3)
    return s_lo, s_hi, v


def field_views(reading: form.Reading, catalog: Catalog) -> dict[str, Any]:
    groups = []
    for group in form.GROUPS:
        views = ([], [])  # type: tuple[list[FieldView], list[FieldView]]
        for target, specs in zip(views, (group.inputs, group.advanced), strict=True):
            for spec in specs:
                target.append(field_view(spec, reading, catalog))
        groups.append((group, views[0], views[1]))
    # Names the user set to something other than the default: their <details> open.
    given = {
        f.spec.name
        for _, main, advanced in groups
        for f in (*main, *advanced)
        if f.value != "" and f.value != f.default
    }
    return {"groups": groups, "given": given, "self_hosted_catalog": _self_hosted_catalog(catalog)}


def _self_hosted_catalog(catalog: Catalog) -> dict[str, Any]:
    """The catalog's GPU offers and throughput presets, for the self-hosted pickers (app.js
    copies a choice into the fields; the fields, not the pickers, are the scenario)."""
    offers = sorted(catalog.gpus.values(), key=lambda g: (g.gpu, g.hourly_price))
    return {
        "gpus": [
            {
                "id": g.id,
                "label": f"{g.gpu}: {g.provider}, {g.offering}: ${g.hourly_price:g}/GPU-hour "
                f"(as of {g.as_of}{', secondary source' if g.confidence == 'secondary' else ''})",
                "price": g.hourly_price,
                "source": str(g.source),
            }
            for g in offers
        ],
        "presets": [
            {
                "id": t.id,
                "label": f"{t.name}: {t.prefill_tokens_per_s:,.0f} in / {t.decode_tokens_per_s:,.0f} out tokens/s"
                + (" (secondary source)" if t.confidence == "secondary" else ""),
                "gpus": t.gpus_per_replica,
                "prefill": t.prefill_tokens_per_s,
                "decode": t.decode_tokens_per_s,
                "source": str(t.source),
            }
            for t in catalog.throughput.values()
        ],
    }


def field_view(spec: form.Input, reading: form.Reading, catalog: Catalog) -> FieldView:
    name = spec.name
    lo, hi = form.limits(name)
    model_default = form.default_of(name)
    field_default = _field_default(name)
    options = list(spec.options)
    default: str | None = form.display(model_default)
    if name == "prompted.model":
        options = view.prompted_options(catalog)
        model_default, default = DEFAULT_PROMPTED_MODEL, None
    elif name == "finetuned.model":
        options = [
            ("", "None: self-hosted, or your own prices below"),
            *view.finetuned_options(catalog),
        ]
        model_default, default = DEFAULT_FINETUNED_MODEL, None
    value = reading.raw[name] if name in reading.raw else form.display(model_default)
    if options and value not in {v for v, _ in options}:
        options.append((value, f"{value} (not in the catalog)"))
    placeholder = spec.placeholder or ""
    if field_default is not None and not placeholder:
        placeholder = form.display(field_default)
    slider = _slider(spec, lo, hi, value or form.display(field_default))
    return FieldView(
        spec=spec,
        help=form.help_text(name),
        lo=lo,
        hi=hi,
        value=value,
        default=default,
        placeholder=placeholder,
        error=reading.error_for(name),
        options=options,
        slider_lo=slider[0] if slider else None,
        slider_hi=slider[1] if slider else None,
        slider_value=slider[2] if slider else None,
    )


def summary_context(
    reading: form.Reading, result: tuple[Resolved, Comparison] | None
) -> dict[str, Any]:
    """What the page's results and the embed both show: errors, the comparison, its curves,
    the sentences, the prices used and the scenario's query string."""
    known = set(form.ALL_INPUTS)
    ctx: dict[str, Any] = {
        "errors": reading.errors,
        "ignored": reading.ignored,
        "unplaced_errors": [e for e in reading.errors if e.field not in known],
        "comparison": None,
    }
    if result is None or reading.scenario is None:
        return ctx
    resolved, comparison = result
    ctx.update(
        comparison=comparison,
        curves=curves(resolved, comparison),
        sentences={
            "payback": view.payback_sentence(comparison),
            "volume": view.volume_sentence(comparison),
            "recoup": view.recoup_sentence(comparison),
            "savings": view.savings_sentence(comparison),
        },
        query=query_string(reading.scenario),
        prices={
            "prompted": view.arm_prices(comparison.prompted),
            "finetuned": view.arm_prices(comparison.finetuned),
        },
        prices_age_days=view.age_days(comparison.prices_as_of, date.today()),
    )
    ctx["prices_secondary"] = any(
        "secondary source" in source for rows in ctx["prices"].values() for _, _, source in rows
    )
    return ctx


def results_context(
    reading: form.Reading, result: tuple[Resolved, Comparison] | None
) -> dict[str, Any]:
    """The results fragment's context: the summary plus the page's three charts and their
    tables (the embed draws one chart of its own, so it stops at the summary)."""
    ctx = summary_context(reading, result)
    comparison: Comparison | None = ctx["comparison"]
    if comparison is None:
        return ctx
    curve: Curves = ctx["curves"]
    ctx.update(
        volume_chart=charts.volume_chart(curve),
        cumulative_chart=charts.cumulative_chart(curve),
        breakdown_chart=charts.breakdown_chart(comparison),
        breakdown=view.breakdown_rows(comparison),
        volume_rows=view.volume_rows(curve),
        cumulative_rows=view.cumulative_rows(curve),
    )
    return ctx


@router.get("/", response_class=HTMLResponse)
async def read_calculator(request: Request, catalog: CatalogDep) -> Response:
    """The calculator; an htmx request gets only the results fragment."""
    key = cache.responses.key(request, catalog)
    if (hit := cache.responses.get(key)) is not None:
        return hit
    items = request.query_params.multi_items()
    if candidates_page.wants_candidates(items):
        return candidates_page.render(request, catalog, items)
    # `range.<input>` parameters belong to the analysis panel (app/web/analysis.py).
    scenario_items, raw_ranges = analysis.split(items)
    reading, result = form.read(scenario_items, lambda scenario: run_compare(scenario, catalog))
    context = results_context(reading, result)
    fragment = (
        "HX-Request" in request.headers and "HX-History-Restore-Request" not in request.headers
    )
    # The fragment only links the panel (loaded lazily); the full page renders it in place.
    context["analysis_url"] = analysis.analysis_url(items)
    if not fragment:
        context.update(analysis.panel_context(reading, result is not None, raw_ranges, catalog))
        context.update(field_views(reading, catalog))
        model = reading.scenario.prompted.model if reading.scenario else None
        context.update(
            candidates_link=candidates_page.two_arm_link(scenario_items),
            presets=PRESETS,
            counter=counter_view(catalog, model=model or DEFAULT_PROMPTED_MODEL, target="static"),
        )
    if context["comparison"] is not None:
        context["embed_share"] = snippet.embed_share(
            request, context["query"], context["comparison"].title
        )
    template = "_partials/_results.html" if fragment else "index.html"
    status = 422 if reading.errors or _bad_ranges(context) else 200
    response = templates.TemplateResponse(request, template, context, status_code=status)
    response.headers["Vary"] = "HX-Request"
    return cache.responses.put(key, response)


def _bad_ranges(context: dict[str, Any]) -> bool:
    reading = context.get("range_reading")
    return bool(reading and reading.errors)
