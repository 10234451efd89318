"""The page with several candidates: cards, actions, results, and old two-arm links."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.web.candidates import apply_action, from_two_arm
from tests.web.conftest import ARTIFACTS, Watch

CARDS = [
    ("workload.queries_per_month", "300000"),
    ("candidates.0.id", "now"),
    ("candidates.0.kind", "prompted"),
    ("candidates.0.prices.input", "2"),
    ("candidates.0.prices.output", "8"),
    ("candidates.1.id", "lora"),
    ("candidates.1.kind", "finetuned"),
    ("candidates.1.prices.input", "0.8"),
    ("candidates.1.prices.output", "3.2"),
    ("candidates.1.training.price_per_mtok", "5"),
    ("candidates.2.id", "mix"),
    ("candidates.2.kind", "hybrid"),
    ("candidates.2.core", "lora"),
    ("candidates.2.fallback", "now"),
    ("candidates.2.core_share", "0.7"),
    ("candidates.3.id", "cheap"),
    ("candidates.3.kind", "prompted"),
    ("candidates.3.prices.input", "0.4"),
    ("candidates.3.prices.output", "1.6"),
]


def _ids(items: list[tuple[str, str]]) -> list[str]:
    return [v for k, v in items if k.endswith(".id")]


def test_the_page_shows_the_apis_ranking_and_envelope(client: TestClient) -> None:
    page = client.get("/?" + urlencode(CARDS))
    assert page.status_code == 200
    api = client.get("/api/v1/candidates?" + urlencode(CARDS)).json()
    html = page.text
    for i, cid in enumerate(api["ranking"], start=1):
        assert f'<tr data-candidate="{cid}"' in html
        assert f"<td>{i}</td>" in html
    assert html.count('class="group card"') == 4
    assert 'id="chart-volume"' in html and 'class="band band-s' in html
    assert api["recommendation"]["headline"].split(":")[0] in html
    # The fragment carries the results and each card's figures, swapped out of band.
    fragment = client.get("/?" + urlencode(CARDS), headers={"HX-Request": "true"})
    assert fragment.text.count('hx-swap-oob="true"') == 4
    assert "<form" not in fragment.text


def test_card_actions_rewrite_the_query_and_redirect(client: TestClient) -> None:
    r = client.get("/?" + urlencode([*CARDS, ("action", "dup-0")]), follow_redirects=False)
    assert r.status_code == 303
    items = parse_qsl(urlsplit(r.headers["location"]).query)
    assert _ids(items) == ["now", "now-1", "lora", "mix", "cheap"]
    htmx = client.get(
        "/?" + urlencode([*CARDS, ("action", "up-3")]), headers={"HX-Request": "true"}
    )
    assert _ids(parse_qsl(urlsplit(htmx.headers["HX-Redirect"]).query)) == [
        "now",
        "lora",
        "cheap",
        "mix",
    ]


def test_actions_keep_the_limits() -> None:
    two = CARDS[:10]
    assert _ids(apply_action(two, "remove-0")) == ["now", "lora"]  # never fewer than two
    six = apply_action(apply_action(CARDS, "add-prompted"), "add-finetuned")
    assert len(_ids(six)) == 6
    assert _ids(apply_action(six, "add-hybrid")) == _ids(six)  # at most six on the page
    assert ("candidates.4.kind", "prompted") in six
    removed = apply_action([*CARDS, ("baseline", "lora")], "remove-1")
    assert ("baseline", "lora") not in removed and _ids(removed) == ["now", "mix", "cheap"]


def test_a_two_arm_link_opens_the_two_arm_page(client: TestClient) -> None:
    old = "/?workload.queries_per_month=1000000&prompted.static_prompt_tokens=3000"
    r = client.get(old)
    assert r.status_code == 200
    assert 'class="group card"' not in r.text and 'id="fig-payback"' in r.text
    assert 'id="to-candidates"' in r.text


def test_the_two_arm_scenario_as_cards_gives_the_same_figures(client: TestClient) -> None:
    two = [
        ("workload.queries_per_month", "400000"),
        ("prompted.prices.input", "2"),
        ("prompted.prices.output", "8"),
        ("finetuned.prices.input", "0.8"),
        ("finetuned.prices.output", "3.2"),
        ("finetuned.training.price_per_mtok", "5"),
    ]
    cards = from_two_arm(two)
    compared = client.get("/api/v1/compare?" + urlencode(two)).json()
    listed = client.get("/api/v1/candidates?" + urlencode(cards)).json()
    assert (
        listed["candidates"][1]["vs_baseline"]["monthly_volume"]
        == compared["break_even"]["monthly_volume"]
    )
    assert listed["candidates"][1]["total_cost"] == compared["finetuned"]["total_cost"]


def test_bad_input_marks_the_card_field_and_keeps_the_rest(client: TestClient) -> None:
    items = [*CARDS, ("candidates.3.output_tokens", "lots")]
    r = client.get("/?" + urlencode(items))
    assert r.status_code == 422
    assert 'value="lots"' in r.text
    assert 'id="f-candidates-3-output_tokens"' in r.text
    assert "candidates.3.output_tokens" in r.text
    assert '<tr data-candidate="now"' in r.text  # the others are still computed


# --- in a real browser ------------------------------------------------------------------


def _ids_in(page: Any) -> list[str]:
    return [str(x) for x in page.locator(".card .card-title").all_inner_texts()]


@pytest.mark.browser
def test_cards_add_remove_reorder_and_round_trip_the_url(page: Any, base_url: str) -> None:
    watch = Watch(page)
    page.goto(base_url + "/?" + urlencode(CARDS))
    assert _ids_in(page) == ["now", "lora", "mix", "cheap"]
    with page.expect_navigation():
        page.locator("#card-3 button[value='up-3']").click()
    assert _ids_in(page) == ["now", "lora", "cheap", "mix"]
    with page.expect_navigation():
        page.locator("button[value='add-prompted']").click()
    assert len(_ids_in(page)) == 5
    with page.expect_navigation():
        page.locator("#card-4 button[value='remove-4']").click()
    assert _ids_in(page) == ["now", "lora", "cheap", "mix"]
    # An input change updates the results and the address bar, one request.
    before = page.locator("#ranking").inner_text()
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.locator("#f-candidates-2-output_tokens").fill("900")
    page.wait_for_function("() => location.search.includes('candidates.2.output_tokens=900')")
    page.wait_for_function(
        "old => document.querySelector('#ranking').innerText !== old", arg=before
    )
    url = page.url
    page.reload()
    assert page.locator("#f-candidates-2-output_tokens").input_value() == "900"
    assert page.url == url
    assert watch.errors == []
    # A new kind redraws the card's inputs (this card's explicit prices now lack a training
    # price: the page answers 422 and asks for it).
    # The picker's own request redirects; the form does not also recompute (its answer would
    # race the redirect).
    htmx: list[str] = []
    page.on(
        "request",
        lambda r: htmx.append(r.url) if r.headers.get("hx-request") == "true" else None,
    )
    with page.expect_navigation(url=lambda u: "candidates.2.kind=finetuned" in u):
        page.locator("#f-candidates-2-kind").select_option("finetuned")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(200)
    assert len(htmx) == 1 and "action=refresh" in htmx[0], htmx
    assert page.locator("#f-candidates-2-training-examples").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "candidates-page.png"), full_page=True)
    assert "candidates.2.training.price_per_mtok" in page.locator("#results").inner_text()
    assert watch.foreign(base_url) == []


@pytest.mark.browser
def test_an_old_two_arm_link_still_opens_the_same_view(page: Any, base_url: str) -> None:
    page.goto(base_url + "/?workload.queries_per_month=2000000&prompted.static_prompt_tokens=6000")
    assert page.locator("#fig-payback").is_visible()
    assert page.locator(".card").count() == 0
    with page.expect_navigation():
        page.locator("#to-candidates").click()
    assert _ids_in(page) == ["prompted", "finetuned"]
    assert page.locator("#f-candidates-0-static_prompt_tokens").input_value() == "6000"


def test_the_embed_shows_the_ranking_and_the_envelope(client: TestClient) -> None:
    r = client.get("/embed?" + urlencode(CARDS))
    assert r.status_code == 200
    api = client.get("/api/v1/candidates?" + urlencode(CARDS)).json()
    for cid in api["ranking"]:
        assert f'<tr data-candidate="{cid}">' in r.text
    assert 'class="band band-s' in r.text and api["recommendation"]["headline"] in r.text
    assert "Open these candidates in Tune or Prompt" in r.text
    slid = client.get("/embed?" + urlencode(CARDS) + "&embed.inputs=true")
    assert 'name="workload.queries_per_month"' in slid.text
    assert 'name="candidates.2.core" value="lora"' in slid.text  # carried as a hidden field


def test_the_memo_covers_every_candidate_and_its_frozen_link_reproduces_it(
    client: TestClient,
) -> None:
    catalog_cards = [
        ("workload.queries_per_month", "300000"),
        ("workload.start_date", "2026-12-01"),
        ("candidates.0.id", "now"),
        ("candidates.0.kind", "prompted"),
        ("candidates.0.model", "gpt-6.2-sol"),
        *[(k, v) for k, v in CARDS if k.startswith(("candidates.1.", "candidates.2."))],
    ]
    api = client.get("/api/v1/candidates?" + urlencode(catalog_cards)).json()
    html = client.get("/memo?" + urlencode(catalog_cards)).text
    for c in api["candidates"]:
        assert f'<tr data-candidate="{c["id"]}">' in html
    text = client.get("/memo?" + urlencode([*catalog_cards, ("format", "md")])).text
    assert text.startswith("# Several candidates compared")
    assert "## Prices used" in text and "gpt-6.2-sol" in text and "provider" in text
    frozen = next(line for line in text.splitlines() if line.startswith("With these prices: "))
    link = frozen.removeprefix("With these prices: ").split(" ", 1)[0]
    items = parse_qsl(urlsplit(link).query)
    assert ("candidates.0.prices.input", "2.0") in items or any(
        k == "candidates.0.prices.input" for k, _ in items
    )
    again = client.get("/api/v1/candidates?" + urlencode(items)).json()
    assert [c["total_cost"] for c in again["candidates"]] == [
        c["total_cost"] for c in api["candidates"]
    ]
