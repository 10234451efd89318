"""Issue 16's "found on first use", server side: numbers as people type them, "None" kept in
every link, snippet values without ".0", slider words, the top three movers, the embed's
context. The same fixes in a real browser: tests/web/test_layout_browser.py."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.domain.scenario import DEFAULT_FINETUNED_MODEL
from app.domain.sensitivity import sensitivity
from app.main import app
from app.pricing import get_catalog
from app.web import form
from app.web.form import humane_number
from app.web.pages import value_text

SELF_HOSTED = (
    "workload.queries_per_month=20000000&finetuned.model="
    "&finetuned.training.gpu_hours=4&finetuned.self_hosted.gpu_hourly_price=3.99"
    "&finetuned.self_hosted.prefill_tokens_per_s=40000"
    "&finetuned.self_hosted.decode_tokens_per_s=8088"
)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


# --- numbers as people type them --------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "unit", "read"),
    [
        ("2,000,000", "queries/month", "2000000"),
        ("2M", "queries/month", "2000000"),
        ("2m", "queries/month", "2000000"),
        ("2 million", "queries/month", "2000000"),
        ("1.5k", "tokens", "1500"),
        ("1.1k", "tokens", "1100"),  # exact: not 1100.0000000000002
        ("2.5B", "queries/month", "2500000000"),
        ("60%", "fraction", "0.6"),
        ("12.5 %", "fraction", "0.125"),
        ("5%", "fraction per month", "0.05"),
        ("$1,200.50", "USD, once", "1200.5"),
        ("-3k", "USD", "-3000"),  # the model then says it is below its minimum
        ("4000", "tokens", "4000"),  # plain numbers pass through untouched
        ("1e3", "tokens", "1e3"),
        ("abc", "tokens", "abc"),  # not a number: left for the model to name
    ],
)
def test_humane_numbers_are_read(typed: str, unit: str, read: str) -> None:
    assert humane_number(typed, unit) == (read, None)


@pytest.mark.parametrize(
    ("typed", "unit", "reason"),
    [
        ("1,5", "tokens", "is ambiguous: a comma groups thousands"),
        ("2,00", "tokens", "is ambiguous"),
        ("1,000,00", "tokens", "is ambiguous"),
        ("60%", "tokens", "a percentage is only for rates (this field is in tokens)"),
        ("5%", "USD/month", "a percentage is only for rates"),
        ("5k%", "fraction", "mixes a percentage with a k/M/B suffix"),
    ],
)
def test_ambiguous_numbers_are_refused_with_the_reason(typed: str, unit: str, reason: str) -> None:
    value, why = humane_number(typed, unit)
    assert value is None and why is not None and reason in why


def test_the_page_accepts_the_forms_it_is_typed_in_and_shows_what_it_read(
    client: TestClient,
) -> None:
    # What a browser without JavaScript submits: the text as typed.
    typed = client.get(
        "/?workload.queries_per_month=2%2C000%2C000&prompted.cache_hit_rate=60%25"
        "&prompted.static_prompt_tokens=1.5k"
    )
    plain = client.get(
        "/?workload.queries_per_month=2000000&prompted.cache_hit_rate=0.6"
        "&prompted.static_prompt_tokens=1500"
    )
    assert typed.status_code == plain.status_code == 200
    fig = re.compile(r'id="fig-(?:payback|volume|savings)">([^<]+)<')
    assert fig.findall(typed.text) == fig.findall(plain.text)
    # The field keeps what was typed; the note under it says what it was read as.
    assert 'name="workload.queries_per_month" value="2,000,000"' in typed.text
    notes = dict(re.findall(r'data-normalised-for="([^"]+)"[^>]*>Read as ([^<]+)<', typed.text))
    assert notes == {
        "workload.queries_per_month": "2,000,000 queries a month",
        "prompted.cache_hit_rate": "60%",
        "prompted.static_prompt_tokens": "1,500 tokens",
    }
    # The slider sits at the value read, not at parseFloat("2,000,000") = 2.
    slider = re.search(r'id="f-workload-queries_per_month-slider"[^>]*value="([^"]+)"', typed.text)
    assert slider and slider.group(1) == "6.301"
    # Links the page writes carry the number read, not what was typed.
    assert "workload.queries_per_month=2000000" in html.unescape(typed.text)


def test_the_fragment_lists_what_it_read_for_the_script(client: TestClient) -> None:
    r = client.get("/?workload.queries_per_month=2M", headers={"HX-Request": "true"})
    assert (
        '<li data-field="workload.queries_per_month" data-text="Read as 2,000,000 queries a month">'
        in r.text
    )


def test_an_ambiguous_number_is_marked_and_left_at_its_default(client: TestClient) -> None:
    r = client.get("/?workload.queries_per_month=1,5&workload.horizon_months=24")
    assert r.status_code == 422
    assert 'data-field="workload.queries_per_month"' in r.text
    assert "is ambiguous: a comma groups thousands (2,000,000) and a dot marks decimals" in r.text
    assert 'name="workload.queries_per_month" value="1,5"' in r.text  # kept as typed
    assert 'id="verdict"' in r.text  # the rest is computed


def test_the_api_stays_strict() -> None:
    with TestClient(app) as c:
        assert c.get("/api/v1/compare?workload.queries_per_month=2M").status_code == 422


# --- "None" as the fine-tuned model -----------------------------------------------------


def _select_value(page: str, name: str) -> str:
    select = re.search(rf'<select id="[^"]+" name="{re.escape(name)}".*?</select>', page, re.S)
    assert select
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    assert chosen
    return chosen.group(1)


def test_none_is_kept_in_the_snippet_the_embed_link_and_the_frozen_link(client: TestClient) -> None:
    page = client.get("/?" + SELF_HOSTED).text
    assert _select_value(page, "finetuned.model") == ""
    snippet = html.unescape(
        html.unescape(re.search(r'id="embed-snippet"[^>]*>(.*?)</textarea>', page, re.S).group(1))
    )
    src = re.search(r'src="([^"]+)"', snippet)
    assert src
    query = dict(parse_qsl(urlsplit(src.group(1)).query, keep_blank_values=True))
    assert query["finetuned.model"] == ""
    # The embed's own link back to the calculator keeps it, so the calculator shows "None".
    embed = client.get("/embed?" + urlsplit(src.group(1)).query).text
    back = re.search(r'<a href="/\?([^"]+)" target="_blank"', embed)
    assert back
    assert (
        dict(parse_qsl(html.unescape(back.group(1)), keep_blank_values=True))["finetuned.model"]
        == ""
    )
    reopened = client.get("/?" + html.unescape(back.group(1))).text
    assert _select_value(reopened, "finetuned.model") == ""
    frozen = re.search(r'<a href="/\?([^"]+)" class="copy-link" data-copy-href>', page)
    assert frozen
    assert (
        dict(parse_qsl(html.unescape(frozen.group(1)), keep_blank_values=True))["finetuned.model"]
        == ""
    )


def test_a_link_without_the_picker_but_self_hosted_shows_none(client: TestClient) -> None:
    query = SELF_HOSTED.replace("&finetuned.model=", "")
    assert _select_value(client.get("/?" + query).text, "finetuned.model") == ""
    # Without self-hosting or own prices the default model is what the figures use.
    assert _select_value(client.get("/").text, "finetuned.model") == DEFAULT_FINETUNED_MODEL


def test_snippet_values_are_written_without_a_trailing_zero(client: TestClient) -> None:
    page = client.get(
        "/?workload.queries_per_month=2000000.0&prompted.static_prompt_tokens=4000"
    ).text
    snippet = html.unescape(
        re.search(r'id="embed-snippet"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    )
    assert "queries_per_month=2000000&" in html.unescape(snippet)
    assert not re.search(r"=\d+\.0(&|\")", html.unescape(snippet))


# --- sliders ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "words"),
    [
        ("110000", "queries/month", "110,000 queries a month"),
        ("0.05", "fraction per month", "5% a month"),
        ("12", "months", "12 months"),
        ("0.6", "fraction", "60%"),
        ("0.015", "fraction of answers", "1.5% of answers"),
        ("4000", "tokens", "4,000 tokens"),
    ],
)
def test_slider_value_text_is_in_the_fields_unit(value: str, unit: str, words: str) -> None:
    assert value_text(value, unit) == words


def test_every_slider_has_value_text(client: TestClient) -> None:
    page = client.get("/?workload.queries_per_month=110000").text
    sliders = re.findall(r'<input type="range"[^>]*>', page)
    assert sliders
    for s in sliders:
        assert re.search(r'aria-valuetext="[^"]+"', s), s
    volume = next(s for s in sliders if "queries_per_month" in s)
    assert 'aria-valuetext="110,000 queries a month"' in volume


def test_a_skip_link_leads_to_the_results(client: TestClient) -> None:
    page = client.get("/").text
    body = page[page.index("<body>") :]
    first_link = re.search(r"<a [^>]*>", body)
    assert first_link and 'href="#results"' in first_link.group(0)
    assert 'id="results"' in page


# --- what moves it most, next to the result ------------------------------------------------


def test_the_three_inputs_that_move_the_answer_most_are_next_to_the_result(
    client: TestClient,
) -> None:
    page = client.get("/").text
    box = re.search(r'<div class="top-movers" id="top-movers">(.*?)</div>', page, re.S)
    assert box
    items = re.findall(r'<li data-input="([^"]+)">', box.group(1))
    catalog = get_catalog()
    expected = [
        b.input for b in sensitivity(form.read([], lambda s: None)[0].scenario, catalog).bars[:3]
    ]
    assert items == expected
    for name in items:
        if name in form.ALL_INPUTS:
            assert f'href="#f-{name.replace(".", "-")}"' in box.group(1)
            assert f'id="f-{name.replace(".", "-")}"' in page
    # The fragment only links it (the tornado is too slow for every slider move): GET /movers
    # returns it once it is on screen, for the fragment's own scenario.
    fragment = client.get("/?workload.queries_per_month=5000", headers={"HX-Request": "true"}).text
    slot = re.search(r'<div class="top-movers loading" id="top-movers"[^>]*>', fragment)
    assert slot and 'hx-trigger="revealed"' in slot.group(0)
    assert 'hx-sync="#scenario:queue all"' in slot.group(0)
    url = html.unescape(re.search(r'hx-get="([^"]+)"', slot.group(0)).group(1))
    assert url == "/movers?workload.queries_per_month=5000"
    movers = client.get(url, headers={"HX-Request": "true"})
    assert movers.status_code == 200 and "HX-Request" in movers.headers["vary"]
    assert re.findall(r'<li data-input="([^"]+)">', movers.text) == [
        b.input
        for b in sensitivity(
            form.read([("workload.queries_per_month", "5000")], lambda s: None)[0].scenario,
            catalog,
        ).bars[:3]
    ]
    plain = client.get(url, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"].endswith("#top-movers")


# --- the embed's context -------------------------------------------------------------------


def test_the_embed_names_its_models_and_its_warnings(client: TestClient) -> None:
    r = client.get("/embed?workload.queries_per_month=2000000&prompted.model=gpt-4.1")
    models = re.search(r'id="embed-models">(.*?)</p>', r.text, re.S)
    assert models and "gpt-4.1" in models.group(1)
    assert DEFAULT_FINETUNED_MODEL in models.group(1)
    api = client.get(
        "/api/v1/compare?workload.queries_per_month=2000000&prompted.model=gpt-4.1"
    ).json()
    codes = re.findall(r'<li data-code="([^"]+)">', r.text)
    assert codes == [w["code"] for w in api["warnings"]]
    assert "<main>" in r.text and 'aria-label="Fine-tune or keep prompting"' in r.text
    self_hosted = client.get("/embed?" + SELF_HOSTED).text
    assert "Fine-tuned: <strong>self-hosted" in self_hosted
