"""`make soak`: a mixed workload against the app on loopback for a bounded time.

    python bench/soak.py [--seconds 60] [--connections 16] [--workers 2]

Checks, and exits non-zero when one fails:
- no 5xx and no socket error; every answer has the status its request expects (200, or 422
  for the deliberately invalid ones, naming the bad field);
- every response is correct: each distinct request's first answer is recomputed in process
  with app.domain.engine and compared exactly (JSON parsed and compared value for value,
  CSV cells parsed back to the same floats, single fields to the same text), and every later
  answer to that request must be byte-identical to it;
- no memory growth: each worker's RSS is sampled over the run and the slope of the second
  half (after warm-up) must stay under --max-slope MB/min.
Load goes to 127.0.0.1 only, is bounded by --seconds and --max-requests, and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import io
import json
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for bench.*

import contextlib

from bench.harness import HOST, Server, percentile

CATALOG_PROMPTED = ["gpt-4.1", "gpt-4o", "gpt-5-mini", "o4-mini", "gpt-5.4"]
CATALOG_FINETUNED = ["ft:gpt-4.1-mini", "ft:gpt-4.1-nano", "ft:gpt-4o-mini", "ft:gpt-4.1"]


@dataclass
class Req:
    kind: str  # compare, compare_post, field, csv, curves, health, invalid
    method: str
    path: str
    body: bytes = b""
    expect_status: int = 200
    scenario: dict[str, str] = field(default_factory=dict)  # dotted, as sent
    field_name: str = ""  # the single field asked for, or the field a 422 must name
    raw: bytes = b""  # the request on the wire

    def encode(self) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {HOST}"]
        if self.method == "POST":
            lines += ["Content-Type: application/json", f"Content-Length: {len(self.body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


def random_scenario(rng: random.Random) -> dict[str, str]:
    s = {
        "workload.queries_per_month": str(rng.choice([300, 5_000, 80_000, 1_000_000, 40_000_000])),
        "workload.monthly_growth": str(rng.choice([0, 0.02, 0.1, -0.05])),
        "workload.horizon_months": str(rng.choice([6, 12, 24, 36, 60])),
        "prompted.model": rng.choice(CATALOG_PROMPTED),
        "prompted.static_prompt_tokens": str(rng.choice([0, 800, 3000, 20_000])),
        "prompted.cache_hit_rate": str(rng.choice([0, 0.5, 0.9])),
        "finetuned.training.examples": str(rng.choice([0, 200, 1500, 50_000])),
    }
    if rng.random() < 0.3:
        s |= {
            "finetuned.self_hosted.gpu_hourly_price": str(rng.choice([0.8, 2.5, 6.0])),
            "finetuned.self_hosted.prefill_tokens_per_s": str(rng.choice([5_000, 20_000])),
            "finetuned.self_hosted.decode_tokens_per_s": str(rng.choice([800, 2500])),
            "finetuned.training.gpu_hours": str(rng.choice([4, 20])),
            "finetuned.training.gpu_hourly_price": "2.5",
        }
    else:
        s["finetuned.model"] = rng.choice(CATALOG_FINETUNED)
        if rng.random() < 0.3:
            s["finetuned.retrain_every_months"] = str(rng.choice([3, 6]))
            s["finetuned.new_examples_per_retrain"] = "200"
    return s


def nested(dotted: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in dotted.items():
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value if leaf == "model" else json.loads(value)
    return out


INVALID = [
    ("prompted.cache_hit_rate", "1.4"),
    ("workload.horizon_months", "0"),
    ("workload.queries_per_month", "-5"),
    ("prompted.model", "no-such-model"),
    ("workload.typo_field", "3"),
]
FIELDS = ["break_even.monthly_volume", "break_even.payback_month", "savings_over_horizon",
          "prompted.total_cost", "finetuned.monthly.1.cost", "recommendation.approach"]  # fmt: skip


def build_pool(rng: random.Random, size: int) -> list[Req]:
    """Distinct requests in the mix's proportions; the run draws from them at random."""
    pool: list[Req] = []
    kinds = ["compare"] * 40 + ["compare_post"] * 15 + ["field"] * 10 + ["csv"] * 10
    kinds += ["curves"] * 10 + ["health"] * 5 + ["invalid"] * 10
    for _ in range(size):
        kind = rng.choice(kinds)
        s = random_scenario(rng)
        if kind == "compare":
            req = Req(kind, "GET", f"/api/v1/compare?{urlencode(s)}", scenario=s)
        elif kind == "compare_post":
            body = json.dumps(nested(s)).encode()
            req = Req(kind, "POST", "/api/v1/compare", body=body, scenario=s)
        elif kind == "field":
            name = rng.choice(FIELDS)
            req = Req(kind, "GET", f"/api/v1/compare?{urlencode(s | {'field': name})}", scenario=s,
                      field_name=name)  # fmt: skip
        elif kind == "csv":
            req = Req(
                kind, "GET", f"/api/v1/compare?{urlencode(s | {'format': 'csv'})}", scenario=s
            )
        elif kind == "curves":
            req = Req(kind, "GET", f"/api/v1/compare/curves?{urlencode(s | {'points': '40'})}",
                      scenario=s)  # fmt: skip
        elif kind == "health":
            req = Req(kind, "GET", "/healthz")
        else:
            bad_field, bad_value = rng.choice(INVALID)
            s = s | {bad_field: bad_value}
            req = Req(kind, "GET", f"/api/v1/compare?{urlencode(s)}", expect_status=422,
                      scenario=s, field_name=bad_field)  # fmt: skip
        req.raw = req.encode()
        pool.append(req)
    return pool


# --- the load ----------------------------------------------------------------------------


@dataclass
class Tally:
    sent: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    wrong_status: list[str] = field(default_factory=list)
    socket_errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    first: dict[int, tuple[int, bytes]] = field(default_factory=dict)  # pool index -> answer
    digests: dict[int, bytes] = field(default_factory=dict)
    diverged: list[str] = field(default_factory=list)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
        if name.strip().lower() == "transfer-encoding":
            raise RuntimeError("chunked answers are not expected from this app")
    return status, await reader.readexactly(length)


async def connection(
    port: int, pool: list[Req], rng: random.Random, deadline: float, budget: list[int], t: Tally
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            i = rng.randrange(len(pool))
            req = pool[i]
            t0 = time.perf_counter()
            writer.write(req.raw)
            try:
                status, body = await read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                t.socket_errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(HOST, port)
                continue
            t.latencies_ms.append((time.perf_counter() - t0) * 1e3)
            t.sent += 1
            t.by_status[status] = t.by_status.get(status, 0) + 1
            if status != req.expect_status and len(t.wrong_status) < 20:
                t.wrong_status.append(f"{req.method} {req.path[:80]}: {status} {body[:200]!r}")
            digest = hashlib.blake2b(body, digest_size=16).digest()
            if i not in t.digests:
                t.digests[i] = digest
                t.first[i] = (status, body)
            elif t.digests[i] != digest and len(t.diverged) < 20:
                t.diverged.append(f"{req.method} {req.path[:80]}: answer differs from the first")
    finally:
        writer.close()


async def drive(port: int, pool: list[Req], args: argparse.Namespace, t: Tally) -> None:
    deadline = time.monotonic() + args.seconds
    budget = [args.max_requests]
    await asyncio.gather(
        *(
            connection(port, pool, random.Random(args.seed + c), deadline, budget, t)
            for c in range(args.connections)
        )
    )


# --- checking against the engine ----------------------------------------------------------


def check_answer(req: Req, status: int, body: bytes) -> str | None:
    """None when the answer is exactly what the engine computes in process, else why not."""
    from app.api.formats import flatten
    from app.api.query import parse
    from app.domain.engine import compare_resolved, curves, resolve
    from app.domain.scenario import Scenario
    from app.pricing import get_catalog
    from app.settings import settings

    if status != req.expect_status:
        return f"status {status}, expected {req.expect_status}"
    catalog = get_catalog()
    if req.kind == "health":
        got = json.loads(body)
        return None if got == {"status": "ok", "models": len(catalog.models)} else f"healthz {got}"
    if req.kind == "invalid":
        fields = [e["field"] for e in json.loads(body)["errors"]]
        return None if req.field_name in fields else f"422 names {fields}, not {req.field_name}"
    scenario = parse(Scenario, list(req.scenario.items()), ())
    resolved = resolve(scenario, catalog)
    comparison = compare_resolved(
        resolved, catalog, today=date.today(), stale_after_days=settings.prices_stale_after_days
    )
    expected = json.loads(comparison.model_dump_json())
    if req.kind in ("compare", "compare_post"):
        return None if json.loads(body) == expected else "JSON differs from the engine's"
    if req.kind == "curves":
        want = json.loads(curves(resolved, comparison, points=40).model_dump_json())
        return None if json.loads(body) == want else "curves differ from the engine's"
    if req.kind == "field":
        node: Any = expected
        for part in req.field_name.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        text = body.decode()
        if node is None:
            return None if text == "" else f"{req.field_name}: {text!r}, expected empty"
        if isinstance(node, float):
            return None if float(text) == node else f"{req.field_name}: {text} != {node!r}"
        return None if text == str(node) else f"{req.field_name}: {text!r} != {node!r}"
    # csv: every scalar of the result, in order, parsed back to the same value.
    rows = list(csv.reader(io.StringIO(body.decode())))
    want_rows = flatten(expected)
    if rows[0] != ["field", "value"] or len(rows) - 1 != len(want_rows):
        return f"CSV has {len(rows) - 1} rows, expected {len(want_rows)}"
    for (name, text), (want_name, value) in zip(rows[1:], want_rows, strict=True):
        if name != want_name or not _same_cell(text, value):
            return f"CSV row {name}={text!r}, expected {want_name}={value!r}"
    return None


def _same_cell(text: str, value: Any) -> bool:
    if value is None:
        return text == ""
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if isinstance(value, float):
        return float(text) == value
    if isinstance(value, int):
        return int(text) == value
    return text in (str(value), "'" + str(value))  # the formula guard prefixes a quote


# --- memory ------------------------------------------------------------------------------


def sample_memory(
    server: Server, every: float, stop: threading.Event, out: list[tuple[float, list[float]]]
) -> None:
    t0 = time.monotonic()
    while not stop.wait(every):
        with contextlib.suppress(OSError, RuntimeError):
            out.append((time.monotonic() - t0, server.rss_mb()))


def slope_mb_per_min(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB), in MB per minute."""
    n = len(points)
    if n < 3:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    return 60 * sxy / sxx if sxx else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    parser.add_argument("--pool", type=int, default=300, help="distinct requests in the mix")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--max-slope", type=float, default=1.0, help="MB/min allowed per worker")
    args = parser.parse_args()

    pool = build_pool(random.Random(args.seed), args.pool)
    tally = Tally()
    samples: list[tuple[float, list[float]]] = []
    server = Server("app.main:app", args.workers).start()
    stop = threading.Event()
    sampler = threading.Thread(
        target=sample_memory, args=(server, max(0.5, args.seconds / 60), stop, samples), daemon=True
    )
    try:
        rss_start = server.rss_mb()
        sampler.start()
        t0 = time.monotonic()
        asyncio.run(drive(server.port, pool, args, tally))
        elapsed = time.monotonic() - t0
        stop.set()
        sampler.join()
        rss_end = server.rss_mb()
    finally:
        stop.set()
        server.stop()

    wrong = [f"{pool[i].method} {pool[i].path[:80]}: {why}"
             for i, (status, body) in sorted(tally.first.items())
             if (why := check_answer(pool[i], status, body)) is not None]  # fmt: skip

    # Memory: slope over the second half of the run, per worker.
    half = [s for s in samples if s[0] >= args.seconds / 2]
    slopes = [
        slope_mb_per_min([(t, mbs[w]) for t, mbs in half if len(mbs) > w])
        for w in range(len(rss_end))
    ]
    errors_5xx = sum(n for status, n in tally.by_status.items() if status >= 500)
    lat = tally.latencies_ms
    print(f"soak: {args.seconds:.0f} s, {args.connections} connections, {args.workers} workers, "
          f"{len(pool)} distinct requests (seed {args.seed})")  # fmt: skip
    print(f"  requests: {tally.sent:,} in {elapsed:.1f} s = {tally.sent / elapsed:,.0f} req/s")
    if lat:
        print(f"  latency: p50 {percentile(lat, 50):.1f} ms, p99 {percentile(lat, 99):.1f} ms, "
              f"max {max(lat):.1f} ms")  # fmt: skip
    print(f"  statuses: {dict(sorted(tally.by_status.items()))}; 5xx {errors_5xx}; "
          f"socket errors {tally.socket_errors}")  # fmt: skip
    print(f"  checked against the engine: {len(tally.first)} distinct answers, {len(wrong)} wrong; "
          f"answers differing from their first: {len(tally.diverged)}")  # fmt: skip
    print("  RSS per worker: " + ", ".join(
        f"{a:.1f} -> {b:.1f} MB (slope {s:+.2f} MB/min)"
        for a, b, s in zip(rss_start, rss_end, slopes, strict=False)))  # fmt: skip

    failures = []
    if errors_5xx or tally.socket_errors:
        failures.append(f"{errors_5xx} 5xx, {tally.socket_errors} socket errors")
    failures += tally.wrong_status + tally.diverged + wrong
    if any(s > args.max_slope for s in slopes):
        failures.append(f"memory grows: slopes {slopes} MB/min over {args.max_slope}")
    if tally.sent == 0:
        failures.append("no request answered")
    for failure in failures[:30]:
        print(f"  FAIL {failure}")
    print("soak: " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
