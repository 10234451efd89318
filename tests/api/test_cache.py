"""The in-process cache of rendered GET answers: same URL, same bytes; different inputs, new answer."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from app.api import cache


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
