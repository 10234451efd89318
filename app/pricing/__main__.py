"""Command line: `python -m app.pricing import-litellm FILE [--write] [--dir DIR]`.

Prints what differs between the catalog's token prices and a LiteLLM
model_prices_and_context_window.json (new, changed, removed, suspect, missing), and with
--write updates the token prices in the shipped files, keeping sources, dates and
fine-tuning fields. Negotiated-rate files are never read or written here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from app.pricing.catalog import CatalogError, load_catalog
from app.pricing.litellm import diff, load_litellm, write
from app.settings import settings


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
    args = parser.parse_args(argv)
    try:
        catalog = load_catalog(args.dir)
        differences = diff(catalog, load_litellm(args.file))
    except (CatalogError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for d in differences:
        print(d.line())
    counts = {
        c: sum(1 for d in differences if d.change == c)
        for c in ("new", "changed", "removed", "suspect", "missing")
    }
    print(", ".join(f"{n} {c}" for c, n in counts.items()))
    if args.write:
        try:
            written = write(differences, args.dir)
        except CatalogError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for path in written:
            print(f"wrote {path}")
        if written:
            print("Sources and as_of dates were kept: check each changed price against its source.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
