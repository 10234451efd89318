"""The "What moves the answer" panel: tornado, Monte Carlo, and when the answer flips.

`GET /analysis?<the page's query>` returns the panel alone; the results fragment loads it
lazily with htmx, so the slider path (`GET /` as a fragment) does not wait for the ~90
scenarios of the tornado and the 10,000 samples. The full page (`GET /` without HX-Request)
renders the panel in place, so it works without JavaScript.

Ranges use the GET syntax of /api/v1/uncertainty, `range.<input>=low,mode,high[,pert|triangular]`,
parsed by `app.api.analysis.parse_range`. On the page the mode is always the field's own value
(what the scenario holds, default included), so the field and the range cannot disagree. The
form has a low and a high box per range, both named `range.<input>`: with JavaScript
static/app.js joins them into the API syntax before the request; without it the two values
arrive as a pair and are joined here.

The flip sentences are words of the web layer over the sensitivity and uncertainty results:
the recommendation of app/domain/recommend.py and the API contract stay as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.analysis import MAX_RANGES, RANGE_PREFIX, parse_range
from app.api.deps import CatalogDep, run_compare
from app.api.errors import FieldError
from app.assets import root_path
from app.deadline import bounded
from app.domain import charts
from app.domain.engine import ScenarioError
from app.domain.formatting import count, usd
from app.domain.scenario import Scenario
from app.domain.sensitivity import Sensitivity, TornadoBar, sensitivity
from app.domain.uncertainty import DEFAULT_SAMPLES, Range, Uncertainty, check_ranges, simulate
from app.domain.variation import get_value
from app.pricing import Catalog
from app.templating import templates
from app.web import form, links

router = APIRouter(include_in_schema=False)

PAGE_SEED = 1  # fixed, so a link always shows the same figures; the panel states it
TORNADO_BARS = 10
FLIP_LINES = 3  # reason lines from the tornado; the chart marks every flipping bar
UNCERTAIN = (0.1, 0.9)  # a share of saving samples inside this band: the answer flips
# Narrow charts (a phone's width, see app/web/pages.py): each tornado row has its label on a
# line above its bar; the histogram keeps a band above the plot for the percentile labels.
TORNADO_ROW = 46.0
TORNADO_LABEL = 18.0
HISTOGRAM_FRAME = charts.Frame(width=400, height=250, left=50, right=24, top=52, bottom=40)

# The fields that get a low/high pair in the form, in form order (group by group).
RANGE_INPUTS: tuple[str, ...] = (
    "workload.queries_per_month",
    "workload.monthly_growth",
    "prompted.static_prompt_tokens",
    "prompted.dynamic_input_tokens",
    "prompted.output_tokens",
    "prompted.cache_hit_rate",
    "finetuned.static_prompt_tokens",
    "finetuned.output_tokens",
    "finetuned.training.examples",
    "finetuned.cost_per_example",
    "prompted.error_rate",
    "finetuned.error_rate",
)


# --- reading ranges ---------------------------------------------------------------------


def split(
    items: Sequence[tuple[str, str]],
) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """The scenario's parameters, and the values of each `range.<input>` in order."""
    scenario: list[tuple[str, str]] = []
    ranges: dict[str, list[str]] = {}
    for key, value in items:
        if key.startswith(RANGE_PREFIX):
            ranges.setdefault(key[len(RANGE_PREFIX) :], []).append(value)
        else:
            scenario.append((key, value))
    return scenario, ranges


@dataclass(frozen=True)
class RangeView:
    """One low/high pair as the form draws it."""

    name: str
    label: str
    unit: str
    low: str  # as typed
    high: str
    distribution: str | None  # kept when the link says `triangular` (or `pert`) explicitly
    error: FieldError | None

    @property
    def id(self) -> str:
        return "r-" + self.name.replace(".", "-")

    @property
    def param(self) -> str:
        return RANGE_PREFIX + self.name


@dataclass
class RangeReading:
    ranges: dict[str, Range] = field(default_factory=dict)  # the valid ones, mode = field value
    errors: list[FieldError] = field(default_factory=list)  # each names `range.<input>`
    typed: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)  # low, high, dist

    def error_for(self, name: str) -> FieldError | None:
        return next((e for e in self.errors if e.field == RANGE_PREFIX + name), None)


def _error(name: str, reason: str, text: str | None) -> FieldError:
    return FieldError(
        field=(RANGE_PREFIX + name)[:100],
        reason=reason,
        type="range",
        input=None if text is None else text[:200],
    )


def read_ranges(raw: dict[str, list[str]], scenario: Scenario | None) -> RangeReading:
    """Valid ranges and the errors of the others; one bad range never stops the rest."""
    out = RangeReading()
    for n, (name, values) in enumerate(raw.items()):
        name = name[:100]
        text = ",".join(values)
        if n >= MAX_RANGES:
            out.errors.append(_error(name, f"more than {MAX_RANGES} ranges", None))
            continue
        distribution: str | None = None
        given_mode: str | None = None
        if len(values) == 2:  # the form's low and high boxes, submitted without JavaScript
            low, high = values
        elif len(values) == 1:
            parts = values[0].split(",")
            if values[0].strip() == "":
                low = high = ""
            elif len(parts) in (3, 4):
                low, given_mode, high = parts[0], parts[1], parts[2]
                distribution = parts[3].strip() if len(parts) == 4 else None
            else:
                out.typed[name] = (values[0], "", None)
                out.errors.append(
                    _error(name, "expected low,mode,high[,pert|triangular] (finite numbers)", text)
                )
                continue
        else:
            out.errors.append(_error(name, "give one low and one high value", text))
            continue
        out.typed[name] = (low, high, distribution)
        if low.strip() == "" and high.strip() == "":
            continue  # an empty pair: no range
        if low.strip() == "" or high.strip() == "":
            out.errors.append(_error(name, "give both a low and a high value, or neither", text))
            continue
        value = get_value(scenario, name) if scenario is not None and _known(name) else None
        mode = form.display(value) if isinstance(value, int | float) else given_mode
        if mode is None:
            out.errors.append(
                _error(name, "the field has no value to use as the most likely", text)
            )
            continue
        problem = _order_problem(mode, low, high)
        if problem is not None:
            out.errors.append(_error(name, problem, text))
            continue
        composed = f"{low},{mode},{high}" + (f",{distribution}" if distribution else "")
        parsed = parse_range(name, composed)
        if not isinstance(parsed, Range):
            out.errors.extend(e.model_copy(update={"input": text[:200]}) for e in parsed)
            continue
        issues = check_ranges(scenario, {name: parsed}) if scenario is not None else []
        if issues:
            out.errors.extend(_error(name, i.reason, text) for i in issues)
            continue
        out.ranges[name] = parsed
    return out


def _order_problem(mode: str, low: str, high: str) -> str | None:
    """low > high, or the field's value outside [low, high], in the page's words (the shared
    parser would say 'need low <= mode <= high'); None when fine or not numbers at all."""
    try:
        lo, m, hi = float(low), float(mode), float(high)
    except ValueError:
        return None  # the shared parser names the malformed number
    if not all(math.isfinite(v) for v in (lo, m, hi)):
        return None
    if lo > hi:
        return f"low ({low.strip()}) is above high ({high.strip()})"
    if not lo <= m <= hi:
        return f"the field's value ({mode}) must lie between low and high"
    return None


def _known(name: str) -> bool:
    try:
        form.field_info(name)
    except (KeyError, AttributeError):
        return False
    return True


def range_views(reading: RangeReading) -> dict[str, list[RangeView]]:
    """The low/high pairs of each form group (by group key)."""
    groups: dict[str, list[RangeView]] = {}
    for group in form.GROUPS:
        names = {i.name for i in (*group.inputs, *group.advanced)}
        for name in RANGE_INPUTS:
            if name not in names:
                continue
            spec = form.ALL_INPUTS[name]
            low, high, distribution = reading.typed.get(name, ("", "", None))
            groups.setdefault(group.key, []).append(
                RangeView(
                    name, spec.label, spec.unit, low, high, distribution, reading.error_for(name)
                )
            )
    return groups


# --- words ------------------------------------------------------------------------------


def value_words(value: float, unit: str) -> str:
    if unit.startswith("fraction"):
        return f"{value * 100:.3g}%"
    if unit.startswith("USD"):
        return usd(value)
    return count(value)


def subject(label: str) -> str:
    """'Prompted: cache hit rate' -> 'the prompted cache hit rate'; 'Queries per month' ->
    'queries per month'."""
    if ": " in label:
        arm, rest = label.split(": ", 1)
        return f"the {arm.lower()} {rest}"
    return label[:1].lower() + label[1:]


def share(p: float) -> str:
    """A probability in words that never rounds a rare case to 0% or 100%."""
    if 0 < p < 0.01:
        return "under 1%"
    if 0.99 < p < 1:
        return "over 99%"
    return f"{p * 100:.0f}%"


def flip_sentence(bar: TornadoBar, base_savings: float, months: int) -> str | None:
    """'The answer flips if queries per month falls to 25,000: ...' or None."""
    base_positive = base_savings > 0
    moves = [
        f"{verb} {value_words(value, bar.unit)}"
        for verb, savings, value in (
            ("falls to", bar.savings_low, bar.low_value),
            ("rises to", bar.savings_high, bar.high_value),
        )
        if (savings > 0) != base_positive
    ]
    if not moves:
        return None
    then = (
        f"fine-tuning then no longer saves money over {months} months"
        if base_positive
        else f"fine-tuning then saves money over {months} months"
    )
    return f"The answer flips if {subject(bar.label)} {' or '.join(moves)}: {then} (tornado)."


def probability_sentence(u: Uncertainty) -> str:
    return (
        f"Fine-tuning pays back within {u.horizon_months} months in "
        f"{share(u.probability_payback_within_horizon)} of cases."
    )


def positive_sentence(u: Uncertainty) -> str:
    return (
        f"It saves money over the {u.horizon_months} months in "
        f"{share(u.probability_savings_positive)} of cases."
    )


def tornado_desc(s: Sensitivity, shown: Sequence[TornadoBar], flips: Sequence[str]) -> str:
    if not shown:
        return "No input of this scenario can be varied."
    top = shown[0]
    text = (
        f"Savings over {s.horizon_months} months (as given: {usd(s.base_savings)}) with each "
        f"input at a low and a high value, everything else as given. Largest effect: "
        f"{subject(top.label)}, from {usd(top.savings_low)} at {value_words(top.low_value, top.unit)} "
        f"to {usd(top.savings_high)} at {value_words(top.high_value, top.unit)}."
    )
    return text + (" " + " ".join(flips) if flips else " No input flips the answer.")


def histogram_desc(u: Uncertainty) -> str:
    s = u.savings
    return (
        f"Savings over {u.horizon_months} months across {count(u.samples)} samples: "
        f"P10 {usd(s.p10)}, P50 {usd(s.p50)}, P90 {usd(s.p90)}. "
        f"{positive_sentence(u)} Bars left of the zero line lose money."
    )


# --- the panel --------------------------------------------------------------------------


@dataclass
class Panel:
    sensitivity: Sensitivity | None = None
    tornado: charts.TornadoChart | None = None
    tornado_desc: str = ""
    uncertainty: Uncertainty | None = None
    histogram: charts.HistogramChart | None = None
    histogram_desc: str = ""
    probability: str = ""
    positive: str = ""
    headline: str = ""
    flips: list[str] = field(default_factory=list)  # reason lines: where the answer flips
    range_errors: list[FieldError] = field(default_factory=list)
    problem: str | None = None  # the ranges as a whole cannot be priced
    labels: dict[str, str] = field(default_factory=dict)  # range input -> label
    range_lines: list[str] = field(default_factory=list)  # the ranges used, in words
    links: dict[str, str] = field(default_factory=dict)


def build_panel(scenario: Scenario, ranges: RangeReading, catalog: Catalog) -> Panel:
    panel = Panel(range_errors=list(ranges.errors))
    months = scenario.workload.horizon_months
    qs = links.share_query(scenario)
    sens = sensitivity(scenario, catalog)
    shown = sens.bars[:TORNADO_BARS]
    panel.sensitivity = sens
    n = min(len(sens.bars), TORNADO_BARS)
    panel.tornado = charts.tornado_chart(
        sens.base_savings,
        sens.bars,
        TORNADO_BARS,
        frame=charts.Frame(
            width=400, height=8 + TORNADO_ROW * n + 40, left=24, right=40, top=8, bottom=40
        ),
        row=TORNADO_ROW,
        label_band=TORNADO_LABEL,
    )
    tornado_flips = [
        s for b in shown if b.flips and (s := flip_sentence(b, sens.base_savings, months))
    ]
    panel.tornado_desc = tornado_desc(sens, shown, tornado_flips)
    panel.flips = tornado_flips[:FLIP_LINES]
    if len(tornado_flips) > FLIP_LINES:
        more = len(tornado_flips) - FLIP_LINES
        panel.flips.append(
            f"{more} more input{'s' if more > 1 else ''} flip{'' if more > 1 else 's'} "
            "the answer within its bounds: see the bars marked “flips” below."
        )
    panel.links["sensitivity"] = "/api/v1/sensitivity" + (f"?{qs}" if qs else "")
    panel.links["sensitivity_csv"] = f"/api/v1/sensitivity?{qs}{'&' if qs else ''}format=csv"
    panel.labels = {
        name: (form.ALL_INPUTS[name].label if name in form.ALL_INPUTS else name)
        for name in (*ranges.ranges, *(e.field.removeprefix(RANGE_PREFIX) for e in ranges.errors))
    }
    if ranges.ranges:
        try:
            u = simulate(scenario, catalog, ranges.ranges, samples=DEFAULT_SAMPLES, seed=PAGE_SEED)
        except ScenarioError as exc:
            panel.problem = f"The ranges cannot be priced at their extremes: {exc}"
        else:
            panel.uncertainty = u
            panel.probability = probability_sentence(u)
            panel.positive = positive_sentence(u)
            panel.histogram = charts.histogram_chart(
                u.savings_histogram,
                [("P10", u.savings.p10), ("P50", u.savings.p50), ("P90", u.savings.p90)],
                HISTOGRAM_FRAME,
            )
            panel.histogram_desc = histogram_desc(u)
            lo, hi = UNCERTAIN
            if lo <= u.probability_savings_positive <= hi:
                panel.flips.append(
                    f"The answer flips inside your ranges: fine-tuning saves money over "
                    f"{months} months in {share(u.probability_savings_positive)} of cases "
                    f"(Monte Carlo)."
                )
            panel.range_lines = [
                f"{panel.labels.get(k, k)} from {form.display(r.low)} to {form.display(r.high)}"
                f" around {form.display(r.mode)} ({r.distribution})"
                for k, r in sorted(u.ranges.items())
            ]
            params = [(RANGE_PREFIX + k, _range_text(r)) for k, r in sorted(ranges.ranges.items())]
            panel.links["uncertainty"] = "/api/v1/uncertainty?" + "&".join(
                p for p in (qs, urlencode(params), f"seed={u.seed}") if p
            )
    panel.headline = _headline(panel)
    return panel


def _range_text(r: Range) -> str:
    return f"{form.display(r.low)},{form.display(r.mode)},{form.display(r.high)},{r.distribution}"


def _headline(p: Panel) -> str:
    if p.flips:
        return "The answer can flip within plausible values of your inputs."
    held = "The answer holds: no single input flips it within the tornado's bounds"
    if p.uncertainty is not None:
        u = p.uncertainty
        return f"{held}, and fine-tuning saves money in {share(u.probability_savings_positive)} of your ranges' cases."
    return held + "."


def panel_context(
    reading: form.Reading, priced: bool, raw_ranges: dict[str, list[str]], catalog: Catalog
) -> dict[str, Any]:
    """`panel` (None when the scenario cannot be priced) and the form's `range_views`."""
    ranges = read_ranges(raw_ranges, reading.scenario)
    panel = None
    if priced and reading.scenario is not None:
        try:
            panel = build_panel(reading.scenario, ranges, catalog)
        except ScenarioError as exc:  # the scenario priced, so this is a backstop
            panel = Panel(range_errors=list(ranges.errors), problem=str(exc))
    return {"panel": panel, "range_views": range_views(ranges), "range_reading": ranges}


def analysis_url(items: Sequence[tuple[str, str]]) -> str:
    """The panel's own URL: the page's query string, re-encoded (never echoed raw)."""
    return "/analysis?" + links.encode(items)


@router.get("/analysis", response_class=HTMLResponse)
@bounded
def read_analysis(request: Request, catalog: CatalogDep) -> Response:
    """The panel alone, for htmx; a plain visit goes to the full page, which includes it."""
    items = request.query_params.multi_items()
    if "HX-Request" not in request.headers:
        target = root_path(request.scope) + "/?" + urlencode(items) + "#analysis"
        return RedirectResponse(target, status_code=303)
    scenario_items, raw_ranges = split(items)
    reading, result = form.read(scenario_items, lambda s: run_compare(s, catalog))
    context = panel_context(reading, result is not None, raw_ranges, catalog)
    bad = bool(reading.errors or context["range_reading"].errors)
    response = templates.TemplateResponse(
        request, "_partials/_analysis.html", context, status_code=422 if bad else 200
    )
    response.headers["Vary"] = "HX-Request"
    return response
