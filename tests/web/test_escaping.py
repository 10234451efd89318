"""Hostile query strings on every route that echoes them: the page, its fragment, the embed
(with and without its sliders), the page's embed snippet, JSON, CSV and plain text.

A payload is safe when it comes back as data: the parsed document has no element or attribute
the payload could have created (no extra script, no on* handler, no javascript: URL), and the
payload's text is still there, decoded, where it was echoed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from app.main import app

PAYLOADS = [
    '"><script>alert(1)</script>',
    "' onmouseover='alert(1)' x='",
    "javascript:alert(1)",
    "</textarea><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</title><svg onload=alert(1)>",
]
# Every query value the HTML routes echo back: a name, model ids (unknown ids are quoted in
# the error and kept in the picker), raw invalid numbers, dates and choices, and options.
FIELDS = [
    "title",
    "prompted.model",
    "finetuned.model",
    "workload.queries_per_month",
    "workload.monthly_growth",
    "workload.horizon_months",
    "workload.start_date",
    "finetuned.training.epochs",
    "factors.requirements_volatility",
    "embed.theme",
    "embed.chart",
    "embed.show",
    "embed.inputs",
]
ROUTES = [
    ("/", {}),
    ("/", {"HX-Request": "true"}),
    ("/embed", {}),
    ("/embed", {"HX-Request": "true"}),
    ("/embed?embed.inputs=true", {}),
]
SCRIPTS = {"/static/vendor/htmx-2.0.11.min.js", "/static/app.js"}
URL_ATTRIBUTES = ("href", "src", "action", "hx-get", "hx-post", "formaction", "xlink:href")
SAFE_URL_STARTS = ("/", "#", "?", "http://testserver/")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.textareas: dict[str, str] = {}  # id -> text
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.elements.append((tag, a))
        if tag == "textarea":
            self._textarea = str(a.get("id"))
            self.textareas[self._textarea] = ""

    def handle_endtag(self, tag: str) -> None:
        self._textarea = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._textarea is not None:
            self.textareas[self._textarea] += data

    def everything(self) -> str:
        values = [str(v) for _, a in self.elements for v in a.values() if v is not None]
        return "\n".join(self.text + values)


def elements(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser


def assert_inert(html: str) -> Elements:
    doc = elements(html)
    for tag, attrs in doc.elements:
        assert tag not in ("img", "object", "embed", "style", "base"), (tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "script":
            assert attrs.get("src", "").split("?v=")[0] in SCRIPTS, attrs  # versioned URLs
        if tag == "svg":
            assert "chart" in str(attrs.get("class")), attrs
        for name in URL_ATTRIBUTES:
            value = attrs.get(name)
            if value is not None:
                assert value.strip().startswith(SAFE_URL_STARTS), (tag, name, value)
    # The only frame is the page's preview of its own embed.
    frames = [a for t, a in doc.elements if t == "iframe"]
    assert all(a.get("class") == "embed-preview" for a in frames), frames
    assert len(frames) <= 1
    return doc


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("field", FIELDS)
def test_every_echoed_field_comes_back_as_data(
    client: TestClient, field: str, payload: str
) -> None:
    for path, headers in ROUTES:
        if field.startswith("embed.") and path == "/":
            continue  # the page does not take embed options (they are unknown names there)
        joiner = "&" if "?" in path else "?"
        r = client.get(path + joiner, params={field: payload}, headers=headers)
        assert r.status_code in (200, 422), (path, field, r.status_code)
        doc = assert_inert(r.text)
        assert payload in doc.everything(), (path, headers, field)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_hostile_query_name_comes_back_as_data(client: TestClient, payload: str) -> None:
    for name in (payload, "embed." + payload):
        for path, headers in ROUTES:
            r = client.get(path, params={name: "1"}, headers=headers)
            assert r.status_code == 422, (path, name)
            assert_inert(r.text)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_embed_snippet_stays_one_inert_iframe(client: TestClient, payload: str) -> None:
    """The snippet is HTML the user pastes elsewhere: the title must not escape it either."""
    for headers in ({}, {"HX-Request": "true"}):
        doc = assert_inert(client.get("/", params={"title": payload}, headers=headers).text)
        snippet = elements(doc.textareas["embed-snippet"])
        assert [t for t, _ in snippet.elements] == ["iframe"]
        frame = snippet.elements[0][1]
        assert frame["title"] == "Tune or Prompt: " + payload
        assert str(frame["src"]).startswith("http://testserver/embed?")
        assert not any(name.startswith("on") for name in frame)


def test_the_snippet_uses_the_host_the_app_was_reached_at_and_stays_inert(
    client: TestClient,
) -> None:
    # Behind a proxy the Host header names the app; whatever it holds stays text.
    for host in ("calc.example:8080", 'evil.example"><script>alert(1)</script>'):
        doc = assert_inert(client.get("/", headers={"host": host}).text)
        snippet = elements(doc.textareas["embed-snippet"])
        assert [t for t, _ in snippet.elements] == ["iframe"]
        src = str(snippet.elements[0][1]["src"])
        assert src.startswith(("http://calc.example:8080/embed", "http://testserver/embed")), src


@pytest.mark.parametrize("payload", PAYLOADS)
def test_json_answers_echo_as_json_strings(client: TestClient, payload: str) -> None:
    ok = client.get("/api/v1/compare", params={"title": payload})
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "application/json"
    assert ok.headers["x-content-type-options"] == "nosniff"
    assert ok.json()["title"] == payload
    bad = client.get("/api/v1/compare", params={"workload.queries_per_month": payload})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/json"
    assert bad.json()["errors"][0]["input"] == payload


@pytest.mark.parametrize(
    "title",
    [
        '=HYPERLINK("http://evil.example","click")',
        "+1+1",
        "-1+cmd|' /C calc'!A0",
        "@SUM(A1)",
        "\t=1",
    ],
)
def test_csv_and_text_never_start_a_cell_with_a_formula(client: TestClient, title: str) -> None:
    r = client.get("/api/v1/compare", params={"title": title, "format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    rows = dict(csv.reader(io.StringIO(r.text)))
    assert rows["title"] == "'" + title
    text = client.get("/api/v1/compare", params={"title": title, "field": "title"})
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text == "'" + title


def test_a_harmless_title_is_not_altered_in_csv(client: TestClient) -> None:
    r = client.get("/api/v1/compare", params={"title": "Ticket triage, v2", "format": "csv"})
    assert dict(csv.reader(io.StringIO(r.text)))["title"] == "Ticket triage, v2"
