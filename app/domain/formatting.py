"""Numbers in words for people: used by the recommendation's reasons and the templates.

The API returns unrounded numbers; only text meant for reading goes through here.
"""

from __future__ import annotations

import math


def usd(value: float | None) -> str:
    """$12,345 for large sums, $1.23 for small ones, $0.00123 for per-query costs."""
    if value is None:
        return "n/a"
    if not math.isfinite(value):
        return "n/a"
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v >= 1e15:  # beyond any budget: three figures, not forty digits
        return f"{sign}${v:.3g}"
    if v >= 100:
        return f"{sign}${v:,.0f}"
    if v >= 1 or v == 0:
        return f"{sign}${v:,.2f}"
    return f"{sign}${v:.3g}" if v >= 0.001 else f"{sign}${v:.2e}"


def count(value: float | None) -> str:
    """Queries or tokens: 42,000 / 1.5 million / 2.3 billion."""
    if value is None:
        return "n/a"
    if not math.isfinite(value):
        return "n/a"
    v = abs(value)
    sign = "-" if value < 0 else ""
    if v >= 1e12:
        return f"{sign}{v / 1e12:,.3g} trillion"
    if v >= 1e9:
        return f"{sign}{v / 1e9:,.3g} billion"
    if v >= 1e6:
        return f"{sign}{v / 1e6:,.3g} million"
    if v >= 100:
        return f"{sign}{v:,.0f}"
    return f"{sign}{v:,.3g}"


def percent(value: float) -> str:
    return f"{value * 100:.0f}%" if abs(value) >= 0.1 else f"{value * 100:.2g}%"


def usd_fine(value: float | None) -> str:
    """Per-query money in fixed notation with three significant figures: $0.000160."""
    if value is None or not math.isfinite(value):
        return "n/a"
    v = abs(value)
    if v == 0 or v >= 1:
        return usd(value)
    digits = max(2, -math.floor(math.log10(v)) + 2)
    return f"{'-' if value < 0 else ''}${v:.{digits}f}"
