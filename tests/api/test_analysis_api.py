"""/api/v1/sensitivity and /api/v1/uncertainty: routes, formats and errors."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from app.domain.engine import compare
from app.domain.scenario import Scenario
from app.domain.sensitivity import sensitivity
from app.domain.uncertainty import Range, simulate
from app.main import app
from app.pricing import get_catalog

SCENARIO = {
    "workload": {"queries_per_month": 300_000, "monthly_growth": 0.02},
    "prompted": {"model": "gpt-4.1"},
}
QUERY = "workload.queries_per_month=300000&workload.monthly_growth=0.02&prompted.model=gpt-4.1"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def test_post_sensitivity_returns_the_domain_tornado(client: TestClient) -> None:
    r = client.post("/api/v1/sensitivity", json={"scenario": SCENARIO})
    assert r.status_code == 200
    expected = sensitivity(Scenario.model_validate(SCENARIO), get_catalog())
    assert r.json() == expected.model_dump(mode="json")
    direct = compare(Scenario.model_validate(SCENARIO), get_catalog(), today=date.today())
    assert r.json()["base_savings"] == direct.savings_over_horizon


def test_get_sensitivity_reads_dotted_names_and_bounds(client: TestClient) -> None:
    r = client.get(f"/api/v1/sensitivity?{QUERY}&bound.workload.queries_per_month=1000,900000")
    assert r.status_code == 200
    bars = {b["input"]: b for b in r.json()["bars"]}
    assert (
        bars["workload.queries_per_month"]["low_value"],
        bars["workload.queries_per_month"]["high_value"],
    ) == (1000, 900000)
    post = client.post(
        "/api/v1/sensitivity",
        json={
            "scenario": SCENARIO,
            "bounds": {"workload.queries_per_month": {"low": 1000, "high": 900000}},
        },
    )
    assert post.json() == r.json()


def test_sensitivity_csv_has_a_base_row_one_row_per_bar_and_the_skipped_inputs(
    client: TestClient,
) -> None:
    r = client.get(f"/api/v1/sensitivity?{QUERY}&format=csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    body = client.get(f"/api/v1/sensitivity?{QUERY}").json()
    assert rows[0]["input"] == "(base)"
    assert float(rows[0]["savings_low"]) == body["base_savings"]
    assert [row["input"] for row in rows[1 : 1 + len(body["bars"])]] == [
        b["input"] for b in body["bars"]
    ]
    assert float(rows[1]["savings_high"]) == body["bars"][0]["savings_high"]
    skipped = {row["input"]: row["note"] for row in rows[1 + len(body["bars"]) :]}
    assert skipped == {s["input"]: s["reason"] for s in body["skipped"]}


@pytest.mark.parametrize(
    ("url", "field", "reason"),
    [
        (
            "/api/v1/sensitivity?bound.workload.querys=1,2",
            "bound.workload.querys",
            "not a numeric input of the scenario",
        ),
        (
            "/api/v1/sensitivity?bound.workload.queries_per_month=5",
            "bound.workload.queries_per_month",
            "expected low,high (finite numbers)",
        ),
        (
            "/api/v1/sensitivity?bound.prompted.cache_hit_rate=0,3",
            "bound.prompted.cache_hit_rate",
            "high (3) must be a number in [0, 1]",
        ),
        (
            "/api/v1/sensitivity?workload.horizon_months=0",
            "workload.horizon_months",
            "Input should be greater than or equal to 1",
        ),
    ],
)
def test_get_sensitivity_errors_name_the_parameter(
    client: TestClient, url: str, field: str, reason: str
) -> None:
    r = client.get(url)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == field
    assert r.json()["errors"][0]["reason"] == reason


def test_post_sensitivity_rejects_unknown_bound_names_and_unknown_keys(client: TestClient) -> None:
    r = client.post(
        "/api/v1/sensitivity", json={"bounds": {"finetuned.training.epochz": {"low": 1, "high": 2}}}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "bounds.finetuned.training.epochz"
    r = client.post("/api/v1/sensitivity", json={"scenario": {}, "range": {}})
    assert r.status_code == 422
    assert r.json()["errors"][0] == {
        "field": "range",
        "reason": "unknown field",
        "type": "extra_forbidden",
        "input": None,  # a group of fields is not echoed (its repr would be Python's)
        "suggestions": [],
    }


RANGES = {
    "workload.queries_per_month": {
        "low": 50_000,
        "mode": 300_000,
        "high": 2_000_000,
        "distribution": "triangular",
    },
    "finetuned.training.examples": {"low": 500, "mode": 1000, "high": 5000},
}
RANGE_QUERY = (
    "range.workload.queries_per_month=50000,300000,2000000,triangular"
    "&range.finetuned.training.examples=500,1000,5000"
)


def test_post_uncertainty_is_the_seeded_domain_run(client: TestClient) -> None:
    r = client.post(
        "/api/v1/uncertainty",
        json={"scenario": SCENARIO, "ranges": RANGES, "samples": 3000, "seed": 7},
    )
    assert r.status_code == 200
    expected = simulate(
        Scenario.model_validate(SCENARIO),
        get_catalog(),
        {k: Range.model_validate(v) for k, v in RANGES.items()},
        samples=3000,
        seed=7,
    )
    assert r.json() == expected.model_dump(mode="json")
    assert 0 <= r.json()["probability_payback_within_horizon"] <= 1
    assert sum(b["count"] for b in r.json()["savings_histogram"]) == 3000


def test_get_uncertainty_equals_post(client: TestClient) -> None:
    r = client.get(f"/api/v1/uncertainty?{QUERY}&{RANGE_QUERY}&samples=3000&seed=7")
    assert r.status_code == 200
    post = client.post(
        "/api/v1/uncertainty",
        json={"scenario": SCENARIO, "ranges": RANGES, "samples": 3000, "seed": 7},
    )
    assert r.json() == post.json()


def test_uncertainty_csv_is_field_value_rows(client: TestClient) -> None:
    r = client.get(
        f"/api/v1/uncertainty?{QUERY}&{RANGE_QUERY}&samples=500&seed=1&bins=5&format=csv"
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = dict(list(csv.reader(io.StringIO(r.text)))[1:])
    body = client.get(f"/api/v1/uncertainty?{QUERY}&{RANGE_QUERY}&samples=500&seed=1&bins=5").json()
    assert float(rows["savings.p50"]) == body["savings"]["p50"]
    assert rows["seed"] == "1"
    assert "savings_histogram.4.count" in rows and "savings_histogram.5.count" not in rows


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        (
            "range.workload.querys=1,2,3",
            "range.workload.querys",
            "not a numeric input of the scenario",
        ),
        (
            "range.workload.horizon_months=6,12,24",
            "range.workload.horizon_months",
            "cannot vary: the horizon frames the question; compare horizons separately",
        ),
        (
            "range.workload.queries_per_month=1,2",
            "range.workload.queries_per_month",
            "expected low,mode,high[,pert|triangular] (finite numbers)",
        ),
        (
            "range.workload.queries_per_month=1,2,3,uniform",
            "range.workload.queries_per_month",
            "expected low,mode,high[,pert|triangular] (finite numbers)",
        ),
        (
            "range.workload.queries_per_month=1,5,3",
            "range.workload.queries_per_month",
            "need low <= mode <= high, got 1, 5, 3",
        ),
        (
            "range.workload.queries_per_month=-1,5,7",
            "range.workload.queries_per_month",
            "low (-1) must be a number in [0, 1e+12]",
        ),
        (
            "range.finetuned.self_hosted.min_replicas=0,1,2",
            "range.finetuned.self_hosted.min_replicas",
            "finetuned.self_hosted is not set in the scenario",
        ),
        ("samples=100001", "samples", "Input should be less than or equal to 100000"),
        ("seed=-1", "seed", "Input should be greater than or equal to 0"),
    ],
)
def test_get_uncertainty_errors_name_the_parameter(
    client: TestClient, query: str, field: str, reason: str
) -> None:
    r = client.get(f"/api/v1/uncertainty?{query}")
    assert r.status_code == 422
    body = r.json()
    assert body["status"] == 422
    assert body["errors"][0]["field"] == field
    assert body["errors"][0]["reason"] == reason


def test_post_uncertainty_errors_name_the_range(client: TestClient) -> None:
    r = client.post(
        "/api/v1/uncertainty",
        json={"ranges": {"prompted.error_rate": {"low": 0, "mode": 0.1, "high": 1.5}}},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "ranges.prompted.error_rate"
    r = client.post(
        "/api/v1/uncertainty",
        json={"ranges": {"prompted.error_rate": {"low": 0.2, "mode": 0.1, "high": 0.5}}},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "ranges.prompted.error_rate"
    r = client.post("/api/v1/uncertainty", json={"samples": 0})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "samples"


def test_a_scenario_the_engine_cannot_price_is_a_422_not_a_500(client: TestClient) -> None:
    r = client.post(
        "/api/v1/uncertainty",
        json={
            "scenario": {"prompted": {"prices": {"input": 2, "output": 8}}},
            "ranges": {"prompted.cache_hit_rate": {"low": 0, "mode": 0, "high": 0.5}},
            "samples": 10,
        },
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "prompted.prices.cached_input"
