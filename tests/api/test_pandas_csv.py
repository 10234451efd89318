"""The CSV forms as pandas reads them: numbers come back as numbers where the doc says so."""

from __future__ import annotations

import io
import math

import pandas as pd
from fastapi.testclient import TestClient

# Every price given and the start date fixed: the figures do not move with the catalog.
SCENARIO = (
    "workload.queries_per_month=250000&workload.monthly_growth=0.05&workload.horizon_months=24"
    "&workload.start_date=2026-12-01&prompted.prices.input=2&prompted.prices.cached_input=0.5"
    "&prompted.prices.output=8&finetuned.prices.input=0.8&finetuned.prices.output=3.2"
    "&finetuned.training.price_per_mtok=5"
)
NEVER = SCENARIO.replace("250000", "1000")  # never pays back within the horizon


def read(client: TestClient, url: str) -> pd.DataFrame:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return pd.read_csv(io.StringIO(response.text))


def test_the_wide_form_has_typed_columns(client: TestClient) -> None:
    frame = read(client, f"/api/v1/compare?{SCENARIO}&format=csv&shape=wide")
    assert len(frame) == 1
    row = frame.iloc[0]
    expected = client.get(f"/api/v1/compare?{SCENARIO}").json()
    assert frame["savings_over_horizon"].dtype == "float64"
    assert row["savings_over_horizon"] == expected["savings_over_horizon"]
    assert frame["break_even.payback_month"].dtype == "int64"
    assert row["break_even.payback_month"] == expected["break_even"]["payback_month"] == 7
    assert frame["horizon_months"].dtype == "int64" and row["horizon_months"] == 24
    assert frame["finetuned.monthly.0.cumulative"].dtype == "float64"
    assert row["recommendation.approach"] == expected["recommendation"]["approach"]
    # Every column that is not text is numeric or boolean: nothing numeric read as a string.
    text = {
        name for name in frame.columns if frame[name].dtype == object or frame[name].dtype == "str"
    }
    for name in text:
        value = row[name]
        try:
            float(value)
        except ValueError:
            continue
        raise AssertionError(f"{name} holds a number read as text: {value!r}")


def test_a_null_is_nan_in_the_wide_form(client: TestClient) -> None:
    frame = read(client, f"/api/v1/compare?{NEVER}&format=csv&shape=wide")
    assert client.get(f"/api/v1/compare?{NEVER}").json()["break_even"]["payback_month"] is None
    assert frame["break_even.payback_month"].dtype == "float64"
    assert math.isnan(frame.iloc[0]["break_even.payback_month"])


def test_the_long_form_is_text_until_converted_as_the_doc_says(client: TestClient) -> None:
    url = f"/api/v1/compare?{SCENARIO}&format=csv"
    frame = pd.read_csv(io.StringIO(client.get(url).text), index_col="field")
    assert frame["value"].dtype in (object, "str")  # documented: a mixed column
    values = pd.to_numeric(frame["value"], errors="coerce")
    expected = client.get(f"/api/v1/compare?{SCENARIO}").json()
    assert values["savings_over_horizon"] == expected["savings_over_horizon"]
    assert math.isnan(values["recommendation.approach"])


def test_the_wide_and_long_forms_hold_the_same_fields_in_the_same_order(client: TestClient) -> None:
    wide = read(client, f"/api/v1/compare?{SCENARIO}&format=csv&shape=wide")
    long = read(client, f"/api/v1/compare?{SCENARIO}&format=csv")
    assert list(wide.columns) == list(long["field"])


def test_the_curves_are_numeric(client: TestClient) -> None:
    frame = read(client, f"/api/v1/compare/curves?{SCENARIO}&points=5&format=csv")
    assert {name: str(frame[name].dtype) for name in ("x", "prompted", "finetuned")} == {
        "x": "float64",
        "prompted": "float64",
        "finetuned": "float64",
    }


def test_shape_is_checked(client: TestClient) -> None:
    response = client.get(f"/api/v1/compare?{SCENARIO}&format=csv&shape=tall")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "shape"
