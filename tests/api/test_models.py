"""/api/v1/models, /api/v1/models/{id} and /api/v1/gpus; and a negotiated rate seen end to end."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.deps import catalog_dependency
from app.main import app
from app.pricing import get_catalog
from app.pricing.catalog import Catalog, load_catalog, negotiated_files
from app.settings import ROOT, settings

SHIPPED = ROOT / "pricing_data"
OVERRIDE = """
[[overrides]]
id = "gpt-4.1"
source = "OpenAI order form 2026-031"
as_of = 2026-10-01
prices = { input = 1.0 }
"""


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def negotiated(tmp_path: Path) -> Iterator[Catalog]:
    """The shipped catalog plus a negotiated-rate file that cuts GPT-4.1's input price."""
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "acme-openai.toml").write_text(OVERRIDE, encoding="utf-8")
    catalog = load_catalog(SHIPPED, negotiated_files(extra))
    app.dependency_overrides[catalog_dependency] = lambda: catalog
    yield catalog
    app.dependency_overrides.clear()


def test_list_models_returns_every_row_with_freshness(client: TestClient) -> None:
    body = client.get("/api/v1/models").json()
    assert body["count"] == len(get_catalog().models) == len(body["models"])
    assert body["as_of"] == min(m["as_of"] for m in body["models"])
    assert body["stale_after_days"] == settings.prices_stale_after_days
    assert isinstance(body["stale"], bool)
    row = next(m for m in body["models"] if m["id"] == "gpt-4.1")
    assert row["prices"]["input"] == 2.0
    assert row["source"] == "https://developers.openai.com/api/docs/pricing"
    assert row["price_sources"]["prices.input"]["label"] == "catalog:gpt-4.1"
    assert row["price_sources"]["prices.input"]["file"] == "openai.toml"
    assert row["negotiated"] is False


def test_filters_combine(client: TestClient) -> None:
    body = client.get("/api/v1/models", params={"provider": "openai", "kind": "fine_tuned"}).json()
    ids = {m["id"] for m in body["models"]}
    assert ids == {
        "ft:gpt-4.1",
        "ft:gpt-4.1-mini",
        "ft:gpt-4.1-nano",
        "ft:gpt-4o",
        "ft:gpt-4o-mini",
        "ft:o4-mini",
    }


def test_fine_tunable_filter_includes_bases_with_a_fine_tuned_row(client: TestClient) -> None:
    yes = {m["id"] for m in client.get("/api/v1/models?fine_tunable=true").json()["models"]}
    no = {m["id"] for m in client.get("/api/v1/models?fine_tunable=false").json()["models"]}
    assert {"gpt-4.1", "ft:gpt-4.1", "gpt-4o-mini"} <= yes
    assert {"gpt-5.5", "claude-opus-5-5", "gemini-2.5-pro"} <= no
    assert not yes & no


def test_unknown_provider_is_a_422_with_suggestions(client: TestClient) -> None:
    r = client.get("/api/v1/models?provider=antropic")
    assert r.status_code == 422
    error = r.json()["errors"][0]
    assert error["field"] == "provider"
    assert error["suggestions"][0] == "anthropic"


def test_bad_kind_is_a_422_naming_the_field(client: TestClient) -> None:
    r = client.get("/api/v1/models?kind=tuned")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "kind"


def test_models_csv_has_one_row_per_model(client: TestClient) -> None:
    r = client.get("/api/v1/models", params={"provider": "google", "format": "csv"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["id"] for row in rows] == [
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "gemini-2.5-flash-lite",
    ]
    pro = rows[0]
    assert (pro["input"], pro["long_context_threshold"], pro["long_context_output"]) == (
        "1.25",
        "200000",
        "15.0",
    )
    assert pro["as_of"] == "2026-09-20"
    assert r.headers["X-Prices-As-Of"] == "2026-09-20"


def test_one_model_with_an_id_containing_colon_and_slashes(client: TestClient) -> None:
    r = client.get("/api/v1/models/together_ai/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo")
    assert r.status_code == 200
    assert r.json()["model"]["prices"] == {
        "input": 0.18,
        "output": 0.18,
        "cached_input": None,
        "cache_write": None,
        "cache_write_1h": None,
    }
    ft = client.get("/api/v1/models/ft:gpt-4.1-mini").json()
    assert ft["model"]["related"] == {"base_model": "gpt-4.1-mini", "fine_tuned_variants": []}
    assert ft["as_of"] == "2026-07-30"


def test_base_model_lists_its_fine_tuned_variant(client: TestClient) -> None:
    body = client.get("/api/v1/models/gpt-4o-mini").json()
    assert body["model"]["related"]["fine_tuned_variants"] == ["ft:gpt-4o-mini"]
    assert body["model"]["lifecycle"]["shutdown"] == "2027-01-14"


def test_unknown_model_is_a_404_in_the_error_shape(client: TestClient) -> None:
    r = client.get("/api/v1/models/gpt-4.2")
    assert r.status_code == 404
    body = r.json()
    assert body["status"] == 404 and body["title"] == "Model not found"
    error = body["errors"][0]
    assert (error["field"], error["type"], error["input"]) == ("model_id", "not_found", "gpt-4.2")
    assert "gpt-4.1" in error["suggestions"]


def test_stale_flag_follows_the_setting(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "prices_stale_after_days", 100_000)
    assert client.get("/api/v1/models/gpt-4o").json()["stale"] is False
    monkeypatch.setattr(settings, "prices_stale_after_days", 1)
    body = client.get("/api/v1/models/gpt-4o").json()
    assert body["stale"] is True and body["model"]["stale"] is True


def test_gpus_lists_prices_and_throughput_presets(client: TestClient) -> None:
    body = client.get("/api/v1/gpus").json()
    h100 = next(g for g in body["gpus"] if g["id"] == "h100-sxm-aws-p5")
    assert (h100["hourly_price"], h100["as_of"]) == (6.88, "2026-11-09")
    preset = next(t for t in body["throughput"] if t["id"] == "llama-3.1-70b-fp8-2xh100-vllm")
    assert preset["gpus_per_replica"] == 2
    assert preset["source"].startswith("https://github.com/LambdaLabsML/vllm-benchmark/")
    assert body["as_of"] == "2024-09-07"  # the throughput benchmark is the oldest row


def test_gpus_csv_picks_its_table(client: TestClient) -> None:
    gpus = list(csv.DictReader(io.StringIO(client.get("/api/v1/gpus?format=csv").text)))
    assert {"id", "gpu", "provider", "hourly_price", "source", "as_of", "stale"} <= set(gpus[0])
    presets = list(
        csv.DictReader(io.StringIO(client.get("/api/v1/gpus?format=csv&table=throughput").text))
    )
    assert {p["id"] for p in presets} == {
        "llama-3.1-8b-fp8-1xh100-vllm",
        "llama-3.1-70b-fp8-2xh100-vllm",
    }


def test_negotiated_override_changes_compare_and_says_so(
    client: TestClient, tmp_path: Path
) -> None:
    before = client.post("/api/v1/compare", json={}).json()
    assert before["prompted"]["prices"]["input"] == {"value": 2.0, "source": "catalog:gpt-4.1"}
    (tmp_path / "acme-openai.toml").write_text(OVERRIDE, encoding="utf-8")
    catalog = load_catalog(SHIPPED, negotiated_files(tmp_path))
    app.dependency_overrides[catalog_dependency] = lambda: catalog
    try:
        after = client.post("/api/v1/compare", json={}).json()
    finally:
        app.dependency_overrides.clear()
    assert after["prompted"]["prices"]["input"] == {
        "value": 1.0,
        "source": "negotiated:acme-openai.toml",
    }
    assert after["prompted"]["prices"]["output"]["source"] == "catalog:gpt-4.1"
    # Default scenario: 100,000 queries a month for 12 months, 3,000 static + 500 dynamic input
    # tokens, no cache hits, no batch: the input price falls by $1 per 1M tokens, so
    # 1,200,000 queries x 3,500 tokens x $1 / 1e6 = $4,200 less.
    saved = before["prompted"]["total_cost"] - after["prompted"]["total_cost"]
    assert saved == pytest.approx(4200.0, rel=1e-12)
    assert after["finetuned"]["total_cost"] == before["finetuned"]["total_cost"]
    # The negotiated price is newer than the shipped ones, so the comparison's date is unchanged.
    assert after["prices_as_of"] == before["prices_as_of"]


def test_models_api_shows_which_value_came_from_where(
    client: TestClient, negotiated: Catalog
) -> None:
    body = client.get("/api/v1/models/gpt-4.1").json()["model"]
    assert body["negotiated"] is True
    assert body["prices"]["input"] == 1.0
    source = body["price_sources"]["prices.input"]
    assert source == {
        "origin": "negotiated",
        "label": "negotiated:acme-openai.toml",
        "file": "acme-openai.toml",
        "source": "OpenAI order form 2026-031",
        "as_of": "2026-10-01",
        "note": None,
    }
    assert body["price_sources"]["prices.output"]["origin"] == "catalog"
    listing = client.get("/api/v1/models?provider=openai").json()
    assert listing["negotiated_files"] == ["acme-openai.toml"]
