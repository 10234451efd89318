"""The memo printed by Chromium (Playwright page.pdf): at most three A4 or Letter pages with
every section, and the figures on the printed page equal the API's (/api/v1/compare).
Fixtures (browser, base_url) are in tests/web/conftest.py."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest

from app.domain.formatting import count, usd
from tests.web.conftest import ARTIFACTS, Watch

pytestmark = pytest.mark.browser

SCENARIOS = {
    "support": (
        "title=Support+bot&workload.queries_per_month=1000000&workload.monthly_growth=0.05"
        "&prompted.cache_hit_rate=0.6&finetuned.training.examples=1500"
        "&range.workload.monthly_growth=0,0.05,0.1&range.finetuned.training.examples=500,1500,4000"
    ),
    "self-hosted": (
        "title=Self-hosted+8B+on+H100s&workload.queries_per_month=20000000"
        "&prompted.model=gpt-4.1-mini&finetuned.model=&finetuned.training.examples=3000"
        "&finetuned.training.gpu_hours=4&finetuned.self_hosted.gpu_hourly_price=3.99"
        "&finetuned.self_hosted.prefill_tokens_per_s=40000"
        "&finetuned.self_hosted.decode_tokens_per_s=8088&finetuned.monthly_fixed_cost=3000"
    ),
    "quality-and-errors": (
        "workload.queries_per_month=50000&prompted.error_rate=0.04&prompted.cost_per_error=2"
        "&finetuned.error_rate=0.015&finetuned.cost_per_error=2&workload.horizon_months=36"
        "&finetuned.retrain_every_months=3&factors.strict_format=true&workload.monthly_growth=oops"
    ),
}


def _pages(pdf: bytes) -> int:
    # Each page is one "/Type /Page" object ("/Type /Pages" is the tree, not a page).
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def _api(base_url: str, query: str) -> dict[str, Any]:
    scenario = "&".join(
        p for p in query.split("&") if not p.startswith(("range.", "workload.monthly_growth=oops"))
    )
    with urllib.request.urlopen(f"{base_url}/api/v1/compare?{scenario}") as r:
        return dict(json.load(r))


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_memo_prints_on_at_most_three_pages_with_the_apis_figures(
    browser: Any, base_url: str, name: str
) -> None:
    query = SCENARIOS[name]
    context = browser.new_context()
    page = context.new_page()
    watch = Watch(page)
    page.goto(f"{base_url}/memo?{query}")
    ARTIFACTS.mkdir(exist_ok=True)
    for paper in ("A4", "Letter"):
        pdf = page.pdf(format=paper, path=str(ARTIFACTS / f"memo-{name}-{paper}.pdf"))
        assert 1 <= _pages(pdf) <= 3, (paper, _pages(pdf))
    # The printed page's figures are the API's.
    page.emulate_media(media="print")
    api = _api(base_url, query)
    be = api["break_even"]
    fig = lambda i: page.locator(f"#memo-fig-{i}").inner_text()  # noqa: E731
    assert fig(1).startswith(
        str(be["payback_month"]) if be["payback_month"] is not None else "none"
    )
    assert fig(2) == (
        f"{count(be['monthly_volume'])} queries/month"
        if be["monthly_volume"] is not None
        else "none"
    )
    assert fig(3) == (
        count(be["queries_to_recoup"]) if be["queries_to_recoup"] is not None else "never"
    )
    assert page.locator("#memo-total-prompted").inner_text() == usd(api["prompted"]["total_cost"])
    assert page.locator("#memo-total-finetuned").inner_text() == usd(api["finetuned"]["total_cost"])
    # Every section is on those pages, and nothing meant for the screen.
    for heading in (
        "Recommendation",
        "When fine-tuning pays off",
        "What moves the answer",
        "Assumptions",
        "Prices used",
        "Lifecycle risks",
    ):
        assert page.get_by_role("heading", name=re.compile(heading)).first.is_visible()
    assert not page.locator(".actions").is_visible()
    page.set_viewport_size({"width": 720, "height": 1000})
    page.screenshot(path=str(ARTIFACTS / f"memo-{name}.png"), full_page=True)
    assert watch.errors == [] or all("422" in e for e in watch.errors)
    context.close()


def test_memo_print_button_and_markdown_link(browser: Any, base_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base_url}/memo?{SCENARIOS['support']}")
    # window.print is replaced so the test does not open a dialog; the button must call it.
    page.evaluate(
        "() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }"
    )
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.__printed") == 1
    href = page.get_by_role("link", name="Download as Markdown").get_attribute("href")
    assert href and href.endswith("format=md")
    context.close()
