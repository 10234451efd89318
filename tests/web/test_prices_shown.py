"""The page says how old and how sure its prices are: secondary sources are labelled where
prices are shown, and the results give the catalog prices' age in days."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from app.pricing import get_catalog
from app.pricing.catalog import Catalog
from app.web import view


def test_a_secondary_row_is_labelled_with_its_date(test_catalog: Catalog) -> None:
    big = test_catalog.models["big"]
    secondary = big.model_copy(update={"confidence": "secondary"})
    catalog = Catalog(models={**test_catalog.models, "big": secondary})
    assert view.price_origin("catalog:big", catalog) == (
        "catalog:big (secondary source, as of 2026-10-01)"
    )
    assert view.price_origin("catalog:big (long context)", catalog).endswith(
        "(secondary source, as of 2026-10-01)"
    )
    assert view.price_origin("catalog:big", test_catalog) == "catalog:big"
    assert view.price_origin("request", catalog) == "request"
    assert view.model_label(secondary).endswith("as of 2026-10-01 (secondary source)")
    assert "secondary" not in view.model_label(big)


def test_a_quote_required_row_is_labelled_quote(test_catalog: Catalog) -> None:
    row = test_catalog.models["small"]
    empty = row.model_copy(
        update={"prices": row.prices.model_copy(update={"input": None, "output": None})}
    )
    assert "(small): quote in / $0.1 cached / quote out per 1M tokens" in view.model_label(empty)


def test_the_age_of_the_prices_in_days() -> None:
    assert view.age_days(date(2026, 11, 20), date(2026, 12, 1)) == 11
    assert view.age_days(None, date(2026, 12, 1)) is None
    assert view.age_days(date(2026, 12, 2), date(2026, 12, 1)) == 0


def test_the_page_marks_secondary_prices_and_their_age(client: TestClient) -> None:
    catalog = get_catalog()
    secondary = next(
        m
        for m in catalog.offered()
        if m.kind == "general" and m.confidence == "secondary" and m.prices.input is not None
    )
    html = client.get("/", params={"prompted.model": secondary.id}).text
    assert f"catalog:{secondary.id} (secondary source, as of {secondary.as_of.isoformat()})" in html
    assert "Prices marked “secondary source” were read from a dated third-party copy" in html
    assert " days old)" in html
    # In the picker too.
    assert f"as of {secondary.as_of.isoformat()} (secondary source)" in html
