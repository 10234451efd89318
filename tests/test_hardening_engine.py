"""Issue 12, items 1 and 2: the self-hosted break-even search must end, whatever the numbers.

These go through the app, not the engine directly: until the solver is bounded, the request
time limit (REQUEST_TIME_LIMIT) turns the endless search into a 503, so the suite fails in
seconds instead of hanging. They pass once the engine's search is logarithmic or closed-form.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import app
from app.settings import settings

TINY_PRICES_HUGE_THROUGHPUT = {
    "prompted.prices.input": "1e-30",
    "prompted.prices.output": "1e-30",
    "finetuned.training.gpu_hours": "5000000",
    "finetuned.self_hosted.gpu_hourly_price": "1e-30",
    "finetuned.self_hosted.prefill_tokens_per_s": "1000000000",
    "finetuned.self_hosted.decode_tokens_per_s": "500000000",
}
DENORMAL_PRICES = {
    **TINY_PRICES_HUGE_THROUGHPUT,
    "prompted.prices.input": "1e-300",
    "prompted.prices.output": "1e-300",
    "finetuned.self_hosted.gpu_hourly_price": "5e-324",
}


@pytest.fixture(scope="module")
def safe_client() -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("params", [TINY_PRICES_HUGE_THROUGHPUT, DENORMAL_PRICES])
@pytest.mark.parametrize("path", ["/api/v1/compare", "/", "/embed"])
def test_self_hosted_break_even_search_ends(
    safe_client: TestClient, monkeypatch: pytest.MonkeyPatch, params: dict[str, str], path: str
) -> None:
    monkeypatch.setattr(settings, "request_time_limit", 3.0)
    r = safe_client.get(path, params=params)
    assert r.status_code in (200, 422), r.text[:500]
