"""Server time of the "What moves the answer" panel against the results fragment it follows.

In-process through TestClient, same run, median and p99 in ms:
- fragment: GET / with HX-Request (one slider move; the panel is only linked from it);
- panel: GET /analysis with HX-Request, without ranges (tornado only) and with two ranges
  (tornado + 10,000-sample Monte Carlo);
- full page: GET / without HX-Request, with two ranges (the panel is rendered in place).
Prints figures; asserts nothing. Run: .venv/bin/python bench/panel.py [repeats]
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient

from app.api import cache
from app.main import app
from bench.fragment import QUERY, timed

RANGES = (
    "&range.workload.queries_per_month=50000,200000,800000"
    "&range.finetuned.training.examples=500,1000,4000"
)
HX = {"HX-Request": "true"}


def main(repeats: int) -> None:
    client = TestClient(app)
    # Every call repeats one URL: without this the response cache would answer all but the
    # first, and the figures would time the cache, not the work (make bench times both).
    cache.responses.maxsize = 0
    cases = {
        "fragment (GET / HX)": ("/?" + QUERY, HX),
        "panel, no ranges": ("/analysis?" + QUERY, HX),
        "panel, two ranges": ("/analysis?" + QUERY + RANGES, HX),
        "full page, two ranges": ("/?" + QUERY + RANGES, {}),
    }
    for name, (url, headers) in cases.items():
        times = timed(lambda u=url, h=headers: client.get(u, headers=h), repeats)
        p99 = sorted(times)[max(0, int(len(times) * 0.99) - 1)]
        print(f"{name:24s} median {statistics.median(times):6.2f} ms   p99 {p99:6.2f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
