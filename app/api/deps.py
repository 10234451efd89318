"""Dependencies shared by routes, as Annotated aliases."""

from __future__ import annotations

import difflib
from datetime import date
from typing import Annotated

from fastapi import Depends, Request

from app.api import cache
from app.api.errors import FieldError, InvalidInput
from app.domain.comparison import Comparison
from app.domain.engine import Resolved, compare_resolved
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
    today = date.today()
    resolved = cache.arms.resolve(scenario, catalog, today)
    comparison = compare_resolved(
        resolved,
        catalog,
        today=today,
        stale_after_days=settings.prices_stale_after_days,
    )
    return resolved, comparison


_ALLOWED: dict[int, frozenset[str]] = {}


def _allowed_query(route: object) -> frozenset[str]:
    found = _ALLOWED.get(id(route))
    if found is None:
        names: set[str] = set()
        stack = [getattr(route, "dependant", None)]
        while stack:  # the route's own parameters and those of its dependencies
            dependant = stack.pop()
            if dependant is not None:
                names.update(p.alias for p in dependant.query_params)
                stack.extend(dependant.dependencies)
        found = _ALLOWED[id(route)] = frozenset(names)
    return found


async def refuse_unknown_query(request: Request) -> None:
    """Unknown query parameters are errors, as in the GET forms of the scenario: a typo
    (`?fromat=csv`) must not fall back to a default."""
    allowed = _allowed_query(request.scope.get("route"))
    unknown = [k for k in dict.fromkeys(request.query_params.keys()) if k not in allowed]
    if unknown:
        raise InvalidInput(
            [
                FieldError(
                    field=k[:100],
                    reason="unknown query parameter",
                    type="extra_forbidden",
                    suggestions=difflib.get_close_matches(k, sorted(allowed), n=3, cutoff=0.6),
                )
                for k in unknown[:50]
            ]
        )


KnownQueryOnly = Depends(refuse_unknown_query)
