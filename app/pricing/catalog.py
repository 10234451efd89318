"""Load and query the pricing catalog.

The catalog is read once at start-up. A malformed file stops start-up with an error that
names the file, the model and the field, so a bad edit never serves wrong prices.

Two layers: the shipped files (`pricing_dir`, one per provider) and, optionally, a directory
of negotiated-rate files (`pricing_extra_dir`) that add models, override price fields of
shipped models (`[[overrides]]`) or scale a provider's token prices (`[discount_multiplier]`).
For every model and price field the catalog records where the value came from, so the API and
the engine can say "negotiated:<file>" instead of "catalog:<id>".
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from app.pricing.schema import GpuPrice, ModelEntry, Override, PricingFile, ThroughputPreset

TOKEN_PRICE_KEYS = ("input", "cached_input", "cache_write", "cache_write_1h", "output")
# Every price-like field the catalog tracks the origin of, as dotted paths into ModelEntry.
PRICE_FIELDS = (
    *(f"prices.{k}" for k in TOKEN_PRICE_KEYS),
    *(f"long_context.prices.{k}" for k in TOKEN_PRICE_KEYS),
    "batch_discount",
    "training.price_per_mtok",
    "training.price_per_hour",
    "hosting_per_hour",
)


class CatalogError(Exception):
    """A pricing file is malformed or contradicts another; the message names file and field."""


@dataclass(frozen=True)
class PriceOrigin:
    """Where one price field's value came from."""

    origin: Literal["catalog", "negotiated"]
    file: str
    source: str
    as_of: date
    note: str | None = None


_ROW_NAMES = {
    "models": "model",
    "gpus": "gpu",
    "throughput": "throughput",
    "training_throughput": "training throughput",
    "overrides": "override",
}


def _describe(errors: ValidationError, data: dict[str, object]) -> str:
    lines = []
    for err in errors.errors():
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc)
        # Name the model by id rather than by list index, which nobody editing TOML sees.
        if len(loc) >= 2 and loc[0] in _ROW_NAMES and isinstance(loc[1], int):
            rows = data.get(str(loc[0]))
            if isinstance(rows, list) and loc[1] < len(rows) and isinstance(rows[loc[1]], dict):
                row_id = rows[loc[1]].get("id", f"#{loc[1]}")
                rest = ".".join(str(p) for p in loc[2:]) or "(row)"
                where = f"{_ROW_NAMES[str(loc[0])]} '{row_id}', field {rest}"
        lines.append(f"{where}: {str(err['msg']).removeprefix('Value error, ')}")
    return "; ".join(lines)


def load_file(path: Path) -> PricingFile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from exc
    try:
        parsed = PricingFile.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(f"{path}: {_describe(exc, data)}") from exc
    if parsed.provider is not None:
        for row in parsed.models:
            if row.provider != parsed.provider:
                raise CatalogError(
                    f"{path}: model '{row.id}', field provider: '{row.provider}' differs from "
                    f"the file's provider '{parsed.provider}'"
                )
    return parsed


def _get(entry: ModelEntry, path: str) -> Any:
    node: Any = entry
    for part in path.split("."):
        node = getattr(node, part, None)
        if node is None:
            return None
    return node


@dataclass
class Catalog:
    models: dict[str, ModelEntry] = field(default_factory=dict)
    gpus: dict[str, GpuPrice] = field(default_factory=dict)
    throughput: dict[str, ThroughputPreset] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # row id -> file it came from
    # model id -> price field (dotted, see PRICE_FIELDS) -> where its value came from
    provenance: dict[str, dict[str, PriceOrigin]] = field(default_factory=dict)
    negotiated_files: list[str] = field(default_factory=list)

    def get(self, model_id: str) -> ModelEntry | None:
        return self.models.get(model_id)

    def suggest(self, model_id: str, n: int = 3) -> list[str]:
        return difflib.get_close_matches(model_id, list(self.models), n=n, cutoff=0.4)

    def fine_tuned_variant(self, base_id: str) -> ModelEntry | None:
        """The fine-tuned serving row whose base is `base_id` (by id or dated snapshot)."""
        for entry in self.fine_tuned_variants(base_id):
            return entry
        return None

    def fine_tuned_variants(self, base_id: str) -> Iterator[ModelEntry]:
        for entry in self.models.values():
            if (
                entry.kind == "fine_tuned"
                and entry.base_model is not None
                and (entry.base_model == base_id or entry.base_model.startswith(base_id + "-20"))
            ):
                yield entry

    def base_of(self, entry: ModelEntry) -> ModelEntry | None:
        """The catalog row of a fine-tuned row's base (by id or by its dated snapshot)."""
        if entry.base_model is None:
            return None
        if entry.base_model in self.models:
            return self.models[entry.base_model]
        for candidate in self.models.values():
            if entry.base_model.startswith(candidate.id + "-20"):
                return candidate
        return None

    def is_fine_tunable(self, entry: ModelEntry) -> bool:
        """A row with a training price, or a base model with a fine-tuned serving row."""
        return entry.training is not None or self.fine_tuned_variant(entry.id) is not None

    def fine_tunable(self) -> list[ModelEntry]:
        return [m for m in self.models.values() if m.training is not None]

    def oldest_as_of(self) -> date | None:
        dates = [m.as_of for m in self.models.values()]
        return min(dates) if dates else None

    def price_origin(self, model_id: str, price_field: str) -> PriceOrigin | None:
        return self.provenance.get(model_id, {}).get(price_field)

    def price_source(self, model_id: str, price_field: str) -> str:
        """The engine's label for a catalog price: 'catalog:<id>' or 'negotiated:<file>'."""
        found = self.price_origin(model_id, price_field)
        if found is not None and found.origin == "negotiated":
            return f"negotiated:{found.file}"
        return f"catalog:{model_id}"

    def is_negotiated(self, model_id: str) -> bool:
        return any(o.origin == "negotiated" for o in self.provenance.get(model_id, {}).values())


def _record(
    catalog: Catalog, entry: ModelEntry, origin: Literal["catalog", "negotiated"], file: str
) -> None:
    fields: dict[str, PriceOrigin] = {}
    for path in PRICE_FIELDS:
        if _get(entry, path) is not None:
            src = entry.source
            as_of = entry.as_of
            if path.startswith("training.") and entry.training is not None:
                src = entry.training.source or src
                as_of = entry.training.as_of or as_of
            fields[path] = PriceOrigin(origin, file, str(src), as_of)
    catalog.provenance[entry.id] = fields


def _add_rows(
    catalog: Catalog, path: Path, parsed: PricingFile, origin: Literal["catalog", "negotiated"]
) -> None:
    tables: tuple[tuple[str, dict[str, Any], list[Any]], ...] = (
        ("model", catalog.models, parsed.models),
        ("gpu", catalog.gpus, parsed.gpus),
        ("throughput", catalog.throughput, parsed.throughput),
    )
    for kind, table, rows in tables:
        for row in rows:
            if row.id in table:
                hint = " (use [[overrides]] to change it)" if origin == "negotiated" else ""
                raise CatalogError(
                    f"{path}: {kind} '{row.id}', field id: already defined in "
                    f"{catalog.origin[f'{kind}:{row.id}']}{hint}"
                )
            table[row.id] = row
            catalog.origin[f"{kind}:{row.id}"] = path.name
            if kind == "model":
                _record(catalog, row, origin, path.name)


def _check_bases(catalog: Catalog) -> None:
    for entry in catalog.models.values():
        if entry.kind == "fine_tuned" and catalog.base_of(entry) is None:
            raise CatalogError(
                f"{catalog.origin['model:' + entry.id]}: model '{entry.id}', field base_model: "
                f"'{entry.base_model}' is not in the catalog"
            )


def _revalidate(entry: ModelEntry, data: dict[str, Any], where: str) -> ModelEntry:
    try:
        return ModelEntry.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(
            f"{where}: model '{entry.id}': after negotiated rates, {_describe(exc, {})}"
        ) from exc


def _apply_multipliers(
    catalog: Catalog, path: Path, multipliers: dict[str, float], shipped: set[str]
) -> None:
    providers = {m.provider for m in catalog.models.values()}
    for provider, factor in multipliers.items():
        if provider not in providers:
            close = difflib.get_close_matches(provider, sorted(providers), n=3, cutoff=0.4)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise CatalogError(
                f"{path}: field discount_multiplier.{provider}: no model of provider "
                f"'{provider}' in the catalog{hint}"
            )
        for model_id in sorted(shipped):
            entry = catalog.models[model_id]
            if entry.provider != provider:
                continue
            data = entry.model_dump()
            note = f"x{factor} discount multiplier"
            for key in TOKEN_PRICE_KEYS:
                for prefix, holder in (
                    ("prices", data["prices"]),
                    ("long_context.prices", (data.get("long_context") or {}).get("prices")),
                ):
                    if holder is not None and holder.get(key) is not None:
                        holder[key] = holder[key] * factor
                        base = catalog.provenance[model_id][f"{prefix}.{key}"]
                        catalog.provenance[model_id][f"{prefix}.{key}"] = PriceOrigin(
                            "negotiated", path.name, base.source, base.as_of, note
                        )
            catalog.models[model_id] = _revalidate(entry, data, str(path))


def _apply_override(
    catalog: Catalog, path: Path, ov: Override, overridden: dict[tuple[str, str], str]
) -> None:
    entry = catalog.models.get(ov.id)
    if entry is None:
        close = catalog.suggest(ov.id)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise CatalogError(f"{path}: override '{ov.id}', field id: not in the catalog{hint}")
    data = entry.model_dump()
    changed: list[str] = []

    def put(holder: dict[str, Any], key: str, value: float | None, dotted: str) -> None:
        if value is not None:
            holder[key] = value
            changed.append(dotted)

    if ov.prices is not None:
        for key in TOKEN_PRICE_KEYS:
            put(data["prices"], key, getattr(ov.prices, key), f"prices.{key}")
    if ov.long_context_prices is not None:
        if data.get("long_context") is None:
            raise CatalogError(
                f"{path}: override '{ov.id}', field long_context_prices: the model has no "
                "long-context tier"
            )
        for key in TOKEN_PRICE_KEYS:
            put(
                data["long_context"]["prices"],
                key,
                getattr(ov.long_context_prices, key),
                f"long_context.prices.{key}",
            )
    if ov.batch_discount is not None:
        data["batch_discount"] = ov.batch_discount
        changed.append("batch_discount")
    if ov.hosting_per_hour is not None:
        data["hosting_per_hour"] = ov.hosting_per_hour
        changed.append("hosting_per_hour")
    if ov.training is not None:
        if data.get("training") is None:
            raise CatalogError(
                f"{path}: override '{ov.id}', field training: the model has no training price "
                "to override (add it as a model of its own)"
            )
        put(
            data["training"],
            "price_per_mtok",
            ov.training.price_per_mtok,
            "training.price_per_mtok",
        )
        put(
            data["training"],
            "price_per_hour",
            ov.training.price_per_hour,
            "training.price_per_hour",
        )
    if not changed:
        raise CatalogError(f"{path}: override '{ov.id}': changes no price field")
    # The row is as old as its oldest price: a negotiated price does not refresh the others.
    data["as_of"] = min(entry.as_of, ov.as_of)
    fields = catalog.provenance[ov.id]
    for dotted in changed:
        if (ov.id, dotted) in overridden:
            raise CatalogError(
                f"{path}: override '{ov.id}', field {dotted}: also overridden in "
                f"{overridden[(ov.id, dotted)]}"
            )
        overridden[(ov.id, dotted)] = path.name
        fields[dotted] = PriceOrigin("negotiated", path.name, ov.source, ov.as_of, ov.notes)
    catalog.models[ov.id] = _revalidate(entry, data, f"{path}: override '{ov.id}'")


def load_catalog(directory: Path, extra_files: Iterable[Path] = ()) -> Catalog:
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise CatalogError(f"{directory}: no pricing files (*.toml) found")
    catalog = Catalog()
    for path in files:
        parsed = load_file(path)
        if parsed.overrides or parsed.discount_multiplier:
            raise CatalogError(
                f"{path}: field {'overrides' if parsed.overrides else 'discount_multiplier'}: "
                "only negotiated-rate files (PRICING_EXTRA_DIR) may change shipped prices"
            )
        _add_rows(catalog, path, parsed, "catalog")
    shipped = set(catalog.models)
    negotiated = [(path, load_file(path)) for path in extra_files]
    for path, parsed in negotiated:
        _add_rows(catalog, path, parsed, "negotiated")
        catalog.negotiated_files.append(path.name)
    _check_bases(catalog)
    # Multipliers first, then overrides: an override is an absolute negotiated price, and a
    # provider-wide discount must not be applied to it a second time.
    seen: dict[str, str] = {}
    for path, parsed in negotiated:
        for provider in parsed.discount_multiplier:
            if provider in seen:
                raise CatalogError(
                    f"{path}: field discount_multiplier.{provider}: also set in {seen[provider]}"
                )
            seen[provider] = path.name
        _apply_multipliers(catalog, path, parsed.discount_multiplier, shipped)
    overridden: dict[tuple[str, str], str] = {}
    for path, parsed in negotiated:
        for ov in parsed.overrides:
            _apply_override(catalog, path, ov, overridden)
    return catalog


def negotiated_files(directory: Path | None) -> list[Path]:
    """The negotiated-rate files of a directory (none when unset); a missing directory is an error."""
    if directory is None:
        return []
    if not directory.is_dir():
        raise CatalogError(f"{directory}: PRICING_EXTRA_DIR is not a directory")
    return sorted(directory.glob("*.toml"))
