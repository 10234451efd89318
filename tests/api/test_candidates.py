"""/api/v1/candidates and its curves: every route, format and error."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient

from app.api.query import flatten_input

PROMPTED = {"prices": {"input": 2.0, "output": 8.0}, "static_prompt_tokens": 1000}
LORA = {
    "prices": {"input": 0.8, "output": 3.2},
    "training": {"price_per_mtok": 5, "examples": 2000},
}
BODY: dict[str, Any] = {
    "workload": {"queries_per_month": 500_000, "start_date": "2026-12-01"},
    "candidates": [
        {"id": "now", "kind": "prompted", **PROMPTED},
        {"id": "lora", "kind": "finetuned", **LORA},
        {"id": "mix", "kind": "hybrid", "core": "lora", "fallback": "now", "core_share": 0.9},
    ],
}


def dotted(body: dict[str, Any]) -> str:
    flat = flatten_input({k: v for k, v in body.items() if k != "candidates"})
    for i, c in enumerate(body["candidates"]):
        flat.update(flatten_input(c, f"candidates.{i}."))
    return urlencode(flat)


def test_post_and_get_give_the_same_answer(client: TestClient) -> None:
    posted = client.post("/api/v1/candidates", json=BODY)
    got = client.get("/api/v1/candidates?" + dotted(BODY))
    assert posted.status_code == got.status_code == 200
    assert posted.json() == got.json()
    data = posted.json()
    assert data["baseline"] == "now"
    assert [c["id"] for c in data["candidates"]] == ["now", "lora", "mix"]
    assert sorted(data["ranking"]) == ["lora", "mix", "now"]
    assert data["cheapest_by_volume"][0]["from_volume"] == 0
    assert data["cheapest_by_volume"][-1]["to_volume"] == 1e12
    assert data["recommendation"]["headline"]


def test_the_two_arm_figures_are_the_fine_tuned_candidates(client: TestClient) -> None:
    two = client.post(
        "/api/v1/compare",
        json={"workload": BODY["workload"], "prompted": PROMPTED, "finetuned": LORA},
    ).json()
    lora = client.post("/api/v1/candidates", json=BODY).json()["candidates"][1]
    assert lora["vs_baseline"]["payback_month"] == two["break_even"]["payback_month"]
    assert lora["vs_baseline"]["monthly_volume"] == two["break_even"]["monthly_volume"]
    assert lora["vs_baseline"]["queries_to_recoup"] == two["break_even"]["queries_to_recoup"]
    assert lora["vs_baseline"]["savings_over_horizon"] == two["savings_over_horizon"]
    assert lora["total_cost"] == two["finetuned"]["total_cost"]


def test_field_picks_one_value_by_candidate_id(client: TestClient) -> None:
    data = client.post("/api/v1/candidates", json=BODY).json()
    r = client.get(
        "/api/v1/candidates?" + dotted(BODY) + "&field=candidates.lora.vs_baseline.payback_month"
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text == str(data["candidates"][1]["vs_baseline"]["payback_month"])
    missing = client.get("/api/v1/candidates?" + dotted(BODY) + "&field=candidates.nope.total_cost")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "field"


def test_csv_has_one_row_per_candidate_and_figure(client: TestClient) -> None:
    r = client.get("/api/v1/candidates?" + dotted(BODY) + "&format=csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert set(rows[0]) == {"candidate", "figure", "value"}
    lora = {row["figure"]: row["value"] for row in rows if row["candidate"] == "lora"}
    data = client.post("/api/v1/candidates", json=BODY).json()["candidates"][1]
    assert float(lora["total_cost"]) == data["total_cost"]
    assert lora["vs_baseline.payback_month"] == str(data["vs_baseline"]["payback_month"])
    assert lora["rank"] in {"1", "2", "3"}


def test_curves_cover_every_candidate_and_the_envelope(client: TestClient) -> None:
    r = client.get("/api/v1/candidates/curves?" + dotted(BODY) + "&points=5")
    assert r.status_code == 200
    data = r.json()
    assert data["ids"] == ["now", "lora", "mix"]
    assert len(data["volume"]) == 5 and all(len(p["costs"]) == 3 for p in data["volume"])
    assert [len(c) for c in data["cumulative"]] == [13, 13, 13]
    posted = client.post("/api/v1/candidates/curves?points=5", json=BODY).json()
    assert posted == data
    text = client.get("/api/v1/candidates/curves?" + dotted(BODY) + "&points=3&format=csv").text
    assert text.splitlines()[0] == "curve,x,now,lora,mix,cheapest"


def _errors(r: Any) -> list[str]:
    assert r.status_code == 422, r.text
    return [e["field"] for e in r.json()["errors"]]


def test_errors_name_the_field(client: TestClient) -> None:
    bad_core = {
        **BODY,
        "candidates": [*BODY["candidates"][:2], {**BODY["candidates"][2], "core": "now"}],
    }
    assert _errors(client.post("/api/v1/candidates", json=bad_core)) == ["candidates.2.core"]
    bad_fallback = {
        **BODY,
        "candidates": [*BODY["candidates"][:2], {**BODY["candidates"][2], "fallback": "lora"}],
    }
    assert _errors(client.post("/api/v1/candidates", json=bad_fallback)) == [
        "candidates.2.fallback"
    ]
    dup = {**BODY, "candidates": [BODY["candidates"][0], {**BODY["candidates"][1], "id": "now"}]}
    assert _errors(client.post("/api/v1/candidates", json=dup)) == ["candidates.1.id"]
    nine = {**BODY, "candidates": [{**BODY["candidates"][0], "id": f"p{i}"} for i in range(9)]}
    assert _errors(client.post("/api/v1/candidates", json=nine)) == ["candidates"]
    one = {**BODY, "candidates": BODY["candidates"][:1]}
    assert _errors(client.post("/api/v1/candidates", json=one)) == ["candidates"]
    bad_id = {
        **BODY,
        "candidates": [{**BODY["candidates"][0], "id": "Not OK"}, BODY["candidates"][1]],
    }
    assert _errors(client.post("/api/v1/candidates", json=bad_id)) == ["candidates.0.id"]
    assert _errors(client.post("/api/v1/candidates", json={**BODY, "baseline": "zzz"})) == [
        "baseline"
    ]


def test_dotted_candidates_must_be_numbered_without_gaps(client: TestClient) -> None:
    q = dotted(BODY).replace("candidates.2.", "candidates.5.")
    assert _errors(client.get("/api/v1/candidates?" + q)) == ["candidates.2"]
    unknown = client.get("/api/v1/candidates?" + dotted(BODY) + "&candidates.0.nonsense=1")
    assert _errors(unknown) == ["candidates.0.nonsense"]
    kindless = client.get("/api/v1/candidates?candidates.0.id=a&candidates.1.id=b")
    assert "candidates.0" in _errors(kindless)[0]


def test_sensitivity_and_uncertainty_accept_candidates(client: TestClient) -> None:
    s = client.post("/api/v1/candidates/sensitivity", json={"scenario": BODY})
    assert s.status_code == 200, s.text
    data = s.json()
    assert data["baseline"] == "now" and data["leader"] in {"lora", "mix"}
    assert data["tornado"]["bars"]
    u = client.post(
        "/api/v1/candidates/uncertainty",
        json={
            "scenario": BODY,
            "ranges": {"workload.queries_per_month": {"low": 1e4, "mode": 5e5, "high": 5e7}},
            "samples": 500,
            "seed": 3,
        },
    )
    assert u.status_code == 200, u.text
    odds = {c["id"]: c["probability_cheapest"] for c in u.json()["candidates"]}
    assert set(odds) == {"now", "lora", "mix"} and abs(sum(odds.values()) - 1) < 1e-9
    bad = client.post(
        "/api/v1/candidates/uncertainty",
        json={
            "scenario": BODY,
            "ranges": {"candidates.9.output_tokens": {"low": 1, "mode": 2, "high": 3}},
        },
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "ranges.candidates.9.output_tokens"
