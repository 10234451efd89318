"""`make prices-report`: how old the catalog is, what is stale, and what changes soon.

Retired rows are history: they count in the per-provider totals but are neither stale nor
coming up. Plain text, one table per question, sorted so the most urgent line comes first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.pricing.catalog import Catalog
from app.pricing.schema import ModelEntry


@dataclass(frozen=True)
class Dated:
    """One dated fact of a catalog row: a price read on `as_of`, or a lifecycle event."""

    row: str
    what: str
    when: date
    file: str
    detail: str = ""


def _priced_dates(catalog: Catalog) -> list[tuple[str, Dated]]:
    """(group, dated price) for every offered row's prices: a group is a provider, or the GPU
    and throughput tables."""
    out: list[tuple[str, Dated]] = []
    for m in catalog.offered():
        file = catalog.origin.get(f"model:{m.id}", "?")
        out.append((m.provider, Dated(m.id, "prices", m.as_of, file, m.confidence)))
        if m.training is not None and m.training.as_of is not None:
            conf = m.training.confidence or m.confidence
            out.append((m.provider, Dated(m.id, "training price", m.training.as_of, file, conf)))
    tables = (
        ("gpus", "gpu", catalog.gpus.values(), "GPU price"),
        ("throughput", "throughput", catalog.throughput.values(), "throughput"),
        (
            "training throughput",
            "training throughput",
            catalog.training_throughput.values(),
            "GPU-hours per 1M",
        ),
    )
    for group, kind, rows, what in tables:
        for r in rows:
            file = catalog.origin.get(f"{kind}:{r.id}", "?")
            out.append((group, Dated(r.id, what, r.as_of, file, r.confidence)))
    return out


def _upcoming(entry: ModelEntry, today: date, until: date, file: str) -> list[Dated]:
    out: list[Dated] = []
    life = entry.lifecycle
    if life is not None:
        successor = f"successor {life.successor}" if life.successor else "no successor named"
        for what, when in (
            ("deprecated", life.deprecated),
            ("shutdown", life.shutdown),
            ("fine-tuning closes", life.fine_tuning_closes),
        ):
            if when is not None and today <= when <= until:
                detail = successor if what != "fine-tuning closes" else "no new training jobs"
                out.append(Dated(entry.id, what, when, file, detail))
    for change in entry.price_changes:
        if today <= change.from_ <= until:
            named = ", ".join(
                f"{k} {v:g}" for k, v in change.prices.model_dump().items() if v is not None
            )
            out.append(Dated(entry.id, "price change", change.from_, file, named))
    return out


def report(catalog: Catalog, today: date, stale_after_days: int, within_days: int = 90) -> str:
    priced = _priced_dates(catalog)
    lines = [
        f"Catalog report for {today.isoformat()}: prices are stale after {stale_after_days} "
        f"days, lifecycle dates shown up to {within_days} days ahead.",
        "",
        "Age per provider (offered rows; retired rows are history)",
        f"  {'provider':<22} {'rows':>5} {'retired':>8} {'secondary':>10} "
        f"{'oldest':>11} {'newest':>11} {'days':>5}",
    ]
    groups = sorted({g for g, _ in priced})
    for group in groups:
        dates = [d for g, d in priced if g == group]
        oldest = min(d.when for d in dates)
        newest = max(d.when for d in dates)
        rows = {d.row for d in dates}
        secondary = {d.row for d in dates if d.detail == "secondary"}
        retired = sum(1 for m in catalog.models.values() if m.retired and m.provider == group)
        lines.append(
            f"  {group:<22} {len(rows):>5} {retired:>8} {len(secondary):>10} "
            f"{oldest.isoformat():>11} {newest.isoformat():>11} {(today - oldest).days:>5}"
        )
    stale = sorted(
        (d for _, d in priced if (today - d.when).days > stale_after_days),
        key=lambda d: (d.when, d.row),
    )
    lines += ["", f"Past the stale threshold ({len(stale)})"]
    lines += [
        f"  {d.when.isoformat()}  {(today - d.when).days:>4} days  {d.what:<16} {d.row}  ({d.file})"
        for d in stale
    ] or ["  none"]
    until = today + timedelta(days=within_days)
    coming = sorted(
        (
            d
            for m in catalog.offered()
            for d in _upcoming(m, today, until, catalog.origin.get(f"model:{m.id}", "?"))
        ),
        key=lambda d: (d.when, d.row, d.what),
    )
    lines += ["", f"Lifecycle dates and price changes within {within_days} days ({len(coming)})"]
    lines += [
        f"  {d.when.isoformat()}  in {(d.when - today).days:>3} days  {d.what:<18} {d.row}"
        f"  ({d.detail}; {d.file})"
        for d in coming
    ] or ["  none"]
    return "\n".join(lines)
