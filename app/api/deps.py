"""Dependencies shared by routes, as Annotated aliases."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends

from app.domain.comparison import Comparison
from app.domain.engine import Resolved, compare_resolved, resolve
from app.domain.scenario import Scenario
from app.pricing import Catalog, get_catalog
from app.settings import settings


async def catalog_dependency() -> Catalog:
    # async on purpose: a plain `def` dependency costs a thread-pool hop on every request,
    # and the catalog is already loaded (get_catalog is cached per process).
    return get_catalog()


CatalogDep = Annotated[Catalog, Depends(catalog_dependency)]


def run_compare(scenario: Scenario, catalog: Catalog) -> tuple[Resolved, Comparison]:
    """The one computation, with the app's settings applied."""
    resolved = resolve(scenario, catalog)
    comparison = compare_resolved(
        resolved,
        catalog,
        today=date.today(),
        stale_after_days=settings.prices_stale_after_days,
    )
    return resolved, comparison
