"""GET /: the calculator page, or (for an htmx request) only its results fragment.

The query string is the scenario, with the dotted names of GET /api/v1/compare. Both the page
and the fragment render the one computation (`run_compare`), so their figures are the API's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic_core import PydanticUndefined

from app.api import cache
from app.api.analysis import RANGE_PREFIX
from app.api.deps import CatalogDep, run_compare
from app.api.errors import FieldError
from app.api.tokens import counter_view
from app.assets import root_path
from app.domain import charts
from app.domain.comparison import Comparison, Curves
from app.domain.engine import Resolved, ScenarioError, curves
from app.domain.formatting import usd
from app.domain.scenario import DEFAULT_FINETUNED_MODEL, DEFAULT_PROMPTED_MODEL, Scenario
from app.domain.sensitivity import sensitivity
from app.pricing import Catalog, get_catalog
from app.templating import templates
from app.web import analysis, form, links, snippet, view
from app.web import candidates as candidates_page
from app.web.presets import PRESETS

router = APIRouter(include_in_schema=False)

# All script and style come from /static; app.middleware sends the CSP that enforces it.

# Chart viewBoxes about as wide as a phone's column: the SVG is drawn at 0.85x to 1.5x its
# own size from a 390-pixel phone to a desktop (app.css caps its width), so its 12.5-unit text
# stays between 10 and 19 CSS px everywhere (tests/web/test_layout_browser.py measures it).
PAGE_FRAME = charts.Frame(width=400, height=250, left=54, right=12, top=14, bottom=40)
BREAKDOWN_FRAME = charts.Frame(width=400, height=130, left=84, right=30, top=8, bottom=30)


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
    slider_text: str = ""  # aria-valuetext: the value in the field's unit, in words
    normalised: str | None = None  # what a humanely typed number was read as ("2M": 2,000,000)

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
    if name == "finetuned.model" and name not in reading.raw and _no_finetuned_model(reading):
        # A link without the picker but with self-hosting or own prices computes without a
        # catalog model: show "None", as the figures assume, not the default model.
        value = ""
    if options and value not in {v for v, _ in options}:
        options.append((value, f"{value} (not in the catalog)"))
    placeholder = spec.placeholder or ""
    if field_default is not None and not placeholder:
        placeholder = form.display(field_default)
    typed = reading.normalised.get(name, value)
    slider = _slider(spec, lo, hi, typed or form.display(field_default))
    normalised = reading.normalised.get(name)
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
        slider_text=value_text(typed or form.display(field_default), spec.unit) if slider else "",
        normalised=value_text(normalised, spec.unit) if normalised is not None else None,
    )


def _no_finetuned_model(reading: form.Reading) -> bool:
    s = reading.scenario
    if s is None:
        return False
    arm = s.finetuned
    return arm.model is None and (arm.self_hosted is not None or bool(arm.prices.model_fields_set))


def value_text(value: str, unit: str) -> str:
    """A field's value in its unit, for aria-valuetext and the "read as" note: "110,000
    queries a month", "5% a month", "12 months". static/app.js `valueText` says the same."""
    try:
        v = float(value)
    except ValueError:
        return value
    if not math.isfinite(v):
        return value
    if unit.startswith("fraction"):
        pct = f"{v * 100:.4g}%"
        tail = unit.removeprefix("fraction").strip()
        tail = {"per month": "a month"}.get(tail, tail)
        return f"{pct} {tail}".strip()
    number = f"{v:,.0f}" if v.is_integer() else f"{v:,.6g}"
    words = {"queries/month": "queries a month", "USD/month": "USD a month"}
    return f"{number} {words.get(unit, unit)}".strip()


def summary_context(
    reading: form.Reading,
    result: tuple[Resolved, Comparison] | None,
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """What the page's results and the embed both show: errors, the comparison, its curves,
    the sentences, the prices used and the scenario's query string."""
    catalog = catalog if catalog is not None else get_catalog()  # bench/ calls without one
    known = set(form.ALL_INPUTS)
    ctx: dict[str, Any] = {
        "errors": reading.errors,
        "ignored": reading.ignored,
        "unplaced_errors": [e for e in reading.errors if e.field not in known],
        "comparison": None,
        "normalised": [
            (name, value_text(v, form.ALL_INPUTS[name].unit))
            for name, v in reading.normalised.items()
            if name in form.ALL_INPUTS
        ],
    }
    if result is None or reading.scenario is None:
        return ctx
    resolved, comparison = result
    given = links.scenario_items(reading.scenario, reading.raw)
    ctx.update(
        comparison=comparison,
        curves=curves(resolved, comparison),
        sentences={
            "payback": view.payback_sentence(comparison),
            "volume": view.volume_sentence(comparison),
            "recoup": view.recoup_sentence(comparison),
            "savings": view.savings_sentence(comparison),
        },
        # Numbers as the form writes them (no "2000000.0") and "None" models kept: this is
        # the snippet's and the embed link's query too (app/web/links.py).
        query=links.encode(given),
        frozen_query=links.frozen_query(
            reading.scenario, comparison, catalog, reading.raw, given=given
        ),
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


@dataclass(frozen=True)
class TopMover:
    """One of the inputs that move the answer most (the tornado's first bars), shown next
    to the result with its current value and a link to its field."""

    name: str
    label: str
    value: str
    given: bool
    swing: str  # "savings from $X to $Y"
    flips: bool
    field_id: str | None  # None: the input has no field on the page


TOP_MOVERS = 3


def top_movers(scenario: Scenario, catalog: Catalog) -> list[TopMover]:
    """The tornado's first three bars (default bounds): ~100 comparisons, a few ms."""
    try:
        sens = sensitivity(scenario, catalog)
    except ScenarioError:
        return []
    out = []
    for bar in sens.bars[:TOP_MOVERS]:
        spec = form.ALL_INPUTS.get(bar.input)
        out.append(
            TopMover(
                name=bar.input,
                label=bar.label,
                value=analysis.value_words(bar.base_value, bar.unit)
                if bar.base_value is not None
                else "",
                given=_is_given(scenario, bar.input),
                swing=f"savings {usd(bar.savings_low)} at {analysis.value_words(bar.low_value, bar.unit)}, "
                f"{usd(bar.savings_high)} at {analysis.value_words(bar.high_value, bar.unit)}",
                flips=bar.flips,
                field_id=("f-" + bar.input.replace(".", "-")) if spec is not None else None,
            )
        )
    return out


def _is_given(scenario: Scenario, name: str) -> bool:
    node: Any = scenario
    for part in name.split("."):
        if node is None or part not in node.model_fields_set:
            return False
        node = getattr(node, part)
    return True


def results_context(
    reading: form.Reading,
    result: tuple[Resolved, Comparison] | None,
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """The results fragment's context: the summary plus the page's three charts and their
    tables (the embed draws one chart of its own, so it stops at the summary), and the
    three inputs that move the answer most."""
    catalog = catalog if catalog is not None else get_catalog()
    ctx = summary_context(reading, result, catalog)
    comparison: Comparison | None = ctx["comparison"]
    if comparison is None:
        return ctx
    curve: Curves = ctx["curves"]
    resolved = result[0] if result is not None else None
    ctx.update(
        volume_chart=charts.volume_chart(curve, PAGE_FRAME, _volume_axes(resolved, curve)),
        cumulative_chart=charts.cumulative_chart(curve, PAGE_FRAME),
        breakdown_chart=charts.breakdown_chart(comparison, BREAKDOWN_FRAME),
        breakdown=view.breakdown_rows(comparison),
        volume_rows=view.volume_rows(curve),
        cumulative_rows=view.cumulative_rows(curve, comparison),
    )
    return ctx


def _volume_axes(resolved: Resolved | None, curve: Curves) -> charts.VolumeAxes:
    """The volume chart's axes and lines, drawn once per resolution: the same arms give the
    same curve at every volume (Resolved.derived)."""
    if resolved is None:
        return charts.volume_axes(curve.volume, PAGE_FRAME)
    points = curve.volume
    key = ("page_volume_axes", PAGE_FRAME, len(points), points[0].volume, points[-1].volume)
    axes = resolved.derived.get(key)
    if not isinstance(axes, charts.VolumeAxes):
        axes = resolved.derived[key] = charts.volume_axes(curve.volume, PAGE_FRAME)
    return axes


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
    context = results_context(reading, result, catalog)
    fragment = (
        "HX-Request" in request.headers and "HX-History-Restore-Request" not in request.headers
    )
    # The fragment only links the panel (loaded lazily); the full page renders it in place.
    context["analysis_url"] = analysis.analysis_url(items)
    if context["comparison"] is not None:
        # The memo takes the page's query, ranges included.
        ranges = links.encode([(RANGE_PREFIX + k, v) for k, vs in raw_ranges.items() for v in vs])
        context["memo_query"] = "&".join(p for p in (context["query"], ranges) if p)
    if context["comparison"] is not None:
        context["movers_url"] = "/movers?" + links.encode(scenario_items)
    if not fragment:
        if context["comparison"] is not None and reading.scenario is not None:
            context["top_movers"] = top_movers(reading.scenario, catalog)
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


@router.get("/movers", response_class=HTMLResponse)
def read_movers(request: Request, catalog: CatalogDep) -> Response:
    """'What moves it most' alone, for htmx; a plain visit goes to the full page, which has it."""
    items = request.query_params.multi_items()
    if "HX-Request" not in request.headers:
        target = root_path(request.scope) + "/?" + urlencode(items) + "#top-movers"
        return RedirectResponse(target, status_code=303)
    scenario_items, _ = analysis.split(items)
    reading, result = form.read(scenario_items, lambda s: run_compare(s, catalog))
    movers = top_movers(reading.scenario, catalog) if result and reading.scenario else []
    response = templates.TemplateResponse(
        request, "_partials/_top_movers.html", {"top_movers": movers}, status_code=200
    )
    response.headers["Vary"] = "HX-Request"
    return response
