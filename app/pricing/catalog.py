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
import errno
import os
import stat
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from app.pricing.schema import (
    GpuPrice,
    Lifecycle,
    ModelEntry,
    Override,
    PricingFile,
    ThroughputPreset,
    TrainingThroughput,
)

# The largest pricing file read (setting PRICING_MAX_FILE_BYTES). The shipped files are tens of
# kilobytes; the bound keeps a stray file (a log, a dump) from being parsed at start-up.
DEFAULT_MAX_FILE_BYTES = 2_000_000

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


def read_bounded(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str:
    """The text of a regular file of at most `max_bytes`, as UTF-8; any other file is an error
    naming it. Opened non-blocking, so a FIFO or a device named *.toml cannot stall start-up."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise CatalogError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CatalogError(f"{path}: not a regular file; only regular files are read")
        if info.st_size > max_bytes:
            raise CatalogError(
                f"{path}: {info.st_size} bytes, above the limit of {max_bytes} "
                "(setting PRICING_MAX_FILE_BYTES)"
            )
        chunks: list[bytes] = []
        size = 0
        # Read at most one byte past the limit: a file that grows while it is read is refused too.
        while size <= max_bytes:
            chunk = os.read(fd, max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        if exc.errno == errno.EAGAIN:
            raise CatalogError(f"{path}: not a regular file; only regular files are read") from exc
        raise CatalogError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if size > max_bytes:
        raise CatalogError(f"{path}: more than {max_bytes} bytes (setting PRICING_MAX_FILE_BYTES)")
    raw = b"".join(chunks)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not valid UTF-8 (byte {exc.start}: {exc.reason})") from exc


def load_file(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> PricingFile:
    text = read_bounded(path, max_bytes)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError as exc:
        # tomllib parses nested arrays and inline tables recursively.
        raise CatalogError(f"{path}: not valid TOML: arrays or tables nested too deeply") from exc
    try:
        parsed = PricingFile.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(f"{path}: {_describe(exc, data)}") from exc
    except RecursionError as exc:
        raise CatalogError(f"{path}: values nested too deeply") from exc
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
    training_throughput: dict[str, TrainingThroughput] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # row id -> file it came from
    # model id -> price field (dotted, see PRICE_FIELDS) -> where its value came from
    provenance: dict[str, dict[str, PriceOrigin]] = field(default_factory=dict)
    negotiated_files: list[str] = field(default_factory=list)

    def get(self, model_id: str) -> ModelEntry | None:
        """Any row, retired ones included (a scenario naming one is answered with its successor)."""
        return self.models.get(model_id)

    def offered(self, on: date | None = None) -> list[ModelEntry]:
        """The rows a user may choose on `on` (today by default): not retired, and not shut
        down by then. The load checks `retired` against the load date; the date here keeps a
        long-running process from offering a model that shut down since it started. Every
        picker and the default listing of /api/v1/models read this, never `models` directly."""
        day = date.today() if on is None else on
        return [m for m in self.models.values() if not m.retired and not _gone(m, day)]

    def suggest(self, model_id: str, n: int = 3) -> list[str]:
        return difflib.get_close_matches(model_id, [m.id for m in self.offered()], n=n, cutoff=0.4)

    def current_successor(self, model_id: str) -> ModelEntry | None:
        """The first offered row along the successor chain of `model_id` (None when the chain
        ends at a retired row or there is none). Chains are acyclic: the loader checks it."""
        entry = self.models.get(model_id)
        for _ in range(len(self.models)):
            if entry is None or entry.lifecycle is None or entry.lifecycle.successor is None:
                return None
            entry = self.models.get(entry.lifecycle.successor)
            if entry is not None and not entry.retired and not _gone(entry, date.today()):
                return entry
        return None

    def takes_training_jobs(self, entry: ModelEntry, through: date) -> bool:
        """A fine-tuning route (a row with a training price) that accepts new jobs on every day
        up to and including `through`: not retired, not shut down and not closed to new
        fine-tuning jobs by then."""
        if entry.retired or entry.training is None:
            return False
        life = entry.lifecycle
        if life is None:
            return True
        return all(d is None or d > through for d in (life.shutdown, life.fine_tuning_closes))

    def fine_tuned_variant(self, base_id: str) -> ModelEntry | None:
        """The fine-tuned serving row whose base is `base_id` (by id or dated snapshot); an
        offered one before a retired one."""
        variants = sorted(self.fine_tuned_variants(base_id), key=lambda e: e.retired)
        return variants[0] if variants else None

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
        """Offered rows with a training price."""
        return [m for m in self.offered() if m.training is not None]

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
        ("training throughput", catalog.training_throughput, parsed.training_throughput),
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


def load_catalog(
    directory: Path,
    extra_files: Iterable[Path] = (),
    *,
    today: date | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Catalog:
    """Load, validate and merge the shipped files and the negotiated ones.

    `today` (the load date by default) decides which rows must be marked retired: a row whose
    shutdown date is on or before it and that is not `retired = true` stops the load."""
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise CatalogError(f"{directory}: no pricing files (*.toml) found")
    catalog = Catalog()
    for path in files:
        parsed = load_file(path, max_file_bytes)
        if parsed.overrides or parsed.discount_multiplier:
            raise CatalogError(
                f"{path}: field {'overrides' if parsed.overrides else 'discount_multiplier'}: "
                "only negotiated-rate files (PRICING_EXTRA_DIR) may change shipped prices"
            )
        _add_rows(catalog, path, parsed, "catalog")
    shipped = set(catalog.models)
    negotiated = [(path, load_file(path, max_file_bytes)) for path in extra_files]
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
    _inherit_base_lifecycle(catalog)
    _check_lifecycles(catalog, date.today() if today is None else today)
    return catalog


def _gone(entry: ModelEntry, day: date) -> bool:
    life = entry.lifecycle
    return life is not None and life.shutdown is not None and life.shutdown <= day


def _earlier(a: date | None, b: date | None) -> date | None:
    return b if a is None else a if b is None else min(a, b)


def _inherit_base_lifecycle(catalog: Catalog) -> None:
    """A fine-tuned model dies with its base: its shutdown (and the day it stops taking new
    training jobs) is the earlier of its own and its base model's."""
    for entry in list(catalog.models.values()):
        base = catalog.base_of(entry) if entry.kind == "fine_tuned" else None
        if base is None or base.lifecycle is None:
            continue
        own = entry.lifecycle or Lifecycle()
        shutdown = _earlier(own.shutdown, base.lifecycle.shutdown)
        closes = _earlier(own.fine_tuning_closes, base.lifecycle.fine_tuning_closes)
        closes = _earlier(closes, shutdown)
        if shutdown == own.shutdown and closes == own.fine_tuning_closes:
            continue
        update: dict[str, Any] = {"shutdown": shutdown, "fine_tuning_closes": closes}
        if shutdown != own.shutdown:
            inherited = f"shutdown {shutdown} from base model '{base.id}'"
            mine = own.note.rstrip().rstrip(".") if own.note else ""
            update["note"] = f"{mine}; {inherited}" if mine else inherited
            update["source"] = base.lifecycle.source or own.source
        if own.deprecated is not None and shutdown is not None and shutdown < own.deprecated:
            update["deprecated"] = shutdown
        catalog.models[entry.id] = entry.model_copy(
            update={"lifecycle": own.model_copy(update=update)}
        )


def _where(catalog: Catalog, entry: ModelEntry) -> str:
    return f"{catalog.origin.get('model:' + entry.id, '?')}: model '{entry.id}'"


def _check_lifecycles(catalog: Catalog, today: date) -> None:
    for entry in catalog.models.values():
        life = entry.lifecycle
        shutdown = life.shutdown if life is not None else None
        if not entry.retired and shutdown is not None and shutdown <= today:
            why = f" ({life.note})" if life is not None and life.note else ""
            raise CatalogError(
                f"{_where(catalog, entry)}, field retired: shut down on {shutdown}{why}, on or "
                f"before {today}; mark it `retired = true` and name its lifecycle.successor"
            )
        if entry.retired and shutdown is not None and shutdown > today:
            raise CatalogError(
                f"{_where(catalog, entry)}, field retired: retired, yet lifecycle.shutdown is "
                f"{shutdown}, after {today}; correct the shutdown date"
            )
        successor = life.successor if life is not None else None
        if successor is None:
            continue
        if successor == entry.id:
            raise CatalogError(
                f"{_where(catalog, entry)}, field lifecycle.successor: names the row itself"
            )
        if successor not in catalog.models:
            close = difflib.get_close_matches(successor, list(catalog.models), n=3, cutoff=0.4)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise CatalogError(
                f"{_where(catalog, entry)}, field lifecycle.successor: '{successor}' is not a "
                f"catalog id{hint}"
            )
    # Successor chains end: following them from any row never comes back to it.
    for entry in catalog.models.values():
        seen = {entry.id}
        node: ModelEntry | None = entry
        while node is not None and node.lifecycle is not None and node.lifecycle.successor:
            nxt = node.lifecycle.successor
            if nxt in seen:
                raise CatalogError(
                    f"{_where(catalog, entry)}, field lifecycle.successor: the chain of "
                    f"successors comes back to '{nxt}'"
                )
            seen.add(nxt)
            node = catalog.models.get(nxt)


def negotiated_files(directory: Path | None) -> list[Path]:
    """The negotiated-rate files of a directory (none when unset); a missing directory is an error."""
    if directory is None:
        return []
    if not directory.is_dir():
        raise CatalogError(f"{directory}: PRICING_EXTRA_DIR is not a directory")
    return sorted(directory.glob("*.toml"))
