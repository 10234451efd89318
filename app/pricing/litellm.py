"""Compare the catalog with LiteLLM's model_prices_and_context_window.json, and refresh from it.

LiteLLM prices are USD per token; ours are USD per 1M tokens. Only token prices are compared
and written: sources, dates, lifecycle and fine-tuning fields stay as they are, because
LiteLLM's table has none of them (or, for training prices, not reliably).

Known quirks of LiteLLM's table handled here:
- OpenAI does not bill cache writes, yet some OpenAI rows (e.g. `ft:gpt-4o-2024-11-20`) store
  the cached-input price under `cache_creation_input_token_cost`. For OpenAI rows that field is
  read as the cached-input price when there is no cache-read price, and never as a cache write.
- Some Anthropic 1-hour cache-write prices are wrong (`claude-3-haiku`: 6.0 per 1M against an
  official 0.50). Anthropic's 1-hour write is 2x input, so a value above 2x input is reported
  as suspect and never written.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import tomlkit
from pydantic import ValidationError

from app.pricing.catalog import TOKEN_PRICE_KEYS, Catalog, CatalogError
from app.pricing.schema import ModelEntry, PricingFile

PER_TOKEN_TO_PER_MTOK = 1_000_000
# LiteLLM field -> our token-price key.
_FIELDS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cached_input",
    "cache_creation_input_token_cost": "cache_write",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
}
_TIER = re.compile(r"^(?P<field>.+)_above_(?P<k>\d+)k_tokens$")
# LiteLLM key prefixes by our provider, tried before the bare id.
_PREFIXES = {"google": ("gemini/",)}

Change = Literal["new", "changed", "removed", "suspect", "missing"]


@dataclass(frozen=True)
class Difference:
    change: Change
    model_id: str
    field: str  # dotted, e.g. prices.input or long_context.prices.output; "" for a whole model
    ours: float | None
    theirs: float | None
    note: str = ""

    def line(self) -> str:
        def fmt(v: float | None) -> str:
            return "-" if v is None else f"{v:g}"

        text = f"{self.change:<8} {self.model_id}"
        if self.field:
            text += f"  {self.field}  {fmt(self.ours)} -> {fmt(self.theirs)}"
        return text + (f"  ({self.note})" if self.note else "")


def load_litellm(path: Path) -> dict[str, dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: expected a JSON object of model entries")
    return {k: v for k, v in data.items() if isinstance(v, dict) and k != "sample_spec"}


def candidate_keys(entry: ModelEntry) -> list[str]:
    """LiteLLM keys that may hold this row, most specific first."""
    if entry.kind == "fine_tuned" and entry.base_model is not None:
        return [f"ft:{entry.base_model}"]
    return [prefix + entry.id for prefix in _PREFIXES.get(entry.provider, ())] + [entry.id]


def _per_mtok(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    # Round away the binary noise of per-token floats (1.25e-06 * 1e6 = 1.2499999999999998).
    return round(value * PER_TOKEN_TO_PER_MTOK, 9)


def litellm_prices(
    row: Mapping[str, Any], provider: str
) -> tuple[dict[str, float], dict[int, dict[str, float]]]:
    """Base token prices and long-context tiers (threshold -> prices), per 1M tokens."""
    base: dict[str, float] = {}
    tiers: dict[int, dict[str, float]] = {}
    for key, value in row.items():
        price = _per_mtok(value)
        if price is None:
            continue
        if key in _FIELDS:
            base[_FIELDS[key]] = price
            continue
        match = _TIER.match(key)
        if match and match["field"] in _FIELDS:
            tiers.setdefault(int(match["k"]) * 1000, {})[_FIELDS[match["field"]]] = price
        elif key == "cache_creation_input_token_cost_above_1hr_above_200k_tokens":
            tiers.setdefault(200_000, {})["cache_write_1h"] = price
    if provider == "openai":
        # OpenAI bills no cache writes: a "cache creation" price on an OpenAI row is the
        # cached-input price stored under the wrong name.
        for prices in (base, *tiers.values()):
            write = prices.pop("cache_write", None)
            prices.pop("cache_write_1h", None)
            if write is not None and "cached_input" not in prices:
                prices["cached_input"] = write
    return base, tiers


def _suspect(entry: ModelEntry, key: str, value: float, prices: Mapping[str, float]) -> str:
    inp = prices.get("input", entry.prices.input)
    if key == "cache_write_1h" and entry.provider == "anthropic" and value > 2 * inp * (1 + 1e-9):
        return f"above 2x input ({inp:g}); Anthropic's 1-hour write is 2x input"
    if key == "cached_input" and value > inp * (1 + 1e-9):
        return f"above input ({inp:g})"
    return ""


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _compare_prices(
    entry: ModelEntry,
    prefix: str,
    ours: Mapping[str, float | None],
    theirs: Mapping[str, float],
) -> list[Difference]:
    out: list[Difference] = []
    for key in TOKEN_PRICE_KEYS:
        mine, other = ours.get(key), theirs.get(key)
        dotted = f"{prefix}.{key}"
        if other is not None:
            reason = _suspect(entry, key, other, theirs)
            if reason and (mine is None or not _same(mine, other)):
                out.append(
                    Difference("suspect", entry.id, dotted, mine, other, reason + "; not applied")
                )
            elif mine is None:
                out.append(Difference("new", entry.id, dotted, None, other))
            elif not _same(mine, other):
                out.append(Difference("changed", entry.id, dotted, mine, other))
        elif mine is not None:
            out.append(Difference("removed", entry.id, dotted, mine, None, "not in LiteLLM"))
    return out


def diff(catalog: Catalog, table: Mapping[str, Mapping[str, Any]]) -> list[Difference]:
    """What differs between the catalog's token prices and LiteLLM's, model by model."""
    out: list[Difference] = []
    for entry in catalog.models.values():
        keys = candidate_keys(entry)
        key = next((k for k in keys if k in table), None)
        if key is None:
            out.append(
                Difference(
                    "missing", entry.id, "", None, None, f"no LiteLLM key: tried {', '.join(keys)}"
                )
            )
            continue
        base, tiers = litellm_prices(table[key], entry.provider)
        out.extend(_compare_prices(entry, "prices", entry.prices.model_dump(), base))
        if entry.long_context is not None:
            tier = tiers.get(entry.long_context.threshold_tokens, {})
            out.extend(
                _compare_prices(
                    entry, "long_context.prices", entry.long_context.prices.model_dump(), tier
                )
            )
    return out


def write(differences: Iterable[Difference], directory: Path) -> list[Path]:
    """Apply new and changed token prices to the shipped files, keeping everything else.

    Each file is edited with tomlkit (comments and layout survive) and validated before it is
    written, so a refresh can never leave an invalid catalog behind.
    """
    wanted: dict[str, list[Difference]] = {}
    for d in differences:
        if d.change in ("new", "changed") and d.theirs is not None:
            wanted.setdefault(d.model_id, []).append(d)
    written: list[Path] = []
    for path in sorted(directory.glob("*.toml")):
        doc = tomlkit.parse(path.read_text(encoding="utf-8"))
        touched = False
        for row in doc.get("models", []):
            for d in wanted.get(str(row.get("id")), []):
                node: Any = row
                *parents, leaf = d.field.split(".")
                for part in parents:
                    node = node[part]
                node[leaf] = d.theirs
                touched = True
        if not touched:
            continue
        text = tomlkit.dumps(doc)
        try:
            PricingFile.model_validate(tomllib.loads(text))
        except (ValidationError, tomllib.TOMLDecodeError) as exc:
            raise CatalogError(f"{path}: refreshed prices would be invalid: {exc}") from exc
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
