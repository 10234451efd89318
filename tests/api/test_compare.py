"""/api/v1/compare and /api/v1/compare/curves: every route, format and error."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient

SCENARIO = {
    "workload": {"queries_per_month": 50_000, "monthly_growth": 0.05, "horizon_months": 18},
    "prompted": {"model": "gpt-4.1", "static_prompt_tokens": 2500, "cache_hit_rate": 0.5},
    "finetuned": {"model": "ft:gpt-4.1-mini", "training": {"examples": 2000}},
}
QUERY = (
    "workload.queries_per_month=50000&workload.monthly_growth=0.05&workload.horizon_months=18"
    "&prompted.model=gpt-4.1&prompted.static_prompt_tokens=2500&prompted.cache_hit_rate=0.5"
    "&finetuned.model=ft:gpt-4.1-mini&finetuned.training.examples=2000"
)


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_post_and_get_give_the_same_result(client: TestClient) -> None:
    posted = client.post("/api/v1/compare", json=SCENARIO)
    got = client.get(f"/api/v1/compare?{QUERY}")
    assert posted.status_code == got.status_code == 200
    assert posted.json() == got.json()
    body = posted.json()
    assert set(body["break_even"]) == {"payback_month", "monthly_volume", "queries_to_recoup"}
    assert body["prompted"]["model"] == "gpt-4.1"
    assert body["prices_as_of"] is not None
    assert len(body["prompted"]["monthly"]) == 19
    assert set(body["prompted"]["monthly"][1]) >= {"month", "queries", "cost", "cumulative"}


def test_empty_request_is_the_documented_default_scenario(client: TestClient) -> None:
    r = client.post("/api/v1/compare")
    assert r.status_code == 200
    assert r.json()["horizon_months"] == 12
    assert client.get("/api/v1/compare").json() == r.json()


def test_csv_has_one_field_value_row_per_scalar(client: TestClient) -> None:
    r = client.get(f"/api/v1/compare?{QUERY}&format=csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["field", "value"]
    values = dict(rows[1:])
    body = client.get(f"/api/v1/compare?{QUERY}").json()
    assert float(values["savings_over_horizon"]) == body["savings_over_horizon"]
    assert float(values["prompted.monthly.3.cost"]) == body["prompted"]["monthly"][3]["cost"]
    assert values["recommendation.approach"] == body["recommendation"]["approach"]


def test_post_csv(client: TestClient) -> None:
    r = client.post("/api/v1/compare?format=csv", json=SCENARIO)
    assert r.status_code == 200 and r.text.startswith("field,value\n")


def test_single_field_as_plain_text_for_a_spreadsheet_cell(client: TestClient) -> None:
    r = client.get(f"/api/v1/compare?{QUERY}&field=break_even.monthly_volume")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    body = client.get(f"/api/v1/compare?{QUERY}").json()
    assert float(r.text) == body["break_even"]["monthly_volume"]
    month = client.get(f"/api/v1/compare?{QUERY}&field=prompted.monthly.2.cost")
    assert float(month.text) == body["prompted"]["monthly"][2]["cost"]


def test_null_field_is_an_empty_cell(client: TestClient) -> None:
    q = "finetuned.prices.input=50&finetuned.prices.output=50&finetuned.model=ft:gpt-4.1-mini"
    r = client.get(f"/api/v1/compare?{q}&field=break_even.monthly_volume")
    assert r.status_code == 200 and r.text == ""


@pytest.mark.parametrize("field", ["break_even.nope", "prompted", "prompted.monthly.999.cost"])
def test_unknown_or_group_field_is_422(client: TestClient, field: str) -> None:
    r = client.get(f"/api/v1/compare?field={field}")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "field"


def test_curves_json_and_csv(client: TestClient) -> None:
    r = client.get(f"/api/v1/compare/curves?{QUERY}&points=11")
    assert r.status_code == 200
    body = r.json()
    assert len(body["volume"]) == 11
    assert body["volume"][0]["volume"] == pytest.approx(100)
    assert body["volume"][-1]["volume"] == pytest.approx(1e9)
    assert len(body["cumulative"]) == 19
    compare = client.get(f"/api/v1/compare?{QUERY}").json()
    assert body["break_even_volume"] == compare["break_even"]["monthly_volume"]
    c = client.get(f"/api/v1/compare/curves?{QUERY}&points=11&format=csv")
    rows = list(csv.reader(io.StringIO(c.text)))
    assert rows[0] == ["curve", "x", "prompted", "finetuned"]
    assert sum(1 for row in rows if row[0] == "volume") == 11
    assert sum(1 for row in rows if row[0] == "cumulative") == 19


def test_curves_reject_inverted_range(client: TestClient) -> None:
    r = client.get("/api/v1/compare/curves?volume_min=1000&volume_max=10")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "volume_min"


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        (
            "workload.queries_per_month=-1",
            "workload.queries_per_month",
            "greater than or equal to 0",
        ),
        ("prompted.cache_hit_rate=1.4", "prompted.cache_hit_rate", "less than or equal to 1"),
        ("workload.queries_per_month=NaN", "workload.queries_per_month", "finite number"),
        ("workload.queries_per_month=inf", "workload.queries_per_month", "finite number"),
        ("workload.queries_per_month=abc", "workload.queries_per_month", "valid number"),
        ("workload.queries_per_month=1e30", "workload.queries_per_month", "less than or equal to"),
        ("workload.horizon_months=2.5", "workload.horizon_months", "valid integer"),
        ("workload.horizon_months=0", "workload.horizon_months", "greater than or equal to 1"),
        ("workload.queries_per_mnth=5", "workload.queries_per_mnth", "unknown field"),
        ("factors.requirements_volatility=sometimes", "factors.requirements_volatility", "low"),
        ("finetuned.training.epochs=0", "finetuned.training.epochs", "greater than 0"),
        ("workload=5", "workload", ""),
        ("prompted.model=gpt-4.2", "prompted.model", "did you mean"),
        (
            "finetuned.self_hosted.gpu_hourly_price=2&finetuned.self_hosted.prefill_tokens_per_s=1e-300"
            "&finetuned.self_hosted.decode_tokens_per_s=1e-300&workload.queries_per_month=1e12",
            "finetuned.self_hosted.prefill_tokens_per_s",
            "greater than or equal to 1",
        ),
        ("prompted.prices.output=3", "prompted.prices.input", "required"),
    ],
)
def test_bad_input_is_422_naming_field_and_reason(
    client: TestClient, query: str, field: str, reason: str
) -> None:
    r = client.get(f"/api/v1/compare?{query}")
    assert r.status_code == 422
    body = r.json()
    assert body["status"] == 422
    fields = {e["field"]: e["reason"] for e in body["errors"]}
    assert field in fields, body
    assert reason in fields[field]


def test_unknown_model_suggests_close_ids(client: TestClient) -> None:
    r = client.post("/api/v1/compare", json={"prompted": {"model": "gpt-4.1-mnii"}})
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err["field"] == "prompted.model"
    assert "gpt-4.1-mini" in err["suggestions"]


@pytest.mark.parametrize(
    "body",
    [
        '{"workload": {"queries_per_month": NaN}}',
        '{"workload": {"queries_per_month": Infinity}}',
        '{"workload": {"queries_per_month": "lots"}}',
        '{"workload": []}',
        "[1, 2]",
        "{not json",
        '{"prompted": {"static_prompt_tokens": 1e400}}',
    ],
)
def test_malformed_json_bodies_are_422(client: TestClient, body: str) -> None:
    r = client.post("/api/v1/compare", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["errors"], r.text


def test_error_shape_is_pinned(client: TestClient) -> None:
    r = client.get("/api/v1/compare?workload.monthly_growth=2")
    assert r.json() == {
        "status": 422,
        "title": "Invalid input",
        "errors": [
            {
                "field": "workload.monthly_growth",
                "reason": "Input should be less than or equal to 1",
                "type": "less_than_equal",
                "input": "2",
                "suggestions": [],
            }
        ],
    }


def test_not_found_uses_the_error_shape(client: TestClient) -> None:
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.json() == {"status": 404, "title": "Not Found", "errors": []}


def test_openapi_describes_every_dotted_parameter_with_unit(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/api/v1/compare"]["get"]["parameters"]}
    for name in (
        "workload.queries_per_month",
        "prompted.prices.input",
        "finetuned.training.examples",
        "finetuned.self_hosted.decode_tokens_per_s",
        "factors.min_examples",
    ):
        assert name in params, name
        assert params[name]["description"], name
    assert "USD per 1M" in params["prompted.prices.input"]["description"]
    assert "queries/month" in params["workload.queries_per_month"]["description"]
    assert json.dumps(spec)  # serialisable


def test_numbers_are_unrounded(client: TestClient) -> None:
    body = client.get(f"/api/v1/compare?{QUERY}").json()
    # 50,000 * 1.05^(m-1) is not a round number from month 3 on
    assert body["prompted"]["monthly"][3]["queries"] == 50_000 * 1.05**2
