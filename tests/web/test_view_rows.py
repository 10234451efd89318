"""The cumulative data table's rows, written in Python: numbers as the page formats them,
model names escaped, the payback month marked."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from app.domain.comparison import Curves, MonthPoint
from app.domain.formatting import usd
from app.web import view


def _comparison(models: list[str | None]) -> Any:
    rows = [SimpleNamespace(model=m) for m in models]
    return SimpleNamespace(
        prompted=SimpleNamespace(monthly=rows), finetuned=SimpleNamespace(monthly=rows)
    )


def test_rows_escape_model_names_and_mark_the_payback_month() -> None:
    curves = Curves(
        volume=[],
        cumulative=[MonthPoint(0, 10.0, 500.0), MonthPoint(1, 1234.5, 900.0)],
        break_even_volume=None,
        payback_month=1,
        current_volume=1.0,
    )
    rows = view.cumulative_rows(curves, _comparison(['a<b&"c"', None]))
    assert rows == [
        f"<tr><td>0</td><td>{usd(10.0)}</td><td>{usd(500.0)}</td>"
        "<td>a&lt;b&amp;&#34;c&#34; / a&lt;b&amp;&#34;c&#34;</td></tr>",
        f'<tr class="payback"><td>1</td><td>{usd(1234.5)}</td><td>{usd(900.0)}</td>'
        "<td>your prices / your prices</td></tr>",
    ]


def test_picker_options_are_kept_per_catalog_and_handed_out_as_copies() -> None:
    from app.pricing import get_catalog
    from app.pricing.catalog import Catalog

    catalog = get_catalog()
    first = view.prompted_options(catalog)
    first.append(("mine", "mine (not in the catalog)"))  # what field_view does
    again = view.prompted_options(catalog)
    assert again == first[:-1] and ("mine", "mine (not in the catalog)") not in again
    assert [v for v, _ in again] == [m.id for m in catalog.offered() if m.kind != "fine_tuned"]
    assert view.prompted_options(Catalog()) == []  # another catalog: its own options
