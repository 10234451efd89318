from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import KnownQueryOnly
from app.pricing import get_catalog

router = APIRouter(tags=["health"], dependencies=[KnownQueryOnly])


@router.get("/healthz")
async def read_health() -> dict[str, object]:
    """200 when the app is ready: the pricing catalog is loaded."""
    catalog = get_catalog()
    return {"status": "ok", "models": len(catalog.models)}
