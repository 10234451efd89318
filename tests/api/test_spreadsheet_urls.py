"""Every URL in docs/spreadsheets.md answers as the page says it does."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

DOC = Path(__file__).resolve().parents[2] / "docs" / "spreadsheets.md"
HOST = "http://tune.example.internal"


def formula_urls() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    urls = []
    for literal in re.findall(r'"(http://tune\.example\.internal[^"]*)"', text):
        # Cell references are spliced in with "&B2&": fill them with example values.
        urls.append(literal)
    return urls


def fill(url: str) -> str:
    return url.replace(HOST, "")


def test_the_doc_has_formulas() -> None:
    assert len(formula_urls()) >= 4


@pytest.mark.parametrize("url", formula_urls())
def test_formula_url_answers(client: TestClient, url: str) -> None:
    # Strings concatenated with cells end with '=' or start with '&': give the cells values.
    path = fill(url)
    if path.endswith("="):
        path += "250000"
    if path.startswith("&"):
        return
    r = client.get(path)
    assert r.status_code == 200, (path, r.text)
    if "format=csv" in path:
        rows = list(csv.reader(io.StringIO(r.text)))
        if "shape=wide" in path:  # a header row and a row of values, one column per field
            assert len(rows) == 2 and len(rows[0]) == len(rows[1]) > 3
        else:
            assert len(rows) > 3


def test_cell_formulas_compose_into_valid_urls(client: TestClient) -> None:
    text = DOC.read_text(encoding="utf-8")
    for formula in re.findall(r"^=.*$", text, flags=re.M):
        parts = re.findall(r'"([^"]*)"', formula)
        url = "".join(p if p.startswith(("http", "&")) else "" for p in parts)
        if not url.startswith(HOST):
            continue
        url = url.replace("workload.queries_per_month=&", "workload.queries_per_month=250000&")
        url = url.replace("workload.horizon_months=&", "workload.horizon_months=24&")
        r = client.get(url.replace(HOST, ""))
        assert r.status_code == 200, (url, r.text)


def test_power_query_request_answers(client: TestClient) -> None:
    r = client.get(
        "/api/v1/compare/curves",
        params={"workload.queries_per_month": "500000", "points": "25", "format": "csv"},
    )
    assert r.status_code == 200
    assert r.text.splitlines()[0] == "curve,x,prompted,finetuned"
