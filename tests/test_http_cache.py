"""ETag and 304 on the GET API: the tag is the request, the catalog, the code and the day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from app import http_cache
from app.http_cache import matches, normalised_query
from app.pricing import get_catalog

URL = "/api/v1/compare?workload.queries_per_month=500000&prompted.model=gpt-4.1&field=savings_over_horizon"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    from app.main import create_app

    with TestClient(create_app()) as c:
        yield c


def test_a_get_api_answer_carries_a_weak_etag(client: TestClient) -> None:
    response = client.get(URL)
    assert response.status_code == 200
    tag = response.headers["etag"]
    assert tag.startswith('W/"') and tag.endswith('"') and len(tag) == 2 + 2 + 32
    assert response.headers["cache-control"] == "no-cache"
    # The same request, the same tag.
    assert client.get(URL).headers["etag"] == tag


def test_if_none_match_answers_304_without_computing(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = client.get(URL).headers["etag"]
    from app.api import compare

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("computed despite a matching If-None-Match")

    monkeypatch.setattr(compare, "run_compare", refuse)
    response = client.get(URL, headers={"If-None-Match": tag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == tag
    # A 304 carries what the 200 would have: CORS for spreadsheets' browser add-ins too.
    assert response.headers["access-control-allow-origin"] == "*"
    assert "content-security-policy" in response.headers


def test_a_stale_tag_gets_the_full_answer(client: TestClient) -> None:
    response = client.get(URL, headers={"If-None-Match": 'W/"0123456789abcdef0123456789abcdef"'})
    assert response.status_code == 200 and response.content
    # A list of tags, one of which matches; and the strong form of the weak tag.
    tag = response.headers["etag"]
    assert client.get(URL, headers={"If-None-Match": f'"x", {tag}'}).status_code == 304
    assert client.get(URL, headers={"If-None-Match": tag.removeprefix("W/")}).status_code == 304


def test_the_order_of_parameters_does_not_change_the_tag(client: TestClient) -> None:
    a = "/api/v1/compare?workload.queries_per_month=500000&prompted.model=gpt-4.1"
    b = "/api/v1/compare?prompted.model=gpt-4.1&workload.queries_per_month=500000"
    c = "/api/v1/compare?prompted.model=gpt%2D4.1&workload.queries_per_month=500000"
    tags = {client.get(u).headers["etag"] for u in (a, b, c)}
    assert len(tags) == 1


def test_a_different_scenario_or_format_changes_the_tag(client: TestClient) -> None:
    base = "/api/v1/compare?workload.queries_per_month=500000"
    tags = {
        client.get(u).headers["etag"]
        for u in (base, base + "0", base + "&format=csv", "/api/v1/compare/curves?points=5")
    }
    assert len(tags) == 4


def test_the_tag_changes_with_the_day_and_the_catalog(client: TestClient) -> None:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/compare",
        "query_string": b"workload.queries_per_month=5",
        "headers": [(b"host", b"testserver")],
    }
    catalog = get_catalog()
    today = http_cache.etag(scope, catalog, date(2026, 3, 1))
    assert http_cache.etag(scope, catalog, date(2026, 3, 1)) == today
    assert http_cache.etag(scope, catalog, date(2026, 3, 2)) != today
    from dataclasses import replace

    fewer = replace(catalog, models=dict(list(catalog.models.items())[1:]))
    assert http_cache.catalog_version(fewer) != http_cache.catalog_version(catalog)
    assert http_cache.etag(scope, fewer, date(2026, 3, 1)) != today


def test_repeated_names_keep_their_order_when_normalised() -> None:
    # The last value of a dotted field wins, so a=1&a=2 and a=2&a=1 are different requests.
    assert normalised_query(b"b=1&a=2&a=1") == [("a", "2"), ("a", "1"), ("b", "1")]
    assert normalised_query(b"a=%3A") == [("a", ":")]


def test_weak_comparison() -> None:
    assert matches('W/"abc"', 'W/"abc"')
    assert matches('"abc"', 'W/"abc"')
    assert matches('"x", W/"abc"', 'W/"abc"')
    assert matches("*", 'W/"abc"')
    assert not matches('W/"abd"', 'W/"abc"')
    assert not matches("", 'W/"abc"')


def test_a_monte_carlo_without_a_seed_gets_no_tag(client: TestClient) -> None:
    unseeded = client.get("/api/v1/uncertainty?samples=200")
    assert unseeded.status_code == 200 and "etag" not in unseeded.headers
    seeded = client.get("/api/v1/uncertainty?samples=200&seed=3")
    assert seeded.status_code == 200
    assert (
        client.get(
            "/api/v1/uncertainty?samples=200&seed=3",
            headers={"If-None-Match": seeded.headers["etag"]},
        ).status_code
        == 304
    )


def test_errors_pages_and_posts_carry_no_tag(client: TestClient) -> None:
    assert "etag" not in client.get("/api/v1/compare?prompted.cache_hit_rate=1.4").headers
    assert "etag" not in client.get("/").headers
    assert "etag" not in client.post("/api/v1/compare", json={}).headers


def test_models_and_gpus_are_tagged(client: TestClient) -> None:
    for url in ("/api/v1/models", "/api/v1/gpus", "/api/v1/models/gpt-4.1"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert (
            client.get(url, headers={"If-None-Match": response.headers["etag"]}).status_code == 304
        )


def test_the_tag_is_the_same_compressed_or_not(client: TestClient) -> None:
    url = "/api/v1/compare?workload.queries_per_month=500000"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    gzipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers.get("content-encoding") == "gzip"
    assert plain.headers["etag"] == gzipped.headers["etag"]
