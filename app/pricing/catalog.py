"""Load and query the pricing catalog.

The catalog is read once at start-up. A malformed file stops start-up with an error that
names the file, the model and the field, so a bad edit never serves wrong prices.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from app.pricing.schema import GpuPrice, ModelEntry, PricingFile, ThroughputPreset


class CatalogError(Exception):
    """A pricing file is malformed or contradicts another; the message names file and field."""


def _describe(errors: ValidationError, data: dict[str, object]) -> str:
    lines = []
    for err in errors.errors():
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc)
        # Name the model by id rather than by list index, which nobody editing TOML sees.
        if len(loc) >= 2 and loc[0] in ("models", "gpus", "throughput") and isinstance(loc[1], int):
            rows = data.get(str(loc[0]))
            if isinstance(rows, list) and loc[1] < len(rows) and isinstance(rows[loc[1]], dict):
                row_id = rows[loc[1]].get("id", f"#{loc[1]}")
                rest = ".".join(str(p) for p in loc[2:]) or "(row)"
                where = f"{loc[0][:-1] if loc[0] != 'throughput' else 'throughput'} '{row_id}', field {rest}"
        lines.append(f"{where}: {err['msg']}")
    return "; ".join(lines)


def load_file(path: Path) -> PricingFile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return PricingFile.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(f"{path}: {_describe(exc, data)}") from exc


@dataclass
class Catalog:
    models: dict[str, ModelEntry] = field(default_factory=dict)
    gpus: dict[str, GpuPrice] = field(default_factory=dict)
    throughput: dict[str, ThroughputPreset] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # row id -> file it came from

    def get(self, model_id: str) -> ModelEntry | None:
        return self.models.get(model_id)

    def suggest(self, model_id: str, n: int = 3) -> list[str]:
        return difflib.get_close_matches(model_id, list(self.models), n=n, cutoff=0.4)

    def fine_tuned_variant(self, base_id: str) -> ModelEntry | None:
        """The fine-tuned serving row whose base is `base_id` (by id or dated snapshot)."""
        for entry in self.models.values():
            if entry.kind == "fine_tuned" and entry.base_model is not None and (
                entry.base_model == base_id or entry.base_model.startswith(base_id + "-20")
            ):
                return entry
        return None

    def fine_tunable(self) -> list[ModelEntry]:
        return [m for m in self.models.values() if m.training is not None]

    def oldest_as_of(self) -> date | None:
        dates = [m.as_of for m in self.models.values()]
        return min(dates) if dates else None


def load_catalog(directory: Path, extra_files: Iterable[Path] = ()) -> Catalog:
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise CatalogError(f"{directory}: no pricing files (*.toml) found")
    catalog = Catalog()
    for path in [*files, *extra_files]:
        parsed = load_file(path)
        for kind, rows in (
            ("model", parsed.models),
            ("gpu", parsed.gpus),
            ("throughput", parsed.throughput),
        ):
            table: dict[str, ModelEntry] | dict[str, GpuPrice] | dict[str, ThroughputPreset]
            table = {"model": catalog.models, "gpu": catalog.gpus, "throughput": catalog.throughput}[kind]  # type: ignore[assignment]
            for row in rows:
                if row.id in table:
                    raise CatalogError(
                        f"{path}: {kind} '{row.id}' is already defined in {catalog.origin[row.id]}"
                    )
                table[row.id] = row  # type: ignore[assignment]
                catalog.origin[row.id] = path.name
    for entry in catalog.models.values():
        if entry.kind == "fine_tuned" and entry.base_model is not None:
            base = entry.base_model
            if base not in catalog.models and not any(
                base.startswith(m + "-20") for m in catalog.models
            ):
                raise CatalogError(
                    f"{catalog.origin[entry.id]}: model '{entry.id}', field base_model: "
                    f"'{base}' is not in the catalog"
                )
    return catalog
