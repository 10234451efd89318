"""GET /embed: the compact view, its options, errors inside the frame, the htmx fragment, the
framing headers, and the page's "Embed this scenario" snippet and preview."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.domain.formatting import count
from app.main import app
from app.settings import settings
from app.web import embed

# Hand-computed (no catalog price is used; no cache, no fixed costs):
# prompted per query 1100 input tokens x $2/M + 100 output x $8/M = $0.003;
# fine-tuned 200 x $1/M + 100 x $4/M = $0.0006; training 1000 x 1000 tokens x $10/M = $10 once.
# Saving $0.0024 a query: recouped after 10 / 0.0024 = 4,167 queries; steady break-even
# 10 / (12 x 0.0024) = 347 queries a month; at 10,000 a month month 1 saves $24 > $10 (payback
# month 1); over 12 months prompted $360, fine-tuned $82: saves $278, 77% of the prompted cost.
SCENARIO = {
    "workload.queries_per_month": "10000",
    "prompted.prices.input": "2",
    "prompted.prices.output": "8",
    "prompted.static_prompt_tokens": "1000",
    "prompted.dynamic_input_tokens": "100",
    "prompted.output_tokens": "100",
    "prompted.cache_hit_rate": "0",
    "prompted.setup_cost": "0",
    "prompted.monthly_fixed_cost": "0",
    "finetuned.prices.input": "1",
    "finetuned.prices.output": "4",
    "finetuned.static_prompt_tokens": "100",
    "finetuned.dynamic_input_tokens": "100",
    "finetuned.output_tokens": "100",
    "finetuned.cache_hit_rate": "0",
    "finetuned.training.examples": "1000",
    "finetuned.training.tokens_per_example": "1000",
    "finetuned.training.epochs": "1",
    "finetuned.training.price_per_mtok": "10",
    "finetuned.cost_per_example": "0",
    "finetuned.evaluation_cost": "0",
    "finetuned.setup_cost": "0",
    "finetuned.monthly_fixed_cost": "0",
}
QUERY = urlencode(SCENARIO)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


class Doc(HTMLParser):
    """Elements with their attributes, and the text inside each element with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.by_id: dict[str, dict[str, str | None]] = {}
        self.text: dict[str, str] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.elements.append((tag, a))
        ident = a.get("id")
        if ident:
            self.by_id[ident] = a
            self.text.setdefault(ident, "")
        if tag not in ("input", "meta", "link", "br", "img", "line", "rect", "polyline"):
            self._open.append(ident)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for ident in self._open:
            if ident:
                self.text[ident] += data

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.elements if t == name]

    def words(self, ident: str) -> str:
        return " ".join(self.text[ident].split())


def parse(html: str) -> Doc:
    doc = Doc()
    doc.feed(html)
    return doc


def get(client: TestClient, query: str = QUERY, **headers: str) -> tuple[int, Doc, str]:
    r = client.get("/embed?" + query, headers=headers)
    return r.status_code, parse(r.text), r.text


# --- the view ---------------------------------------------------------------------------


def test_embed_shows_the_hand_computed_recommendation_figures_savings_and_chart(
    client: TestClient,
) -> None:
    r = client.get("/embed?" + QUERY)
    assert r.status_code == 200
    assert r.template.name == "embed.html"  # type: ignore[attr-defined]
    doc = parse(r.text)
    assert doc.words("verdict") == "Fine-tune, keep a short prompt"
    assert doc.words("fig-payback") == "1"
    assert doc.words("fig-volume") == "347 /month"
    assert doc.words("fig-recoup") == "4,167"
    assert (
        doc.words("savings") == "Over 12 months fine-tuning saves $278 (77% of the prompted cost)."
    )
    assert "Monthly cost against monthly volume" in doc.words("embed-chart")
    assert "you: 10k/mo" in r.text  # the scenario's volume is marked on the chart
    # Compact: no site header, no calculator form, no other charts.
    assert 'class="site"' not in r.text and 'id="scenario"' not in r.text
    assert "chart-breakdown" not in r.text


def test_embed_figures_equal_the_apis(client: TestClient) -> None:
    query = "workload.queries_per_month=2000000&workload.monthly_growth=0.05"
    api = client.get("/api/v1/compare?" + query).json()
    _, doc, _ = get(client, query)
    assert doc.words("fig-payback") == str(api["break_even"]["payback_month"])
    assert doc.words("fig-volume") == f"{count(api['break_even']['monthly_volume'])} /month"
    assert doc.words("fig-recoup") == count(api["break_even"]["queries_to_recoup"])


def test_link_opens_the_full_calculator_on_the_same_scenario_in_a_new_tab(
    client: TestClient,
) -> None:
    _, doc, _ = get(client, QUERY + "&embed.chart=cumulative&embed.theme=dark")
    link = next(a for t, a in doc.elements if t == "a" and a.get("target"))
    assert "Open this scenario" in doc.text["embed-open"]
    assert link["target"] == "_blank"
    assert link["rel"] == "noopener"
    href = str(link["href"])
    assert href.startswith("/?")
    # The scenario, without the embed's own options.
    assert parse_qsl(urlsplit(href).query) == list(SCENARIO.items())
    page = parse(client.get(href).text)
    assert page.words("fig-payback") == "1" and page.words("fig-recoup") == "4,167"


# --- options ----------------------------------------------------------------------------


def test_show_picks_the_parts(client: TestClient) -> None:
    _, doc, html = get(client, QUERY + "&embed.show=chart")
    assert "verdict" not in doc.by_id and "fig-payback" not in doc.by_id
    assert "embed-chart" in doc.by_id
    _, doc, html = get(client, QUERY + "&embed.show=recommendation,break_even")
    assert "verdict" in doc.by_id and "fig-recoup" in doc.by_id
    assert "<svg" not in html
    _, doc, _ = get(client, QUERY + "&embed.show=break_even")
    assert "verdict" not in doc.by_id and "savings" in doc.by_id


def test_chart_option_switches_to_the_cumulative_chart(client: TestClient) -> None:
    _, doc, html = get(client, QUERY + "&embed.chart=cumulative")
    assert doc.words("embed-chart-title") == "Cumulative cost by month"
    assert "pays back: month 1" in html
    assert "queries per month (log scale)" not in html


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_theme_option_fixes_the_colour_scheme(client: TestClient, theme: str) -> None:
    _, doc, _ = get(client, QUERY + f"&embed.theme={theme}")
    assert doc.tags("html")[0]["data-theme"] == theme
    scheme = next(m for m in doc.tags("meta") if m.get("name") == "color-scheme")
    assert scheme["content"] == theme


def test_auto_theme_follows_the_readers_preference(client: TestClient) -> None:
    for query in (QUERY, QUERY + "&embed.theme=auto", QUERY + "&embed.theme="):
        status, doc, _ = get(client, query)
        assert status == 200
        assert "data-theme" not in doc.tags("html")[0]
        scheme = next(m for m in doc.tags("meta") if m.get("name") == "color-scheme")
        assert scheme["content"] == "light dark"


def test_theme_palettes_repeat_the_pages_exactly() -> None:
    # embed.css repeats app.css's two palettes for embed.theme; they must not drift apart.
    from app.settings import ROOT

    def variables(block: str) -> dict[str, str]:
        return dict(re.findall(r"(--[\w-]+):\s*([^;]+);", block))

    app_css = (ROOT / "static" / "app.css").read_text()
    embed_css = (ROOT / "static" / "embed.css").read_text()
    light_app = variables(app_css[app_css.index(":root {") : app_css.index("@media")])
    dark_app = variables(
        app_css[app_css.index("@media (prefers-color-scheme: dark)") :].split("}")[0]
    )
    light = variables(embed_css[embed_css.index(':root[data-theme="light"]') :].split("}")[0])
    dark = variables(embed_css[embed_css.index(':root[data-theme="dark"]') :].split("}")[0])
    assert light and dark
    assert light.items() <= light_app.items()
    assert dark.items() <= dark_app.items()
    # Every colour the embed uses is themed (the chart's part colours are not used there).
    assert set(light) == set(dark) == {k for k in light_app if not k.startswith("--part-")}


def test_inputs_option_shows_three_sliders_wired_to_htmx(client: TestClient) -> None:
    status, doc, html = get(client, QUERY + "&embed.inputs=true&embed.chart=cumulative")
    assert status == 200
    form = doc.by_id["embed-inputs"]
    assert form["hx-get"] == "/embed" and form["action"] == "/embed"
    assert form["hx-target"] == "#embed-results"
    assert form["hx-swap"] == "outerHTML"
    assert form["hx-sync"] == "this:replace"
    named = [a for t, a in doc.elements if t == "input" and a.get("name")]
    visible = [a["name"] for a in named if a.get("type") != "hidden"]
    assert visible == list(embed.INPUTS)
    assert doc.by_id["f-workload-queries_per_month"]["value"] == "10000"
    assert doc.by_id["f-workload-queries_per_month-slider"]["data-scale"] == "log"
    # Every other field, and the embed's options, travel with each request.
    hidden = {(a["name"], a["value"]) for a in named if a.get("type") == "hidden"}
    assert ("prompted.prices.input", "2") in hidden
    assert ("embed.chart", "cumulative") in hidden and ("embed.inputs", "true") in hidden
    assert not any(name in embed.INPUTS for name, _ in hidden)
    scripts = [s["src"].split("?v=")[0] for s in doc.tags("script")]  # versioned URLs
    assert scripts == ["/static/vendor/htmx-2.0.11.min.js", "/static/app.js"]
    assert '"allowEval":false' in html


def test_without_inputs_the_embed_runs_no_script(client: TestClient) -> None:
    _, doc, _ = get(client)
    assert doc.tags("script") == [] and doc.tags("form") == []


@pytest.mark.parametrize(
    ("option", "field", "reason"),
    [
        ("embed.theme=neon", "embed.theme", "'light', 'dark' or 'auto'"),
        ("embed.chart=pie", "embed.chart", "'volume' or 'cumulative'"),
        (
            "embed.show=chart,pie",
            "embed.show",
            "a comma-separated list of recommendation, break_even, chart",
        ),
        ("embed.show=,,", "embed.show", "a comma-separated list"),
        ("embed.inputs=maybe", "embed.inputs", "valid boolean"),
        (
            "embed.colour=red",
            "embed.colour",
            "not an embed option; the options are embed.show, embed.chart, embed.theme, embed.inputs",
        ),
    ],
)
def test_a_bad_option_is_explained_in_the_frame_and_the_rest_still_shows(
    client: TestClient, option: str, field: str, reason: str
) -> None:
    status, doc, html = get(client, QUERY + "&" + option)
    assert status == 422
    item = next(a for t, a in doc.elements if t == "li" and a.get("data-field") == field)
    assert item is not None
    assert reason in unescape(html)
    assert doc.words("verdict") == "Fine-tune, keep a short prompt"  # computed with defaults


def test_a_long_option_value_is_quoted_back_cut_short(client: TestClient) -> None:
    r = client.get("/embed?" + QUERY + "&embed.theme=" + "x" * 3000)
    assert r.status_code == 422
    assert "x" * embed.MAX_ECHO + "…" in r.text
    assert "x" * (embed.MAX_ECHO + 1) not in r.text


def test_the_last_value_of_a_repeated_option_wins(client: TestClient) -> None:
    _, doc, _ = get(client, QUERY + "&embed.theme=neon&embed.theme=dark")
    assert doc.tags("html")[0]["data-theme"] == "dark"


def test_options_are_not_scenario_fields(client: TestClient) -> None:
    # The API does not know them, so an embed URL minus embed.* is the API's query.
    r = client.get("/api/v1/compare?" + QUERY + "&embed.theme=dark")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "embed"


# --- invalid scenarios and limits, inside the frame -------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        ("workload.horizon_months=121", "workload.horizon_months", "less than or equal to 120"),
        ("workload.horizon_months=0", "workload.horizon_months", "greater than or equal to 1"),
        (
            "workload.queries_per_month=1e13",
            "workload.queries_per_month",
            "less than or equal to 1000000000000",
        ),
        (
            "workload.queries_per_month=-5",
            "workload.queries_per_month",
            "greater than or equal to 0",
        ),
        ("workload.queries_per_month=abc", "workload.queries_per_month", "valid number"),
        ("workload.queries_per_month=nan", "workload.queries_per_month", "finite number"),
        ("workload.monthly_growth=1.4", "workload.monthly_growth", "less than or equal to 1"),
        ("prompted.model=gpt-9000", "prompted.model", "gpt-9000"),
        ("colour=red", "colour", "unknown field"),
        ("a-b=1", "a-b", "not a field name"),
    ],
)
def test_invalid_input_is_explained_inside_the_frame(
    client: TestClient, query: str, field: str, reason: str
) -> None:
    for headers in ({}, {"HX-Request": "true"}):
        r = client.get("/embed?" + query, headers=headers)
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("text/html")
        doc = parse(r.text)
        item = next(
            (a for t, a in doc.elements if t == "li" and a.get("data-field") == field), None
        )
        assert item is not None, r.text
        assert reason in unescape(r.text)
        assert "verdict" in doc.by_id  # the rest is computed with the field's default


def test_an_unpriceable_scenario_says_so_and_still_links_to_the_calculator(
    client: TestClient,
) -> None:
    status, doc, html = get(client, "finetuned.model=&finetuned.prices.output=1")
    assert status == 422
    assert "This scenario cannot be computed." in html
    assert "verdict" not in doc.by_id and "<svg" not in html
    link = next(a for t, a in doc.elements if t == "a" and a.get("target") == "_blank")
    assert link["href"] == "/?finetuned.model=&finetuned.prices.output=1"


@pytest.mark.parametrize(
    "query",
    [
        "workload=1",
        "workload.queries_per_month.x=1",
        "workload.queries_per_month=inf",
        "workload.queries_per_month=1e308",
        "workload.horizon_months=1e9",
        "workload.horizon_months=2.5",
        "finetuned.self_hosted.gpu_hourly_price=2",
        "prompted.prices.input=-1&finetuned.prices.output=1e99",
        "&".join(f"x{i}=1" for i in range(250)),
        "embed.=1&embed..x=2&embed.show=%00",
    ],
)
def test_hostile_scenarios_never_give_a_server_error(client: TestClient, query: str) -> None:
    for headers in ({}, {"HX-Request": "true"}):
        r = client.get("/embed?" + query, headers=headers)
        assert r.status_code in (200, 422), (query, r.status_code)
        assert 'id="embed-results"' in r.text


def test_an_overlong_embed_address_is_414_before_any_work(client: TestClient) -> None:
    r = client.get("/embed?title=" + "a" * 9000)
    assert r.status_code == 414
    assert r.json()["title"] == "Query string too long"


def test_curves_api_bounds_points_and_volumes(client: TestClient) -> None:
    cases = {
        "points=501": ("points", "less than or equal to 500"),
        "points=1": ("points", "greater than or equal to 2"),
        "volume_max=1e13": ("volume_max", "less than or equal to 1000000000000"),
        "volume_min=0": ("volume_min", "greater than 0"),
        "volume_min=1000&volume_max=10": ("volume_min", "must be below volume_max"),
        "workload.horizon_months=121": ("workload.horizon_months", "less than or equal to 120"),
        "workload.queries_per_month=1e13": (
            "workload.queries_per_month",
            "less than or equal to 1000000000000",
        ),
    }
    for query, (field, reason) in cases.items():
        r = client.get("/api/v1/compare/curves?" + query)
        assert r.status_code == 422, query
        error = r.json()["errors"][0]
        assert (error["field"], reason in error["reason"]) == (field, True), (query, error)
    assert len(client.get("/api/v1/compare/curves?points=500").json()["volume"]) == 500


# --- htmx fragment ----------------------------------------------------------------------


def test_htmx_request_gets_only_the_embed_results(client: TestClient) -> None:
    r = client.get("/embed?" + QUERY + "&embed.inputs=true", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert r.template.name == "_partials/_embed_results.html"  # type: ignore[attr-defined]
    assert r.text.lstrip().startswith('<section id="embed-results"')
    assert "<html" not in r.text and 'id="embed-inputs"' not in r.text
    assert parse(r.text).words("fig-recoup") == "4,167"


def test_a_slider_request_recomputes_and_moves_the_calculator_link(client: TestClient) -> None:
    moved = {**SCENARIO, "workload.queries_per_month": "100"}
    r = client.get("/embed?" + urlencode(moved), headers={"HX-Request": "true"})
    doc = parse(r.text)
    # 100 queries a month never recoup $10 in 12 months at $0.0024 a query.
    assert doc.words("fig-payback") == "none within 12 months"
    link = next(a for t, a in doc.elements if t == "a" and a.get("target") == "_blank")
    assert ("workload.queries_per_month", "100") in parse_qsl(urlsplit(str(link["href"])).query)


def test_history_restore_gets_the_whole_embed(client: TestClient) -> None:
    r = client.get("/embed", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in r.text


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}])
@pytest.mark.parametrize("query", ["", "workload.horizon_months=999"])
def test_embed_responses_vary_on_hx_request(
    client: TestClient, headers: dict[str, str], query: str
) -> None:
    vary = client.get("/embed?" + query, headers=headers).headers["vary"]
    assert "HX-Request" in [v.strip() for v in vary.split(",")]  # and Accept-Encoding


# --- framing and CSP --------------------------------------------------------------------


def test_embed_may_be_framed_by_the_configured_origins_only(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = client.get("/embed")
    assert r.headers["content-security-policy"].endswith("frame-ancestors *")
    assert "x-frame-options" not in r.headers
    monkeypatch.setattr(settings, "frame_ancestors", "https://wiki.example.com")
    csp = client.get("/embed").headers["content-security-policy"]
    # 'self' is added so the calculator's own preview still frames it.
    assert csp.endswith("frame-ancestors https://wiki.example.com 'self'")
    page = client.get("/")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_with_framing_off_the_page_offers_no_embed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "frame_ancestors", "'none'")
    assert (
        client.get("/embed").headers["content-security-policy"].endswith("frame-ancestors 'none'")
    )
    html = client.get("/?" + QUERY).text
    assert "embed-share" not in html and "<iframe" not in html


def test_embed_runs_under_the_csp_without_inline_script_or_style(client: TestClient) -> None:
    for query in (QUERY, QUERY + "&embed.inputs=true", "workload.horizon_months=0"):
        r = client.get("/embed?" + query)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        for tag, attrs in parse(r.text).elements:
            assert "style" not in attrs, tag
            assert not any(name.startswith("on") for name in attrs), (tag, attrs)
            if tag == "script":
                assert attrs.get("src"), "inline <script>"
            for key in ("src", "href", "action"):
                value = attrs.get(key)
                if value is not None and tag in ("script", "link", "img", "form", "iframe"):
                    assert value.startswith("/"), (tag, value)


def test_embed_styles_are_served(client: TestClient) -> None:
    r = client.get("/static/embed.css")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")


# --- the page's "Embed this scenario" ---------------------------------------------------


def test_page_offers_the_snippet_and_a_preview_of_the_current_scenario(client: TestClient) -> None:
    for headers in ({}, {"HX-Request": "true"}):  # in the fragment: it follows the inputs
        r = client.get("/?" + QUERY, headers=headers)
        doc = parse(r.text)
        area = doc.by_id["embed-snippet"]
        assert "readonly" in area
        snippet = parse(doc.text["embed-snippet"])
        assert [t for t, _ in snippet.elements] == ["iframe"]
        frame = snippet.elements[0][1]
        url = str(frame["src"])
        assert url.startswith("http://testserver/embed?")
        # The same scenario as the page's own JSON link.
        json_link = next(a for a in doc.tags("a") if a.get("type") == "application/json")
        assert urlsplit(url).query == urlsplit(str(json_link["href"])).query
        assert (frame["width"], frame["height"], frame["loading"]) == ("600", "400", "lazy")
        assert frame["title"] == "Tune or Prompt: fine-tune or keep prompting?"
        preview = next(a for a in doc.tags("iframe") if "embed-preview" in str(a.get("class")))
        # The preview loads only when asked for (one request per slider move otherwise).
        assert "src" not in preview and "hidden" in preview
        assert preview["data-src"] == url.removeprefix("http://testserver")
        assert preview["title"]
    # What the snippet frames answers, and shows the same figures.
    framed = parse(client.get(url).text)
    assert framed.words("fig-recoup") == "4,167"


def test_snippet_title_names_the_scenario(client: TestClient) -> None:
    doc = parse(client.get("/?" + QUERY + "&title=Ticket+triage+%26+routing").text)
    frame = parse(doc.text["embed-snippet"]).elements[0][1]
    assert frame["title"] == "Tune or Prompt: Ticket triage & routing"
    assert ("title", "Ticket triage & routing") in parse_qsl(urlsplit(str(frame["src"])).query)


def test_page_csp_allows_framing_only_its_own_origin(client: TestClient) -> None:
    csp = client.get("/").headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["frame-src"] == "'self'"
    assert directives["child-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


def test_snippet_url_carries_the_root_path_behind_a_proxy() -> None:
    with TestClient(app, root_path="/tools/tune") as c:
        doc = parse(c.get("/tools/tune/?" + QUERY).text)
    frame = parse(doc.text["embed-snippet"]).elements[0][1]
    assert str(frame["src"]).startswith("http://testserver/tools/tune/embed?")
    preview = next(a for a in doc.tags("iframe") if "embed-preview" in str(a.get("class")))
    assert str(preview["data-src"]).startswith("/tools/tune/embed?")
