"""Security headers on every route, read-only CORS for the GET API, size limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.main import app

REQUIRED = {
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
}


def _get_routes(routes: list[Any], prefix: str = "") -> Iterator[str]:
    for route in routes:
        # FastAPI 0.165 keeps included routers as nodes (`original_router`), not flat routes.
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _get_routes(inner.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(route, APIRoute) and "GET" in route.methods:
            yield prefix + route.path


def get_paths() -> list[str]:
    paths = {
        p.replace("{model_id:path}", "gpt-4.1").replace("{model_id}", "gpt-4.1")
        for p in _get_routes(app.routes)
    }
    # Guard: an empty walk would make the header test below pass vacuously.
    assert {"/", "/embed", "/api/v1/compare", "/healthz"} <= paths, paths
    return [*sorted(paths), "/static/docs-init.js", "/no-such-page", "/openapi.json"]


@pytest.mark.parametrize("path", get_paths())
def test_security_headers_on_every_route(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert set(r.headers) >= REQUIRED, (path, r.headers)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    if path.startswith("/embed"):
        assert "frame-ancestors *" in csp  # the default FRAME_ANCESTORS
        assert "x-frame-options" not in r.headers
    else:
        assert "frame-ancestors 'none'" in csp
        assert r.headers["x-frame-options"] == "DENY"


def test_get_api_is_readable_cross_origin(client: TestClient) -> None:
    r = client.get(
        "/api/v1/compare?field=savings_over_horizon", headers={"Origin": "https://sheet.example"}
    )
    assert r.headers["access-control-allow-origin"] == "*"
    pre = client.options(
        "/api/v1/compare",
        headers={"Origin": "https://sheet.example", "Access-Control-Request-Method": "GET"},
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-methods"] == "GET, HEAD"


def test_post_and_pages_are_not_cross_origin(client: TestClient) -> None:
    r = client.post("/api/v1/compare", json={}, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    assert "access-control-allow-origin" not in client.get("/healthz").headers


def test_oversized_body_is_413_with_the_limit(client: TestClient) -> None:
    body = b'{"title": "' + b"x" * 300_000 + b'"}'
    r = client.post("/api/v1/compare", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "limit of 262144 bytes (256 KiB)" in r.json()["errors"][0]["reason"]


def test_streamed_oversized_body_is_413(client: TestClient) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 10_000

    r = client.post(
        "/api/v1/compare", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413


def test_long_query_string_is_414(client: TestClient) -> None:
    r = client.get("/api/v1/compare?title=" + "a" * 9000)
    assert r.status_code == 414
    assert r.json()["title"] == "Query string too long"


def test_body_that_is_not_utf8_is_422(client: TestClient) -> None:
    r = client.post(
        "/api/v1/compare", content=b"\xff\xfe\x00", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body"


def test_frame_ancestors_setting_refuses_header_injection() -> None:
    from pydantic import ValidationError

    from app.settings import Settings

    with pytest.raises(ValidationError):
        Settings(frame_ancestors="https://ok.example; script-src *")
    assert Settings(frame_ancestors="https://wiki.example.com  'self'").frame_ancestors == (
        "https://wiki.example.com 'self'"
    )
