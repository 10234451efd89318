"""The LiteLLM importer: per-token to per-1M conversion, id mapping, the table's quirks, and a
--write that changes token prices only."""

from __future__ import annotations

import json
import shutil
import tomllib
from datetime import date
from pathlib import Path

import pytest

from app.pricing.__main__ import main
from app.pricing.catalog import CatalogError, load_catalog
from app.pricing.litellm import (
    CHANGES,
    Difference,
    candidate_keys,
    diff,
    litellm_prices,
    load_litellm,
    matched_key,
    write,
)
from app.settings import ROOT

FIXTURE = Path(__file__).parent / "fixtures" / "litellm_sample.json"

CATALOG = """
provider = "openai"

[[models]]
id = "gpt-4o"
name = "GPT-4o"
provider = "openai"
kind = "general"
encoding = "o200k_base"
# a comment that must survive --write
confidence = "provider"
source = "https://developers.openai.com/api/docs/pricing"
as_of = 2026-07-30
prices = { input = 2.0, cached_input = 1.25, output = 10.0 }

[[models]]
id = "ft:gpt-4o"
name = "GPT-4o fine-tuned"
provider = "openai"
kind = "fine_tuned"
base_model = "gpt-4o-2024-11-20"
confidence = "provider"
source = "https://developers.openai.com/api/docs/pricing"
as_of = 2026-07-30
prices = { input = 3.75, output = 15.0 }
training = { price_per_mtok = 25.0, source = "https://developers.openai.com/api/docs/pricing", as_of = 2026-07-30 }

[[models]]
id = "gpt-9"
name = "GPT-9"
provider = "openai"
kind = "general"
confidence = "provider"
source = "https://developers.openai.com/api/docs/pricing"
as_of = 2026-07-30
prices = { input = 1.0, output = 2.0 }
"""

ANTHROPIC = """
provider = "anthropic"

[[models]]
id = "claude-3-haiku-20240307"
name = "Claude Haiku 3"
provider = "anthropic"
kind = "general"
confidence = "provider"
source = "https://platform.claude.com/docs/en/about-claude/pricing"
as_of = 2026-07-30
prices = { input = 0.25, cache_write = 0.3, cache_write_1h = 0.5, cached_input = 0.03, output = 1.25 }

[[models]]
id = "claude-sonnet-4-5"
name = "Claude Sonnet 4.5"
provider = "anthropic"
kind = "general"
confidence = "provider"
source = "https://platform.claude.com/docs/en/about-claude/pricing"
as_of = 2026-07-30
prices = { input = 3.0, cache_write = 3.75, cache_write_1h = 6.0, cached_input = 0.3, output = 15.0 }
long_context = { threshold_tokens = 200000, prices = { input = 6.0, output = 22.5 } }
"""


@pytest.fixture
def pricing_dir(tmp_path: Path) -> Path:
    d = tmp_path / "pricing"
    d.mkdir()
    (d / "openai.toml").write_text(CATALOG, encoding="utf-8")
    (d / "anthropic.toml").write_text(ANTHROPIC, encoding="utf-8")
    return d


def _by_field(differences: list[Difference]) -> dict[tuple[str, str], Difference]:
    return {(d.model_id, d.field): d for d in differences}


def test_prices_are_converted_to_per_million_without_float_noise() -> None:
    base, tiers = litellm_prices(
        {"input_cost_per_token": 1.25e-06, "output_cost_per_token": 1e-05}, "google"
    )
    assert base == {"input": 1.25, "output": 10.0}
    assert tiers == {}


def test_tier_prices_are_keyed_by_threshold() -> None:
    table = load_litellm(FIXTURE)
    _, tiers = litellm_prices(table["gemini/gemini-2.5-pro"], "google")
    assert tiers[200_000] == {"input": 2.5, "cached_input": 0.25, "output": 15.0}


def test_fine_tuned_rows_map_to_ft_of_their_base() -> None:
    catalog = load_catalog(ROOT / "pricing_data")
    assert candidate_keys(catalog.models["ft:gpt-4.1"]) == ["ft:gpt-4.1-2025-04-14"]
    assert candidate_keys(catalog.models["gemini-2.5-pro"]) == [
        "gemini/gemini-2.5-pro",
        "gemini-2.5-pro",
    ]


def test_openai_cache_creation_price_is_read_as_cached_input() -> None:
    table = load_litellm(FIXTURE)
    base, _ = litellm_prices(table["ft:gpt-4o-2024-11-20"], "openai")
    assert base == {"input": 3.75, "cached_input": 1.875, "output": 15.0}


def test_diff_reports_changed_new_removed_suspect_and_missing(pricing_dir: Path) -> None:
    found = _by_field(diff(load_catalog(pricing_dir), load_litellm(FIXTURE)))
    assert found[("gpt-4o", "prices.input")].change == "changed"
    assert (found[("gpt-4o", "prices.input")].ours, found[("gpt-4o", "prices.input")].theirs) == (
        2.0,
        2.5,
    )
    # The quirk: the fine-tuned row's cached price arrives as new, not as a cache write.
    assert found[("ft:gpt-4o", "prices.cached_input")].change == "new"
    assert found[("ft:gpt-4o", "prices.cached_input")].theirs == 1.875
    assert ("ft:gpt-4o", "prices.cache_write") not in found
    # claude-3-haiku's 1-hour write of 6.0 is 24x input: suspect, never a change.
    suspect = found[("claude-3-haiku-20240307", "prices.cache_write_1h")]
    assert (suspect.change, suspect.theirs) == ("suspect", 6.0)
    assert found[("claude-sonnet-4-5", "long_context.prices.cached_input")].change == "new"
    assert found[("gpt-9", "")].change == "missing"
    assert ("claude-sonnet-4-5", "prices.input") not in found  # agrees: nothing reported


def test_price_we_have_but_litellm_lacks_is_reported_removed(pricing_dir: Path) -> None:
    table = load_litellm(FIXTURE)
    del table["gpt-4o"]["output_cost_per_token"]
    found = _by_field(diff(load_catalog(pricing_dir), table))
    removed = found[("gpt-4o", "prices.output")]
    assert (removed.change, removed.ours, removed.theirs) == ("removed", 10.0, None)


def test_write_updates_token_prices_and_keeps_everything_else(pricing_dir: Path) -> None:
    before = (pricing_dir / "openai.toml").read_text(encoding="utf-8")
    written = write(diff(load_catalog(pricing_dir), load_litellm(FIXTURE)), pricing_dir)
    assert {p.name for p in written} == {"openai.toml", "anthropic.toml"}
    after = (pricing_dir / "openai.toml").read_text(encoding="utf-8")
    assert "# a comment that must survive --write" in after
    data = tomllib.loads(after)
    gpt4o, ft = data["models"][0], data["models"][1]
    assert gpt4o["prices"] == {"input": 2.5, "cached_input": 1.25, "output": 10.0}
    assert gpt4o["as_of"] == tomllib.loads(before)["models"][0]["as_of"]
    assert gpt4o["source"] == "https://developers.openai.com/api/docs/pricing"
    assert ft["prices"]["cached_input"] == 1.875
    assert ft["training"] == {
        "price_per_mtok": 25.0,
        "source": "https://developers.openai.com/api/docs/pricing",
        "as_of": tomllib.loads(before)["models"][1]["as_of"],
    }
    haiku = tomllib.loads((pricing_dir / "anthropic.toml").read_text(encoding="utf-8"))["models"][0]
    assert haiku["prices"]["cache_write_1h"] == 0.5  # the suspect value was not written
    # A second diff after writing finds nothing left to change.
    again = diff(load_catalog(pricing_dir), load_litellm(FIXTURE))
    assert not [d for d in again if d.change in ("new", "changed")]


def test_shipped_catalog_agrees_with_the_fixture_entries_it_maps() -> None:
    catalog = load_catalog(ROOT / "pricing_data")
    table = load_litellm(FIXTURE)
    mapped = {e.id for e in catalog.models.values() if matched_key(e, table) is not None}
    # Token prices of the rows the small fixture maps agree (lifecycle fields are not in it).
    differences = [
        d
        for d in diff(catalog, table)
        if d.model_id in mapped and (d.field.startswith("prices.") or d.field.startswith("long_"))
    ]
    assert differences == []


def test_cli_prints_differences_and_writes_only_with_flag(
    pricing_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = pricing_dir.parent / "snapshot"
    shutil.copytree(pricing_dir, snapshot)
    assert main(["import-litellm", str(FIXTURE), "--dir", str(pricing_dir)]) == 0
    out = capsys.readouterr().out
    assert "changed  gpt-4o  prices.input  2 -> 2.5" in out
    assert "suspect  claude-3-haiku-20240307  prices.cache_write_1h  0.5 -> 6" in out
    assert (pricing_dir / "openai.toml").read_text() == (snapshot / "openai.toml").read_text()
    assert main(["import-litellm", str(FIXTURE), "--dir", str(pricing_dir), "--write"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (pricing_dir / "openai.toml").read_text() != (snapshot / "openai.toml").read_text()


def test_cli_reports_an_unreadable_file(
    pricing_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import-litellm", str(pricing_dir / "nope.json"), "--dir", str(pricing_dir)]) == 2
    assert "error:" in capsys.readouterr().err


# --- the 2026-11-20 table's lifecycle fields ----------------------------------------------

LIFECYCLE_CATALOG = """
provider = "openai"

[[models]]
id = "gpt-old"
name = "GPT Old"
provider = "openai"
kind = "general"
confidence = "secondary"
source = "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json"
as_of = 2026-11-20
prices = { input = 2.0, output = 8.0 }

[[models]]
id = "gpt-mid"
name = "GPT Mid"
provider = "openai"
kind = "general"
confidence = "provider"
source = "https://developers.openai.com/api/docs/pricing"
as_of = 2026-11-01
prices = { input = 1.0, output = 4.0 }
lifecycle = { shutdown = 2027-06-01, successor = "gpt-old", source = "https://developers.openai.com/api/docs/deprecations" }

[[models]]
id = "gpt-new"
name = "GPT New"
provider = "openai"
kind = "general"
confidence = "provider"
source = "https://developers.openai.com/api/docs/pricing"
as_of = 2026-11-01
prices = { input = 3.0, output = 12.0 }

[[models]]
id = "ft:gpt-mid"
name = "GPT Mid fine-tuned"
provider = "openai"
kind = "fine_tuned"
base_model = "gpt-mid-2026-01-01"
confidence = "provider"
source = "https://developers.openai.com/api/docs/pricing"
as_of = 2026-11-01
prices = { input = 2.0, output = 8.0 }
training = { price_per_mtok = 5.0, source = "https://developers.openai.com/api/docs/pricing", as_of = 2026-11-01, method = "supervised" }
"""

DEPRECATIONS = "https://developers.openai.com/api/docs/deprecations"
TABLE: dict[str, dict[str, object]] = {
    "gpt-old": {
        "litellm_provider": "openai",
        "mode": "chat",
        "input_cost_per_token": 2e-06,
        "output_cost_per_token": 8e-06,
        "deprecation_date": "2026-11-30",
        "deprecation_source": DEPRECATIONS,
        "successor_model": "gpt-new",
        "source": "https://developers.openai.com/api/docs/pricing",
    },
    "gpt-mid": {
        "litellm_provider": "openai",
        "mode": "chat",
        "input_cost_per_token": 1e-06,
        "output_cost_per_token": 5e-06,
        "deprecation_date": "2027-03-01",
        "deprecation_source": DEPRECATIONS,
        "successor_model": "gpt-new",
        "source": "https://developers.openai.com/api/docs/pricing",
    },
    "ft:gpt-mid-2026-01-01": {
        "litellm_provider": "openai",
        "mode": "chat",
        "input_cost_per_token": 2e-06,
        "output_cost_per_token": 8e-06,
        "deprecation_date": "2027-03-01",
        "successor_model": "gpt-7-nova",
    },
    "gpt-new": {
        "litellm_provider": "openai",
        "mode": "chat",
        "input_cost_per_token": 3e-06,
        "output_cost_per_token": 1.2e-05,
    },
    "gpt-new-2026-10-01": {  # a dated snapshot of a row we have: not a new model
        "litellm_provider": "openai",
        "mode": "chat",
        "input_cost_per_token": 3e-06,
        "output_cost_per_token": 1.2e-05,
    },
    "gpt-7-nova": {
        "litellm_provider": "openai",
        "mode": "chat",
        "input_cost_per_token": 5e-06,
        "output_cost_per_token": 2.5e-05,
        "source": "https://developers.openai.com/api/docs/pricing",
    },
    "gpt-3.5-turbo": {  # gone before today: not offered as new
        "litellm_provider": "openai",
        "mode": "chat",
        "input_cost_per_token": 5e-07,
        "output_cost_per_token": 1.5e-06,
        "deprecation_date": "2026-10-23",
    },
    "text-embedding-9": {"litellm_provider": "openai", "mode": "embedding"},
    "claude-x": {"litellm_provider": "anthropic", "mode": "chat", "input_cost_per_token": 1e-06},
}
DAY = date(2026, 12, 1)


@pytest.fixture
def lifecycle_dir(tmp_path: Path) -> Path:
    d = tmp_path / "pricing"
    d.mkdir()
    (d / "openai.toml").write_text(LIFECYCLE_CATALOG, encoding="utf-8")
    return d


def _changes(d: Path) -> dict[tuple[str, str], Difference]:
    return _by_field(diff(load_catalog(d, today=DAY), TABLE, DAY))


def test_a_shutdown_date_in_the_past_reports_the_row_retired(lifecycle_dir: Path) -> None:
    found = _changes(lifecycle_dir)
    shutdown = found[("gpt-old", "lifecycle.shutdown")]
    assert (shutdown.change, shutdown.ours, shutdown.theirs) == ("changed", None, "2026-11-30")
    assert shutdown.note == f"LiteLLM cites {DEPRECATIONS}"
    retired = found[("gpt-old", "retired")]
    assert (retired.change, retired.note) == ("retired", "shut down on 2026-11-30")
    assert found[("gpt-old", "lifecycle.successor")].theirs == "gpt-new"


def test_a_moved_shutdown_date_and_another_successor_are_reported(lifecycle_dir: Path) -> None:
    found = _changes(lifecycle_dir)
    moved = found[("gpt-mid", "lifecycle.shutdown")]
    assert (moved.change, moved.ours, moved.theirs) == ("changed", "2027-06-01", "2027-03-01")
    successor = found[("gpt-mid", "lifecycle.successor")]
    assert (successor.change, successor.ours, successor.theirs) == (
        "successor",
        "gpt-old",
        "gpt-new",
    )
    assert ("gpt-mid", "retired") not in found
    # A changed price says which page LiteLLM read it from.
    price = found[("gpt-mid", "prices.output")]
    assert (price.ours, price.theirs) == (4.0, 5.0)
    assert price.note == "LiteLLM cites https://developers.openai.com/api/docs/pricing"


def test_a_successor_we_lack_is_reported_and_not_applied(lifecycle_dir: Path) -> None:
    found = _changes(lifecycle_dir)
    unknown = found[("ft:gpt-mid", "lifecycle.successor")]
    assert (unknown.change, unknown.theirs) == ("successor", "gpt-7-nova")
    assert unknown.note.endswith("(not applied)")


def test_current_models_we_lack_are_reported_new(lifecycle_dir: Path) -> None:
    new = [
        d
        for d in diff(load_catalog(lifecycle_dir, today=DAY), TABLE, DAY)
        if d.change == "new" and not d.field
    ]
    # Not the dated snapshot, the retired gpt-3.5-turbo, the embedding model, nor a provider we
    # do not ship (anthropic has no row here).
    assert [d.model_id for d in new] == ["gpt-7-nova"]
    assert new[0].note.startswith("openai: 5 in / 25 out per 1M; LiteLLM cites https://")
    assert "not written" in new[0].note


def test_write_applies_lifecycle_and_keeps_sources_dates_confidence_training(
    lifecycle_dir: Path,
) -> None:
    changes = diff(load_catalog(lifecycle_dir, today=DAY), TABLE, DAY)
    assert [p.name for p in write(changes, lifecycle_dir, DAY)] == ["openai.toml"]
    text = (lifecycle_dir / "openai.toml").read_text(encoding="utf-8")
    rows = {r["id"]: r for r in tomllib.loads(text)["models"]}
    old = rows["gpt-old"]
    assert old["retired"] is True
    assert old["lifecycle"] == {
        "shutdown": date(2026, 11, 30),
        "source": DEPRECATIONS,
        "successor": "gpt-new",
    }
    assert (old["source"], old["as_of"], old["confidence"]) == (
        "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
        date(2026, 11, 20),
        "secondary",
    )
    mid = rows["gpt-mid"]
    assert mid["lifecycle"]["shutdown"] == date(2027, 3, 1)
    assert mid["lifecycle"]["successor"] == "gpt-new"
    assert mid["lifecycle"]["source"] == DEPRECATIONS  # ours, kept
    assert (mid["prices"]["output"], mid["as_of"], mid["confidence"]) == (
        5.0,
        date(2026, 11, 1),
        "provider",
    )
    ft = rows["ft:gpt-mid"]
    assert ft["training"] == {
        "price_per_mtok": 5.0,
        "source": "https://developers.openai.com/api/docs/pricing",
        "as_of": date(2026, 11, 1),
        "method": "supervised",
    }
    assert "successor" not in ft.get("lifecycle", {})  # gpt-7-nova is not in the catalog
    catalog = load_catalog(lifecycle_dir, today=DAY)
    assert catalog.models["gpt-old"].retired
    left = [d for d in diff(catalog, TABLE, DAY) if d.change in ("changed", "retired")]
    assert left == []


def test_write_refuses_a_refresh_that_would_not_load(lifecycle_dir: Path) -> None:
    # Retiring gpt-mid while its fine-tuned row stays offered contradicts "a fine-tuned model
    # dies with its base": nothing is written.
    table = {**TABLE, "gpt-mid": {**TABLE["gpt-mid"], "deprecation_date": "2026-11-15"}}
    table["ft:gpt-mid-2026-01-01"] = {**TABLE["ft:gpt-mid-2026-01-01"]}
    del table["ft:gpt-mid-2026-01-01"]["deprecation_date"]
    before = (lifecycle_dir / "openai.toml").read_text(encoding="utf-8")
    changes = [
        d
        for d in diff(load_catalog(lifecycle_dir, today=DAY), table, DAY)
        if d.model_id != "ft:gpt-mid"
    ]
    with pytest.raises(
        CatalogError, match=r"would not load, nothing written: .*'ft:gpt-mid', field retired"
    ):
        write(changes, lifecycle_dir, DAY)
    assert (lifecycle_dir / "openai.toml").read_text(encoding="utf-8") == before


def test_cli_counts_every_kind_of_change(
    lifecycle_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "table.json"
    table.write_text(json.dumps(TABLE), encoding="utf-8")
    args = ["import-litellm", str(table), "--dir", str(lifecycle_dir), "--today", "2026-12-01"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "retired  gpt-old  retired  false -> true  (shut down on 2026-11-30)" in out
    assert "successor gpt-mid  lifecycle.successor  gpt-old -> gpt-new" in out
    assert out.strip().splitlines()[-1] == (
        # gpt-7-nova; gpt-old's and gpt-mid's shutdown, gpt-mid's output price, and the shutdown
        # ft:gpt-mid inherits from gpt-mid; gpt-old; the successors of gpt-old, gpt-mid, ft:gpt-mid.
        "1 new, 4 changed, 1 retired, 3 successor, 0 removed, 0 suspect, 0 missing"
    )


def test_the_shipped_catalog_reads_the_2026_11_20_table() -> None:
    # The reference copy is not in the repository; where it is, the shipped catalog must map
    # onto it without an error (counts are reported, not asserted: they change with the data).
    name = "litellm_model_prices_2026-11-20.json"
    found = [p / "shared" / "reference" / name for p in ROOT.parents]
    reference = next((p for p in found if p.exists()), None)
    if reference is None:
        pytest.skip(f"{name} not present beside the repository")
    differences = diff(load_catalog(ROOT / "pricing_data"), load_litellm(reference))
    assert {d.change for d in differences} <= set(CHANGES)
