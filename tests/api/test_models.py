"""/api/v1/models, /api/v1/models/{id} and /api/v1/gpus; and a negotiated rate seen end to end."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.deps import catalog_dependency
from app.domain.scenario import DEFAULT_PROMPTED_MODEL
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
    assert body["count"] == len(get_catalog().offered()) == len(body["models"])
    assert body["as_of"] == min(m["as_of"] for m in body["models"])
    assert body["stale_after_days"] == settings.prices_stale_after_days
    assert isinstance(body["stale"], bool)
    row = next(m for m in body["models"] if m["id"] == "gpt-4.1")
    assert row["prices"]["input"] == 2.0
    assert row["source"] == str(get_catalog().models["gpt-4.1"].source)
    assert row["price_sources"]["prices.input"]["label"] == "catalog:gpt-4.1"
    assert row["price_sources"]["prices.input"]["file"] == "openai.toml"
    assert row["negotiated"] is False


def test_filters_combine(client: TestClient) -> None:
    body = client.get("/api/v1/models", params={"provider": "openai", "kind": "fine_tuned"}).json()
    ids = {m["id"] for m in body["models"]}
    offered = get_catalog().offered()
    assert ids == {m.id for m in offered if m.provider == "openai" and m.kind == "fine_tuned"}
    assert {"ft:gpt-4.1-mini", "ft:gpt-4o-mini"} <= ids
    # ft:o4-mini shut down on 2026-10-23: history, listed only on request.
    assert "ft:o4-mini" not in ids
    everything = client.get(
        "/api/v1/models",
        params={"provider": "openai", "kind": "fine_tuned", "include_retired": "true"},
    ).json()
    assert "ft:o4-mini" in {m["id"] for m in everything["models"]}


def test_fine_tunable_filter_includes_bases_with_a_fine_tuned_row(client: TestClient) -> None:
    yes = {m["id"] for m in client.get("/api/v1/models?fine_tunable=true").json()["models"]}
    no = {m["id"] for m in client.get("/api/v1/models?fine_tunable=false").json()["models"]}
    assert {"gpt-4.1", "ft:gpt-4.1", "gpt-4o-mini", "ft:tinker/qwen3-8b-lora"} <= yes
    assert {"gpt-5.5", "claude-opus-5-5", "gpt-6.2-sol"} <= no
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
    offered = [m for m in get_catalog().offered() if m.provider == "google"]
    assert [row["id"] for row in rows] == [m.id for m in offered]
    assert "gemini-2.5-pro" not in {row["id"] for row in rows}  # retired
    tiered = next(m for m in offered if m.long_context is not None)
    row = next(row for row in rows if row["id"] == tiered.id)
    assert tiered.long_context is not None
    assert (row["input"], row["long_context_threshold"], row["long_context_output"]) == (
        str(tiered.prices.input),
        str(tiered.long_context.threshold_tokens),
        str(tiered.long_context.prices.output),
    )
    assert row["as_of"] == tiered.as_of.isoformat()
    assert row["confidence"] == tiered.confidence
    assert r.headers["X-Prices-As-Of"] == min(m.as_of for m in offered).isoformat()


def test_one_model_with_an_id_containing_colon_and_slashes(client: TestClient) -> None:
    r = client.get("/api/v1/models/together_ai/openai/gpt-oss-120b")
    assert r.status_code == 200
    assert r.json()["model"]["prices"] == {
        "input": 0.15,
        "output": 0.6,
        "cached_input": None,
        "cache_write": None,
        "cache_write_1h": None,
    }
    ft = client.get("/api/v1/models/ft:gpt-4.1-mini").json()
    assert ft["model"]["related"] == {"base_model": "gpt-4.1-mini", "fine_tuned_variants": []}
    assert ft["as_of"] == get_catalog().models["ft:gpt-4.1-mini"].as_of.isoformat()


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
    assert {p["id"] for p in presets} == set(get_catalog().throughput)
    assert "llama-3.1-8b-fp8-1xh100-vllm" in {p["id"] for p in presets}


def test_negotiated_override_changes_compare_and_says_so(
    client: TestClient, tmp_path: Path
) -> None:
    default = DEFAULT_PROMPTED_MODEL
    before = client.post("/api/v1/compare", json={}).json()
    assert before["prompted"]["prices"]["input"] == {"value": 2.0, "source": f"catalog:{default}"}
    assert before["prompted"]["prices"]["cache_write"]["value"] == 2.5
    (tmp_path / "acme-openai.toml").write_text(
        OVERRIDE.replace('id = "gpt-4.1"', f'id = "{default}"').replace("2026-10-01", "2026-12-01"),
        encoding="utf-8",
    )
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
    assert after["prompted"]["prices"]["output"]["source"] == f"catalog:{default}"
    # Default scenario: 100,000 queries a month for 12 months, no cache hits: the 3,000-token
    # static prompt is written to the cache at the cache-write price every time, so only the
    # 500 dynamic input tokens pay the input price, which falls by $1 per 1M tokens:
    # 1,200,000 queries x 500 tokens x $1 / 1e6 = $600 less.
    saved = before["prompted"]["total_cost"] - after["prompted"]["total_cost"]
    assert saved == pytest.approx(600.0, rel=1e-12)
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


# --- lifecycle, confidence and fine-tuning routes, on a catalog of our own ----------------

LIFECYCLE = """
provider = "acme"

[[models]]
id = "acme-old"
name = "Acme Old"
provider = "acme"
kind = "general"
retired = true
lifecycle = { deprecated = 2026-03-01, shutdown = 2026-06-30, successor = "acme-new", source = "https://acme.example/deprecations" }
source = "https://acme.example/pricing"
as_of = 2026-06-01
confidence = "provider"
prices = { input = 1.0, output = 3.0 }

[[models]]
id = "acme-new"
name = "Acme New"
provider = "acme"
kind = "general"
source = "https://litellm.example/table"
as_of = 2026-11-20
confidence = "secondary"
prices = { input = 2.0, output = 6.0 }

[[models.price_changes]]
from = 2099-01-01
prices = { input = 2.5 }
source = "https://acme.example/blog/prices-2099"
as_of = 2026-11-25
confidence = "provider"
note = "Announced increase"

[[models]]
id = "ft:acme-new"
name = "Acme New fine-tuned"
provider = "acme"
kind = "fine_tuned"
base_model = "acme-new"
source = "https://acme.example/pricing"
as_of = 2026-11-20
confidence = "provider"
prices = { input = 3.0, output = 9.0 }
training = { price_per_mtok = 4.0 }
lifecycle = { fine_tuning_closes = 2098-01-06 }

[[models]]
id = "acme-host-lora"
name = "Acme open model, LoRA on a dedicated endpoint"
provider = "acme"
kind = "fine_tuned"
base_model = "acme-new"
source = "https://acme.example/fine-tuning"
as_of = 2026-11-20
confidence = "provider"
hosting_per_hour = 3.99
prices = {}
training = {}
"""


@pytest.fixture
def lifecycle_catalog(tmp_path: Path) -> Iterator[Catalog]:
    (tmp_path / "acme.toml").write_text(LIFECYCLE, encoding="utf-8")
    catalog = load_catalog(tmp_path)
    app.dependency_overrides[catalog_dependency] = lambda: catalog
    yield catalog
    app.dependency_overrides.clear()


def _ids(client: TestClient, **params: str) -> set[str]:
    r = client.get("/api/v1/models", params=params)
    assert r.status_code == 200, r.text
    return {m["id"] for m in r.json()["models"]}


def test_retired_rows_are_listed_only_on_request(
    client: TestClient, lifecycle_catalog: Catalog
) -> None:
    offered = {"acme-new", "ft:acme-new", "acme-host-lora"}
    assert _ids(client) == offered
    assert _ids(client, include_retired="true") == offered | {"acme-old"}
    assert _ids(client, include_retired="false") == offered


def test_a_retired_row_shows_its_lifecycle_and_successor(
    client: TestClient, lifecycle_catalog: Catalog
) -> None:
    body = client.get("/api/v1/models/acme-old").json()["model"]
    assert body["retired"] is True
    assert body["successor"] == "acme-new"
    assert body["lifecycle"] == {
        "deprecated": "2026-03-01",
        "shutdown": "2026-06-30",
        "fine_tuning_closes": None,
        "successor": "acme-new",
        "source": "https://acme.example/deprecations",
        "note": None,
    }


def test_a_row_shows_its_confidence_and_dated_price_changes(
    client: TestClient, lifecycle_catalog: Catalog
) -> None:
    body = client.get("/api/v1/models/acme-new").json()["model"]
    assert body["confidence"] == "secondary"
    assert body["price_changes"] == [
        {
            "from": "2099-01-01",
            "prices": {
                "input": 2.5,
                "output": None,
                "cached_input": None,
                "cache_write": None,
                "cache_write_1h": None,
            },
            "source": "https://acme.example/blog/prices-2099",
            "as_of": "2026-11-25",
            "confidence": "provider",
            "note": "Announced increase",
        }
    ]
    assert body["next_price_change"] == "2099-01-01"
    assert body["quote_required"] == []


def test_a_route_without_public_prices_names_the_quotes_to_ask_for(
    client: TestClient, lifecycle_catalog: Catalog
) -> None:
    body = client.get("/api/v1/models/acme-host-lora").json()["model"]
    assert body["quote_required"] == ["prices.input", "prices.output", "training.price_per_mtok"]
    assert body["hosting_per_hour"] == 3.99
    rows = list(
        csv.DictReader(io.StringIO(client.get("/api/v1/models", params={"format": "csv"}).text))
    )
    lora = next(r for r in rows if r["id"] == "acme-host-lora")
    assert lora["quote_required"] == "prices.input prices.output training.price_per_mtok"
    assert (lora["input"], lora["confidence"], lora["retired"]) == ("", "provider", "false")


def test_open_for_fine_tuning_until_keeps_routes_taking_jobs_through_the_date(
    client: TestClient, lifecycle_catalog: Catalog
) -> None:
    assert _ids(client, open_for_fine_tuning_until="2098-01-05") == {
        "ft:acme-new",
        "acme-host-lora",
    }
    # ft:acme-new takes no new jobs from 2098-01-06 on.
    assert _ids(client, open_for_fine_tuning_until="2098-01-06") == {"acme-host-lora"}
    assert _ids(client, open_for_fine_tuning_until="2098-01-06", include_retired="true") == {
        "acme-host-lora"
    }


def test_open_for_fine_tuning_until_must_be_a_date(
    client: TestClient, lifecycle_catalog: Catalog
) -> None:
    r = client.get("/api/v1/models", params={"open_for_fine_tuning_until": "next year"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "open_for_fine_tuning_until"


@pytest.mark.parametrize(
    ("url", "field", "suggestion"),
    [
        ("/api/v1/models?provder=acme", "provder", "provider"),
        ("/api/v1/models?include_retried=true", "include_retried", "include_retired"),
        ("/api/v1/models/acme-new?fromat=csv", "fromat", "format"),
        ("/api/v1/gpus?tabel=throughput", "tabel", "table"),
    ],
)
def test_unknown_query_parameters_are_a_422(
    client: TestClient, lifecycle_catalog: Catalog, url: str, field: str, suggestion: str
) -> None:
    r = client.get(url)
    assert r.status_code == 422
    error = r.json()["errors"][0]
    assert (error["field"], error["type"]) == (field, "extra_forbidden")
    assert error["suggestions"][0] == suggestion


def test_unknown_model_suggests_only_offered_rows(
    client: TestClient, lifecycle_catalog: Catalog
) -> None:
    error = client.get("/api/v1/models/acme-ol").json()["errors"][0]
    assert "acme-old" not in error["suggestions"]


def test_the_shipped_catalog_prices_six_routes_from_three_providers_open_for_a_year(
    client: TestClient,
) -> None:
    # Computed from today's date, so it keeps holding (or fails) as routes close and the
    # catalog changes: a lead can price at least six fine-tuning routes, at three providers
    # or more, that take new jobs for the next year, without entering a quote.
    through = (date.today() + timedelta(days=366)).isoformat()
    r = client.get(
        "/api/v1/models",
        params={"kind": "fine_tuned", "open_for_fine_tuning_until": through},
    )
    assert r.status_code == 200
    priced = [m for m in r.json()["models"] if not m["quote_required"]]
    assert len(priced) >= 6, [m["id"] for m in priced]
    assert len({m["provider"] for m in priced}) >= 3, [m["id"] for m in priced]
    for m in priced:
        assert m["source"] and m["as_of"] and m["confidence"] in ("provider", "secondary")
        training = m["training"]
        assert training["price_per_mtok"] is not None or training["price_per_hour"] is not None
