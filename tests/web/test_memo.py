"""GET /memo: the decision memo's figures equal the API's, every section is there, the frozen
link reproduces the figures after the catalog changes, and format=md is the same memo."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.api.deps import run_compare
from app.domain.formatting import count, usd
from app.main import app
from app.pricing import Catalog, get_catalog
from app.web import form, links, memo

SUPPORT = (
    "title=Support+bot&workload.queries_per_month=1000000&workload.monthly_growth=0.05"
    "&prompted.model=gpt-4.1&prompted.static_prompt_tokens=3000&prompted.cache_hit_rate=0.6"
    "&finetuned.model=ft:gpt-4.1-mini&finetuned.training.examples=1500"
)
SELF_HOSTED = (
    "workload.queries_per_month=20000000&prompted.model=gpt-4.1-mini&finetuned.model="
    "&finetuned.training.gpu_hours=4&finetuned.self_hosted.gpu_hourly_price=3.99"
    "&finetuned.self_hosted.prefill_tokens_per_s=40000"
    "&finetuned.self_hosted.decode_tokens_per_s=8088"
)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _by_id(html: str, element_id: str) -> str:
    m = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert m, element_id
    return m.group(1).strip()


@pytest.mark.parametrize("query", [SUPPORT, SELF_HOSTED], ids=["per-token", "self-hosted"])
def test_memo_figures_equal_the_apis(client: TestClient, query: str) -> None:
    api = client.get("/api/v1/compare?" + query).json()
    r = client.get("/memo?" + query)
    assert r.status_code == 200
    be = api["break_even"]
    payback = str(be["payback_month"]) if be["payback_month"] is not None else "none"
    assert _by_id(r.text, "memo-fig-1").startswith(payback)
    assert _by_id(r.text, "memo-fig-2") == f"{count(be['monthly_volume'])} queries/month"
    assert _by_id(r.text, "memo-fig-3") == count(be["queries_to_recoup"])
    assert _by_id(r.text, "memo-total-prompted") == usd(api["prompted"]["total_cost"])
    assert _by_id(r.text, "memo-total-finetuned") == usd(api["finetuned"]["total_cost"])
    assert usd(abs(api["savings_over_horizon"])) in _by_id(r.text, "memo-savings")


def test_memo_has_every_section(client: TestClient) -> None:
    r = client.get("/memo?" + SUPPORT + "&range.workload.monthly_growth=0,0.05,0.1")
    text = _text(r.text)
    for heading in (
        "The question.",
        "Recommendation:",
        "When fine-tuning pays off",
        "Monthly cost against volume",
        "Cumulative cost by month",
        "What moves the answer",
        "Probability of payback",
        "Assumptions",
        "Prices used",
        "Lifecycle risks",
        "Printed",
    ):
        assert heading in text, heading
    assert "Should “Support bot” keep prompting gpt-4.1 or fine-tune ft:gpt-4.1-mini" in text
    assert "1 million queries a month, growing 5% a month, over 12 months?" in text
    # The probability of payback comes from the Monte Carlo of the given range.
    assert re.search(r"pays back within 12 months in (\d+%|over 99%|under 1%) of cases", text)
    # Charts for print: two SVGs, lines named at their ends, the key says solid and dashed.
    assert r.text.count('class="end-label end-prompted"') == 2
    assert r.text.count('class="end-label end-finetuned"') == 2
    assert "Solid: prompted · dashed: fine-tuned" in text
    # The date printed and the way back to the live scenario.
    assert re.search(r"Printed \d{4}-\d{2}-\d{2} ?\.", text)
    live = re.findall(r'href="(http://testserver/\?[^"]+)"', r.text)
    assert live and all("title=Support+bot" in u for u in live)


def test_without_ranges_the_memo_says_why_there_is_no_probability(client: TestClient) -> None:
    text = _text(client.get("/memo?" + SUPPORT).text)
    assert "No probability of payback: no input was given a range." in text


def test_assumptions_list_every_input_given_or_default(client: TestClient) -> None:
    r = client.get("/memo?" + SUPPORT)
    rows = dict(
        re.findall(
            r'data-field="([^"]+)">.*?<td>[^<]*(?:<span[^>]*>[^<]*</span>)?</td><td>([^<]+)</td>',
            r.text,
        )
    )
    assert set(rows) == set(form.ALL_INPUTS)
    assert rows["workload.queries_per_month"] == "given"
    assert rows["prompted.cache_hit_rate"] == "given"
    assert rows["workload.horizon_months"] == "default"
    # The fixed costs were left at their defaults and decide the answer: marked and stated.
    assert rows["finetuned.monthly_fixed_cost"] == "default*"
    assert rows["finetuned.setup_cost"] == "default*"
    text = _text(r.text)
    assert "Fixed costs left at their defaults: setup (prompted) $2,000 once" in text
    assert "both arms are assumed to make the same errors (error rates 0)" in text


def test_quality_is_stated_when_error_rates_are_given(client: TestClient) -> None:
    q = SUPPORT + "&prompted.error_rate=0.04&prompted.cost_per_error=2&finetuned.error_rate=0.01"
    text = _text(client.get("/memo?" + q).text)
    assert "the prompted arm errs on 4% of answers at $2.00 each" in text
    assert "the fine-tuned arm on 1% at $0.00 each" in text


def test_every_price_used_has_its_source_date_and_confidence(client: TestClient) -> None:
    catalog = get_catalog()
    reading, result = form.read(parse_qsl(SUPPORT), lambda s: run_compare(s, catalog))
    assert result is not None and reading.scenario is not None
    rows = memo.price_rows(reading.scenario, result[1], catalog)
    used = {(r.arm, r.price) for r in rows}
    for name, arm in (("Prompted", result[1].prompted), ("Fine-tuned", result[1].finetuned)):
        assert {(name, k.replace("_", " ")) for k in arm.prices} <= used
    assert ("Fine-tuned", "training") in used
    entry = catalog.get("gpt-4.1")
    assert entry is not None
    input_row = next(r for r in rows if r.arm == "Prompted" and r.price == "input")
    assert input_row.source == str(entry.source)
    assert input_row.as_of == entry.as_of.isoformat()
    assert input_row.confidence == entry.confidence
    assert input_row.value == "$2.00" if entry.prices.input == 2 else True
    for r in rows:
        if r.origin == "catalog":
            assert r.source.startswith("http") and re.fullmatch(r"\d{4}-\d{2}-\d{2}", r.as_of)
            assert r.confidence in ("provider", "secondary")


def test_lifecycle_risks_are_listed(client: TestClient) -> None:
    api = client.get("/api/v1/compare?" + SUPPORT).json()
    lifecycle = [w["message"] for w in api["warnings"] if w["code"] in memo.LIFECYCLE_CODES]
    text = _text(client.get("/memo?" + SUPPORT).text)
    for message in lifecycle or ["None found"]:
        assert message.split(":")[0] in text


def _changed(catalog: Catalog) -> Catalog:
    """The catalog after a price change: every token and training price doubled."""
    out = copy.copy(catalog)
    out.models = {}
    for key, entry in catalog.models.items():
        p = entry.prices
        prices = p.model_copy(
            update={
                k: getattr(p, k) * 2 for k in ("input", "cached_input", "output") if getattr(p, k)
            }
        )
        update: dict[str, object] = {"prices": prices, "batch_discount": entry.batch_discount / 2}
        if entry.training is not None and entry.training.price_per_mtok is not None:
            update["training"] = entry.training.model_copy(
                update={"price_per_mtok": entry.training.price_per_mtok * 2}
            )
        out.models[key] = entry.model_copy(update=update)
    return out


# Prices constant over the horizon: every month billed at the prices in force on the start
# date (docs/cost-model.md, workload.lifecycle=ignore).
CONSTANT = "&workload.lifecycle=ignore"


@pytest.mark.parametrize(
    "query",
    [
        SUPPORT + CONSTANT,
        SELF_HOSTED + CONSTANT,
        SUPPORT + CONSTANT + "&prompted.batch_share=0.5&finetuned.batch_share=0.5",
    ],
    ids=["per-token", "self-hosted", "batch"],
)
def test_the_frozen_link_reproduces_the_figures_after_the_catalog_changes(query: str) -> None:
    catalog = get_catalog()
    changed = _changed(catalog)

    def figures(q: str | list[tuple[str, str]], cat: Catalog) -> tuple[float, ...]:
        items = parse_qsl(q, keep_blank_values=True) if isinstance(q, str) else q
        reading, result = form.read(items, lambda s: run_compare(s, cat))
        assert result is not None, reading.errors
        c = result[1]
        return (c.prompted.total_cost, c.finetuned.total_cost, c.savings_over_horizon)

    reading, result = form.read(
        parse_qsl(query, keep_blank_values=True), lambda s: run_compare(s, catalog)
    )
    assert result is not None and reading.scenario is not None
    frozen = links.frozen_items(reading.scenario, result[1], catalog, reading.raw)
    assert links.varying_arms(result[1]) == []
    assert dict(frozen)["workload.start_date"]  # the calendar is fixed too
    before = figures(query, catalog)
    assert figures(frozen, changed) == pytest.approx(before, rel=1e-12)
    # The test can fail: the live link's figures move with the catalog.
    assert figures(query, changed) != pytest.approx(before, rel=1e-6)


def test_the_page_offers_memo_print_and_the_frozen_link(client: TestClient) -> None:
    r = client.get("/?" + SUPPORT + CONSTANT)
    frozen = re.search(r'<a href="/\?([^"]+)" class="copy-link" data-copy-href>', r.text)
    assert frozen and ">Copy link with these prices<" in r.text
    frozen_q = dict(parse_qsl(frozen.group(1).replace("&amp;", "&"), keep_blank_values=True))
    assert frozen_q["prompted.prices.input"] and frozen_q["finetuned.training.price_per_mtok"]
    assert ">Print memo</a>" in r.text and ">Download memo</a>" in r.text
    memo_link = re.search(r'<a href="/memo\?([^"]+)" download="memo.md">', r.text)
    assert memo_link and memo_link.group(1).endswith("format=md")


def test_memo_markdown_is_the_same_memo(client: TestClient) -> None:
    html = _text(client.get("/memo?" + SUPPORT).text)
    r = client.get("/memo?" + SUPPORT + "&format=md")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/markdown")
    md = r.text
    assert md.startswith("# Support bot\n")
    for heading in (
        "## Recommendation:",
        "## When fine-tuning pays off",
        "## What moves the answer",
        "### Probability of payback",
        "## Assumptions",
        "## Prices used",
        "## Lifecycle risks",
    ):
        assert heading in md
    api = client.get("/api/v1/compare?" + SUPPORT).json()
    assert (
        f"| Break-even volume | {count(api['break_even']['monthly_volume'])} queries/month |" in md
    )
    assert usd(api["prompted"]["total_cost"]) in md and usd(api["prompted"]["total_cost"]) in html
    # Every input is a row; dotted names are escaped for Markdown (no accidental emphasis).
    assert md.count("| workload.queries\\_per\\_month |") == 1
    frozen = re.search(
        r"frozen \(reproduces these figures after the catalog changes\): <([^>]+)>", md
    )
    assert frozen and urlsplit(frozen.group(1)).path == "/"


def test_markdown_escapes_what_the_reader_typed(client: TestClient) -> None:
    r = client.get("/memo?format=md&title=" + "%3Cb%3E*x*%7C%5Bl%5D(u)")
    assert r.text.startswith("# \\<b\\>\\*x\\*\\|\\[l\\](u)\n")
    html = client.get("/memo?title=%3Cscript%3Ealert(1)%3C/script%3E").text
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html


def test_invalid_input_is_listed_and_the_rest_computed(client: TestClient) -> None:
    r = client.get("/memo?workload.monthly_growth=1.4&workload.queries_per_month=2M")
    assert r.status_code == 422
    text = _text(r.text)
    assert "Inputs ignored" in text and "workload.monthly_growth" in text
    assert "at 2 million queries a month" in text  # "2M" was read as 2,000,000
    r = client.get("/memo?prompted.model=&prompted.prices.input=1&format=md")
    assert r.status_code == 422 and r.text.startswith("# Nothing can be computed")


def test_a_bad_format_is_a_422(client: TestClient) -> None:
    assert client.get("/memo?format=pdf").status_code == 422


def test_an_arm_whose_prices_change_keeps_its_catalog_prices_and_the_memo_says_so(
    client: TestClient,
) -> None:
    """A shutdown inside the horizon moves the arm to its successor's prices: one explicit
    price per field would cancel that (a request's price wins in every month)."""
    catalog = get_catalog()
    reading, result = form.read(parse_qsl(SUPPORT), lambda s: run_compare(s, catalog))
    assert result is not None and reading.scenario is not None
    varying = links.varying_arms(result[1])
    if not varying:
        pytest.skip("no model of this scenario changes price inside the horizon any more")
    frozen = dict(links.frozen_items(reading.scenario, result[1], catalog, reading.raw))
    for arm in varying:
        assert not any(k.startswith(f"{arm}.prices.") for k in frozen)
    text = _text(client.get("/memo?" + SUPPORT).text)
    assert "prices change inside the horizon" in text
    # Same day, same catalog: the frozen link gives the same figures.
    again = form.read(list(frozen.items()), lambda s: run_compare(s, catalog))[1]
    assert again is not None
    assert again[1].savings_over_horizon == pytest.approx(result[1].savings_over_horizon)
