"""Query strings the web layer writes into links: the scenario as given, and the scenario with
every price it used written out ("frozen"), so a shared figure survives a catalog change.

Numbers are written as the form shows them (2000000, not 2000000.0), and a model picker left
at "None" stays in the link as an empty value, so the page, the embed snippet and the embed's
link back all reopen with "None" selected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote_plus

from app.domain.comparison import Comparison
from app.domain.engine import auto_epochs
from app.domain.scenario import Scenario
from app.pricing import Catalog
from app.web import form

MODEL_FIELDS = ("prompted.model", "finetuned.model")


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.extend(_flatten(value, name + "."))
        elif value is not None:
            out.append((name, form.display(value)))
    return out


def scenario_items(
    scenario: Scenario, raw: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """The fields the scenario sets, as (dotted name, value); `raw` (what was typed) keeps a
    model picker that was explicitly left at "None" (an empty value)."""
    data = scenario.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    items = _flatten(data)
    if raw is not None:
        names = {k for k, _ in items}
        items += [(k, "") for k in MODEL_FIELDS if raw.get(k) == "" and k not in names]
    return items


# What quote_plus never changes: nearly every dotted name and number of a scenario.
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]*")


def _quote(text: str) -> str:
    return text if _UNQUOTED.fullmatch(text) else quote_plus(text)


def encode(items: Iterable[tuple[str, str]]) -> str:
    """urlencode(items) to the byte, without quoting what needs none (the results fragment
    writes two of these on every slider move)."""
    return "&".join(f"{_quote(k)}={_quote(v)}" for k, v in items)


def share_query(scenario: Scenario, raw: Mapping[str, str] | None = None) -> str:
    return encode(scenario_items(scenario, raw))


@dataclass(frozen=True)
class TrainingPrice:
    """The training price a scenario used and the field that gives it explicitly."""

    field: str  # finetuned.training.price_per_mtok or finetuned.training.gpu_hourly_price
    value: float
    unit: str
    from_catalog: bool


def training_price(
    scenario: Scenario, comparison: Comparison, catalog: Catalog
) -> TrainingPrice | None:
    """Mirrors the engine's choice (app/domain/engine.py `_training_cost`): None when no
    training price enters the figures (no tokens to train on, or nothing found)."""
    t = scenario.finetuned.training
    entry = catalog.get(comparison.finetuned.model) if comparison.finetuned.model else None
    training = entry.training if entry is not None else None
    if t.gpu_hours is not None:
        field = "finetuned.training.gpu_hourly_price"
        if t.gpu_hourly_price is not None:
            return TrainingPrice(field, t.gpu_hourly_price, "USD/GPU-hour", False)
        if training is not None and training.price_per_hour is not None:
            return TrainingPrice(field, training.price_per_hour, "USD/GPU-hour", True)
        sh = scenario.finetuned.self_hosted
        if sh is not None:
            return TrainingPrice(field, sh.gpu_hourly_price, "USD/GPU-hour", False)
        return None
    epochs = auto_epochs(t.examples) if t.epochs == "auto" else t.epochs
    if t.examples * t.tokens_per_example * epochs == 0:
        return None
    field = "finetuned.training.price_per_mtok"
    if t.price_per_mtok is not None:
        return TrainingPrice(field, t.price_per_mtok, "USD/1M tokens", False)
    if training is not None and training.price_per_mtok is not None:
        return TrainingPrice(field, training.price_per_mtok, "USD/1M tokens", True)
    return None


PRICE_EVENTS = frozenset({"price_change", "shutdown_switch"})


def varying_arms(comparison: Comparison) -> list[str]:
    """Arms whose prices change inside the horizon (a dated price change, or a shutdown that
    moves the arm to its successor): one explicit price per field cannot say that."""
    out = []
    for name, arm in (("prompted", comparison.prompted), ("finetuned", comparison.finetuned)):
        models = {row.model for row in arm.monthly[1:]}
        codes = {e.code for row in arm.monthly for e in row.events}
        if len(models) > 1 or codes & PRICE_EVENTS:
            out.append(name)
    return out


def frozen_items(
    scenario: Scenario,
    comparison: Comparison,
    catalog: Catalog,
    raw: Mapping[str, str] | None = None,
    today: date | None = None,
    given: list[tuple[str, str]] | None = None,
) -> list[tuple[str, str]]:
    """The scenario with every price it used given explicitly, each arm's catalog model named
    (an arm with explicit prices and no model would drop its catalog row, and with it the
    cache minimum and the lifecycle dates) and the start date fixed (it defaults to today,
    and the calendar places dated prices and shutdowns from it).

    An arm whose prices change inside the horizon keeps its catalog prices: a request's price
    wins in every month, so writing one would also cancel the change (docs/memo.md).
    `given`: `scenario_items(scenario, raw)`, when the caller has it already."""
    items = dict(given if given is not None else scenario_items(scenario, raw))
    if scenario.workload.start_date is None:
        items["workload.start_date"] = (today or date.today()).isoformat()
    varying = varying_arms(comparison)
    for name, arm in (("prompted", comparison.prompted), ("finetuned", comparison.finetuned)):
        if arm.model is not None:
            items[f"{name}.model"] = arm.model
        if name in varying:
            continue
        for key, price in arm.prices.items():
            items[f"{name}.prices.{key}"] = form.display(price.value)
    tp = training_price(scenario, comparison, catalog)
    if tp is not None and "finetuned" not in varying:
        items[tp.field] = form.display(tp.value)
    return list(items.items())


def frozen_query(
    scenario: Scenario,
    comparison: Comparison,
    catalog: Catalog,
    raw: Mapping[str, str] | None = None,
    given: list[tuple[str, str]] | None = None,
) -> str:
    return encode(frozen_items(scenario, comparison, catalog, raw, given=given))
