from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings

from app.domain.scenario import Scenario
from app.pricing.catalog import Catalog, load_catalog

FIXTURES = Path(__file__).parent / "fixtures"

# Under CI, hypothesis draws the same examples on every run, so a red CI means a change broke
# something. Local runs draw new ones each time: that is how new edge cases are found (see
# tests/domain/test_spec_oracle.py); pin what they find as a plain test.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def no_response_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests look at how each answer is made (templates, context): no cached answers, except in
    tests/api/test_cache.py, which turns the cache on itself."""
    from app.api import cache

    cache.responses.clear()
    monkeypatch.setattr(cache.responses, "maxsize", 0)


@pytest.fixture(scope="session")
def test_catalog() -> Catalog:
    return load_catalog(FIXTURES / "catalog")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    from app.main import app

    with TestClient(app) as c:
        yield c


def explicit(**parts: Any) -> Scenario:
    """A scenario that uses no catalog: every price given, simple round numbers.

    Prompted: 1000-token static prompt, 100 dynamic, 100 output at 2/8 per MTok.
    Fine-tuned: 100 static, 100 dynamic, 100 output at 1/4 per MTok; training at 10 per MTok.
    Keyword arguments are merged into the sections of the same name, except `prices`,
    which replaces the arm's prices whole (so `prices={}` with a `model` uses the catalog).
    """
    data: dict[str, Any] = {
        "workload": {"queries_per_month": 10_000, "monthly_growth": 0, "horizon_months": 12},
        "prompted": {
            "prices": {"input": 2.0, "output": 8.0},
            "static_prompt_tokens": 1000,
            "dynamic_input_tokens": 100,
            "output_tokens": 100,
            "setup_cost": 0,
            "monthly_fixed_cost": 0,
        },
        "finetuned": {
            "prices": {"input": 1.0, "output": 4.0},
            "static_prompt_tokens": 100,
            "dynamic_input_tokens": 100,
            "output_tokens": 100,
            "setup_cost": 0,
            "monthly_fixed_cost": 0,
            "evaluation_cost": 0,
            "cost_per_example": 0,
            "training": {
                "examples": 1000,
                "tokens_per_example": 1000,
                "epochs": 1,
                "price_per_mtok": 10.0,
            },
        },
    }
    for section, values in parts.items():
        _merge(data.setdefault(section, {}), values)
    return Scenario.model_validate(data)


def _merge(into: dict[str, Any], values: dict[str, Any]) -> None:
    for key, value in values.items():
        if key != "prices" and isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
