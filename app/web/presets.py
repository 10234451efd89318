"""Typical cases, as data: `app/web/presets.toml` (docs/pricing.md, "Presets").

Each preset is a scenario, the JSON body of POST /api/v1/compare, with a key, a label and a
summary. GET /api/v1/presets serves them; the page links each as a query string, so a preset
fills the form with or without JavaScript. Token counts and costs are illustrative starting
points; prices come from the catalog, and a preset may name the catalog rows its self-hosted
figures were copied from (`[presets.catalog]`), which start-up checks against the catalog.

The file is read and validated when this module is imported, and checked against the
catalog at start-up (`check_presets`): a preset naming an unknown or retired model, or
figures that drifted from the rows it cites, stops start-up naming the preset and field.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.api.query import flatten_input
from app.domain.scenario import Scenario
from app.pricing.catalog import Catalog, CatalogError, read_bounded

PRESETS_FILE = Path(__file__).with_name("presets.toml")


class PresetError(Exception):
    """The presets file is malformed or contradicts the catalog; the message names the preset."""


class CatalogRefs(BaseModel):
    """Catalog rows a preset's self-hosted figures come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gpu: str | None = Field(
        default=None, description="[[gpus]] id: finetuned.self_hosted.gpu_hourly_price"
    )
    throughput: str | None = Field(
        default=None,
        description="[[throughput]] id: gpus_per_replica, prefill and decode tokens per second",
    )
    training_gpu: str | None = Field(
        default=None, description="[[gpus]] id: finetuned.training.gpu_hourly_price"
    )
    training_throughput: str | None = Field(
        default=None,
        description="[[training_throughput]] id: finetuned.training.gpu_hours, from the "
        "training tokens (examples x tokens per example x epochs)",
    )


class PresetRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)
    label: str = Field(min_length=1, max_length=80)
    summary: str = Field(min_length=1, max_length=400)
    scenario: Scenario
    catalog: CatalogRefs = Field(default_factory=CatalogRefs)


class PresetsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    presets: list[PresetRow] = Field(min_length=1)


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    summary: str
    scenario: Scenario
    catalog: CatalogRefs

    @cached_property
    def body(self) -> dict[str, Any]:
        """The scenario as the JSON body of POST /api/v1/compare: only what the preset sets."""
        return self.scenario.model_dump(mode="json", exclude_unset=True)

    @cached_property
    def values(self) -> tuple[tuple[str, str], ...]:
        """The scenario as the page's dotted query parameters."""
        # Whole numbers as the user would type them (30000000, not 30000000.0): the page's
        # inputs show the URL's text.
        pairs = [(k, _plain(v)) for k, v in flatten_input(self.body).items()]
        finetuned = self.scenario.finetuned
        if finetuned.model is None and finetuned.self_hosted is not None:
            # The page's model picker reads an empty value as "None" (self-trained, self-hosted);
            # left out, the form would show the default fine-tuned model.
            pairs.append(("finetuned.model", ""))
        return tuple(pairs)

    @property
    def query(self) -> str:
        return urlencode(self.values)

    def models(self) -> list[tuple[str, str]]:
        """(field, catalog id) of every model the preset names."""
        out = []
        for arm in ("prompted", "finetuned"):
            model = getattr(self.scenario, arm).model
            if model is not None:
                out.append((f"{arm}.model", model))
        return out


def _plain(text: str) -> str:
    return text[:-2] if text.endswith(".0") and text[:-2].lstrip("-").isdigit() else text


def load_presets(path: Path = PRESETS_FILE) -> tuple[Preset, ...]:
    try:
        data = tomllib.loads(read_bounded(path))
    except CatalogError as exc:
        raise PresetError(str(exc)) from exc
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise PresetError(f"{path}: not valid TOML: {exc}") from exc
    try:
        parsed = PresetsFile.model_validate(data)
    except ValidationError as exc:
        raise PresetError(f"{path}: {_describe(exc, data)}") from exc
    keys = [p.key for p in parsed.presets]
    if len(set(keys)) != len(keys):
        raise PresetError(f"{path}: preset keys must be unique: {', '.join(keys)}")
    return tuple(Preset(p.key, p.label, p.summary, p.scenario, p.catalog) for p in parsed.presets)


def _describe(exc: ValidationError, data: dict[str, Any]) -> str:
    rows = data.get("presets")
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc)
        if len(loc) >= 2 and loc[0] == "presets" and isinstance(loc[1], int):
            row = rows[loc[1]] if isinstance(rows, list) and loc[1] < len(rows) else {}
            key = row.get("key", f"#{loc[1]}") if isinstance(row, dict) else f"#{loc[1]}"
            where = f"preset '{key}', field {'.'.join(str(p) for p in loc[2:]) or '(row)'}"
        lines.append(f"{where}: {str(err['msg']).removeprefix('Value error, ')}")
    return "; ".join(lines)


def _same(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=1e-9)


def preset_problems(preset: Preset, catalog: Catalog) -> list[str]:
    """What in a preset contradicts the catalog: unknown or retired models, and self-hosted
    figures that differ from the catalog rows the preset cites."""
    problems: list[str] = []
    for field, model in preset.models():
        entry = catalog.get(model)
        if entry is None:
            problems.append(f"{field}: '{model}' is not in the catalog")
        elif entry.retired:
            successor = catalog.current_successor(model)
            way = f"; its successor is '{successor.id}'" if successor is not None else ""
            problems.append(f"{field}: '{model}' is retired{way}")
    refs = preset.catalog
    finetuned = preset.scenario.finetuned
    hosted = finetuned.self_hosted
    training = finetuned.training
    if refs.gpu is not None:
        gpu = catalog.gpus.get(refs.gpu)
        if gpu is None:
            problems.append(f"catalog.gpu: '{refs.gpu}' is not a GPU row of the catalog")
        elif hosted is None or not _same(hosted.gpu_hourly_price, gpu.hourly_price):
            problems.append(
                f"finetuned.self_hosted.gpu_hourly_price: must be {gpu.hourly_price:g}, the price "
                f"of '{gpu.id}'"
            )
    if refs.throughput is not None:
        t = catalog.throughput.get(refs.throughput)
        if t is None:
            problems.append(
                f"catalog.throughput: '{refs.throughput}' is not a throughput row of the catalog"
            )
        elif hosted is None or (
            hosted.gpus_per_replica != t.gpus_per_replica
            or not _same(hosted.prefill_tokens_per_s, t.prefill_tokens_per_s)
            or not _same(hosted.decode_tokens_per_s, t.decode_tokens_per_s)
        ):
            problems.append(
                f"finetuned.self_hosted: must hold the figures of '{t.id}' ({t.gpus_per_replica} "
                f"GPUs, {t.prefill_tokens_per_s:g} prefill, {t.decode_tokens_per_s:g} decode "
                "tokens/s)"
            )
    if refs.training_gpu is not None:
        gpu = catalog.gpus.get(refs.training_gpu)
        if gpu is None:
            problems.append(
                f"catalog.training_gpu: '{refs.training_gpu}' is not a GPU row of the catalog"
            )
        elif not _same(training.gpu_hourly_price, gpu.hourly_price):
            problems.append(
                f"finetuned.training.gpu_hourly_price: must be {gpu.hourly_price:g}, the price "
                f"of '{gpu.id}'"
            )
    if refs.training_throughput is not None:
        tt = catalog.training_throughput.get(refs.training_throughput)
        if tt is None:
            problems.append(
                f"catalog.training_throughput: '{refs.training_throughput}' is not a "
                "training-throughput row of the catalog"
            )
        elif training.epochs == "auto":
            problems.append("finetuned.training.epochs: give a number to derive the GPU-hours")
        else:
            mtok = training.examples * training.tokens_per_example * training.epochs / 1e6
            hours = tt.gpu_hours_per_mtok * mtok
            if not _same(training.gpu_hours, hours):
                problems.append(
                    f"finetuned.training.gpu_hours: must be {hours:g} ({tt.gpu_hours_per_mtok:g} "
                    f"GPU-hours per 1M tokens of '{tt.id}' x {mtok:g}M training tokens)"
                )
    return problems


def check_presets(catalog: Catalog, presets: tuple[Preset, ...] | None = None) -> None:
    """Raise PresetError naming every preset that contradicts the catalog."""
    found = [
        f"preset '{p.key}', field {problem}"
        for p in (PRESETS if presets is None else presets)
        for problem in preset_problems(p, catalog)
    ]
    if found:
        raise PresetError(f"{PRESETS_FILE.name}: " + "; ".join(found))


PRESETS: tuple[Preset, ...] = load_presets()
