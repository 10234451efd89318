"""The in-process cache of rendered GET answers: same URL, same bytes; different inputs, new answer."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl

import pytest
from fastapi.testclient import TestClient

from app.api import cache
from app.api.deps import run_compare
from app.api.query import parse
from app.domain.engine import ScenarioError, compare, volume_free_key
from app.domain.scenario import Scenario
from app.pricing import get_catalog
from app.web.presets import PRESETS, Preset


@pytest.fixture
def cached(monkeypatch: pytest.MonkeyPatch) -> cache.ResponseCache:
    monkeypatch.setattr(cache.responses, "maxsize", 4)
    cache.responses.clear()
    return cache.responses


def test_repeated_url_is_answered_from_memory_with_the_same_bytes(
    client: TestClient, cached: cache.ResponseCache
) -> None:
    url = "/api/v1/compare?workload.queries_per_month=123456"
    first = client.get(url)
    assert len(cached) == 1
    second = client.get(url)
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers["content-security-policy"]  # the middleware still runs


def test_fragment_and_page_are_cached_apart(
    client: TestClient, cached: cache.ResponseCache
) -> None:
    page = client.get("/?workload.queries_per_month=5000")
    fragment = client.get("/?workload.queries_per_month=5000", headers={"HX-Request": "true"})
    assert len(cached) == 2
    assert "<html" in page.text and "<html" not in fragment.text
    again = client.get("/?workload.queries_per_month=5000", headers={"HX-Request": "true"})
    assert again.content == fragment.content
    assert again.headers["vary"].startswith("HX-Request")


def test_errors_are_not_kept(client: TestClient, cached: cache.ResponseCache) -> None:
    assert client.get("/api/v1/compare?workload.monthly_growth=5").status_code == 422
    assert len(cached) == 0


def test_least_recently_used_answer_goes_first(
    client: TestClient, cached: cache.ResponseCache
) -> None:
    for volume in range(1000, 1006):
        client.get(f"/api/v1/compare?workload.queries_per_month={volume}")
    assert len(cached) == 4


def test_key_changes_with_the_day(
    client: TestClient, cached: cache.ResponseCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "/api/v1/compare?field=prices_stale"
    client.get(url)

    class Tomorrow(date):
        @classmethod
        def today(cls) -> date:
            return date(2099, 1, 1)

    monkeypatch.setattr(cache, "date", Tomorrow)
    client.get(url)
    assert len(cached) == 2


# --- the cache of resolved arms (a new volume reprices only the volumes) -------------------


@pytest.fixture
def arms_cache(monkeypatch: pytest.MonkeyPatch) -> cache.ResolveCache:
    monkeypatch.setattr(cache.resolved, "maxsize", 8)
    cache.resolved.clear()
    return cache.resolved


def _scenario(query: str, **changes: str) -> Scenario:
    items = dict(parse_qsl(query, keep_blank_values=True)) | changes
    return parse(Scenario, list(items.items()))


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.key)
def test_a_new_volume_reuses_the_arms_and_answers_as_an_uncached_comparison(
    arms_cache: cache.ResolveCache, preset: Preset
) -> None:
    catalog = get_catalog()
    query = preset.query
    first, _ = run_compare(_scenario(query), catalog)
    for volume, growth, rate in (("1", "0", "0"), ("250000", "0.04", "0.1"), ("3e8", "-0.2", "")):
        changes = {"workload.queries_per_month": volume, "workload.monthly_growth": growth}
        if rate:
            changes["workload.discount_rate"] = rate
        scenario = _scenario(query, **changes)
        resolved, comparison = run_compare(scenario, catalog)
        assert resolved.prompted is first.prompted and resolved.finetuned is first.finetuned
        assert resolved.scenario is scenario
        assert comparison == compare(scenario, catalog, today=date.today())
    assert len(arms_cache) == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"prompted.static_prompt_tokens": "1234"},
        {"workload.start_date": "2027-03-01"},
        {"workload.horizon_months": "13"},
        {"workload.lifecycle": "ignore"},
        {"workload.peak_to_average": "3"},
        {"finetuned.retrain_every_months": "5"},
        {"prompted.model": "gpt-5-mini"},
    ],
)
def test_anything_but_the_volume_prices_the_arms_anew(
    arms_cache: cache.ResolveCache, changes: dict[str, str]
) -> None:
    catalog = get_catalog()
    query = PRESETS[0].query
    first, _ = run_compare(_scenario(query), catalog)
    scenario = _scenario(query, **changes)
    resolved, comparison = run_compare(scenario, catalog)
    assert resolved.prompted is not first.prompted
    assert comparison == compare(scenario, catalog, today=date.today())
    assert len(arms_cache) == 2


def test_a_price_given_as_empty_is_not_the_same_scenario() -> None:
    # An arm with no model that gives any price field is priced by its own prices, not by
    # the default model (engine._arm_entry): the key tells the two apart though their
    # values are equal.
    bare = Scenario.model_validate({"prompted": {"model": None}})
    given = Scenario.model_validate({"prompted": {"model": None, "prices": {"input": None}}})
    assert bare.model_dump() == given.model_dump()
    assert volume_free_key(bare) != volume_free_key(given)


def test_a_new_day_prices_the_arms_anew(arms_cache: cache.ResolveCache) -> None:
    catalog = get_catalog()
    scenario = _scenario(PRESETS[0].query)
    a = cache.resolved.resolve(scenario, catalog, date(2026, 12, 1))
    b = cache.resolved.resolve(scenario, catalog, date(2026, 12, 2))
    assert a.prompted is not b.prompted and a.start != b.start


def test_a_scenario_that_cannot_be_priced_is_not_kept(arms_cache: cache.ResolveCache) -> None:
    with pytest.raises(ScenarioError):
        run_compare(parse(Scenario, [("prompted.model", "no-such-model")]), get_catalog())
    assert len(arms_cache) == 0


def test_the_least_recently_used_arms_go_first(arms_cache: cache.ResolveCache) -> None:
    catalog = get_catalog()
    for tokens in range(10):
        run_compare(_scenario(PRESETS[0].query, **{"prompted.output_tokens": str(tokens)}), catalog)
    assert len(arms_cache) == 8
