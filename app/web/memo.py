"""GET /memo: the decision memo, one printable page to hand round in a budget meeting.

The query string is the page's (scenario fields and `range.*`). The memo renders the one
computation (`run_compare`), the tornado and, with ranges, the Monte Carlo of the analysis
panel, so its figures are the API's. `format=md` gives the same memo as Markdown.

Everything the memo says is built here as a `Memo` (a view-model of plain strings and rows);
`templates/memo.html` and `to_markdown` only lay it out. The memo is a list of sections over
the arms of the comparison: with several candidates, a candidate is one more arm in
`Memo.arms` and its rows in the tables, and a new section is one more field and one more
block in each layout.

Frozen numbers: the memo's links write every price used as an explicit price (see
app/web/links.py and docs/memo.md), so the figures reproduce after the catalog changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from app.api.analysis import RANGE_PREFIX
from app.api.candidates import run_candidates
from app.api.deps import CatalogDep, run_compare
from app.api.errors import FieldError
from app.domain import charts
from app.domain.candidates import CandidatesScenario
from app.domain.comparison import ArmResult, Comparison, Curves
from app.domain.engine import Resolved, curves
from app.domain.formatting import count, usd, usd_fine
from app.domain.scenario import Scenario
from app.domain.sensitivity import TornadoBar
from app.domain.variation import get_value
from app.pricing import Catalog
from app.templating import templates
from app.web import analysis, form, links, view
from app.web import candidates as candidates_page

router = APIRouter(include_in_schema=False)

APPROACHES = {
    "prompt_engineering": "Keep prompting",
    "fine_tuning": "Fine-tune",
    "prompt_then_fine_tune": "Prompt now, fine-tune later",
    "fine_tune_plus_prompt": "Fine-tune, keep a short prompt",
}
ARM_TITLES = {"prompted": "Prompted", "finetuned": "Fine-tuned"}
LIFECYCLE_CODES = (
    "model_shutdown",
    "model_deprecated",
    "fine_tuning_closed",
    "retraining_after_close",
)
MOVERS = 5  # tornado rows in the memo
# Print geometry: a narrow viewBox drawn at about its own size on A4 and Letter, so its
# 11-unit text prints at about 11 px (3 mm), and room on the right for the line labels.
PRINT_FRAME = charts.Frame(width=340, height=220, left=46, right=72, top=10, bottom=34)
GROUP_TITLES = {
    "workload": "Workload",
    "prompted": "Prompted",
    "finetuned": "Fine-tuned",
    "self_hosted": "Self-hosted GPU serving",
    "quality": "Quality",
    "factors": "Decision factors",
}
# The assumptions table's two printed columns, by group (about equal lengths).
ASSUMPTION_COLUMNS = (("workload", "prompted", "quality", "factors"), ("finetuned", "self_hosted"))
# Defaults that decide the default answer though they sit in closed folds (issue 16).
FIXED_DEFAULTS = (
    "prompted.setup_cost",
    "prompted.monthly_fixed_cost",
    "finetuned.setup_cost",
    "finetuned.monthly_fixed_cost",
)


# --- the view-model ---------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    sentence: str


@dataclass(frozen=True)
class Assumption:
    group: str
    label: str
    name: str
    value: str
    unit: str
    given: bool
    decides: bool  # left at its default, and among what moves the answer most


@dataclass(frozen=True)
class PriceRow:
    arm: str
    model: str  # catalog id, or "none"
    price: str  # "input", "training", ...
    value: str
    unit: str
    origin: str  # "catalog", "negotiated: <file>", "given in the scenario", ...
    source: str  # URL (or contract reference), "" when given
    as_of: str
    confidence: str


@dataclass(frozen=True)
class Mover:
    name: str
    label: str
    value: str  # as given
    low: str
    savings_low: str
    high: str
    savings_high: str
    flips: bool


@dataclass(frozen=True)
class EndLabel:
    """A line's name at its right end, so the chart needs no colour legend."""

    arm: str
    text: str
    x: float
    y: float


@dataclass(frozen=True)
class PrintChart:
    title: str
    desc: str
    chart: charts.LineChart
    labels: list[EndLabel]


@dataclass
class Memo:
    title: str
    question: str
    approach: str
    headline: str
    reasons: list[str]
    figures: list[Figure]
    savings: str
    arms: list[tuple[str, ArmResult]]
    charts: list[PrintChart]
    assumptions: list[Assumption]
    decisive: list[str]  # sentences: the defaults that decide the answer
    quality: str
    prices: list[PriceRow]
    prices_note: str
    lifecycle: list[str]
    warnings: list[str]
    moves_headline: str
    moves_flips: list[str]
    movers: list[Mover]
    probability: list[str]  # sentences; empty list never: says why there is none
    percentiles: list[tuple[str, ...]]  # (row, P10, P50, P90)
    printed: str
    live_url: str
    frozen_url: str
    frozen_note: str  # what the frozen link keeps, and what it cannot
    markdown_url: str
    errors: list[FieldError] = field(default_factory=list)

    def assumption_columns(self) -> list[list[tuple[str, list[Assumption]]]]:
        """The assumptions in the printed layout: columns of (group title, rows)."""
        columns = []
        for keys in ASSUMPTION_COLUMNS:
            titles = [GROUP_TITLES[k] for k in keys]
            columns.append([(t, [a for a in self.assumptions if a.group == t]) for t in titles])
        return columns


# --- words and rows ---------------------------------------------------------------------


def _pct(v: float) -> str:
    return f"{v * 100:.3g}%"


def question(scenario: Scenario, comparison: Comparison) -> str:
    w = scenario.workload
    who = f"“{comparison.title}”" if comparison.title else "this workload"
    pm = comparison.prompted.model or "a prompted model at your own prices"
    if comparison.finetuned.serving == "self_hosted":
        fm = "fine-tune a smaller model and serve it on your own GPUs"
    else:
        fm = f"fine-tune {comparison.finetuned.model or 'a smaller model at your own prices'}"
    growth = f", growing {_pct(w.monthly_growth)} a month" if w.monthly_growth else ""
    return (
        f"Should {who} keep prompting {pm} or {fm}, at {count(w.queries_per_month)} queries "
        f"a month{growth}, over {w.horizon_months} months?"
    )


def _is_set(scenario: Scenario, name: str) -> bool:
    node: Any = scenario
    for part in name.split("."):
        if node is None or part not in node.model_fields_set:
            return False
        node = getattr(node, part)
    return True


def _value_text(name: str, value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and not isinstance(value, bool):
        v = float(value)
        if unit.startswith("fraction"):
            return f"{v * 100:.3g}%"
        if unit.startswith("USD"):
            return usd_fine(v) if 0 < abs(v) < 1 else usd(v)
        if math.isfinite(v) and abs(v) >= 1_000:
            return f"{v:,.0f}"
        return form.display(value)
    return str(value)


def assumptions(
    scenario: Scenario,
    comparison: Comparison,
    decisive_names: set[str],
    raw: dict[str, str] | None = None,
) -> list[Assumption]:
    rows: list[Assumption] = []
    self_hosted = scenario.finetuned.self_hosted is not None
    for group in form.GROUPS:
        for spec in (*group.inputs, *group.advanced):
            name = spec.name
            # A model picker left at "None" arrives empty: given, though the model has no value.
            given = _is_set(scenario, name) or (raw is not None and raw.get(name) == "")
            if name in ("prompted.model", "finetuned.model"):
                arm = comparison.prompted if name.startswith("prompted") else comparison.finetuned
                value = arm.model or "none (own prices or self-hosted)"
            elif name.startswith("finetuned.self_hosted.") and not self_hosted:
                value = "not used"
            elif ".prices." in name and not given:
                value = "catalog"
            else:
                current = get_value(scenario, name)
                if current is None and spec.placeholder:
                    value = spec.placeholder
                else:
                    value = _value_text(name, current, spec.unit)
            rows.append(
                Assumption(
                    group=GROUP_TITLES.get(group.key, group.legend),
                    label=spec.label,
                    name=name,
                    value=value,
                    unit=spec.unit,
                    given=given,
                    decides=(not given) and name in decisive_names,
                )
            )
    return rows


def decisive_defaults(
    scenario: Scenario, bars: Sequence[TornadoBar], base_savings: float
) -> tuple[set[str], list[str]]:
    """The inputs left at their defaults that move the answer most, in words: the tornado's
    top bars that were not given, and the fixed costs (one-time and monthly) always."""
    names: set[str] = set()
    lines: list[str] = []
    for bar in bars[:MOVERS]:
        if _is_set(scenario, bar.input) or ".prices." in bar.input:
            continue
        names.add(bar.input)
        lines.append(
            f"{bar.label} was left at its default, "
            f"{analysis.value_words(bar.base_value or 0.0, bar.unit)}: between "
            f"{analysis.value_words(bar.low_value, bar.unit)} and "
            f"{analysis.value_words(bar.high_value, bar.unit)} the savings run from "
            f"{usd(bar.savings_low)} to {usd(bar.savings_high)} (as given: {usd(base_savings)})."
        )
    fixed = [(n, get_value(scenario, n)) for n in FIXED_DEFAULTS if not _is_set(scenario, n)]
    if fixed:
        parts = [
            f"{_lower_first(form.ALL_INPUTS[n].label)} ({ARM_TITLES[n.split('.')[0]].lower()}) "
            f"{usd(v)}{' a month' if 'monthly' in n else ' once'}"
            for n, v in fixed
        ]
        lines.append(
            "Fixed costs left at their defaults: " + "; ".join(parts) + ". "
            "Give your own figures if you know them: they are part of every total."
        )
        names.update(n for n, _ in fixed)
    return names, lines


def _lower_first(label: str) -> str:
    """'Setup' -> 'setup', but 'MLOps upkeep' stays as it is."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


def quality_sentence(scenario: Scenario) -> str:
    p, f = scenario.prompted, scenario.finetuned
    if p.error_rate == 0 and f.error_rate == 0:
        return (
            "Quality: both arms are assumed to make the same errors (error rates 0): the "
            "comparison is of cost alone. Give each arm's error rate and cost per error to "
            "price a quality difference."
        )
    return (
        f"Quality: the prompted arm errs on {_pct(p.error_rate)} of answers at "
        f"{usd(p.cost_per_error)} each, the fine-tuned arm on {_pct(f.error_rate)} at "
        f"{usd(f.cost_per_error)} each; these costs are in the totals."
    )


PRICE_UNITS = {"batch_discount": "fraction off"}


def _origin(source: str) -> tuple[str, str]:
    """(origin kind, model id or file) of a PriceUsed.source."""
    base = source.removesuffix(" (long context)")
    if base.startswith("catalog:"):
        return "catalog", base.removeprefix("catalog:")
    if base.startswith("negotiated:"):
        return "negotiated", base.removeprefix("negotiated:")
    return base, ""


def price_rows(scenario: Scenario, comparison: Comparison, catalog: Catalog) -> list[PriceRow]:
    rows: list[PriceRow] = []
    for name, arm in (("prompted", comparison.prompted), ("finetuned", comparison.finetuned)):
        model = arm.model or "none"
        entry = catalog.get(arm.model) if arm.model else None
        for key, price in arm.prices.items():
            kind, ref = _origin(price.source)
            long = price.source.endswith("(long context)")
            path = ("long_context.prices." if long else "prices.") + key
            if key == "batch_discount":
                path = "batch_discount"
            value = form.display(price.value) if key == "batch_discount" else usd_fine(price.value)
            label = key.replace("_", " ") + (" (long context)" if long else "")
            unit = PRICE_UNITS.get(key, "USD/1M tokens")
            if kind in ("catalog", "negotiated") and entry is not None:
                origin = catalog.price_origin(ref if kind == "catalog" else arm.model or "", path)
                src = origin.source if origin is not None else str(entry.source)
                as_of = (origin.as_of if origin is not None else entry.as_of).isoformat()
                rows.append(
                    PriceRow(
                        ARM_TITLES[name],
                        model,
                        label,
                        value,
                        unit,
                        "catalog" if kind == "catalog" else f"negotiated ({ref})",
                        src,
                        as_of,
                        entry.confidence if kind == "catalog" else "negotiated",
                    )
                )
            elif kind == "input price":
                rows.append(
                    PriceRow(
                        ARM_TITLES[name],
                        model,
                        label,
                        value,
                        unit,
                        "the input price (no separate cache-write price)",
                        "",
                        "",
                        "",
                    )
                )
            else:
                rows.append(
                    PriceRow(
                        ARM_TITLES[name],
                        model,
                        label,
                        value,
                        unit,
                        "given in the scenario",
                        "",
                        "",
                        "",
                    )
                )
    tp = links.training_price(scenario, comparison, catalog)
    if tp is not None:
        entry = catalog.get(comparison.finetuned.model) if comparison.finetuned.model else None
        tr = entry.training if entry is not None else None
        if tp.from_catalog and entry is not None and tr is not None:
            rows.append(
                PriceRow(
                    "Fine-tuned",
                    entry.id,
                    "training",
                    usd_fine(tp.value),
                    tp.unit,
                    "catalog",
                    str(tr.source or entry.source),
                    (tr.as_of or entry.as_of).isoformat(),
                    tr.confidence or entry.confidence,
                )
            )
        else:
            rows.append(
                PriceRow(
                    "Fine-tuned",
                    comparison.finetuned.model or "none",
                    "training",
                    usd_fine(tp.value),
                    tp.unit,
                    "given in the scenario",
                    "",
                    "",
                    "",
                )
            )
    sh = scenario.finetuned.self_hosted
    if sh is not None:
        rows.append(
            PriceRow(
                "Fine-tuned",
                "self-hosted",
                "serving GPU",
                usd(sh.gpu_hourly_price),
                "USD/GPU-hour",
                "given in the scenario",
                "",
                "",
                "",
            )
        )
    return rows


def movers(bars: Sequence[TornadoBar], scenario: Scenario) -> list[Mover]:
    out = []
    for b in bars[:MOVERS]:
        base = b.base_value
        out.append(
            Mover(
                name=b.input,
                label=b.label,
                value=analysis.value_words(base, b.unit) if base is not None else "—",
                low=analysis.value_words(b.low_value, b.unit),
                savings_low=usd(b.savings_low),
                high=analysis.value_words(b.high_value, b.unit),
                savings_high=usd(b.savings_high),
                flips=b.flips,
            )
        )
    return out


def end_labels(chart: charts.LineChart, gap: float = 13.0) -> list[EndLabel]:
    """Each line's name beside its last point, pushed apart vertically so the two never
    overlap (the lower one moves down, then all move up if that leaves the frame)."""
    fr = chart.frame
    ends: list[tuple[str, str, float, float]] = []
    for line in chart.lines:
        x, y = (float(v) for v in line.points.rsplit(" ", 1)[-1].split(","))
        ends.append((line.arm, line.label, x, y))
    ends.sort(key=lambda e: e[3])
    ys = [e[3] for e in ends]
    for i in range(1, len(ys)):
        ys[i] = max(ys[i], ys[i - 1] + gap)
    if ys and ys[-1] > fr.y0 - 2:
        ys = [y - (ys[-1] - (fr.y0 - 2)) for y in ys]
    if ys and ys[0] < fr.y1 + 8:
        ys = [y + (fr.y1 + 8 - ys[0]) for y in ys]
    return [
        EndLabel(arm, text, round(x + 4, 1), round(y, 1))
        for (arm, text, x, _), y in zip(ends, ys, strict=True)
    ]


def print_charts(c: Comparison, curve: Curves, sentences: dict[str, str]) -> list[PrintChart]:
    volume = charts.volume_chart(curve, PRINT_FRAME)
    cumulative = charts.cumulative_chart(curve, PRINT_FRAME)
    return [
        PrintChart(
            "Monthly cost against volume",
            "Steady monthly cost of each approach, one-time costs spread over "
            f"{c.horizon_months} months, log-log. {sentences['volume']} "
            f"Your volume is {count(curve.current_volume)} queries a month.",
            volume,
            end_labels(volume),
        ),
        PrintChart(
            "Cumulative cost by month",
            f"Money spent from month 0 (one-time costs) to month {c.horizon_months} at your "
            f"volume. {sentences['payback']}",
            cumulative,
            end_labels(cumulative),
        ),
    ]


def build_memo(
    request: Request,
    reading: form.Reading,
    result: tuple[Resolved, Comparison],
    raw_ranges: dict[str, list[str]],
    catalog: Catalog,
    today: date,
) -> Memo:
    resolved, c = result
    scenario = reading.scenario
    assert scenario is not None
    curve = curves(resolved, c)
    sentences = {
        "payback": view.payback_sentence(c),
        "volume": view.volume_sentence(c),
        "recoup": view.recoup_sentence(c),
        "savings": view.savings_sentence(c),
    }
    be = c.break_even
    figures = [
        Figure(
            "Payback month",
            str(be.payback_month)
            if be.payback_month is not None
            else f"none within {c.horizon_months} months",
            sentences["payback"],
        ),
        Figure(
            "Break-even volume",
            f"{count(be.monthly_volume)} queries/month"
            if be.monthly_volume is not None
            else "none",
            sentences["volume"],
        ),
        Figure(
            "Queries to recoup",
            count(be.queries_to_recoup) if be.queries_to_recoup is not None else "never",
            sentences["recoup"],
        ),
    ]
    ranges = analysis.read_ranges(raw_ranges, scenario)
    panel = analysis.build_panel(scenario, ranges, catalog)
    sens = panel.sensitivity
    bars = sens.bars if sens is not None else []
    base_savings = sens.base_savings if sens is not None else c.savings_over_horizon
    decisive_names, decisive = decisive_defaults(scenario, bars, base_savings)
    probability: list[str]
    percentiles: list[tuple[str, ...]] = []
    if panel.uncertainty is not None:
        u = panel.uncertainty
        probability = [
            panel.probability,
            panel.positive,
            f"{count(u.samples)} samples with seed {u.seed}; ranges: {'; '.join(panel.range_lines)}.",
        ]
        pm = u.payback_month
        percentiles = [
            (
                f"Savings over {u.horizon_months} months",
                usd(u.savings.p10),
                usd(u.savings.p50),
                usd(u.savings.p90),
            ),
            (
                "Payback month",
                *(
                    str(int(q)) if q is not None else f"after month {u.horizon_months}"
                    for q in (pm.p10, pm.p50, pm.p90)
                ),
            ),
        ]
    elif panel.problem:
        probability = [panel.problem]
    else:
        probability = [
            "No probability of payback: no input was given a range. Give a low and a high "
            "value to the inputs you are unsure of (“Ranges (uncertainty)” on the calculator) "
            "and the memo states how likely fine-tuning is to pay back."
        ]
    raw = reading.raw
    base = str(request.base_url)
    live_q = links.share_query(scenario, raw)
    range_q = [(k, v) for k, vs in raw_ranges.items() for v in vs]
    frozen = links.frozen_items(scenario, c, catalog, raw, today)
    varying = links.varying_arms(c)
    if varying:
        arms = " and ".join(ARM_TITLES[a].lower() for a in varying)
        frozen_note = (
            f"The {arms} prices change inside the horizon (a dated price change or a model "
            "shutting down): the frozen link fixes the start date and the other prices, and "
            "keeps these from the catalog, so they reproduce until the catalog's rows for "
            "those models change."
        )
    else:
        frozen_note = "Every price and the start date are written out: the figures reproduce after the catalog changes."
    from urllib.parse import urlencode

    frozen_q = urlencode(frozen + [(RANGE_PREFIX + k, v) for k, v in range_q])
    live_full = "&".join(
        p for p in (live_q, urlencode([(RANGE_PREFIX + k, v) for k, v in range_q])) if p
    )
    lifecycle = [w.message for w in c.warnings if w.code in LIFECYCLE_CODES]
    other = [
        (f"{ARM_TITLES[w.arm]}: " if w.arm else "") + w.message
        for w in c.warnings
        if w.code not in LIFECYCLE_CODES
    ]
    if c.prices_as_of:
        prices_note = f"Catalog prices as of {c.prices_as_of.isoformat()}" + (
            ": stale, check them." if c.prices_stale else "."
        )
    else:
        prices_note = "Every price was given in the scenario; none came from the catalog."
    return Memo(
        title=c.title or "Fine-tune or keep prompting?",
        question=question(scenario, c),
        approach=APPROACHES[c.recommendation.approach],
        headline=c.recommendation.headline,
        reasons=[r.text for r in c.recommendation.reasons],
        figures=figures,
        savings=sentences["savings"],
        arms=[("prompted", c.prompted), ("finetuned", c.finetuned)],
        charts=print_charts(c, curve, sentences),
        assumptions=assumptions(scenario, c, decisive_names, reading.raw),
        decisive=decisive,
        quality=quality_sentence(scenario),
        prices=price_rows(scenario, c, catalog),
        prices_note=prices_note,
        lifecycle=lifecycle
        or ["None found: neither model has a deprecation or shutdown date within the horizon."],
        warnings=other,
        moves_headline=panel.headline,
        moves_flips=panel.flips,
        movers=movers(bars, scenario),
        probability=probability,
        percentiles=percentiles,
        printed=today.isoformat(),
        live_url=base + ("?" + live_full if live_full else ""),
        frozen_url=base + "?" + frozen_q,
        frozen_note=frozen_note,
        # The same memo: live prices, so it lists their sources (a frozen link's prices are
        # given ones), and it states the frozen link itself.
        markdown_url=base + "memo?" + "&".join(p for p in (live_full, "format=md") if p),
        errors=list(reading.errors),
    )


# --- Markdown ---------------------------------------------------------------------------

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#"})


def md(text: str) -> str:
    """Text safe inside Markdown (and a table cell): no emphasis, links, HTML or pipes."""
    return text.replace("\n", " ").translate(_MD_SPECIAL)


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(md(h) for h in head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(md(c) if c else " " for c in row) + " |" for row in rows]
    return out


def to_markdown(m: Memo) -> str:
    lines: list[str] = [f"# {md(m.title)}", "", f"**Question.** {md(m.question)}", ""]
    if m.errors:
        lines += ["**Inputs ignored** (left at their defaults):", ""]
        lines += [f"- `{e.field}`: {md(e.reason)}" for e in m.errors]
        lines.append("")
    lines += [f"## Recommendation: {md(m.approach)}", "", md(m.headline), ""]
    lines += [f"- {md(r)}" for r in m.reasons]
    lines += ["", "## When fine-tuning pays off", ""]
    lines += _table(
        ("Figure", "Value", "In words"), [(f.label, f.value, f.sentence) for f in m.figures]
    )
    lines += ["", f"**{md(m.savings)}**", ""]
    lines += ["## Totals", ""]
    lines += _table(
        ("Arm", "Model", "Total", "Per query"),
        [
            (
                ARM_TITLES[name],
                arm.model or ("self-hosted" if arm.serving == "self_hosted" else "own prices"),
                usd(arm.total_cost),
                usd_fine(arm.average_cost_per_query),
            )
            for name, arm in m.arms
        ],
    )
    lines += ["", "## What moves the answer", "", md(m.moves_headline), ""]
    lines += [f"- {md(s)}" for s in m.moves_flips]
    if m.moves_flips:
        lines.append("")
    lines += _table(
        ("Input", "As given", "Low", "Savings at low", "High", "Savings at high", "Flips"),
        [
            (
                v.label,
                v.value,
                v.low,
                v.savings_low,
                v.high,
                v.savings_high,
                "yes" if v.flips else "no",
            )
            for v in m.movers
        ],
    )
    lines += ["", "### Probability of payback", ""]
    lines += [md(s) for s in m.probability]
    if m.percentiles:
        lines.append("")
        lines += _table(("", "P10", "P50", "P90"), m.percentiles)
    lines += ["", "## Assumptions", ""]
    lines += [f"- **{md(s)}**" for s in m.decisive]
    lines += [f"- {md(m.quality)}", ""]
    lines += _table(
        ("Input", "Field", "Value", "Unit", "Given or default"),
        [
            (
                f"{a.group}: {a.label}",
                a.name,
                a.value,
                a.unit,
                "given"
                if a.given
                else ("default (decides the answer)" if a.decides else "default"),
            )
            for a in m.assumptions
        ],
    )
    lines += ["", "## Prices used", "", md(m.prices_note), ""]
    lines += _table(
        ("Arm", "Model", "Price", "Value", "Unit", "From", "Source", "As of", "Confidence"),
        [
            (p.arm, p.model, p.price, p.value, p.unit, p.origin, p.source, p.as_of, p.confidence)
            for p in m.prices
        ],
    )
    lines += ["", "## Lifecycle risks", ""]
    lines += [f"- {md(s)}" for s in m.lifecycle]
    if m.warnings:
        lines += ["", "## Other warnings", ""]
        lines += [f"- {md(s)}" for s in m.warnings]
    lines += [
        "",
        "---",
        "",
        f"Printed {m.printed}. Live scenario (today's catalog prices): <{m.live_url}>",
        "",
        f"With the prices above, frozen (reproduces these figures after the catalog changes): <{m.frozen_url}>",
        "",
        md(m.frozen_note),
        "",
    ]
    return "\n".join(lines)


# --- the route --------------------------------------------------------------------------


@router.get("/memo", response_class=HTMLResponse)
def read_memo(
    request: Request,
    catalog: CatalogDep,
    format: Literal["html", "md"] = Query("html"),
) -> Response:
    """The decision memo of a scenario: printable HTML, or Markdown with format=md."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "format"]
    if candidates_page.wants_candidates(items):
        reading_c, result_c = form.read(
            items,
            lambda s: run_candidates(s, catalog),
            model=CandidatesScenario,
            prepare=candidates_page.listed,
        )
        from app.web import candidates_memo  # it borrows this module's Markdown helpers

        return candidates_memo.render(request, items, reading_c, result_c, catalog, format)
    scenario_items, raw_ranges = analysis.split(items)
    reading, result = form.read(scenario_items, lambda s: run_compare(s, catalog))
    status = 422 if reading.errors else 200
    if result is None or reading.scenario is None:
        if format == "md":
            text = "# Nothing can be computed\n\n" + "\n".join(
                f"- `{e.field}`: {md(e.reason)}" for e in reading.errors
            )
            return PlainTextResponse(text + "\n", status_code=422, media_type="text/markdown")
        return templates.TemplateResponse(
            request, "memo.html", {"memo": None, "errors": reading.errors}, status_code=422
        )
    memo = build_memo(request, reading, result, raw_ranges, catalog, date.today())
    if format == "md":
        slug = "".join(ch if ch.isalnum() else "-" for ch in memo.title.lower()).strip("-")[:60]
        return PlainTextResponse(
            to_markdown(memo),
            status_code=status,
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'inline; filename="memo-{slug or "scenario"}.md"'},
        )
    return templates.TemplateResponse(
        request, "memo.html", {"memo": memo, "errors": reading.errors}, status_code=status
    )
