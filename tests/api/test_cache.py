"""The in-process cache of rendered GET answers: same URL, same bytes; different inputs, new answer."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl

import pytest
from fastapi.testclient import TestClient

from app.api import cache
from app.api.candidates import parse_candidates, run_candidates
from app.api.deps import run_compare
from app.api.query import parse
from app.domain.candidates import candidate_curves, compare_costed, cost
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
def arms_cache(monkeypatch: pytest.MonkeyPatch) -> cache.ArmsCache:
    monkeypatch.setattr(cache.arms, "maxsize", 8)
    cache.arms.clear()
    return cache.arms


def _scenario(query: str, **changes: str) -> Scenario:
    items = dict(parse_qsl(query, keep_blank_values=True)) | changes
    return parse(Scenario, list(items.items()))


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.key)
def test_a_new_volume_reuses_the_arms_and_answers_as_an_uncached_comparison(
    arms_cache: cache.ArmsCache, preset: Preset
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
    arms_cache: cache.ArmsCache, changes: dict[str, str]
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


def test_a_new_day_prices_the_arms_anew(arms_cache: cache.ArmsCache) -> None:
    catalog = get_catalog()
    scenario = _scenario(PRESETS[0].query)
    a = cache.arms.resolve(scenario, catalog, date(2026, 12, 1))
    b = cache.arms.resolve(scenario, catalog, date(2026, 12, 2))
    assert a.prompted is not b.prompted and a.start != b.start


def test_a_scenario_that_cannot_be_priced_is_not_kept(arms_cache: cache.ArmsCache) -> None:
    with pytest.raises(ScenarioError):
        run_compare(parse(Scenario, [("prompted.model", "no-such-model")]), get_catalog())
    assert len(arms_cache) == 0


def test_the_least_recently_used_arms_go_first(arms_cache: cache.ArmsCache) -> None:
    catalog = get_catalog()
    for tokens in range(10):
        run_compare(_scenario(PRESETS[0].query, **{"prompted.output_tokens": str(tokens)}), catalog)
    assert len(arms_cache) == 8


CARDS = [
    ("candidates.0.id", "now"),
    ("candidates.0.kind", "prompted"),
    ("candidates.0.model", "gpt-4.1"),
    ("candidates.0.static_prompt_tokens", "3000"),
    ("candidates.1.id", "own"),
    ("candidates.1.kind", "finetuned"),
    ("candidates.1.self_hosted.gpu_hourly_price", "2.5"),
    ("candidates.1.self_hosted.prefill_tokens_per_s", "20000"),
    ("candidates.1.self_hosted.decode_tokens_per_s", "2500"),
    ("candidates.1.training.gpu_hours", "20"),
    ("candidates.1.training.gpu_hourly_price", "2.5"),
    ("candidates.2.id", "mix"),
    ("candidates.2.kind", "hybrid"),
    ("candidates.2.core", "own"),
    ("candidates.2.fallback", "now"),
    ("candidates.2.core_share", "0.8"),
]


def test_candidates_at_a_new_volume_reuse_their_units_and_compare_as_uncached(
    arms_cache: cache.ArmsCache,
) -> None:
    catalog = get_catalog()
    today = date.today()
    first, _ = run_candidates(parse_candidates(CARDS, ()), catalog)
    for volume, growth in (("1", "0"), ("2500000", "0.05"), ("7e8", "-0.1")):
        items = [
            *CARDS,
            ("workload.queries_per_month", volume),
            ("workload.monthly_growth", growth),
        ]
        scenario = parse_candidates(items, ())
        costed, comparison = run_candidates(scenario, catalog)
        assert all(a is b for a, b in zip(costed.units, first.units, strict=True))
        fresh = cost(scenario, catalog, today)
        assert comparison == compare_costed(fresh, today=today, stale_after_days=120)
        assert candidate_curves(costed, comparison) == candidate_curves(fresh, comparison)
    assert len(arms_cache) == 1


def test_a_changed_card_costs_the_candidates_anew(arms_cache: cache.ArmsCache) -> None:
    catalog = get_catalog()
    first, _ = run_candidates(parse_candidates(CARDS, ()), catalog)
    changed = [(k, "0.5" if k == "candidates.2.core_share" else v) for k, v in CARDS]
    costed, _ = run_candidates(parse_candidates(changed, ()), catalog)
    assert costed.units[0] is not first.units[0]
    assert len(arms_cache) == 2


def test_the_bodies_kept_stay_under_the_byte_limit(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache.responses, "maxsize", 100)
    monkeypatch.setattr(cache.responses, "maxbytes", 60_000)
    cache.responses.clear()
    hx = {"HX-Request": "true"}
    sizes = [
        len(client.get(f"/?workload.queries_per_month={v}", headers=hx).content)
        for v in range(5000, 5006)
    ]
    assert max(sizes) < 60_000 < sum(sizes)
    kept = sum(len(e.body) for e in cache.responses._entries.values())
    assert kept == cache.responses.bytes <= 60_000
    assert 1 <= len(cache.responses) < 6
    page = client.get("/?workload.queries_per_month=5000")  # the whole page: over the limit
    assert len(page.content) > 60_000 and cache.responses.bytes == kept
    cache.responses.clear()
    assert cache.responses.bytes == 0
