"""The pricing catalog: sourced, dated prices for models and GPUs. No web framework here."""

from __future__ import annotations

from functools import lru_cache

from app.pricing.catalog import Catalog, CatalogError, load_catalog, negotiated_files
from app.settings import settings

__all__ = ["Catalog", "CatalogError", "get_catalog", "load_catalog"]


@lru_cache(maxsize=1)
def get_catalog() -> Catalog:
    """The catalog of the configured directories (shipped + negotiated), loaded once per process."""
    return load_catalog(
        settings.pricing_dir,
        negotiated_files(settings.pricing_extra_dir),
        max_file_bytes=settings.pricing_max_file_bytes,
    )
