"""Compare the catalog with LiteLLM's model_prices_and_context_window.json, and refresh from it.

LiteLLM prices are USD per token; ours are USD per 1M tokens. Compared and written: token
prices, and the lifecycle the table has carried since late 2026 (`deprecation_date`, the day
the model stops answering, read as our `lifecycle.shutdown`; `deprecation_source`;
`successor_model`). Never written: sources, `as_of` dates, confidence and fine-tuning fields,
which the table has not (or, for training prices, not reliably). The table's price `source` is
shown beside each changed price so the reviewer knows which page to check.

Known quirks of LiteLLM's table handled here:
- Older OpenAI models bill no cache writes, yet some of their rows (e.g. `ft:gpt-4o-2024-11-20`)
  store the cached-input price under `cache_creation_input_token_cost`. On OpenAI rows that
  field is read as the cached-input price when there is no cache-read price; with one (GPT-6.x
  and GPT-5.6 bill 30-minute cache writes) it is the cache write.
- Some Anthropic 1-hour cache-write prices are wrong (`claude-3-haiku`: 6.0 per 1M against an
  official 0.50). Anthropic's 1-hour write is 2x input, so a value above 2x input is reported
  as suspect and never written.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import tomlkit
from pydantic import ValidationError

from app.pricing.catalog import TOKEN_PRICE_KEYS, Catalog, CatalogError, load_catalog, read_bounded
from app.pricing.schema import ModelEntry, PricingFile

# LiteLLM's table is about 3.5 MB (November 2026); the bound leaves room to grow.
MAX_TABLE_BYTES = 64_000_000

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

# new: a price we lack, or (field "") a current model of a provider we ship that we lack;
# changed: a different price or lifecycle date; retired: the table's shutdown date has passed
# and our row is not retired; successor: the table names another successor than ours.
Change = Literal["new", "changed", "removed", "suspect", "missing", "retired", "successor"]
CHANGES: tuple[Change, ...] = (
    "new", "changed", "retired", "successor", "removed", "suspect", "missing",
)  # fmt: skip
Value = float | str | None


@dataclass(frozen=True)
class Difference:
    change: Change
    model_id: str
    field: str  # dotted, e.g. prices.input or lifecycle.shutdown; "" for a whole model
    ours: Value
    theirs: Value
    note: str = ""

    def line(self) -> str:
        def fmt(v: Value) -> str:
            return "-" if v is None else v if isinstance(v, str) else f"{v:g}"

        text = f"{self.change:<8} {self.model_id}"
        if self.field:
            text += f"  {self.field}  {fmt(self.ours)} -> {fmt(self.theirs)}"
        return text + (f"  ({self.note})" if self.note else "")


def load_litellm(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(read_bounded(path, MAX_TABLE_BYTES))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise CatalogError(f"{path}: not valid JSON: {exc}") from exc
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
        # Older OpenAI models bill no cache writes, and on their rows a "cache creation" price
        # without a cache-read price is the cached-input price under the wrong name. The
        # newest (GPT-6.x, GPT-5.6) bill 30-minute cache writes and carry both fields.
        for prices in (base, *tiers.values()):
            prices.pop("cache_write_1h", None)
            if "cached_input" not in prices and "cache_write" in prices:
                prices["cached_input"] = prices.pop("cache_write")
    return base, tiers


def _suspect(entry: ModelEntry, key: str, value: float, prices: Mapping[str, float]) -> str:
    inp = prices.get("input", entry.prices.input)
    if inp is None:  # quote-required: no input price to compare with
        return ""
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


def matched_key(entry: ModelEntry, table: Mapping[str, Mapping[str, Any]]) -> str | None:
    return next((k for k in candidate_keys(entry) if k in table), None)


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _catalog_id(key: str, catalog: Catalog) -> str | None:
    """The catalog row a LiteLLM key (e.g. a `successor_model`) stands for, if any."""
    if key in catalog.models:
        return key
    for entry in catalog.models.values():
        if key in candidate_keys(entry):
            return entry.id
    return None


def _lifecycle(
    entry: ModelEntry, row: Mapping[str, Any], catalog: Catalog, today: date
) -> list[Difference]:
    out: list[Difference] = []
    life = entry.lifecycle
    theirs = _date(row.get("deprecation_date"))
    ours = life.shutdown if life is not None else None
    where = row.get("deprecation_source")
    cite = f"LiteLLM cites {where}" if isinstance(where, str) else ""
    if theirs is not None and theirs != ours:
        out.append(
            Difference(
                "changed", entry.id, "lifecycle.shutdown", _iso(ours), theirs.isoformat(), cite
            )
        )
    shutdown = theirs or ours
    if not entry.retired and shutdown is not None and shutdown <= today:
        out.append(
            Difference("retired", entry.id, "retired", "false", "true", f"shut down on {shutdown}")
        )
    successor = row.get("successor_model")
    if isinstance(successor, str) and successor:
        mine = life.successor if life is not None else None
        mapped = _catalog_id(successor, catalog)
        if mapped is None:
            out.append(
                Difference(
                    "successor",
                    entry.id,
                    "lifecycle.successor",
                    mine,
                    successor,
                    "not in the catalog; add its row first (not applied)",
                )
            )
        elif mapped != mine and mapped != entry.id:
            out.append(Difference("successor", entry.id, "lifecycle.successor", mine, mapped))
    return out


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


# Moving aliases, previews and non-text models are no rows of ours: a lead compares pinned
# chat models. Keys matching this are never reported as new.
_ALIAS = re.compile(
    r"(latest|preview|exp|audio|realtime|search|image|tts|transcribe|robotics|lyria|embed)",
    re.IGNORECASE,
)


def new_models(
    catalog: Catalog, table: Mapping[str, Mapping[str, Any]], today: date
) -> list[Difference]:
    """Current chat models of the table's providers we ship that no catalog row maps to.

    Only providers with at least one matched row are looked at (their LiteLLM provider names
    are learnt from those rows). Not new: dated snapshots of a matched key, aliases and
    previews (`_ALIAS`), free or unpriced entries, and entries without a `source`."""
    matched: dict[str, str] = {}  # LiteLLM key -> our provider
    for entry in catalog.models.values():
        found = matched_key(entry, table)
        if found is not None:
            matched[found] = entry.provider
    providers: dict[str, str] = {}
    for known, ours in matched.items():
        name = table[known].get("litellm_provider")
        if isinstance(name, str):
            providers.setdefault(name, ours)
    snapshot = re.compile(r"^(?P<base>.+?)-20\d\d-?\d\d-?\d\d$")
    out: list[Difference] = []
    for key, row in sorted(table.items()):
        provider = providers.get(str(row.get("litellm_provider")))
        if provider is None or key in matched or row.get("mode") != "chat":
            continue
        if key.startswith("ft:"):
            continue
        gone = _date(row.get("deprecation_date"))
        if gone is not None and gone <= today:
            continue
        base = snapshot.match(key)
        if base is not None and base["base"] in matched:
            continue
        if _ALIAS.search(key) or not isinstance(row.get("source"), str):
            continue
        prices, _ = litellm_prices(row, provider)
        if not prices.get("input") or not prices.get("output"):
            continue
        source = row.get("source")
        cite = f"; LiteLLM cites {source}" if isinstance(source, str) else ""
        out.append(
            Difference(
                "new",
                key,
                "",
                None,
                None,
                f"{provider}: {prices['input']:g} in / {prices['output']:g} out per 1M{cite}; "
                "add the row by hand from its source (not written)",
            )
        )
    return out


def diff(
    catalog: Catalog, table: Mapping[str, Mapping[str, Any]], today: date | None = None
) -> list[Difference]:
    """What differs between the catalog and LiteLLM's table, model by model: token prices,
    lifecycle (shutdown date, retirement, successor), and current models we lack."""
    day = date.today() if today is None else today
    out: list[Difference] = []
    for entry in catalog.models.values():
        key = matched_key(entry, table)
        if key is None:
            if not entry.retired:
                keys = candidate_keys(entry)
                out.append(
                    Difference(
                        "missing",
                        entry.id,
                        "",
                        None,
                        None,
                        f"no LiteLLM key: tried {', '.join(keys)}",
                    )
                )
            continue
        row = table[key]
        if entry.retired:
            # History: its prices are no longer compared (the table often drops them).
            out.extend(_lifecycle(entry, row, catalog, day))
            continue
        base, tiers = litellm_prices(row, entry.provider)
        source = row.get("source")
        cite = f"LiteLLM cites {source}" if isinstance(source, str) else ""
        found = _compare_prices(entry, "prices", entry.prices.model_dump(), base)
        if entry.long_context is not None:
            tier = tiers.get(entry.long_context.threshold_tokens, {})
            found += _compare_prices(
                entry, "long_context.prices", entry.long_context.prices.model_dump(), tier
            )
        for d in found:
            if cite and d.change in ("new", "changed") and not d.note:
                d = Difference(d.change, d.model_id, d.field, d.ours, d.theirs, cite)
            out.append(d)
        out.extend(_lifecycle(entry, row, catalog, day))
    out.extend(new_models(catalog, table, day))
    return out


_APPLIED: tuple[Change, ...] = ("new", "changed", "retired", "successor")


def _applicable(d: Difference) -> bool:
    if d.change not in _APPLIED or d.theirs is None or not d.field:
        return False
    return not d.note.endswith("(not applied)")


def _set(row: Any, d: Difference) -> None:
    if d.field == "retired":
        row["retired"] = True
        return
    if d.field.startswith("lifecycle."):
        if "lifecycle" not in row:
            row["lifecycle"] = tomlkit.inline_table()
        life = row["lifecycle"]
        leaf = d.field.removeprefix("lifecycle.")
        life[leaf] = date.fromisoformat(str(d.theirs)) if leaf == "shutdown" else d.theirs
        where = d.note.removeprefix("LiteLLM cites ")
        if leaf == "shutdown" and "source" not in life and where.startswith("https://"):
            life["source"] = where
        return
    node: Any = row
    *parents, leaf = d.field.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = d.theirs


def write(
    differences: Iterable[Difference], directory: Path, today: date | None = None
) -> list[Path]:
    """Apply new and changed token prices, shutdown dates, retirements and successors to the
    shipped files, keeping everything else (sources, as_of, confidence, training fields).

    Each file is edited with tomlkit (comments and layout survive). The edited files are
    loaded together as a catalog in a scratch directory before any is written, so a refresh
    can never leave an invalid catalog behind (e.g. a retired base whose fine-tuned row is not)."""
    wanted: dict[str, list[Difference]] = {}
    for d in differences:
        if _applicable(d):
            wanted.setdefault(d.model_id, []).append(d)
    edited: dict[Path, str] = {}
    for path in sorted(directory.glob("*.toml")):
        doc = tomlkit.parse(read_bounded(path))
        touched = False
        for row in doc.get("models", []):
            for d in wanted.get(str(row.get("id")), []):
                _set(row, d)
                touched = True
        if not touched:
            continue
        text = tomlkit.dumps(doc)
        try:
            PricingFile.model_validate(tomllib.loads(text))
        except (ValidationError, tomllib.TOMLDecodeError) as exc:
            raise CatalogError(f"{path}: refreshed prices would be invalid: {exc}") from exc
        edited[path] = text
    if not edited:
        return []
    with tempfile.TemporaryDirectory() as scratch:
        for path in directory.glob("*.toml"):
            shutil.copyfile(path, Path(scratch) / path.name)
        for path, text in edited.items():
            (Path(scratch) / path.name).write_text(text, encoding="utf-8")
        try:
            load_catalog(Path(scratch), today=today)
        except CatalogError as exc:
            raise CatalogError(
                f"the refreshed catalog would not load, nothing written: {exc}"
            ) from exc
    for path, text in edited.items():
        path.write_text(text, encoding="utf-8")
    return sorted(edited)
