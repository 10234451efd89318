"""The "What moves the answer" panel: its fragment, its figures, ranges in the URL, errors."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.domain.formatting import usd
from app.domain.scenario import Scenario
from app.domain.sensitivity import TornadoBar, sensitivity
from app.domain.uncertainty import Range, simulate
from app.main import app
from app.pricing import get_catalog
from app.web import analysis
from tests.web.conftest import ARTIFACTS, Watch
from tests.web.test_pages import read_page, text_of

HX = {"HX-Request": "true"}
# Near break-even: the base saves a little, so several inputs flip the answer.
BASE = "workload.queries_per_month=200000"
VOLUME_RANGE = "range.workload.queries_per_month=50000,200000,800000"
EXAMPLES_RANGE = "range.finetuned.training.examples=500,1000,4000"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def _panel(client: TestClient, query: str) -> str:
    r = client.get("/analysis?" + query, headers=HX)
    assert r.status_code in (200, 422), r.text[:300]
    return r.text


def _ranges_of(query: str) -> dict[str, Range]:
    out = {}
    for key, value in parse_qsl(query):
        if key.startswith("range."):
            low, mode, high = (float(v) for v in value.split(",")[:3])
            out[key[6:]] = Range(low=low, mode=mode, high=high)
    return out


# --- the fragment and where it is loaded ------------------------------------------------


def test_htmx_gets_the_panel_alone(client: TestClient) -> None:
    r = client.get(f"/analysis?{BASE}", headers=HX)
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<section id="analysis"')
    assert "<html" not in r.text and 'id="scenario"' not in r.text
    assert 'id="chart-tornado"' in r.text
    # Compression adds Accept-Encoding to the list (app/compression.py).
    assert "HX-Request" in [v.strip() for v in r.headers["vary"].split(",")]


def test_a_plain_visit_to_the_fragment_goes_to_the_full_page(client: TestClient) -> None:
    r = client.get(f"/analysis?{BASE}&{VOLUME_RANGE}", follow_redirects=False)
    assert r.status_code == 303
    target = urlsplit(r.headers["location"])
    assert target.path == "/" and target.fragment == "analysis"
    assert parse_qsl(target.query) == parse_qsl(f"{BASE}&{VOLUME_RANGE}")


def test_results_fragment_only_links_the_panel_loaded_lazily_and_synced(
    client: TestClient,
) -> None:
    query = f"{BASE}&{VOLUME_RANGE}"
    r = client.get("/?" + query, headers=HX)
    assert r.status_code == 200
    # The slider path does not compute the panel: no tornado, no probability in the fragment.
    assert "chart-tornado" not in r.text and 'id="probability"' not in r.text
    loader = re.search(r'<section id="analysis"[^>]*>', r.text)
    assert loader, "no panel placeholder"
    tag = html.unescape(loader.group(0))
    assert 'hx-trigger="revealed"' in tag and 'hx-swap="outerHTML"' in tag
    # A newer form request aborts a panel request in flight: both sync on the form.
    assert 'hx-sync="#scenario:queue all"' in tag
    url = re.search(r'hx-get="([^"]+)"', tag)
    assert url
    assert urlsplit(url.group(1)).path == "/analysis"
    assert parse_qsl(urlsplit(url.group(1)).query) == parse_qsl(query)


def test_full_page_renders_the_panel_in_place_for_no_javascript(client: TestClient) -> None:
    r = client.get(f"/?{BASE}&{VOLUME_RANGE}")
    assert r.status_code == 200
    assert 'id="chart-tornado"' in r.text and 'id="probability"' in r.text
    assert 'hx-trigger="revealed"' not in r.text


# --- the panel shows the domain's results -----------------------------------------------


def test_tornado_table_equals_the_domains_sensitivity(client: TestClient) -> None:
    page = _panel(client, BASE)
    scenario = Scenario.model_validate({"workload": {"queries_per_month": 200_000}})
    expected = sensitivity(scenario, get_catalog())
    rows = re.findall(
        r'<tr data-input="([^"]+)"><th scope="row">[^<]*</th><td>[^<]*</td><td>([^<]*)</td>'
        r"<td>[^<]*</td><td>([^<]*)</td><td>(yes|no)</td>",
        page,
    )
    assert rows == [
        (b.input, usd(b.savings_low), usd(b.savings_high), "yes" if b.flips else "no")
        for b in expected.bars[: analysis.TORNADO_BARS]
    ]
    assert len(rows) == 10
    assert f"as given: {usd(expected.base_savings)}" in html.unescape(page)


def test_probability_and_percentiles_equal_the_domains_simulation(client: TestClient) -> None:
    query = f"{BASE}&{VOLUME_RANGE}&{EXAMPLES_RANGE}"
    page = _panel(client, query)
    scenario = Scenario.model_validate({"workload": {"queries_per_month": 200_000}})
    u = simulate(
        scenario, get_catalog(), _ranges_of(query), samples=10_000, seed=analysis.PAGE_SEED
    )
    share = f"{u.probability_payback_within_horizon * 100:.0f}%"
    assert (
        text_of(page, "probability")
        == f"Fine-tuning pays back within 12 months in {share} of cases."
    )
    assert text_of(page, "unc-savings-p10") == usd(u.savings.p10)
    assert text_of(page, "unc-savings-p50") == usd(u.savings.p50)
    assert text_of(page, "unc-savings-p90") == usd(u.savings.p90)
    assert "10,000 samples with seed 1" in text_of(page, "unc-seed")
    # Its "Open as JSON" link reproduces the same run on the API.
    link = html.unescape(re.search(r'href="(/api/v1/uncertainty\?[^"]+)"', page).group(1))  # type: ignore[union-attr]
    api = client.get(link).json()
    assert api["probability_payback_within_horizon"] == u.probability_payback_within_horizon
    assert api["savings"]["p50"] == u.savings.p50


def test_the_page_is_reproducible(client: TestClient) -> None:
    query = f"{BASE}&{VOLUME_RANGE}"
    assert _panel(client, query) == _panel(client, query)


def test_without_ranges_the_panel_says_how_to_add_them(client: TestClient) -> None:
    page = _panel(client, BASE)
    assert 'id="probability"' not in page
    assert "Ranges (uncertainty)" in text_of(page, "ranges-how-to")


def test_flipping_bars_add_a_heading_sentence_and_reason_lines(client: TestClient) -> None:
    page = html.unescape(_panel(client, BASE))
    scenario = Scenario.model_validate({"workload": {"queries_per_month": 200_000}})
    s = sensitivity(scenario, get_catalog())
    flipping = [b for b in s.bars[:10] if b.flips]
    assert flipping, "the fixture scenario should sit near break-even"
    assert "The answer can flip" in text_of(page, "analysis-headline")
    first = analysis.flip_sentence(flipping[0], s.base_savings, 12)
    assert first is not None and first in page
    assert page.count('class="tornado-row flips"') == len(flipping)


def test_an_uncertain_monte_carlo_says_the_answer_flips_inside_the_ranges(
    client: TestClient,
) -> None:
    page = html.unescape(_panel(client, f"{BASE}&{VOLUME_RANGE}"))
    match = re.search(
        r"fine-tuning saves money over 12 months in (\d+)% of cases \(Monte Carlo\)", page
    )
    assert match and 10 <= int(match.group(1)) <= 90


def test_flip_sentence_names_the_end_of_the_bar_that_flips() -> None:
    bar = TornadoBar(
        input="workload.queries_per_month",
        label="Queries per month",
        unit="queries/month",
        base_value=50_000,
        low_value=25_000,
        high_value=100_000,
        savings_low=-500,
        savings_high=9000,
        savings_swing=9500,
        break_even_low=None,
        break_even_high=None,
        payback_low=None,
        payback_high=3,
        flips=True,
    )
    assert analysis.flip_sentence(bar, 1000, 12) == (
        "The answer flips if queries per month falls to 25,000: "
        "fine-tuning then no longer saves money over 12 months (tornado)."
    )
    assert analysis.flip_sentence(bar, -100, 12) == (
        "The answer flips if queries per month rises to 100,000: "
        "fine-tuning then saves money over 12 months (tornado)."
    )
    steady = bar.model_copy(update={"savings_low": 10, "flips": False})
    assert analysis.flip_sentence(steady, 1000, 12) is None


@pytest.mark.parametrize(
    ("p", "words"),
    [(0.0, "0%"), (0.004, "under 1%"), (0.78, "78%"), (0.996, "over 99%"), (1.0, "100%")],
)
def test_shares_never_round_a_rare_case_away(p: float, words: str) -> None:
    assert analysis.share(p) == words


# --- ranges in the URL and in the form --------------------------------------------------


def test_ranges_in_the_url_fill_the_forms_low_and_high_boxes(client: TestClient) -> None:
    page = read_page(client.get(f"/?{BASE}&{VOLUME_RANGE}").text)
    assert [v for k, v in page.items if k == "range.workload.queries_per_month"] == [
        "50000",
        "800000",
    ]
    assert [v for k, v in page.items if k == "range.finetuned.training.examples"] == ["", ""]


def test_the_forms_pair_submitted_without_javascript_gives_the_same_panel(
    client: TestClient,
) -> None:
    query = f"{BASE}&{VOLUME_RANGE}&{EXAMPLES_RANGE}"
    submitted = read_page(client.get("/?" + query).text).items
    from_form = _panel(client, urlencode(submitted))
    assert text_of(from_form, "probability") == text_of(_panel(client, query), "probability")


def test_the_mode_is_the_fields_own_value(client: TestClient) -> None:
    # The link says 999 for the mode; the field holds 200,000, and the field wins.
    page = _panel(client, f"{BASE}&range.workload.queries_per_month=50000,999,800000")
    same = _panel(client, f"{BASE}&{VOLUME_RANGE}")
    assert text_of(page, "probability") == text_of(same, "probability")
    assert "around 200000" in text_of(page, "unc-seed")


def test_a_triangular_range_keeps_its_distribution(client: TestClient) -> None:
    query = f"{BASE}&range.workload.queries_per_month=50000,200000,800000,triangular"
    page = client.get("/?" + query).text
    assert 'data-distribution="triangular"' in page
    assert "(triangular)" in text_of(_panel(client, query), "unc-seed")


# --- invalid ranges ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("800000,200000,50000", "low (800000) is above high (50000)"),
        ("abc,200000,800000", "expected low,mode,high"),
        ("50000,200000,2e12", "must be"),
        ("50000,200000,100000", "the field's value (200000) must lie between low and high"),
        (",200000,800000", "give both a low and a high value"),
        ("1,2", "expected low,mode,high"),
    ],
)
def test_an_invalid_range_is_marked_where_typed_and_the_rest_still_works(
    client: TestClient, value: str, reason: str
) -> None:
    query = f"{BASE}&range.workload.queries_per_month={value}&{EXAMPLES_RANGE}"
    r = client.get("/?" + query)
    assert r.status_code == 422
    page = read_page(r.text)
    for end in ("low", "high"):
        assert page.by_id[f"r-workload-queries_per_month-{end}"].get("aria-invalid") == "true"
    assert reason in html.unescape(text_of(r.text, "r-workload-queries_per_month-error"))
    # The valid range still runs, and so does everything else.
    assert 'id="probability"' in r.text and 'id="verdict"' in r.text
    assert "Training examples from 500 to 4000" in text_of(r.text, "unc-seed")
    # The fragment lists it for static/app.js to mark after an htmx swap.
    panel = client.get("/analysis?" + query, headers=HX)
    assert panel.status_code == 422
    assert 'data-range-field="range.workload.queries_per_month"' in panel.text


@pytest.mark.parametrize(
    "extra",
    [
        "range.workload.horizon_months=6,12,24",
        "range.no.such.input=1,2,3",
        "range.workload=1,2,3",
        "range.prompted.cache_hit_rate=0.1,0.2,0.3,uniform",
        "range.prompted.cache_hit_rate=nan,0,1",
        "range.prompted.cache_hit_rate=1e999,0,1",
        "range.workload.queries_per_month=1&range.workload.queries_per_month=2&range.workload.queries_per_month=3",
        "range.=1,2,3",
        "range.prompted.model=1,2,3",
    ],
)
def test_odd_ranges_never_fail_the_page(client: TestClient, extra: str) -> None:
    for path, headers in (("/", {}), ("/analysis", HX)):
        r = client.get(f"{path}?{BASE}&{extra}", headers=headers)
        assert r.status_code == 422, (path, r.text[:300])
    # The results fragment leaves ranges to the panel it loads; its own answer stands.
    assert client.get(f"/?{BASE}&{extra}", headers=HX).status_code == 200
    assert 'id="chart-tornado"' in client.get(f"/analysis?{BASE}&{extra}", headers=HX).text


def test_an_empty_pair_is_no_range(client: TestClient) -> None:
    query = f"{BASE}&range.workload.queries_per_month=&range.workload.queries_per_month="
    r = client.get("/analysis?" + query, headers=HX)
    assert r.status_code == 200
    assert 'id="ranges-how-to"' in r.text


def test_echoed_range_values_are_escaped(client: TestClient) -> None:
    evil = '"><script>alert(1)</script>'
    query = urlencode(
        [("workload.queries_per_month", "200000"), ("range.workload.queries_per_month", evil)]
    )
    for path, headers in (("/", {}), ("/analysis", HX)):
        r = client.get(f"{path}?{query}", headers=headers)
        assert r.status_code == 422
        assert "<script>alert(1)" not in r.text
        assert "&lt;script&gt;alert(1)" in r.text
    page = read_page(client.get(f"/?{query}").text)
    assert page.by_id["r-workload-queries_per_month-low"]["value"] == evil  # kept as data


# --- in a real browser ------------------------------------------------------------------

CSP_LISTENER = (
    "document.addEventListener('securitypolicyviolation', e =>"
    " (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI));"
)


@pytest.mark.browser
def test_a_link_with_ranges_shows_the_probability_and_tornado_and_follows_the_slider(
    page: Any, base_url: str
) -> None:
    watch = Watch(page)
    page.add_init_script(CSP_LISTENER)
    page.goto(f"{base_url}/?{BASE}&{VOLUME_RANGE}")
    assert page.locator("#chart-tornado").is_visible()
    assert page.locator("#chart-histogram").is_visible()
    before = page.locator("#probability").inner_text()
    assert re.fullmatch(r"Fine-tuning pays back within 12 months in \d+% of cases\.", before)

    # Moving the slider swaps the results, then the panel loads by itself for the new volume.
    with page.expect_response(lambda r: "/analysis?" in r.url and r.status == 200):
        page.locator("#f-workload-queries_per_month-slider").fill("5.5")  # about 320,000
    page.wait_for_selector("#analysis:not(.loading) #probability")
    assert page.locator("#probability").inner_text() != before
    # The range went into the URL in the API's syntax, with the field's value as the mode.
    query = dict(parse_qsl(urlsplit(page.url).query))
    assert query["range.workload.queries_per_month"] == "50000,320000,800000"

    # An invalid range is marked where it was typed; the rest keeps working.
    with page.expect_response(lambda r: "/analysis?" in r.url and r.status == 422):
        page.locator("#r-workload-queries_per_month-low").fill("900000")
    page.wait_for_selector("#r-workload-queries_per_month-low[aria-invalid='true']")
    assert "above high" in page.locator("#r-workload-queries_per_month-error").inner_text()
    assert page.locator("#chart-tornado").is_visible()

    assert page.evaluate("window.__csp || []") == []
    assert [e for e in watch.errors if "422" not in e] == []
    assert watch.foreign(base_url) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#analysis").screenshot(path=str(ARTIFACTS / "analysis-panel.png"))
