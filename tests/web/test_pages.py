"""GET /: the page, its htmx fragment, the URL as the scenario, invalid input, escaping."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import parse_qsl

import pytest
from fastapi.testclient import TestClient

from app.api.openapi import dotted_parameters
from app.api.query import parse
from app.domain.formatting import count, usd
from app.domain.scenario import Scenario
from app.main import app
from app.settings import settings
from app.web import form
from app.web.presets import PRESETS


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


class FormReader(HTMLParser):
    """What a browser would submit from form#scenario, plus every element's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.in_form = False
        self.select: str | None = None
        self.select_first: str | None = None
        self.select_chosen: str | None = None
        self.option_value: str | None = None
        self.items: list[tuple[str, str]] = []
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.by_id: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.elements.append((tag, a))
        if a.get("id"):
            self.by_id[str(a["id"])] = a
        if tag == "form" and a.get("id") == "scenario":
            self.in_form = True
        if not self.in_form:
            return
        if tag == "input" and a.get("name"):
            self.items.append((str(a["name"]), a.get("value") or ""))
        elif tag == "select" and a.get("name"):
            self.select, self.select_first, self.select_chosen = str(a["name"]), None, None
        elif tag == "option" and self.select is not None:
            value = a.get("value") or ""
            if self.select_first is None:
                self.select_first = value
            if "selected" in a:
                self.select_chosen = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False
        if tag == "select" and self.select is not None:
            chosen = self.select_chosen if self.select_chosen is not None else self.select_first
            self.items.append((self.select, chosen or ""))
            self.select = None


def read_page(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    return reader


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)<', html, re.S)
    assert match, element_id
    return match.group(1).strip()


# --- page and fragment ------------------------------------------------------------------


def test_plain_request_gets_the_full_page_with_form_and_results(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text and 'id="scenario"' in r.text and 'id="results"' in r.text
    assert r.template.name == "index.html"  # type: ignore[attr-defined]


def test_htmx_request_gets_only_the_results_fragment(client: TestClient) -> None:
    r = client.get("/", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert r.template.name == "_partials/_results.html"  # type: ignore[attr-defined]
    assert r.text.lstrip().startswith('<section id="results"')
    assert "<html" not in r.text and 'id="scenario"' not in r.text


def test_history_restore_gets_the_full_page_even_from_htmx(client: TestClient) -> None:
    r = client.get("/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in r.text


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}])
def test_responses_vary_on_hx_request(client: TestClient, headers: dict[str, str]) -> None:
    vary = client.get("/", headers=headers).headers["vary"]
    assert "HX-Request" in [v.strip() for v in vary.split(",")]  # and Accept-Encoding


def test_page_runs_under_a_csp_without_inline_script_or_style(client: TestClient) -> None:
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    page = read_page(r.text)
    for tag, attrs in page.elements:
        assert "style" not in attrs, tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "script":
            assert attrs.get("src"), "inline <script>"
    config = next(a for t, a in page.elements if t == "meta" and a.get("name") == "htmx-config")
    assert '"allowEval":false' in str(config["content"])
    assert '"includeIndicatorStyles":false' in str(config["content"])


def test_page_loads_nothing_from_another_origin(client: TestClient) -> None:
    page = read_page(client.get("/").text)
    for tag, attrs in page.elements:
        for key in ("src", "href", "action"):
            value = attrs.get(key)
            if value is not None and tag in ("script", "link", "img", "form", "iframe"):
                assert value.startswith(("/", "?", "#")), (tag, value)


def test_vendored_htmx_and_app_files_are_served(client: TestClient) -> None:
    for path in ("/static/vendor/htmx-2.0.11.min.js", "/static/app.js", "/static/app.css"):
        assert client.get(path).status_code == 200, path


def test_form_updates_results_by_htmx_without_flooding_history(client: TestClient) -> None:
    form_tag = next(a for t, a in read_page(client.get("/").text).elements if t == "form")
    assert form_tag["method"] == "get" and form_tag["action"] == "/"
    assert form_tag["hx-get"] == "/"
    # The debounce is INPUT_DELAY_MS (bench/slider.py chose it); a newer request replaces one
    # in flight.
    assert form_tag["hx-trigger"] == f"input changed delay:{settings.input_delay_ms}ms, submit"
    assert form_tag["hx-sync"] == "this:replace"
    assert form_tag["hx-replace-url"] == "true"


# --- the form is the scenario -----------------------------------------------------------


def test_every_scenario_field_has_an_input_named_by_its_dotted_path() -> None:
    names = {p["name"] for p in dotted_parameters(Scenario)}
    assert names == set(form.ALL_INPUTS)


def test_help_text_and_limits_come_from_the_scenario_fields(client: TestClient) -> None:
    html = client.get("/").text
    description = (
        Scenario.model_fields["workload"].annotation.model_fields["monthly_growth"].description
    )  # type: ignore[union-attr]
    assert description and description in html
    assert form.limits("workload.monthly_growth") == (-0.5, 1.0)
    assert form.limits("prompted.prices.input") == (0.0, 1e5)  # inside `Price | None`
    assert form.limits("finetuned.self_hosted.gpu_hourly_price") == (0.0, 1e4)
    assert form.limits("title") == (None, None)


def test_volume_slider_is_log_scaled_and_has_no_name(client: TestClient) -> None:
    page = read_page(client.get("/?workload.queries_per_month=42000").text)
    slider = page.by_id["f-workload-queries_per_month-slider"]
    assert slider["type"] == "range" and "name" not in slider
    assert (slider["min"], slider["max"]) == ("2.0", "9.0")  # 100 .. 1e9
    assert float(str(slider["value"])) == pytest.approx(4.623, abs=1e-3)  # log10(42,000)
    assert page.by_id["f-workload-queries_per_month"]["value"] == "42000"
    assert page.by_id["f-workload-queries_per_month"]["name"] == "workload.queries_per_month"


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.key)
def test_the_pages_own_form_parses_back_into_the_same_scenario(
    client: TestClient, preset: object
) -> None:
    query = preset.query  # type: ignore[attr-defined]
    r = client.get("/?" + query)
    assert r.status_code == 200, r.text[:500]
    submitted = read_page(r.text).items
    original = parse(Scenario, parse_qsl(query, keep_blank_values=True))
    assert parse(Scenario, submitted).model_dump() == original.model_dump()


def test_default_page_submits_the_default_comparison(client: TestClient) -> None:
    submitted = read_page(client.get("/").text).items
    from_form = client.get("/api/v1/compare", params=submitted).json()
    default = client.get("/api/v1/compare").json()
    assert from_form == default


def test_links_point_to_the_json_and_csv_of_the_same_scenario(client: TestClient) -> None:
    query = PRESETS[0].query
    html = client.get("/?" + query).text
    alternate = re.search(r'<link rel="alternate" type="application/json" href="([^"]+)"', html)
    assert alternate
    href = alternate.group(1).replace("&amp;", "&")
    assert client.get(href).json() == client.get("/api/v1/compare?" + query).json()
    assert "format=csv" in html and "Copy link" in html and "Open as JSON" in html


# --- the figures are the API's ----------------------------------------------------------

# Hand-computed: prompted $10/MTok x 1,000 tokens = $0.01 a query; fine-tuned $1/MTok = $0.001,
# $9,000 setup, nothing else. 100,000 queries a month save $900 a month.
HAND = (
    "workload.queries_per_month=100000&workload.horizon_months=12"
    "&prompted.model=&prompted.prices.input=10&prompted.prices.output=0"
    "&prompted.static_prompt_tokens=0&prompted.dynamic_input_tokens=1000&prompted.output_tokens=0"
    "&prompted.setup_cost=0&prompted.monthly_fixed_cost=0"
    "&finetuned.model=&finetuned.prices.input=1&finetuned.prices.output=0"
    "&finetuned.static_prompt_tokens=0&finetuned.dynamic_input_tokens=1000&finetuned.output_tokens=0"
    "&finetuned.training.examples=0&finetuned.evaluation_cost=0&finetuned.setup_cost=9000"
    "&finetuned.monthly_fixed_cost=0"
)


def test_hand_computed_break_even_reads_in_plain_words(client: TestClient) -> None:
    html = client.get("/?" + HAND).text
    # 9,000 / 900 = month 10; 9,000 / (12 x 0.009) = 83,333 a month; 9,000 / 0.009 = 1 million;
    # 12 x 900 - 9,000 = $1,800.
    assert text_of(html, "fig-payback") == "10"
    assert "Fine-tuning pays back in month 10 at your volume." in html
    assert "It breaks even from 83,333 queries a month" in html
    assert "recouped after 1 million queries" in html
    assert text_of(html, "fig-savings") == "$1,800"
    assert "Every price was given by you" in html


@pytest.mark.parametrize("query", [HAND, *(p.query for p in PRESETS)])
def test_page_figures_equal_the_apis(client: TestClient, query: str) -> None:
    api = client.get("/api/v1/compare?" + query).json()
    html = client.get("/?" + query, headers={"HX-Request": "true"}).text
    be = api["break_even"]
    payback = be["payback_month"]
    assert text_of(html, "fig-payback") == (
        str(payback) if payback is not None else f"none within {api['horizon_months']} months"
    )
    volume = be["monthly_volume"]
    assert text_of(html, "fig-volume") == (
        f"{count(volume)} /month" if volume is not None else "none"
    )
    assert text_of(html, "fig-savings") == usd(api["savings_over_horizon"])
    assert text_of(html, "fig-total-prompted") == usd(api["prompted"]["total_cost"])
    assert text_of(html, "fig-total-finetuned") == usd(api["finetuned"]["total_cost"])
    assert api["recommendation"]["headline"].replace("'", "&#39;") in html


def test_chart_data_tables_list_the_apis_curves_and_mark_the_payback_month(
    client: TestClient,
) -> None:
    curves = client.get("/api/v1/compare/curves?" + HAND).json()
    html = client.get("/?" + HAND, headers={"HX-Request": "true"}).text
    tables = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)
    rows = [re.findall(r"<tr([^>]*)>(.*?)</tr>", t, re.S) for t in tables[:2]]
    cells = [[(attrs, re.findall(r"<td>(.*?)</td>", r)) for attrs, r in t] for t in rows]
    volume, cumulative = cells
    assert [c for _, c in volume] == [
        [count(p["volume"]), usd(p["prompted"]), usd(p["finetuned"])] for p in curves["volume"][::6]
    ]
    assert [c[:3] for _, c in cumulative] == [
        [str(p["month"]), usd(p["prompted"]), usd(p["finetuned"])] for p in curves["cumulative"]
    ]
    # The fourth column names the row that priced each arm's month (none: every price given).
    assert {c[3] for _, c in cumulative} == {"your prices / your prices"}
    marked = [i for i, (attrs, _) in enumerate(cumulative) if 'class="payback"' in attrs]
    assert marked == [10]  # the hand-computed payback month


@pytest.mark.parametrize("volume", ["5e-324", "1e-300"])
def test_a_vanishing_volume_renders_without_the_per_query_bars(
    client: TestClient, volume: str
) -> None:
    # Fixed costs spread over 5e-324 queries overflow a float: no scale for the bars, and the
    # per-query table says n/a. Over 1e-300 they are $6.7e+302, not three hundred digits.
    r = client.get(f"/?workload.queries_per_month={volume}", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert ('id="chart-breakdown"' in r.text) is (volume == "1e-300")
    assert len(text_of(r.text, "cpq-prompted")) < 12
    for path in ("/embed", "/api/v1/compare"):
        assert client.get(f"{path}?workload.queries_per_month={volume}").status_code == 200


# --- invalid input ----------------------------------------------------------------------


def test_invalid_fields_are_marked_kept_and_the_rest_still_computes(client: TestClient) -> None:
    r = client.get(
        "/?workload.monthly_growth=1.4&workload.queries_per_month=12abc&workload.horizon_months=24"
    )
    assert r.status_code == 422
    page = read_page(r.text)
    growth = page.by_id["f-workload-monthly_growth"]
    volume = page.by_id["f-workload-queries_per_month"]
    assert growth["value"] == "1.4" and growth["aria-invalid"] == "true"
    assert volume["value"] == "12abc" and volume["aria-invalid"] == "true"
    assert "f-workload-queries_per_month-error" in str(volume["aria-describedby"])
    assert (
        text_of(r.text, "f-workload-monthly_growth-error")
        == "Input should be less than or equal to 1"
    )
    assert "valid number" in text_of(r.text, "f-workload-queries_per_month-error")
    assert "aria-invalid" not in page.by_id["f-workload-horizon_months"]
    # The valid 24-month horizon is used; the bad fields fall back to their defaults.
    assert "Some inputs were ignored" in r.text
    assert "Over 24 months" in r.text
    assert page.by_id["f-workload-horizon_months"]["value"] == "24"


def test_fragment_lists_invalid_fields_for_the_form_to_mark(client: TestClient) -> None:
    r = client.get("/?prompted.cache_hit_rate=1.4", headers={"HX-Request": "true"})
    assert r.status_code == 422
    assert 'data-field="prompted.cache_hit_rate"' in r.text
    assert 'id="verdict"' in r.text


def test_unknown_model_marks_the_picker_keeps_the_value_and_suggests(client: TestClient) -> None:
    r = client.get("/?prompted.model=gpt-4.2")
    assert r.status_code == 422
    page = read_page(r.text)
    assert page.by_id["f-prompted-model"]["aria-invalid"] == "true"
    assert ("prompted.model", "gpt-4.2") in page.items
    assert "did you mean" in text_of(r.text, "f-prompted-model-error")
    assert 'id="verdict"' in r.text  # computed with the default model


def test_a_half_filled_self_hosted_block_is_ignored_whole_and_said_so(client: TestClient) -> None:
    r = client.get("/?finetuned.self_hosted.gpu_hourly_price=2")
    assert r.status_code == 422
    page = read_page(r.text)
    assert page.by_id["f-finetuned-self_hosted-prefill_tokens_per_s"]["aria-invalid"] == "true"
    assert page.by_id["f-finetuned-self_hosted-gpu_hourly_price"]["value"] == "2"
    assert 'id="verdict"' in r.text


def test_an_unpriceable_scenario_shows_the_errors_and_no_results(client: TestClient) -> None:
    r = client.get("/?finetuned.model=&finetuned.prices.output=1")
    assert r.status_code == 422
    assert "Nothing can be computed yet" in r.text
    assert 'id="verdict"' not in r.text
    assert read_page(r.text).by_id["f-finetuned-prices-input"]["aria-invalid"] == "true"


def test_unknown_query_names_are_reported_not_ignored_silently(client: TestClient) -> None:
    r = client.get("/?workload.volume=5&Bad-Name=1")
    assert r.status_code == 422
    assert "workload.volume" in r.text and "unknown field" in r.text
    assert "Bad-Name" in r.text and "not a field name" in r.text


def test_epochs_accepts_auto_or_a_number_and_marks_anything_else(client: TestClient) -> None:
    assert client.get("/?finetuned.training.epochs=3").status_code == 200
    r = client.get("/?finetuned.training.epochs=lots")
    assert r.status_code == 422
    assert read_page(r.text).by_id["f-finetuned-training-epochs"]["aria-invalid"] == "true"
    r = client.get("/?finetuned.training.epochs=500")
    assert read_page(r.text).by_id["f-finetuned-training-epochs"]["aria-invalid"] == "true"


# --- escaping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["title", "prompted.model", "workload.queries_per_month", "finetuned.training.epochs"]
)
def test_anything_echoed_back_is_escaped(client: TestClient, name: str) -> None:
    evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    for headers in ({}, {"HX-Request": "true"}):
        html = client.get("/", params={name: evil}, headers=headers).text
        assert "<script>alert" not in html
        assert "<img src=x" not in html
    page = read_page(client.get("/", params={name: evil}).text)
    assert (name, evil) in page.items  # kept verbatim in the form, as data


def test_title_names_the_page_and_results(client: TestClient) -> None:
    html = client.get("/", params={"title": "Ticket triage & routing"}).text
    assert "<title>Ticket triage &amp; routing · Tune or Prompt</title>" in html


# --- presets and extension points -------------------------------------------------------


def test_presets_are_links_that_fill_the_form(client: TestClient) -> None:
    html = client.get("/").text
    for preset in PRESETS:
        assert f'href="/?{preset.query.replace("&", "&amp;")}"' in html
        r = client.get("/?" + preset.query)
        assert r.status_code == 200, (preset.key, r.text[:300])
        page = read_page(r.text)
        for name, value in preset.values:
            assert (name, value) in page.items, (preset.key, name)


def test_token_counter_sits_outside_the_scenario_form(client: TestClient) -> None:
    html = client.get("/?prompted.model=gpt-4.1-mini").text
    form_end = html.index("</form>")
    counter = html.index('id="token-counter"')
    assert counter > form_end  # forms cannot nest
    assert 'href="#count-prompt"' in html[:form_end]
    # the counter starts on the scenario's prompted model
    assert 'id="token-counter-model" name="model" value="gpt-4.1-mini"' in html


def test_zero_volume_renders_without_per_query_figures(client: TestClient) -> None:
    r = client.get("/?workload.queries_per_month=0")
    assert r.status_code == 200
    assert 'id="chart-volume"' in r.text and 'id="chart-breakdown"' not in r.text
