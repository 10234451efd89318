"""Server time of the results fragment (one slider move), against a bare FastAPI endpoint.

Three figures, all in-process and in the same run:
- render: parse the query, compute, build the charts, render `_results.html` (no HTTP);
- fragment: GET / with HX-Request through TestClient (adds routing and the ASGI round trip);
- bare: GET of an endpoint that returns a constant, through TestClient the same way.
The fragment/bare ratio says what the calculator adds over the framework's own floor.
Prints figures; asserts nothing. Run: .venv/bin/python bench/fragment.py [repeats]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request

from app.api import cache
from app.api.deps import run_compare
from app.main import app
from app.pricing import get_catalog
from app.templating import templates
from app.web import form, pages
from app.web.presets import PRESETS

QUERY = PRESETS[0].query  # the support chatbot: growth, caching, retraining


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    for _ in range(max(5, repeats // 20)):  # warm caches (templates, catalog, imports)
        fn()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def describe(name: str, ms: list[float]) -> float:
    ms = sorted(ms)
    median = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"{name:<44} median {median:7.3f} ms   p99 {p99:7.3f} ms   (n={len(ms)})")
    return median


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    # Every call repeats one URL: without this the response cache would answer all but the
    # first, and the figures would time the cache, not the work (make bench times both).
    cache.responses.maxsize = 0
    catalog = get_catalog()
    items = parse_qsl(QUERY, keep_blank_values=True)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": QUERY.encode(),
        "headers": [],
    }
    request = Request(scope)

    def render() -> None:
        reading, result = form.read(items, lambda s: run_compare(s, catalog))  # type: ignore[arg-type]
        context = pages.results_context(reading, result)
        templates.get_template("_partials/_results.html").render(request=request, **context)

    bare_app = FastAPI()

    @bare_app.get("/bare")
    def read_bare() -> dict[str, str]:
        return {"status": "ok"}

    with TestClient(app) as client, TestClient(bare_app) as bare_client:
        headers = {"HX-Request": "true"}
        assert client.get("/?" + QUERY, headers=headers).status_code == 200
        r = describe("compute + charts + render (no HTTP)", timed(render, repeats))
        f = describe(
            "GET / fragment via TestClient",
            timed(lambda: client.get("/?" + QUERY, headers=headers), repeats),
        )
        b = describe("GET /bare via TestClient", timed(lambda: bare_client.get("/bare"), repeats))
        print(
            f"fragment / bare: {f / b:.2f}x   (compute + render is {r:.3f} ms of the fragment's {f:.3f} ms)"
        )
        size = len(client.get("/?" + QUERY, headers=headers).content)
        print(f"fragment size: {size / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
