"""Presets are data (app/web/presets.toml): served at /api/v1/presets, linked by the page, and,
with the default scenario, priced on routes that stay open through their whole horizon."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.deps import run_compare
from app.domain.calendar import add_months
from app.domain.scenario import DEFAULT_FINETUNED_MODEL, DEFAULT_PROMPTED_MODEL, Scenario
from app.pricing import get_catalog
from app.pricing.catalog import Catalog
from app.pricing.schema import ModelEntry
from app.settings import settings
from app.web.presets import PRESETS, PresetError, check_presets, load_presets

# Warnings that mean a route is not open (or not fresh) inside the horizon.
LIFECYCLE_CODES = {
    "model_shutdown",
    "fine_tuning_closed",
    "retraining_after_closure",
    "no_successor",
    "stale_prices",
}


def _scenarios() -> list[tuple[str, Scenario]]:
    return [("default", Scenario()), *((p.key, p.scenario) for p in PRESETS)]


def _rows(scenario: Scenario, catalog: Catalog) -> list[tuple[str, ModelEntry]]:
    """(arm, catalog row) of every row the scenario is priced on, base rows of fine-tunes too."""
    out = []
    for arm, default in (
        ("prompted", DEFAULT_PROMPTED_MODEL),
        ("finetuned", DEFAULT_FINETUNED_MODEL),
    ):
        a = getattr(scenario, arm)
        if a.model is None and (a.prices.model_fields_set or getattr(a, "self_hosted", None)):
            continue
        entry = catalog.get(a.model or default)
        assert entry is not None, (arm, a.model or default)
        out.append((arm, entry))
        base = catalog.base_of(entry)
        if base is not None:
            out.append((arm, base))
    return out


def _closures(scenario: Scenario, catalog: Catalog, today: date) -> list[str]:
    """Everything inside [today, today + horizon) that would close or change a route."""
    end = add_months(today, scenario.workload.horizon_months)
    limit = settings.prices_stale_after_days
    problems: list[str] = []
    for arm, row in _rows(scenario, catalog):
        if row.retired:
            problems.append(f"{arm}: {row.id} is retired")
        life = row.lifecycle
        if life is not None:
            for what in ("deprecated", "shutdown", "fine_tuning_closes"):
                when = getattr(life, what)
                if when is not None and when < end:
                    problems.append(f"{arm}: {row.id} {what} {when} before {end}")
        for change in row.price_changes:
            if today < change.from_ < end:
                problems.append(f"{arm}: {row.id} price change from {change.from_}")
        dated = [("prices", row.as_of)]
        if row.training is not None and row.training.as_of is not None:
            dated.append(("training price", row.training.as_of))
        for what, as_of in dated:
            if (today - as_of).days > limit:
                problems.append(f"{arm}: {row.id} {what} of {as_of} is past {limit} days")
    return problems


@pytest.mark.parametrize(
    ("key", "scenario"), _scenarios(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_default_and_presets_run_on_routes_open_through_their_horizon(
    key: str, scenario: Scenario
) -> None:
    catalog = get_catalog()
    today = date.today()
    assert _closures(scenario, catalog, today) == [], key
    for preset in PRESETS:
        if preset.key != key:
            continue
        # The GPU prices a self-hosted preset copied from the catalog are fresh too.
        for ref in (preset.catalog.gpu, preset.catalog.training_gpu):
            if ref is not None:
                age = (today - catalog.gpus[ref].as_of).days
                assert age <= settings.prices_stale_after_days, (key, ref)
    _, comparison = run_compare(scenario, catalog)
    assert [w.code for w in comparison.warnings if w.code in LIFECYCLE_CODES] == [], key
    assert comparison.prices_stale is False


def test_the_horizon_check_sees_a_closure(tmp_path: Path) -> None:
    # The same check, on a day from which the OpenAI route closes inside the horizon.
    catalog = get_catalog()
    old = Scenario.model_validate({"finetuned": {"model": "ft:gpt-4.1-mini"}})
    problems = _closures(old, catalog, date(2026, 12, 1))
    assert "finetuned: ft:gpt-4.1-mini shutdown 2027-01-14 before 2027-12-01" in problems
    assert "finetuned: ft:gpt-4.1-mini fine_tuning_closes 2027-01-06 before 2027-12-01" in problems


def test_presets_are_served_with_their_scenarios(client: TestClient) -> None:
    body = client.get("/api/v1/presets").json()
    assert body["count"] == len(PRESETS) == len(body["presets"]) >= 4
    keys = [p["key"] for p in body["presets"]]
    assert keys == [p.key for p in PRESETS]
    assert {
        "leave-openai-fine-tuning",
        "support-assistant",
        "self-hosted-extraction",
        "few-examples",
    } <= set(keys)
    for served in body["presets"]:
        assert set(served) == {"key", "label", "summary", "scenario", "query"}
        posted = client.post("/api/v1/compare", json=served["scenario"])
        assert posted.status_code == 200, (served["key"], posted.text[:300])
        got = client.get("/api/v1/compare?" + served["query"])
        assert got.status_code == 200
        assert posted.json() == got.json(), served["key"]


def test_a_preset_scenario_holds_only_what_the_preset_sets(client: TestClient) -> None:
    served = {p["key"]: p for p in client.get("/api/v1/presets").json()["presets"]}
    extraction = served["self-hosted-extraction"]["scenario"]
    assert "model" not in extraction["finetuned"]
    assert extraction["finetuned"]["self_hosted"] == {
        "gpu_hourly_price": 3.99,
        "gpus_per_replica": 1,
        "prefill_tokens_per_s": 9285.5,
        "decode_tokens_per_s": 9285.5,
    }
    # The page's picker needs the empty model to show "None" (self-hosted, self-trained).
    assert served["self-hosted-extraction"]["query"].endswith("&finetuned.model=")
    assert served["few-examples"]["scenario"]["finetuned"]["training"] == {
        "examples": 200,
        "tokens_per_example": 800.0,
    }


def test_presets_take_no_query_parameters(client: TestClient) -> None:
    r = client.get("/api/v1/presets?key=few-examples")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "key"


def test_the_page_links_the_same_presets(client: TestClient) -> None:
    html = client.get("/").text
    for preset in PRESETS:
        assert f'href="/?{preset.query.replace("&", "&amp;")}"' in html
        assert preset.label in html


def test_the_extraction_presets_training_hours_follow_the_catalog() -> None:
    # 20,000 examples x 1,500 tokens x 2 epochs = 60M tokens; x 0.01119 GPU-hours per 1M.
    preset = next(p for p in PRESETS if p.key == "self-hosted-extraction")
    assert preset.scenario.finetuned.training.gpu_hours == pytest.approx(60 * 0.01119)


# --- the file and its checks against the catalog -------------------------------------------

GOOD = """
[[presets]]
key = "one"
label = "One"
summary = "A preset."
[presets.scenario.prompted]
model = "big"
[presets.scenario.finetuned]
model = "ft:small"
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "presets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_bad_preset_names_the_preset_and_field(tmp_path: Path) -> None:
    text = GOOD.replace('model = "big"', 'model = "big"\ncache_hit_rate = 1.5')
    with pytest.raises(
        PresetError, match=r"preset 'one', field scenario\.prompted\.cache_hit_rate"
    ):
        load_presets(_file(tmp_path, text))
    with pytest.raises(PresetError, match=r"preset 'one', field scenario\.prompted\.modle"):
        load_presets(_file(tmp_path, GOOD.replace('model = "big"', 'modle = "big"')))


def test_duplicate_preset_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PresetError, match="keys must be unique"):
        load_presets(_file(tmp_path, GOOD + GOOD))


def test_presets_must_name_offered_catalog_models(tmp_path: Path, test_catalog: Catalog) -> None:
    check_presets(test_catalog, load_presets(_file(tmp_path, GOOD)))
    unknown = load_presets(_file(tmp_path, GOOD.replace('"big"', '"huge"')))
    with pytest.raises(
        PresetError, match=r"preset 'one', field prompted\.model: 'huge' is not in the catalog"
    ):
        check_presets(test_catalog, unknown)
    retired = test_catalog.models["big"].model_copy(update={"retired": True})
    catalog = Catalog(models={**test_catalog.models, "big": retired})
    with pytest.raises(PresetError, match=r"field prompted\.model: 'big' is retired"):
        check_presets(catalog, load_presets(_file(tmp_path, GOOD)))


def test_self_hosted_figures_must_match_the_rows_they_cite(test_catalog: Catalog) -> None:
    catalog = get_catalog()
    preset = next(p for p in PRESETS if p.key == "self-hosted-extraction")
    check_presets(catalog, (preset,))
    gpu = catalog.gpus["h100-sxm-runpod-secure"]
    moved = Catalog(
        models=catalog.models,
        gpus={**catalog.gpus, gpu.id: gpu.model_copy(update={"hourly_price": 4.49})},
        throughput=catalog.throughput,
        training_throughput=catalog.training_throughput,
    )
    with pytest.raises(
        PresetError,
        match=r"field finetuned\.self_hosted\.gpu_hourly_price: must be 4\.49, the price of "
        r"'h100-sxm-runpod-secure'",
    ):
        check_presets(moved, (preset,))


def test_preset_links_write_whole_numbers_as_typed() -> None:
    preset = next(p for p in PRESETS if p.key == "self-hosted-extraction")
    values = dict(preset.values)
    assert values["workload.queries_per_month"] == "30000000"
    assert values["finetuned.self_hosted.prefill_tokens_per_s"] == "9285.5"
    assert values["finetuned.training.gpu_hours"] == "0.6714"
