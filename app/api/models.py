"""/api/v1/models and /api/v1/gpus: the pricing catalog as JSON or CSV, with sources and dates.

Every response says how old its prices are (`as_of`, the oldest date among the rows returned)
and whether that is past the stale threshold (`stale`, setting PRICES_STALE_AFTER_DAYS).
Price fields set by a negotiated-rate file are labelled, per field, in `price_sources`.
Retired rows are left out of the listing unless `include_retired=true`; `/models/{id}` shows
any row, retired ones with the successor to move to.
"""

from __future__ import annotations

import difflib
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from app.api import formats
from app.api.deps import CatalogDep
from app.api.errors import ErrorBody, FieldError, InvalidInput, error_response
from app.deadline import bounded
from app.pricing.catalog import PRICE_FIELDS, Catalog
from app.pricing.schema import GpuPrice, Kind, ModelEntry, ThroughputPreset
from app.settings import settings

router = APIRouter(prefix="/api/v1", tags=["catalog"])

Format = Literal["json", "csv"]
ERRORS: dict[int | str, dict[str, object]] = {
    422: {"model": ErrorBody, "description": "Invalid input"},
}
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "Unknown model id"},
}

MODEL_CSV_COLUMNS = (
    "id", "name", "provider", "kind", "base_model", "fine_tunable", "context_window", "encoding",
    "input", "cached_input", "cache_write", "cache_write_1h", "output", "batch_discount",
    "min_cacheable_tokens", "long_context_threshold", "long_context_input",
    "long_context_cached_input", "long_context_output", "training_price_per_mtok",
    "training_price_per_hour", "hosting_per_hour", "deprecated", "shutdown",
    "fine_tuning_closes", "negotiated", "source", "as_of", "stale",
    "training_minimum_per_job", "hosting_per_month", "retired", "successor", "confidence",
    "quote_required", "next_price_change",
)  # fmt: skip


def refuse_unknown(request: Request, allowed: tuple[str, ...]) -> None:
    """422 for a query parameter the route does not take: a typo (`provder=openai`) must not
    silently answer the unfiltered catalog."""
    unknown = [k for k in dict.fromkeys(request.query_params.keys()) if k not in allowed]
    if unknown:
        raise InvalidInput(
            [
                FieldError(
                    field=name[:100],
                    reason="unknown query parameter; "
                    + (
                        f"this route takes {', '.join(allowed)}"
                        if allowed
                        else "this route takes none"
                    ),
                    type="extra_forbidden",
                    suggestions=difflib.get_close_matches(name, allowed, n=3, cutoff=0.4),
                )
                for name in unknown[:50]
            ]
        )


def _stale(as_of: date | None, today: date) -> bool:
    return as_of is not None and (today - as_of).days > settings.prices_stale_after_days


def _freshness(dates: list[date], today: date) -> dict[str, Any]:
    as_of = min(dates) if dates else None
    return {
        "as_of": as_of.isoformat() if as_of else None,
        "stale": _stale(as_of, today),
        "stale_after_days": settings.prices_stale_after_days,
    }


def quote_required(entry: ModelEntry) -> list[str]:
    """The request fields a scenario must fill because the catalog has no public price."""
    missing = [f"prices.{k}" for k in ("input", "output") if getattr(entry.prices, k) is None]
    training = entry.training
    if training is not None and training.price_per_mtok is None and training.price_per_hour is None:
        missing.append("training.price_per_mtok")
    return missing


def model_data(entry: ModelEntry, catalog: Catalog, today: date) -> dict[str, Any]:
    """One catalog row as the API shows it: the row, where each price came from, its relatives."""
    # by_alias: a price change's date is `from`, as in the TOML files.
    data = entry.model_dump(mode="json", by_alias=True)
    successor = catalog.current_successor(entry.id)
    data["successor"] = successor.id if successor is not None else None
    data["quote_required"] = quote_required(entry)
    upcoming = [c.from_ for c in entry.price_changes if c.from_ > today]
    data["next_price_change"] = min(upcoming).isoformat() if upcoming else None
    data["fine_tunable"] = catalog.is_fine_tunable(entry)
    data["stale"] = _stale(entry.oldest_as_of, today)
    data["negotiated"] = catalog.is_negotiated(entry.id)
    sources: dict[str, Any] = {}
    for price_field in PRICE_FIELDS:
        origin = catalog.price_origin(entry.id, price_field)
        if origin is None:
            continue
        sources[price_field] = {
            "origin": origin.origin,
            "label": catalog.price_source(entry.id, price_field),
            "file": origin.file,
            "source": origin.source,
            "as_of": origin.as_of.isoformat(),
            "note": origin.note,
        }
    data["price_sources"] = sources
    return data


def _model_csv_row(data: dict[str, Any]) -> list[Any]:
    prices = data["prices"]
    tier = data.get("long_context") or {}
    tier_prices = tier.get("prices") or {}
    training = data.get("training") or {}
    lifecycle = data.get("lifecycle") or {}
    values = {
        **{k: data.get(k) for k in MODEL_CSV_COLUMNS},
        **{
            k: prices.get(k)
            for k in ("input", "cached_input", "cache_write", "cache_write_1h", "output")
        },
        "long_context_threshold": tier.get("threshold_tokens"),
        "long_context_input": tier_prices.get("input"),
        "long_context_cached_input": tier_prices.get("cached_input"),
        "long_context_output": tier_prices.get("output"),
        "training_price_per_mtok": training.get("price_per_mtok"),
        "training_price_per_hour": training.get("price_per_hour"),
        "deprecated": lifecycle.get("deprecated"),
        "shutdown": lifecycle.get("shutdown"),
        "fine_tuning_closes": lifecycle.get("fine_tuning_closes"),
        "training_minimum_per_job": training.get("minimum_per_job"),
        "quote_required": " ".join(data["quote_required"]),
    }
    return [values[c] for c in MODEL_CSV_COLUMNS]


def _check_provider(provider: str | None, catalog: Catalog) -> None:
    if provider is None:
        return
    known = sorted({m.provider for m in catalog.models.values()})
    if provider not in known:
        raise InvalidInput(
            [
                FieldError(
                    field="provider",
                    reason=f"unknown provider '{provider}'; known: {', '.join(known)}",
                    input=provider[:200],
                    suggestions=difflib.get_close_matches(provider, known, n=3, cutoff=0.4),
                )
            ]
        )


LIST_PARAMS = (
    "provider", "kind", "fine_tunable", "open_for_fine_tuning_until", "include_retired", "format",
)  # fmt: skip


@router.get("/models", responses={**ERRORS, **formats.CSV_OK})
@bounded
def list_models(
    request: Request,
    catalog: CatalogDep,
    provider: Annotated[str | None, Query(max_length=100, description="e.g. openai")] = None,
    kind: Annotated[Kind | None, Query(description="general, fine_tuned or open_weights")] = None,
    fine_tunable: Annotated[
        bool | None, Query(description="Rows with a training price, or bases with a fine-tuned row")
    ] = None,
    open_for_fine_tuning_until: Annotated[
        date | None,
        Query(
            description="Only fine-tuning routes (rows with a training price) that take new "
            "training jobs on every day up to and including this date (ISO date): not shut "
            "down and not closed to new jobs by then"
        ),
    ] = None,
    include_retired: Annotated[
        bool, Query(description="Also list retired rows (shut down; kept as history)")
    ] = False,
    format: Format = "json",
) -> Any:
    """The catalog's offered models with per-field sources; filter by provider, kind, fine-tuning."""
    refuse_unknown(request, LIST_PARAMS)
    _check_provider(provider, catalog)
    today = date.today()
    entries = catalog.models.values() if include_retired else catalog.offered()
    rows = [
        model_data(entry, catalog, today)
        for entry in entries
        if (provider is None or entry.provider == provider)
        and (kind is None or entry.kind == kind)
        and (fine_tunable is None or catalog.is_fine_tunable(entry) == fine_tunable)
        and (
            open_for_fine_tuning_until is None
            or catalog.takes_training_jobs(entry, open_for_fine_tuning_until)
        )
    ]
    freshness = _freshness([date.fromisoformat(r["as_of"]) for r in rows], today)
    if format == "csv":
        response = formats.csv_response(
            MODEL_CSV_COLUMNS, (_model_csv_row(r) for r in rows), "models.csv"
        )
        response.headers["X-Prices-As-Of"] = str(freshness["as_of"] or "")
        response.headers["X-Prices-Stale"] = "true" if freshness["stale"] else "false"
        return response
    return {
        **freshness,
        "count": len(rows),
        "negotiated_files": catalog.negotiated_files,
        "models": rows,
    }


@router.get("/models/{model_id:path}", responses={**ERRORS, **NOT_FOUND})
@bounded
def read_model(
    request: Request,
    catalog: CatalogDep,
    model_id: Annotated[str, Path(description="Catalog id; may contain ':' and '/'")],
    format: Format = "json",
) -> Any:
    """One model (retired ones too) with its sources, lifecycle, successor and dated price changes."""
    refuse_unknown(request, ("format",))
    entry = catalog.get(model_id)
    if entry is None:
        suggestions = catalog.suggest(model_id)
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        return error_response(
            404,
            "Model not found",
            [
                FieldError(
                    field="model_id",
                    reason=f"unknown model '{model_id}'{hint}",
                    type="not_found",
                    input=model_id[:200],
                    suggestions=suggestions,
                )
            ],
        )
    today = date.today()
    data = model_data(entry, catalog, today)
    base = catalog.base_of(entry)
    data["related"] = {
        "base_model": base.id if base is not None else None,
        "fine_tuned_variants": [v.id for v in catalog.fine_tuned_variants(entry.id)],
    }
    body = {**_freshness([entry.as_of], today), "model": data}
    if format == "csv":
        return formats.field_csv(body, f"model-{entry.id.replace('/', '_')}.csv")
    return body


GPU_CSV_COLUMNS = ("id", "gpu", "provider", "offering", "hourly_price", "source", "as_of", "stale")
THROUGHPUT_CSV_COLUMNS = (
    "id", "name", "model", "gpu", "gpus_per_replica", "prefill_tokens_per_s",
    "decode_tokens_per_s", "source", "as_of", "stale", "notes",
)  # fmt: skip


def _row(obj: GpuPrice | ThroughputPreset, today: date) -> dict[str, Any]:
    data = obj.model_dump(mode="json")
    data["stale"] = _stale(obj.as_of, today)
    return data


@router.get("/gpus", responses={**ERRORS, **formats.CSV_OK})
@bounded
def list_gpus(
    request: Request,
    catalog: CatalogDep,
    format: Format = "json",
    table: Annotated[
        Literal["gpus", "throughput"], Query(description="Which table the CSV holds")
    ] = "gpus",
) -> Any:
    """GPU hourly prices for self-hosting, and serving-throughput presets, each with its source."""
    refuse_unknown(request, ("format", "table"))
    today = date.today()
    gpus = [_row(g, today) for g in catalog.gpus.values()]
    presets = [_row(t, today) for t in catalog.throughput.values()]
    dates = [g.as_of for g in catalog.gpus.values()] + [
        t.as_of for t in catalog.throughput.values()
    ]
    freshness = _freshness(dates, today)
    if format == "csv":
        columns, rows = (
            (GPU_CSV_COLUMNS, gpus) if table == "gpus" else (THROUGHPUT_CSV_COLUMNS, presets)
        )
        response = formats.csv_response(
            columns, ([r.get(c) for c in columns] for r in rows), f"{table}.csv"
        )
        response.headers["X-Prices-As-Of"] = str(freshness["as_of"] or "")
        response.headers["X-Prices-Stale"] = "true" if freshness["stale"] else "false"
        return response
    return JSONResponse({**freshness, "gpus": gpus, "throughput": presets})
