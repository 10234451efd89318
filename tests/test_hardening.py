"""Issue 12: ordinary-looking requests that used to crash a worker or break the error shape.

Each test is one reproduction from the issue, over the ASGI app (TestClient). The server is
never allowed to raise: `raise_server_exceptions=False` turns an escaped exception into the
500 a real client would see, so "no 5xx" is checked the way the issue states it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from app.main import app, create_app
from app.settings import settings

SECURITY = (
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
    "cross-origin-opener-policy",
)

# A prompted arm whose token costs are all zero (batch discount 1 on every request), with
# setup and upkeep of 5e-324 USD, against a self-hosted fine-tuned arm: the API answers, and
# the charts of the page used to fail with "math domain error".
DENORMAL_CHARTS = {
    "prompted.prices.input": "100000",
    "prompted.prices.output": "0",
    "prompted.prices.batch_discount": "1",
    "prompted.batch_share": "1",
    "prompted.setup_cost": "5e-324",
    "prompted.monthly_fixed_cost": "5e-324",
    "finetuned.model": "",
    "finetuned.training.gpu_hours": "1",
    "finetuned.training.gpu_hourly_price": "0",
    "finetuned.prices.input": "0",
    "finetuned.prices.output": "0",
    "finetuned.setup_cost": "0",
    "finetuned.monthly_fixed_cost": "0",
    "finetuned.evaluation_cost": "0",
    "finetuned.cost_per_example": "0",
    "finetuned.self_hosted.gpu_hourly_price": "2",
    "finetuned.self_hosted.prefill_tokens_per_s": "1000",
    "finetuned.self_hosted.decode_tokens_per_s": "500",
}


@pytest.fixture(scope="module")
def safe_client() -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def assert_error_shape(r: Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"].startswith("application/json")
    for header in SECURITY:
        assert header in r.headers, header
    body = r.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    for err in body["errors"]:
        assert set(err) == {"field", "reason", "type", "input", "suggestions"}
    return body


# --- 3: chart geometry is total ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/embed", "/embed?embed.chart=cumulative"])
def test_denormal_costs_draw_the_page_and_the_embed(safe_client: TestClient, path: str) -> None:
    sep = "&" if "?" in path else "?"
    r = safe_client.get(path + sep + urlencode(DENORMAL_CHARTS))
    assert r.status_code == 200, r.text[-2000:]
    assert "<svg" in r.text


def test_denormal_costs_draw_the_results_fragment(safe_client: TestClient) -> None:
    r = safe_client.get("/?" + urlencode(DENORMAL_CHARTS), headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert r.text.count("<svg") >= 2  # the volume and cumulative charts


# --- 4: field= with a Unicode digit --------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["prompted.monthly.²", "prompted.monthly.١", "prompted.monthly.0"]
)
def test_field_path_with_unicode_digits_is_refused_with_the_field(
    safe_client: TestClient, field: str
) -> None:
    r = safe_client.get("/api/v1/compare", params={"field": field})
    body = assert_error_shape(r, 422)
    assert body["errors"][0]["field"] == "field"


def test_field_path_with_an_ascii_index_still_reads_a_month(safe_client: TestClient) -> None:
    r = safe_client.get("/api/v1/compare", params={"field": "prompted.monthly.1.month"})
    assert r.status_code == 200
    assert r.text == "1"


# --- 5: lone surrogates in a JSON body -----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"title":"\\ud800"}', "title"),
        ('{"prompted":{"model":"gpt\\udfff"}}', "prompted.model"),
        ('{"workload":{"\\ud800":1}}', "workload"),
    ],
)
def test_lone_surrogate_in_json_is_a_422_naming_the_field(
    safe_client: TestClient, body: str, field: str
) -> None:
    r = safe_client.post(
        "/api/v1/compare", content=body, headers={"content-type": "application/json"}
    )
    errors = assert_error_shape(r, 422)["errors"]
    assert any(e["field"].startswith(field) for e in errors), errors


def test_lone_surrogate_in_the_token_count_body_is_a_422(safe_client: TestClient) -> None:
    r = safe_client.post(
        "/api/v1/tokens",
        content='{"model":"gpt-4.1","text":"a\\ud800b"}',
        headers={"content-type": "application/json"},
    )
    errors = assert_error_shape(r, 422)["errors"]
    assert errors[0]["field"] == "text"


# --- 6: more than 20 form fields on the counter's POST -------------------------------------


def test_too_many_form_fields_on_the_token_counter_is_a_422(safe_client: TestClient) -> None:
    body = "&".join(f"f{i}=1" for i in range(25)) + "&model=gpt-4.1&text=hello"
    r = safe_client.post(
        "/tokens/count", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 422
    assert "at most 20" in r.text
    for header in SECURITY:
        assert header in r.headers


# --- 7: CSV quoting and the formula guard --------------------------------------------------


def _csv_cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("title", ["x\r=1+1", "x\n=1+1", "a,b", 'say "hi"', "=HYPERLINK(1)"])
def test_compare_csv_quotes_line_breaks_and_guards_formulas(
    safe_client: TestClient, title: str
) -> None:
    r = safe_client.get("/api/v1/compare", params={"title": title, "format": "csv"})
    assert r.status_code == 200
    # Every physical line is one record: no bare CR or LF outside quotes starts a row.
    rows = _csv_cells(r.text)
    assert all(len(row) == 2 for row in rows), rows[:5]
    (cell,) = [v for k, v in rows if k == "title"]
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert cell.lstrip("'") == title
    # A spreadsheet splits on CR too: no CR or LF may appear outside a quoted cell.
    unquoted = re.sub(r'"(?:[^"]|"")*"', "", r.text)
    assert "\r" not in unquoted
    assert unquoted.count("\n") == len(rows)


def test_every_text_cell_of_a_csv_is_guarded_whatever_its_position() -> None:
    from app.api.formats import cell, csv_text

    assert cell("-5") == "'-5"
    assert cell("\r=1") == "'\r=1"
    assert cell(-5.0) == "-5.0"  # numbers are numbers, not formulas
    text = csv_text(("a", "b"), [("=1+1", "x\r=2")])
    assert _csv_cells(text) == [["a", "b"], ["'=1+1", "x\r=2"]]
    assert '"x\r=2"' in text


# --- 8: a 500 keeps the security headers and the error shape -------------------------------


def _app_with(path: str, endpoint: Any) -> FastAPI:
    fresh = create_app()
    fresh.add_api_route(path, endpoint, methods=["GET"])
    return fresh


def test_an_unexpected_exception_is_a_500_in_the_error_shape_with_security_headers() -> None:
    async def broken() -> None:
        raise RuntimeError("boom")

    with TestClient(_app_with("/boom", broken), raise_server_exceptions=False) as c:
        r = c.get("/boom")
        body = assert_error_shape(r, 500)
        assert "boom" not in r.text  # no internals leak
        assert body["errors"] == []
        assert c.get("/healthz").status_code == 200


# --- time limit: the last line of defence ---------------------------------------------------


def test_a_request_past_the_time_limit_is_a_503_and_the_worker_keeps_serving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "request_time_limit", 0.5)

    async def spin() -> None:
        while True:  # a CPU loop on the event loop: nothing else could run
            pass

    async def sleepy() -> None:
        await asyncio.sleep(60)

    fresh = _app_with("/spin", spin)
    fresh.add_api_route("/sleepy", sleepy, methods=["GET"])
    with TestClient(fresh, raise_server_exceptions=False) as c:
        for path in ("/spin", "/sleepy"):
            started = time.monotonic()
            r = c.get(path)
            assert time.monotonic() - started < 10
            body = assert_error_shape(r, 503)
            assert body["title"] == "Request took too long"
            assert c.get("/healthz").status_code == 200


def test_the_time_limit_is_a_documented_setting() -> None:
    assert settings.request_time_limit > 0
    from app.settings import Settings

    assert Settings.model_fields["request_time_limit"].default <= 10


# --- 12: ROOT_PATH ---------------------------------------------------------------------------

PREFIX = "/tools/tune"


@pytest.fixture(scope="module")
def proxied() -> Iterator[TestClient]:
    # What uvicorn --root-path does behind a prefix-stripping proxy: the path carries the
    # prefix and scope["root_path"] names it.
    with TestClient(app, root_path=PREFIX, raise_server_exceptions=False) as c:
        yield c


def _urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src|action|hx-get|hx-post|data-src)="([^"]+)"', html)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/", {}),
        ("/?workload.queries_per_month=5000", {"HX-Request": "true"}),
        ("/embed?embed.inputs=true", {}),
        ("/?range.workload.queries_per_month=50000,100000,200000", {}),
    ],
)
def test_every_url_a_page_writes_carries_the_root_path(
    proxied: TestClient, path: str, headers: dict[str, str]
) -> None:
    r = proxied.get(PREFIX + path, headers=headers)
    assert r.status_code == 200, r.text[:300]
    urls = [u for u in _urls(r.text) if u.startswith("/")]
    assert urls, "the page writes no URL"
    assert [u for u in urls if not u.startswith(PREFIX + "/")] == []


def test_static_files_load_behind_the_prefix(proxied: TestClient) -> None:
    page = proxied.get(PREFIX + "/").text
    assets = [u for u in _urls(page) if "/static/" in u]
    assert any(u.split("?")[0].endswith("app.css") for u in assets)
    for url in assets:
        assert proxied.get(url).status_code == 200, url


def test_redirects_carry_the_root_path(proxied: TestClient) -> None:
    r = proxied.get(PREFIX + "/analysis?workload.queries_per_month=5", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith(PREFIX + "/?")


def test_the_counter_form_posts_behind_the_prefix(proxied: TestClient) -> None:
    r = proxied.post(
        PREFIX + "/tokens/count",
        content="model=gpt-4.1&text=hello",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200
    assert f'action="{PREFIX}/tokens/count"' in r.text


# --- issue 17: static files get versioned URLs that are cached for a year ------------------


def test_static_urls_are_versioned_and_immutable(safe_client: TestClient) -> None:
    page = safe_client.get("/")
    assert "immutable" not in page.headers.get("cache-control", "")
    assets = [u for u in _urls(page.text) if u.startswith("/static/")]
    assert assets and all("?v=" in u for u in assets), assets
    for url in assets:
        r = safe_client.get(url)
        assert r.status_code == 200
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_a_stale_or_missing_version_is_not_cached_for_a_year(safe_client: TestClient) -> None:
    for url in ("/static/app.css", "/static/app.css?v=0000"):
        r = safe_client.get(url)
        assert r.status_code == 200
        assert "immutable" not in r.headers["cache-control"]


def test_html_keeps_a_short_cache_policy(safe_client: TestClient) -> None:
    for path in ("/", "/embed"):
        assert safe_client.get(path).headers["cache-control"] == "public, max-age=60"


# --- 13: the OpenAPI document says what validation does ------------------------------------


def test_epochs_zero_is_refused_on_epochs_and_the_schema_says_so(safe_client: TestClient) -> None:
    r = safe_client.get("/api/v1/compare", params={"finetuned.training.epochs": "0"})
    errors = assert_error_shape(r, 422)["errors"]
    assert {e["field"] for e in errors} == {"finetuned.training.epochs"}
    assert all(not isinstance(e["input"], dict) and "{" not in str(e["input"]) for e in errors)
    schema = safe_client.get("/openapi.json").json()
    (param,) = [
        p
        for p in schema["paths"]["/api/v1/compare"]["get"]["parameters"]
        if p["name"] == "finetuned.training.epochs"
    ]
    number = next(o for o in param["schema"]["anyOf"] if o.get("type") == "number")
    assert number["exclusiveMinimum"] == 0 and number["maximum"] == 100


@pytest.mark.parametrize(
    "body",
    [
        {"workload": {"start_date": 0}},
        {"workload": {"start_date": "1700000000"}},
        {"workload": {"queries_per_month": True}},
        {"prompted": {"cache_hit_rate": False}},
        {"workload": {"horizon_months": True}},
        {"workload": {"queries_per_month": "1000"}},
    ],
)
def test_json_numbers_and_dates_are_strict(safe_client: TestClient, body: dict[str, Any]) -> None:
    r = safe_client.post("/api/v1/compare", json=body)
    errors = assert_error_shape(r, 422)["errors"]
    section = next(iter(body))
    (name,) = body[section]
    assert [e["field"] for e in errors] == [f"{section}.{name}"]


@pytest.mark.parametrize("value", ["0", "9999-12-31", "1969-12-31", "2026-02-30", "2026-1-1"])
@pytest.mark.parametrize("path", ["/api/v1/compare", "/api/v1/compare?format=csv", "/embed"])
def test_query_dates_must_be_iso_dates_the_calendar_can_count_from(
    safe_client: TestClient, value: str, path: str
) -> None:
    # 9999-12-31 plus the horizon overflowed the lifecycle arithmetic: a 500 on every view.
    r = safe_client.get(path, params={"workload.start_date": value})
    if path == "/embed":
        assert r.status_code == 422 and "workload.start_date" in r.text
        return
    errors = assert_error_shape(r, 422)["errors"]
    assert [e["field"] for e in errors] == ["workload.start_date"]


def test_query_dates_in_range_are_read(safe_client: TestClient) -> None:
    for value in ("2027-01-01", "2099-12-31", "2000-01-01"):
        r = safe_client.get("/api/v1/compare", params={"workload.start_date": value})
        # Later dates may be refused for a model's shutdown, never for the date's form.
        assert r.status_code == 200 or all(
            e["field"] != "workload.start_date" for e in r.json()["errors"]
        ), r.text


def test_json_body_still_takes_iso_dates_and_integers_for_numbers(safe_client: TestClient) -> None:
    r = safe_client.post(
        "/api/v1/compare",
        json={"workload": {"start_date": "2027-01-01", "queries_per_month": 1000}},
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/api/v1/compare?typo=1", {"json": {}}),
        ("POST", "/api/v1/tokens?typo=1", {"json": {"model": "gpt-4.1", "text": "hi"}}),
        ("GET", "/api/v1/models?typo=1", {}),
        ("GET", "/api/v1/gpus?typo=1", {}),
        ("GET", "/api/v1/models/gpt-4.1?typo=1", {}),
        ("GET", "/healthz?typo=1", {}),
    ],
)
def test_unknown_query_parameters_are_refused(
    safe_client: TestClient, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    r = safe_client.request(method, path, **kwargs)
    errors = assert_error_shape(r, 422)["errors"]
    assert [e["field"] for e in errors] == ["typo"]
    assert errors[0]["type"] == "extra_forbidden"


def test_a_post_route_still_takes_its_own_query_parameters(safe_client: TestClient) -> None:
    r = safe_client.post("/api/v1/compare?format=csv", json={})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")


# --- 14: HEAD wherever GET is answered -----------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/", "/embed", "/healthz", "/api/v1/compare", "/api/v1/models", "/docs", "/openapi.json"],
)
def test_head_is_answered_like_get_without_a_body(safe_client: TestClient, path: str) -> None:
    get = safe_client.get(path)
    head = safe_client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    for header in SECURITY:
        assert header in head.headers


def test_head_on_a_post_only_route_is_still_405(safe_client: TestClient) -> None:
    assert safe_client.head("/tokens/count").status_code == 405


# --- 15: error lists are capped -------------------------------------------------------------


def test_ten_thousand_unknown_keys_give_a_short_error(safe_client: TestClient) -> None:
    body = json.dumps({f"k{i}": 1 for i in range(10_000)})
    r = safe_client.post(
        "/api/v1/compare", content=body, headers={"content-type": "application/json"}
    )
    payload = assert_error_shape(r, 422)
    assert len(payload["errors"]) == 50
    assert payload["errors_omitted"] == 10_000 - 50
    assert len(r.content) < 20_000


def test_a_short_error_list_says_nothing_was_left_out(safe_client: TestClient) -> None:
    r = safe_client.get("/api/v1/compare", params={"prompted.cache_hit_rate": "2"})
    assert "errors_omitted" not in assert_error_shape(r, 422)


# --- 16: framing is decided by route --------------------------------------------------------


def test_a_path_that_only_starts_like_embed_is_not_frameable(safe_client: TestClient) -> None:
    for path in ("/embedx", "/embed/x", "/embed.html"):
        r = safe_client.get(path)
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], path
        assert r.headers["x-frame-options"] == "DENY", path


def test_embed_with_framing_off_sends_x_frame_options(
    safe_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "frame_ancestors", "'none'")
    r = safe_client.get("/embed")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"


def test_embed_stays_frameable_behind_the_prefix(proxied: TestClient) -> None:
    r = proxied.get(PREFIX + "/embed")
    assert "frame-ancestors *" in r.headers["content-security-policy"]
    assert "x-frame-options" not in r.headers
