"""The page in a real browser: Playwright driving Debian's Chromium against a local uvicorn.

Fixtures (browser, base_url, page) are in tests/web/conftest.py: skipped loudly when
/usr/bin/chromium is missing, a failure under CI=true.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.web.conftest import ARTIFACTS, Watch

pytestmark = pytest.mark.browser


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def _summary(page: Any) -> str:
    return str(page.locator("#summary").inner_text())


def test_slider_and_typing_update_results_chart_and_url(page: Any, base_url: str) -> None:
    watch = Watch(page)
    page.goto(base_url + "/")
    assert page.locator("#verdict").is_visible()
    before_summary = _summary(page)
    before_chart = page.locator("#chart-volume").inner_html()

    # The log slider carries log10(volume): 6.3 is about 2 million a month.
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.locator("#f-workload-queries_per_month-slider").fill("6.3")
    page.wait_for_function("() => location.search.includes('queries_per_month')")
    assert page.locator("#f-workload-queries_per_month").input_value() == "2000000"
    assert _query(page.url)["workload.queries_per_month"] == "2000000"
    page.wait_for_function(
        "old => document.querySelector('#chart-volume').innerHTML !== old", arg=before_chart
    )
    assert "you: 2M/mo" in page.locator("#chart-volume").inner_html()
    # Screen readers hear the new verdict from a live region that survives the swap.
    assert page.locator("#verdict").inner_text() in page.locator("#announce").inner_text()

    # Typing into a number field moves its slider and the results.
    field = page.locator("#f-prompted-static_prompt_tokens")
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        field.fill("12000")
    page.wait_for_function("() => location.search.includes('static_prompt_tokens=12000')")
    assert page.locator("#f-prompted-static_prompt_tokens-slider").input_value() == "12000"
    after_summary = _summary(page)
    assert after_summary != before_summary

    # Defaults are left out of the URL; what was changed is in it.
    query = _query(page.url)
    assert "workload.horizon_months" not in query
    assert query["prompted.static_prompt_tokens"] == "12000"

    # The URL reproduces the view.
    url = page.url
    page.goto(url)
    assert _summary(page) == after_summary
    assert page.locator("#f-workload-queries_per_month").input_value() == "2000000"
    assert watch.errors == []
    assert watch.foreign(base_url) == []


def test_history_is_replaced_not_pushed(page: Any, base_url: str) -> None:
    page.goto(base_url + "/")
    length = page.evaluate("history.length")
    for value in ("1000", "2000", "3000"):
        with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
            page.locator("#f-prompted-output_tokens").fill(value)
    page.wait_for_function("() => location.search.includes('output_tokens=3000')")
    assert page.evaluate("history.length") == length


def test_invalid_input_is_marked_then_cleared_and_the_page_keeps_working(
    page: Any, base_url: str
) -> None:
    watch = Watch(page)
    page.goto(base_url + "/")
    field = page.locator("#f-workload-monthly_growth")
    with page.expect_response(lambda r: r.status == 422):
        field.fill("1.4")
    page.wait_for_selector("#f-workload-monthly_growth[aria-invalid='true']")
    assert (
        "less than or equal to 1" in page.locator("#f-workload-monthly_growth-error").inner_text()
    )
    assert field.input_value() == "1.4"
    assert page.locator("#verdict").is_visible()  # computed with the default growth
    with page.expect_response(lambda r: r.status == 200):
        field.fill("0.1")
    page.wait_for_selector("#f-workload-monthly_growth:not([aria-invalid])")
    assert page.locator("#f-workload-monthly_growth-error").is_hidden()
    # The browser reports the 422 itself; nothing else may go wrong.
    assert [e for e in watch.errors if "422" not in e] == []


def test_presets_fill_the_form(page: Any, base_url: str) -> None:
    page.goto(base_url + "/")
    page.get_by_role("link", name="High-volume extraction on your own GPUs").click()
    page.wait_for_load_state()
    assert page.locator("#f-workload-queries_per_month").input_value() == "30000000"
    assert page.locator("#f-prompted-model").input_value() == "gemini-3.5-flash-lite"


def test_copy_link_puts_the_address_on_the_clipboard(browser: Any, base_url: str) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    p = context.new_page()
    p.goto(base_url + "/?workload.queries_per_month=42000")
    p.get_by_role("link", name="Copy link", exact=True).click()
    p.wait_for_function("() => document.querySelector('.copy-status').textContent.length > 0")
    assert p.evaluate("navigator.clipboard.readText()") == p.url
    context.close()


def test_without_javascript_the_form_submits_and_returns_the_full_page(
    browser: Any, base_url: str
) -> None:
    context = browser.new_context(java_script_enabled=False)
    p = context.new_page()
    p.goto(base_url + "/")
    p.locator("#f-workload-queries_per_month").fill("5000000")
    p.get_by_role("button", name="Compare").click()
    p.wait_for_load_state()
    assert _query(p.url)["workload.queries_per_month"] == "5000000"
    assert p.locator("#f-workload-queries_per_month").input_value() == "5000000"
    assert "you: 5M/mo" in p.locator("#chart-volume").inner_html()
    context.close()


def test_screenshots_in_light_and_dark_mode(browser: Any, base_url: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 1300, "height": 1800}, color_scheme=scheme)
        p = context.new_page()
        watch = Watch(p)
        p.goto(base_url + "/?workload.queries_per_month=1000000&workload.monthly_growth=0.05")
        path = ARTIFACTS / f"page-{scheme}.png"
        p.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        assert watch.errors == []
        context.close()


def test_a_slider_move_is_one_request(page: Any, base_url: str) -> None:
    """Issue 5: each slider move is one request returning one fragment. The embed preview and
    the analysis panel, both below the fold, must not add requests of their own."""
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(base_url + "/")
    page.wait_for_load_state("networkidle")
    watch = Watch(page)
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.locator("#f-workload-queries_per_month-slider").fill("5.5")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    # The browser may refetch the favicon when the address changes; static files aside, the
    # move costs one request.
    app_requests = [u for u in watch.requests if u.startswith(base_url) and "/static/" not in u]
    assert len(app_requests) == 1, app_requests
    assert app_requests[0].startswith(base_url + "/?")


def test_a_burst_of_slider_steps_ends_on_the_last_value(page: Any, base_url: str) -> None:
    """Steps faster than the form's debounce (INPUT_DELAY_MS) are one move: the page asks
    at most once a step, and whatever was sent, the results end on the last value (a newer
    request replaces one in flight, hx-sync="this:replace")."""
    page.goto(base_url + "/")
    page.wait_for_load_state("networkidle")
    watch = Watch(page)
    slider = page.locator("#f-workload-queries_per_month-slider")
    slider.focus()
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    field = page.locator("#f-workload-queries_per_month")
    last = field.input_value()
    page.wait_for_function(
        "(v) => { const a = document.querySelector('#results .links a[type=\"application/json\"]');"
        " return a && new URL(a.href).searchParams.get('workload.queries_per_month') === v; }",
        arg=last,
        timeout=10_000,
    )
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    moves = [u for u in watch.requests if u.startswith(base_url + "/?")]
    assert 1 <= len(moves) <= 6, moves
    assert _query(moves[-1])["workload.queries_per_month"] == last
    assert _query(page.url)["workload.queries_per_month"] == last


def test_catalog_pickers_fill_the_self_hosted_fields(page: Any, base_url: str) -> None:
    watch = Watch(page)
    page.goto(base_url + "/")
    page.locator("#group-self_hosted > summary").click()
    gpu = page.locator("#pick-gpu")
    first_offer = gpu.locator("option").nth(1)
    price = first_offer.get_attribute("data-price")
    gpu.select_option(index=1)
    assert page.locator("#f-finetuned-self_hosted-gpu_hourly_price").input_value() == price
    preset = page.locator("#pick-throughput option").nth(1)
    prefill = preset.get_attribute("data-prefill")
    with page.expect_response(
        lambda r: r.request.headers.get("hx-request") == "true" and "prefill_tokens_per_s" in r.url
    ):
        page.locator("#pick-throughput").select_option(index=1)
    assert page.locator("#f-finetuned-self_hosted-prefill_tokens_per_s").input_value() == prefill
    page.wait_for_function("() => location.search.includes('self_hosted.decode_tokens_per_s')")
    # The pickers are not part of the scenario: only the numbers are in the address.
    assert "pick" not in page.url
    # Choosing the GPU first leaves the block half-filled: that request may answer 422 (the
    # block is ignored whole) before the preset completes it.
    assert [e for e in watch.errors if "422" not in e] == []
