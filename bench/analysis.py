"""Time the sensitivity analysis and a 10,000-sample Monte Carlo on this machine.

Run: .venv/bin/python bench/analysis.py   (prints figures; asserts nothing)
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.domain.scenario import Scenario
from app.domain.sensitivity import sensitivity
from app.domain.uncertainty import Range, simulate
from app.pricing import get_catalog

PER_TOKEN = Scenario.model_validate(
    {
        "workload": {"queries_per_month": 300_000, "monthly_growth": 0.03, "horizon_months": 24},
        "prompted": {"model": "gpt-4.1", "cache_hit_rate": 0.5},
        "finetuned": {"model": "ft:gpt-4.1-mini", "retrain_every_months": 3},
    }
)
SELF_HOSTED = Scenario.model_validate(
    {
        "workload": {"queries_per_month": 3_000_000, "monthly_growth": 0.05, "horizon_months": 24},
        "prompted": {"model": "gpt-4.1"},
        "finetuned": {
            "self_hosted": {
                "gpu_hourly_price": 2.5,
                "prefill_tokens_per_s": 8_000,
                "decode_tokens_per_s": 900,
            },
            "training": {"gpu_hours": 12},
        },
    }
)
RANGES = {
    "workload.queries_per_month": Range(low=50_000, mode=300_000, high=5_000_000),
    "workload.monthly_growth": Range(low=0, mode=0.03, high=0.1),
    "prompted.static_prompt_tokens": Range(
        low=1_000, mode=3_000, high=8_000, distribution="triangular"
    ),
    "finetuned.training.examples": Range(low=300, mode=1_000, high=10_000),
    "finetuned.cost_per_example": Range(low=0.5, mode=2, high=10),
}
SELF_HOSTED_RANGES = {
    **RANGES,
    "finetuned.self_hosted.gpu_hourly_price": Range(low=1, mode=2.5, high=6),
    "finetuned.self_hosted.decode_tokens_per_s": Range(low=300, mode=900, high=3_000),
}


def measure(label: str, fn: Callable[[], object], repeat: int) -> None:
    fn()  # warm up imports and caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    print(
        f"{label:<48} median {statistics.median(times) * 1000:8.2f} ms   p99 {p99 * 1000:8.2f} ms   (n={repeat})"
    )


def main() -> None:
    catalog = get_catalog()
    measure("sensitivity, per-token", lambda: sensitivity(PER_TOKEN, catalog), 200)
    measure("sensitivity, self-hosted", lambda: sensitivity(SELF_HOSTED, catalog), 200)
    measure(
        "uncertainty 10,000 samples, per-token, 24 months",
        lambda: simulate(PER_TOKEN, catalog, RANGES, samples=10_000, seed=1),
        100,
    )
    measure(
        "uncertainty 10,000 samples, self-hosted, 24 months",
        lambda: simulate(SELF_HOSTED, catalog, SELF_HOSTED_RANGES, samples=10_000, seed=1),
        100,
    )
    measure(
        "uncertainty 100,000 samples, per-token, 24 months",
        lambda: simulate(PER_TOKEN, catalog, RANGES, samples=100_000, seed=1),
        10,
    )


if __name__ == "__main__":
    main()
