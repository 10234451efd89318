"""POST /api/v1/tokens and the counter fragment POST /tokens/count."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.middleware import MAX_TOKENS_BODY_BYTES

LIMIT = MAX_TOKENS_BODY_BYTES


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    from app.main import app

    with TestClient(app) as c:
        yield c


def test_counts_a_text_exactly(client: TestClient) -> None:
    response = client.post(
        "/api/v1/tokens", json={"model": "gpt-4.1-mini", "text": "tiktoken is great!"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "model": "gpt-4.1-mini",
        "tokens": 6,
        "encoding": "o200k_base",
        "exact": True,
        "method": "tiktoken",
        "ratio": None,
        "ratio_source": None,
        "characters": 18,
        "warnings": [],
    }


def test_counts_chat_messages_with_their_framing(client: TestClient) -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "name": "ann", "content": "tiktoken is great!"},
    ]
    response = client.post("/api/v1/tokens", json={"model": "gpt-4o", "messages": messages})
    # system 1 + "You are terse." 4; user 1 + 6 + "ann" 1 + name 1; 3 per message, 3 to prime.
    assert response.status_code == 200
    assert response.json()["tokens"] == 1 + 4 + 1 + 6 + 1 + 1 + 2 * 3 + 3


def test_an_estimate_says_so_and_gives_its_ratio(client: TestClient) -> None:
    body = client.post("/api/v1/tokens", json={"model": "gemini-2.5-pro", "text": "x" * 41}).json()
    assert (body["tokens"], body["exact"], body["method"], body["ratio"]) == (
        11,
        False,
        "estimate",
        4.0,
    )
    assert body["ratio_source"] == "https://ai.google.dev/gemini-api/docs/tokens"


@pytest.mark.parametrize(
    "payload",
    [
        {"model": "gpt-4o"},
        {"model": "gpt-4o", "text": "a", "messages": [{"role": "user", "content": "b"}]},
    ],
)
def test_exactly_one_of_text_or_messages(client: TestClient, payload: dict[str, object]) -> None:
    response = client.post("/api/v1/tokens", json=payload)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["reason"]) == ("body", "give exactly one of text or messages")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"model": "gpt-4o", "messages": [{"role": "robot", "content": "b"}]}, "messages.0.role"),
        (
            {"model": "gpt-4o", "messages": [{"role": "user", "content": "b", "name": "a b"}]},
            "messages.0.name",
        ),
        ({"model": "gpt-4o", "messages": []}, "messages"),
        ({"model": "", "text": "a"}, "model"),
        ({"model": "gpt-4o", "text": 3}, "text"),
        ({"model": "gpt-4o", "text": "a", "encoding": "cl100k_base"}, "encoding"),
    ],
)
def test_bad_input_names_the_field(
    client: TestClient, payload: dict[str, object], field: str
) -> None:
    response = client.post("/api/v1/tokens", json=payload)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_an_unknown_model_gets_suggestions(client: TestClient) -> None:
    response = client.post("/api/v1/tokens", json={"model": "gtp-4.1-mini", "text": "hi"})
    assert response.status_code == 422
    body = response.json()
    assert body["title"] == "Unknown model"
    [error] = body["errors"]
    assert (error["field"], error["type"], error["input"]) == (
        "model",
        "unknown_model",
        "gtp-4.1-mini",
    )
    assert "gpt-4.1-mini" in error["suggestions"]


def _assert_too_large(response: object, declared: int | None) -> None:
    assert response.status_code == 413  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"status", "title", "errors"}
    assert body["status"] == 413
    [error] = body["errors"]
    assert error["field"] == "body" and error["type"] == "too_large"
    assert f"limit of {LIMIT} bytes (2 MiB)" in error["reason"]
    assert error["input"] == declared


def test_a_body_over_the_limit_is_refused_by_its_content_length(client: TestClient) -> None:
    content = json.dumps({"model": "gpt-4o", "text": "a" * LIMIT}).encode()
    response = client.post(
        "/api/v1/tokens", content=content, headers={"content-type": "application/json"}
    )
    _assert_too_large(response, len(content))


def test_a_chunked_body_over_the_limit_is_refused_while_streaming(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"model": "gpt-4o", "text": "'
        for _ in range(64):
            yield b"a" * 65_536
        yield b'"}'

    response = client.post(
        "/api/v1/tokens", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    _assert_too_large(response, None)


def test_the_limit_counts_bytes_not_characters(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import middleware

    monkeypatch.setitem(middleware.LARGE_BODY_PATHS, "/api/v1/tokens", 61)
    headers = {"content-type": "application/json"}

    def body(n: int) -> bytes:  # "é" is 2 bytes in UTF-8
        return json.dumps({"model": "gpt-4o", "text": "é" * n}, ensure_ascii=False).encode()

    assert (len(body(15)), len(body(15).decode())) == (61, 46)
    assert client.post("/api/v1/tokens", content=body(15), headers=headers).json()["tokens"] > 0
    assert (len(body(16)), len(body(16).decode())) == (63, 47)
    assert client.post("/api/v1/tokens", content=body(16), headers=headers).status_code == 413


# --- the counter fragment ------------------------------------------------------------------


def test_the_fragment_shows_the_count_and_offers_to_use_it(client: TestClient) -> None:
    response = client.post(
        "/tokens/count", data={"model": "gpt-4.1", "text": "tiktoken is great!", "target": "static"}
    )
    assert response.status_code == 200
    assert response.template.name == "_partials/_token_counter.html"  # type: ignore[attr-defined]
    view = response.context["counter"]  # type: ignore[attr-defined]
    assert view.result.tokens == 6 and not view.applied
    assert 'data-tokens="6"' in response.text
    assert "Use 6 as static prompt tokens" in response.text
    assert "hx-swap-oob" not in response.text
    assert "hx-trigger" not in response.headers


@pytest.mark.parametrize(
    ("target", "field"),
    [
        ("static", "prompted.static_prompt_tokens"),
        ("dynamic", "prompted.dynamic_input_tokens"),
    ],
)
def test_using_the_count_tells_the_page_which_field_to_fill(
    client: TestClient, target: str, field: str
) -> None:
    data = {"model": "gpt-4.1", "text": "tiktoken is great!", "target": target, "action": "apply"}
    response = client.post("/tokens/count", data=data)
    assert response.status_code == 200
    # static/app.js puts the count into the page's own field on this event.
    assert json.loads(response.headers["hx-trigger"]) == {
        "tokens-applied": {"field": field, "tokens": 6}
    }
    assert "hx-swap-oob" not in response.text


def test_the_fragment_shows_an_unknown_model_with_suggestions(client: TestClient) -> None:
    response = client.post("/tokens/count", data={"model": "gtp-4.1", "text": "hi"})
    assert response.status_code == 422
    assert "did you mean" in response.text and "gpt-4.1" in response.text


def test_the_fragment_rejects_a_bad_target(client: TestClient) -> None:
    response = client.post(
        "/tokens/count", data={"model": "gpt-4.1", "text": "hi", "target": "output"}
    )
    assert response.status_code == 422
    assert "target:" in response.text


def test_the_fragment_escapes_the_text(client: TestClient) -> None:
    response = client.post(
        "/tokens/count", data={"model": "gpt-4.1", "text": "</textarea><script>x</script>"}
    )
    assert "<script>" not in response.text


def test_the_fragment_has_no_inline_script_for_a_strict_csp(client: TestClient) -> None:
    data = {"model": "claude-sonnet-4-5", "text": "hello", "action": "apply"}
    html = client.post("/tokens/count", data=data).text
    assert "<script" not in html and "<style" not in html and "style=" not in html
    assert not re.search(r"\son\w+=", html)  # no onclick= etc.
    assert "hx-on" not in html and "js:" not in html


def test_the_fragment_body_is_limited_too(client: TestClient) -> None:
    content = b"model=gpt-4.1&text=" + b"a" * LIMIT
    response = client.post(
        "/tokens/count",
        content=content,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    _assert_too_large(response, len(content))
