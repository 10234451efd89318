"""What the results say in words, and the rows the templates lay out. No HTML here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from app.domain.charts import PARTS
from app.domain.comparison import ArmResult, Comparison, Curves
from app.domain.formatting import count, percent, usd
from app.pricing import Catalog, get_catalog
from app.pricing.schema import ModelEntry


def payback_sentence(c: Comparison) -> str:
    m = c.break_even.payback_month
    if m is None:
        return f"Fine-tuning does not pay back within {c.horizon_months} months at your volume."
    if m == 0:
        return "Fine-tuning costs no more than prompting from the start (month 0)."
    return f"Fine-tuning pays back in month {m} at your volume."


def volume_sentence(c: Comparison) -> str:
    v = c.break_even.monthly_volume
    if v is None:
        return "No steady volume up to a trillion queries a month makes fine-tuning break even."
    if v == 0:
        return "Fine-tuning costs no more than prompting at any volume."
    return (
        f"It breaks even from {count(v)} queries a month "
        f"(a steady volume over {c.horizon_months} months)."
    )


def recoup_sentence(c: Comparison) -> str:
    q = c.break_even.queries_to_recoup
    if q is None:
        return "At month-1 volume a fine-tuned query saves nothing, so the extra investment is never recouped."
    if q == 0:
        return "Fine-tuning needs no extra up-front investment, and every query saves money."
    return f"Its extra up-front investment is recouped after {count(q)} queries at the month-1 saving per query."


def savings_sentence(c: Comparison) -> str:
    s = c.savings_over_horizon
    months = c.horizon_months
    if s > 0:
        share = percent(s / c.prompted.total_cost) if c.prompted.total_cost > 0 else ""
        tail = f" ({share} of the prompted cost)" if share else ""
        return f"Over {months} months fine-tuning saves {usd(s)}{tail}."
    if s < 0:
        return f"Over {months} months fine-tuning costs {usd(-s)} more than prompting."
    return f"Over {months} months both cost the same."


@dataclass(frozen=True)
class BreakdownRow:
    part: str
    label: str
    prompted: float
    finetuned: float


def breakdown_rows(c: Comparison) -> list[BreakdownRow]:
    """Average cost of one query over the horizon, by part; empty when there are no queries."""
    if c.prompted.per_query is None or c.finetuned.per_query is None:
        return []
    return [
        BreakdownRow(
            part, label, getattr(c.prompted.per_query, part), getattr(c.finetuned.per_query, part)
        )
        for part, label in PARTS
    ]


# The charts' data tables, formatted here rather than by template filters: a 36-month table is
# over a hundred cells, and each attribute lookup and filter call in a template costs more than
# the formatting itself.
def volume_rows(curves: Curves, every: int = 6) -> list[tuple[str, str, str]]:
    """(queries/month, prompted USD, fine-tuned USD) for every `every`th point of the curve."""
    return [(count(p.volume), usd(p.prompted), usd(p.finetuned)) for p in curves.volume[::every]]


PAYBACK = ' class="payback"'


def cumulative_rows(curves: Curves, comparison: Comparison) -> list[Markup]:
    """The cumulative chart's data table, a `<tr>` per month: month, prompted USD, fine-tuned
    USD and the model that priced each arm's month, the payback month marked. Written here,
    not cell by cell in the template: it is 37 rows of every slider move's answer, and the
    template spent more on placing its 220 cells than on the rest of the fragment's tables.
    Model names are escaped; the rest are numbers."""
    payback = curves.payback_month
    names: dict[str | None, str] = {}

    def name(model: str | None) -> str:
        if model not in names:
            names[model] = str(escape(model or "your prices"))
        return names[model]

    return [
        Markup(
            f"<tr{PAYBACK if p.month == payback else ''}><td>{p.month}</td>"
            f"<td>{usd(p.prompted)}</td><td>{usd(p.finetuned)}</td>"
            f"<td>{name(pr.model)} / {name(ft.model)}</td></tr>"
        )
        for p, pr, ft in zip(
            curves.cumulative,
            comparison.prompted.monthly,
            comparison.finetuned.monthly,
            strict=True,
        )
    ]


def _per_mtok(value: float | None) -> str:
    # No public price: the route is priced from the user's quote.
    return usd(value) if value is not None else "quote"


def confidence_note(entry: ModelEntry) -> str:
    """How sure a catalog row's prices are, in words: empty for the provider's own page."""
    if entry.confidence == "secondary":
        return f"secondary source, as of {entry.as_of.isoformat()}"
    return ""


def model_label(entry: ModelEntry) -> str:
    p = entry.prices
    cached = f" / {usd(p.cached_input)} cached" if p.cached_input is not None else ""
    training = ""
    if entry.training is not None:
        if entry.training.price_per_mtok is not None:
            training = f"; training {usd(entry.training.price_per_mtok)}"
        elif entry.training.price_per_hour is None:
            training = "; training: quote"
    sure = " (secondary source)" if entry.confidence == "secondary" else ""
    return (
        f"{entry.name} ({entry.id}): {_per_mtok(p.input)} in{cached} / {_per_mtok(p.output)} out"
        f"{training} per 1M tokens, as of {entry.as_of.isoformat()}{sure}"
    )


# The pickers' options, by catalog, day and picker: the candidates page draws a picker per
# card on every move, and labelling ~60 rows cost more than computing the comparison. Each
# entry holds its catalog, so a catalog's id cannot be reused by another while it is kept.
_OPTIONS: dict[tuple[int, date, str], tuple[Catalog, list[tuple[str, str]]]] = {}


def _options(
    catalog: Catalog, picker: str, rows: Callable[[list[ModelEntry]], list[ModelEntry]]
) -> list[tuple[str, str]]:
    key = (id(catalog), date.today(), picker)
    kept = _OPTIONS.get(key)
    if kept is None or kept[0] is not catalog:
        if len(_OPTIONS) >= 8:  # a new day, or tests' catalogs: start afresh
            _OPTIONS.clear()
        kept = _OPTIONS[key] = (catalog, [(m.id, model_label(m)) for m in rows(catalog.offered())])
    return list(kept[1])  # callers may append to their copy


def prompted_options(catalog: Catalog) -> list[tuple[str, str]]:
    return _options(
        catalog, "prompted", lambda offered: [m for m in offered if m.kind != "fine_tuned"]
    )


def finetuned_options(catalog: Catalog) -> list[tuple[str, str]]:
    """Fine-tuned serving rows first, then other rows that can be trained (offered rows only)."""

    def rows(offered: list[ModelEntry]) -> list[ModelEntry]:
        tuned = [m for m in offered if m.kind == "fine_tuned"]
        return tuned + [m for m in offered if m.kind != "fine_tuned" and m.training is not None]

    return _options(catalog, "finetuned", rows)


def age_days(as_of: date | None, today: date) -> int | None:
    """How many days old the oldest catalog price is (None when no price came from it)."""
    return None if as_of is None else max(0, (today - as_of).days)


def price_origin(source: str, catalog: Catalog) -> str:
    """The engine's price label, with "secondary source, as of <date>" when the catalog row it
    names was read from a third-party copy rather than the provider's own page."""
    if not source.startswith("catalog:"):
        return source
    entry = catalog.get(source.removeprefix("catalog:").split(" (", 1)[0])
    note = confidence_note(entry) if entry is not None else ""
    return f"{source} ({note})" if note else source


def arm_prices(arm: ArmResult, catalog: Catalog | None = None) -> list[tuple[str, float, str]]:
    """(price name, value, where it came from) for the prices the arm actually used."""
    # The page's context builders have no catalog at hand; the process's catalog is the one
    # the comparison was priced with.
    known = catalog if catalog is not None else get_catalog()
    return [(k, p.value, price_origin(p.source, known)) for k, p in arm.prices.items()]
