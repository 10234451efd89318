"""The LiteLLM importer: per-token to per-1M conversion, id mapping, the table's quirks, and a
--write that changes token prices only."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from app.pricing.__main__ import main
from app.pricing.catalog import load_catalog
from app.pricing.litellm import (
    Difference,
    candidate_keys,
    diff,
    litellm_prices,
    load_litellm,
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
    differences = [d for d in diff(catalog, load_litellm(FIXTURE)) if d.change != "missing"]
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
