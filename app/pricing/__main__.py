"""Command line for the catalog.

- `python -m app.pricing import-litellm FILE [--write] [--dir DIR] [--today DATE]`: what
  differs between the catalog and a LiteLLM model_prices_and_context_window.json (new,
  changed, retired, successor, removed, suspect, missing); with --write, applies new and
  changed prices and lifecycle dates, retirements and successors to the shipped files,
  keeping sources, dates, confidence and fine-tuning fields.
- `python -m app.pricing report [--dir DIR] [--today DATE] [--within DAYS]`: the catalog's age
  per provider, rows past the stale threshold, and lifecycle dates coming up (`make
  prices-report`).

Negotiated-rate files are never read or written here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from app.pricing.catalog import CatalogError, load_catalog
from app.pricing.litellm import CHANGES, diff, load_litellm, write
from app.pricing.report import report
from app.settings import settings


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date: {text!r}") from exc


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.pricing")
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser(
        "import-litellm", help="compare with (and refresh from) LiteLLM's price table"
    )
    imp.add_argument("file", type=Path, help="model_prices_and_context_window.json")
    imp.add_argument(
        "--write", action="store_true", help="update token prices in the pricing files"
    )
    imp.add_argument("--dir", type=Path, default=settings.pricing_dir, help="pricing directory")
    imp.add_argument(
        "--today", type=_day, default=None, help="the day rows count as shut down (ISO date)"
    )
    rep = sub.add_parser("report", help="catalog age, stale rows, lifecycle dates coming up")
    rep.add_argument("--dir", type=Path, default=settings.pricing_dir, help="pricing directory")
    rep.add_argument("--today", type=_day, default=None, help="report as of this ISO date")
    rep.add_argument(
        "--within", type=int, default=90, help="days ahead for lifecycle dates (default 90)"
    )
    args = parser.parse_args(argv)
    today = args.today or date.today()
    if args.command == "report":
        try:
            catalog = load_catalog(args.dir, today=today)
        except CatalogError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(report(catalog, today, settings.prices_stale_after_days, args.within))
        return 0
    try:
        catalog = load_catalog(args.dir, today=today)
        differences = diff(catalog, load_litellm(args.file), today)
    except (CatalogError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for d in differences:
        print(d.line())
    counts = {c: sum(1 for d in differences if d.change == c) for c in CHANGES}
    print(", ".join(f"{n} {c}" for c, n in counts.items()))
    if args.write:
        try:
            written = write(differences, args.dir, today)
        except CatalogError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for path in written:
            print(f"wrote {path}")
        if written:
            print(
                "Sources, as_of dates and confidence were kept: check each changed price "
                "against its source, then update as_of (and confidence) by hand."
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
