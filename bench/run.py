"""`make bench`: one table of the app's speed, measured side by side in one run on this machine.

- in process: median and p99 of the computations behind every view;
- over HTTP on loopback, with the load generator in a second process (wrk, else
  bench/loadgen.py), bounded in time and count: requests/s, p50 and p99 of each route at
  1, 16 and 64 connections, each as a ratio to a bare FastAPI endpoint served the same way;
- start-up (process start to the first /healthz 200) and resident memory per worker.

    python bench/run.py [--workers 2] [--seconds 5] [--write-doc] [--profile]

`--write-doc` rewrites the marked section of docs/performance.md with this run's table.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for bench.*

from app.settings import Settings
from bench.harness import (
    BENCH,
    CANDIDATES_2,
    CANDIDATES_6,
    HOST,
    PER_TOKEN,
    ROOT,
    SELF_HOSTED,
    Server,
    machine,
    median,
    percentile,
    request,
    write_section,
)

DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

# Targets of issue 8.
FRAGMENT_SHARE_AT_16 = 1 / 3  # results fragment req/s over bare req/s at 16 connections
P99_AT_64_MS = 50.0
STARTUP_S = 2.0
RSS_MB = 150.0


@dataclass(frozen=True)
class Route:
    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    server: str = "app"  # "app" or "bare"
    # A query parameter given a new value per request (vary_from + 1, + 2, ...): every request
    # is a new scenario, so nothing is answered from the response cache.
    vary: str = ""
    vary_from: int = 0


QUERY = urlencode(PER_TOKEN)
# The same scenario without its volume, which the "new scenario each request" lines vary: the
# volume slider is the one a user drags most. A new volume changes every figure, the cumulative
# and per-query charts and the volume chart's marker; the app reuses nothing between requests.
VOLUME = "workload.queries_per_month"
VARY_FROM = int(PER_TOKEN[VOLUME])
QUERY_NO_VOLUME = urlencode({k: v for k, v in PER_TOKEN.items() if k != VOLUME})
# ~2,000 tokens of English-like text: a realistic system prompt, not the 2 MB limit.
PROMPT = " ".join(["Answer the customer's question using only the policy text below."] * 180)

BARE = "bare FastAPI endpoint"
TOKENS_OURS = "count tokens of a ~100k-token prompt (POST /api/v1/tokens's work)"
TOKENS_DIRECT = "the same with tiktoken directly (o200k_base encode_ordinary)"
FRAGMENT = "results fragment (GET / + HX-Request)"
FRAGMENT_MISS = "results fragment, a new scenario each request"
# The same requests from a browser that accepts compression: the fragment is compressed per
# request at settings.gzip_level / brotli_level (browsers offer br over HTTPS only, gzip always).
FRAGMENT_MISS_GZIP = FRAGMENT_MISS + ", gzip"
FRAGMENT_MISS_BR = FRAGMENT_MISS + ", brotli"
FRAGMENTS = (FRAGMENT, FRAGMENT_MISS, FRAGMENT_MISS_GZIP, FRAGMENT_MISS_BR)
# What is measured over HTTP, one line a route. A route that does not answer 200 when the
# run starts is left out of the table with a note (so routes still being built cost nothing).
ROUTES: dict[str, Route] = {
    BARE: Route("/bare", server="bare"),
    "GET /api/v1/compare": Route(f"/api/v1/compare?{QUERY}"),
    "GET /api/v1/compare, a new scenario each request": Route(
        f"/api/v1/compare?{QUERY_NO_VOLUME}", vary=VOLUME, vary_from=VARY_FROM
    ),
    FRAGMENT: Route(f"/?{QUERY}", headers=(("HX-Request", "true"),)),
    FRAGMENT_MISS: Route(
        f"/?{QUERY_NO_VOLUME}",
        headers=(("HX-Request", "true"),),
        vary=VOLUME,
        vary_from=VARY_FROM,
    ),
    "candidates fragment, 2 cards, a new scenario each request": Route(
        "/?" + urlencode({k: v for k, v in CANDIDATES_2.items() if k != VOLUME}),
        headers=(("HX-Request", "true"),),
        vary=VOLUME,
        vary_from=VARY_FROM,
    ),
    "candidates fragment, 6 cards, a new scenario each request": Route(
        "/?" + urlencode({k: v for k, v in CANDIDATES_6.items() if k != VOLUME}),
        headers=(("HX-Request", "true"),),
        vary=VOLUME,
        vary_from=VARY_FROM,
    ),
    FRAGMENT_MISS_GZIP: Route(
        f"/?{QUERY_NO_VOLUME}",
        headers=(("HX-Request", "true"), ("Accept-Encoding", "gzip, deflate")),
        vary=VOLUME,
        vary_from=VARY_FROM,
    ),
    FRAGMENT_MISS_BR: Route(
        f"/?{QUERY_NO_VOLUME}",
        headers=(("HX-Request", "true"), ("Accept-Encoding", "gzip, deflate, br")),
        vary=VOLUME,
        vary_from=VARY_FROM,
    ),
    "GET /embed": Route(f"/embed?{QUERY}"),
    "POST /api/v1/tokens (~2k tokens)": Route(
        "/api/v1/tokens",
        method="POST",
        headers=(("Content-Type", "application/json"),),
        body=json.dumps({"model": "gpt-4.1", "text": PROMPT}).encode(),
    ),
}


# --- in process ------------------------------------------------------------------------


def in_process_cases() -> dict[str, Callable[[], object]]:
    """The computations behind the views, each a call without arguments."""
    from app.api.query import parse
    from app.domain.engine import compare_resolved, curves, resolve
    from app.domain.scenario import Scenario
    from app.pricing import get_catalog

    catalog = get_catalog()
    today = date.today()

    def compare_and_curves(query: dict[str, str]) -> Callable[[], object]:
        scenario = parse(Scenario, list(query.items()), ())

        def run() -> object:
            resolved = resolve(scenario, catalog)
            comparison = compare_resolved(resolved, catalog, today=today, stale_after_days=120)
            return curves(resolved, comparison)

        return run

    items = list(PER_TOKEN.items())

    def api_work() -> object:
        # What GET /api/v1/compare does besides the framework: parse, compute, serialise.
        scenario = parse(Scenario, items, ("format", "field"))
        resolved = resolve(scenario, catalog)
        comparison = compare_resolved(resolved, catalog, today=today, stale_after_days=120)
        return comparison.model_dump_json()

    from urllib.parse import parse_qsl

    from starlette.requests import Request

    from app.api.deps import run_compare
    from app.domain import encodings
    from app.domain.sensitivity import sensitivity
    from app.domain.tokens import count_text
    from app.domain.uncertainty import Range, simulate
    from app.templating import templates
    from app.web import form, pages

    fragment_items = parse_qsl(QUERY, keep_blank_values=True)
    request = Request(
        {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": []}
    )
    template = templates.get_template("_partials/_results.html")

    def fragment() -> object:
        # The results fragment without HTTP: read the form, compute, chart geometry, render.
        reading, result = form.read(fragment_items, lambda s: run_compare(s, catalog))
        return template.render(request=request, **pages.results_context(reading, result))

    from app.web import candidates as candidates_page

    candidates_template = templates.get_template("_partials/_candidates_results.html")

    def candidates_fragment(query: dict[str, str]) -> Callable[[], object]:
        cards = list(query.items())

        def run() -> object:
            # The candidates page's fragment without HTTP: read, compare, charts, render.
            reading, result = form.read(
                cards,
                lambda s: candidates_page.run_candidates(s, catalog),
                model=candidates_page.CandidatesScenario,
                prepare=candidates_page.listed,
            )
            context = candidates_page.results_context(reading, result)
            context.update(cards=candidates_page.cards(reading, catalog), oob_cards=True)
            return candidates_template.render(request=request, **context)

        return run

    scenario = parse(Scenario, items, ())
    ranges = {
        "workload.queries_per_month": Range(low=50_000, mode=100_000, high=400_000),
        "finetuned.training.examples": Range(low=500, mode=1000, high=3000),
        "prompted.cache_hit_rate": Range(low=0.0, mode=0.3, high=0.8),
    }
    # ~100k tokens of varied English (a long prompt); both sides count the same string.
    words = PROMPT.split() + [f"term{i}" for i in range(4000)]
    long_prompt = " ".join(words[i % len(words)] for i in range(45_000))
    o200k = encodings.load("o200k_base")

    return {
        "compare() + curves(), per-token, 36 months": compare_and_curves(PER_TOKEN),
        "compare() + curves(), self-hosted, 36 months": compare_and_curves(SELF_HOSTED),
        "query parse + compare() + JSON, per-token": api_work,
        "results fragment: form, compare, charts, render": fragment,
        "candidates fragment, 2 cards: form, compare, charts, render": candidates_fragment(
            CANDIDATES_2
        ),
        "candidates fragment, 6 cards: form, compare, charts, render": candidates_fragment(
            CANDIDATES_6
        ),
        "sensitivity (tornado, every input low and high)": lambda: sensitivity(scenario, catalog),
        "uncertainty, 10,000 samples, 3 ranges": lambda: simulate(
            scenario, catalog, ranges, samples=10_000, seed=1
        ),
        TOKENS_OURS: lambda: count_text("gpt-4.1", long_prompt, catalog),
        TOKENS_DIRECT: lambda: o200k.encode_ordinary(long_prompt),
    }


def time_calls(
    fn: Callable[[], object], iterations: int, budget_s: float = 3.0
) -> tuple[float, float]:
    """Median and p99 of one call, in milliseconds: `iterations` calls, or fewer (at least 30)
    when the slow cases (Monte Carlo, 100k-token counts) would take over `budget_s`."""
    start = time.perf_counter()
    for _ in range(min(200, iterations)):
        fn()
        if time.perf_counter() - start > budget_s / 4:
            break
    samples = []
    start = time.perf_counter()
    for i in range(iterations):
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / 1e6)
        if i >= 29 and time.perf_counter() - start > budget_s:
            break
    return median(samples), percentile(samples, 99)


def profile(seconds: float = 3.0) -> str:
    """cProfile of the GET /api/v1/compare work (parse, compare, curves, JSON), by own time."""
    cases = in_process_cases()
    calls = [cases["query parse + compare() + JSON, per-token"], *list(cases.values())[:2]]
    profiler = cProfile.Profile()
    deadline = time.perf_counter() + seconds
    profiler.enable()
    while time.perf_counter() < deadline:
        for call in calls:
            call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
    return out.getvalue()


# --- over HTTP -------------------------------------------------------------------------


@dataclass
class Load:
    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    non200: int
    socket_errors: int
    max_ms: float = 0.0
    # Each worker's part of the CPU the server used during the line. uvicorn's workers share
    # one socket and the first awake accepts every pending connection, so when the load
    # generator opens its connections at once one worker may serve nearly all of them.
    worker_shares: tuple[float, ...] = ()

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def split(self) -> str:
        if len(self.worker_shares) < 2:
            return ""
        return "/".join(f"{share * 100:.0f}" for share in self.worker_shares) + "%"


def run_load(
    tool: str, port: int, route: Route, connections: int, seconds: int, max_requests: int
) -> Load:
    body_file = None
    if route.body:
        with tempfile.NamedTemporaryFile(prefix="bench-body-", delete=False) as handle:
            handle.write(route.body)
        body_file = handle.name
    try:
        if tool == "wrk":
            env = {
                **os.environ,
                "BENCH_METHOD": route.method,
                "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in route.headers),
                "BENCH_BODY_FILE": body_file or "",
                "BENCH_MAX_PER_THREAD": str(max_requests),
                "BENCH_VARY": route.vary,
                "BENCH_VARY_FROM": str(route.vary_from),
            }
            # One wrk thread: on 2 cores every extra load thread takes CPU from the server.
            cmd = [
                "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                "-s", str(BENCH / "report.lua"), f"http://{HOST}:{port}{route.path}",
            ]  # fmt: skip
        else:
            env = dict(os.environ)
            cmd = [
                sys.executable, str(BENCH / "loadgen.py"), "--port", str(port),
                "--path", route.path, "--method", route.method,
                "--connections", str(connections), "--seconds", str(seconds),
                "--max-requests", str(max_requests),
            ]  # fmt: skip
            for name, value in route.headers:
                cmd += ["--header", f"{name}: {value}"]
            if body_file:
                cmd += ["--body-file", body_file]
            if route.vary:
                cmd += ["--vary", route.vary, "--vary-from", str(route.vary_from)]
        done = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=seconds + 60, check=True
        )
    finally:
        if body_file:
            os.unlink(body_file)
    line = [x for x in done.stdout.splitlines() if x.startswith("{")][-1]
    data = json.loads(line)
    return Load(
        requests=int(data["requests"]),
        duration_s=float(data["duration_s"]),
        p50_ms=float(data["p50_ms"]),
        p99_ms=float(data["p99_ms"]),
        non200=int(data["non200"]),
        socket_errors=int(data["socket_errors"]),
        max_ms=float(data.get("max_ms", 0.0)),
    )


def answers_200(server: Server, route: Route) -> tuple[bool, str]:
    status, _body = request(
        server.port, route.path, route.method, dict(route.headers), route.body or None
    )
    return status == 200, f"answered {status}"


# --- the run ---------------------------------------------------------------------------


@dataclass
class Row:
    what: str
    conns: str
    value: str
    vs_bare: str
    target: str = ""


def fmt_ms(ms: float) -> str:
    return f"{ms:.3f} ms" if ms < 1 else f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers of both servers")
    parser.add_argument("--seconds", type=int, default=5, help="seconds per HTTP measurement")
    parser.add_argument("--connections", default="1,16,64")
    parser.add_argument("--max-requests", type=int, default=500_000, help="cap per measurement")
    parser.add_argument("--iterations", type=int, default=2000, help="calls per in-process case")
    parser.add_argument("--starts", type=int, default=3, help="cold starts timed per server")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--write-doc", action="store_true", help=f"rewrite the table in {DOC.name}")
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of the compare path"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated substrings: measure only the HTTP lines whose name has one "
        "(the bare endpoint is always measured); skips the in-process cases",
    )
    args = parser.parse_args()
    conns = [int(c) for c in args.connections.split(",")]
    tool = args.loadgen
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    command = "python bench/run.py " + " ".join(sys.argv[1:])

    rows: list[Row] = []
    notes: list[str] = []
    verdicts: list[str] = []
    load_before = Path("/proc/loadavg").read_text().split()[0]

    only = [part for part in args.only.split(",") if part]
    chosen = {
        name: route
        for name, route in ROUTES.items()
        if not only or name == BARE or any(part in name for part in only)
    }
    # In process first, while nothing else runs.
    for name, fn in ({} if only else in_process_cases()).items():
        med, p99 = time_calls(fn, args.iterations)
        rows.append(Row(f"in process: {name}", "", f"median {fmt_ms(med)} · p99 {fmt_ms(p99)}", ""))
        print(f"  {name}: median {med:.3f} ms, p99 {p99:.3f} ms", file=sys.stderr)

    # Cold starts: process start to the first /healthz 200.
    starts: dict[str, list[float]] = {"app": [], "bare": []}
    for _ in range(args.starts):
        for kind, ref in (("app", "app.main:app"), ("bare", "bench.bare_app:app")):
            server = Server(ref, args.workers).start()
            starts[kind].append(server.started_in)
            server.stop()
    app_start, bare_start = median(starts["app"]), median(starts["bare"])
    rows.append(
        Row(
            "start-up: process start to /healthz 200",
            "",
            f"median {app_start:.2f} s · max {max(starts['app']):.2f} s (of {args.starts})",
            f"{app_start / bare_start:.2f}× ({bare_start:.2f} s)",
            f"< {STARTUP_S:.0f} s: {'met' if max(starts['app']) < STARTUP_S else 'MISSED'}",
        )
    )

    app = Server("app.main:app", args.workers).start()
    bare = Server("bench.bare_app:app", args.workers).start()
    try:
        servers = {"app": app, "bare": bare}
        routes: dict[str, Route] = {}
        for name, route in chosen.items():
            ok, why = answers_200(servers[route.server], route)
            if ok:
                routes[name] = route
            else:
                notes.append(
                    f"{name} ({route.method} {route.path[:40]}…) not measured: {why} at start."
                )
        # Warm-up: every route at 16 connections for a second (JIT-free Python still has
        # caches to fill: imports on first use, pydantic validators, the catalog).
        for route in routes.values():
            run_load(tool, servers[route.server].port, route, 16, 1, args.max_requests)
        results: dict[tuple[str, int], Load] = {}
        for c in conns:
            for name, route in routes.items():
                server = servers[route.server]
                before = server.cpu_seconds()
                load = run_load(tool, server.port, route, c, args.seconds, args.max_requests)
                used = [b - a for a, b in zip(before, server.cpu_seconds(), strict=False)]
                if sum(used) > 0:
                    shares = tuple(sorted((u / sum(used) for u in used), reverse=True))
                    load = replace(load, worker_shares=shares)
                results[name, c] = load
                print(
                    f"  {name} @{c}: {load.rps:,.0f} req/s, p50 {load.p50_ms:.2f} ms, "
                    f"p99 {load.p99_ms:.2f} ms, non-200 {load.non200}",
                    file=sys.stderr,
                )
                if load.non200 or load.socket_errors:
                    notes.append(
                        f"{name} @{c}: {load.non200} non-200 answers, {load.socket_errors} socket errors."
                    )
        app_rss, bare_rss = app.rss_mb(), bare.rss_mb()
    finally:
        app.stop()
        bare.stop()

    for name in routes:
        for c in conns:
            load, base = results[name, c], results[BARE, c]
            value = f"{load.rps:,.0f} req/s · p50 {fmt_ms(load.p50_ms)} · p99 {fmt_ms(load.p99_ms)}"
            if c > 1 and load.split:
                value += f" · workers {load.split}"
            if name == BARE:
                vs = "1 (the yardstick)"
            else:
                vs = (
                    f"{load.rps / base.rps:.2f}× req/s · {load.p50_ms / base.p50_ms:.1f}× p50 · "
                    f"{load.p99_ms / base.p99_ms:.1f}× p99"
                )
            target = ""
            if name != BARE and c == 64:
                met = load.p99_ms < P99_AT_64_MS
                target = f"p99 < {P99_AT_64_MS:.0f} ms: {'met' if met else 'MISSED'}"
                verdicts.append(f"{name}: p99 at 64 connections {fmt_ms(load.p99_ms)}, {target}.")
            if name in FRAGMENTS and c == 16:
                met = load.rps >= FRAGMENT_SHARE_AT_16 * base.rps
                target = f"≥ 0.33× bare req/s: {'met' if met else 'MISSED'}"
                verdicts.append(
                    f"{name}: {load.rps / base.rps:.2f}× bare at 16 connections, {target}."
                )
            rows.append(Row(f"HTTP: {name}", str(c), value, vs, target))
    if FRAGMENT not in routes:
        verdicts.append(
            "results fragment vs bare at 16 connections: not measured (route absent); "
            "the JSON API, which computes the same comparison, is "
            + (
                f"{results['GET /api/v1/compare', 16].rps / results[BARE, 16].rps:.2f}× bare."
                if ("GET /api/v1/compare", 16) in results and (BARE, 16) in results
                else "not measured either."
            )
        )
    worst = max(app_rss)
    rows.append(
        Row(
            "resident memory per worker after the load (VmRSS)",
            "",
            " · ".join(f"{mb:.0f} MB" for mb in app_rss),
            f"{worst / max(bare_rss):.2f}× ({max(bare_rss):.0f} MB)",
            f"< {RSS_MB:.0f} MB: {'met' if worst < RSS_MB else 'MISSED'}",
        )
    )
    verdicts.append(
        f"start-up: median {app_start:.2f} s, max {max(starts['app']):.2f} s, target < {STARTUP_S:.0f} s."
    )
    verdicts.append(f"memory: {worst:.0f} MB for the largest worker, target < {RSS_MB:.0f} MB.")

    load_after = Path("/proc/loadavg").read_text().split()[0]
    if float(load_before) > 0.5:
        notes.append(
            f"The machine was not idle: load average {load_before} before the run ({load_after} "
            "after, which includes the run itself). Other processes took CPU from both servers; "
            "ratios to the bare endpoint are fairer than absolute figures."
        )
    section = render(rows, notes, verdicts, machine(), command, tool, args)
    print(section)
    if args.profile:
        print("\ncProfile of the GET /api/v1/compare work, by own time:\n")
        print(profile())
    if args.write_doc:
        write_doc(section)
        print(f"\nwrote {DOC.relative_to(ROOT)}", file=sys.stderr)


def render(
    rows: list[Row],
    notes: list[str],
    verdicts: list[str],
    box: dict[str, str],
    command: str,
    tool: str,
    args: argparse.Namespace,
) -> str:
    wrk_version = ""
    if tool == "wrk":
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
        wrk_version = " " + out.split()[1] if out.split()[1:] else ""
    lines = [
        f"Measured {date.today().isoformat()} with `{command.strip()}` "
        f"(`make bench` runs the same with defaults).",
        "",
        f"- Machine: {box['cpu']}, {box['cores']} cores, {box['memory']}; {box['os']}.",
        f"- Python: {box['python']}; {box['packages']}.",
        f"- Servers: both started by `bench/serve.py` with the options of `python -m app`, "
        f"{args.workers} uvicorn workers each, event loop {Settings().event_loop} "
        f"(`EVENT_LOOP`), on {HOST}.",
        f"- Load: {'wrk' + wrk_version + ' (1 thread, Lua counts non-200)' if tool == 'wrk' else 'bench/loadgen.py (asyncio, keep-alive)'} "
        f"in its own process, {args.seconds} s per line after a 1 s warm-up, at most "
        f"{args.max_requests:,} requests per line. The load generator shares the 2 cores with the servers.",
        "- `workers 62/38%`: how the server's CPU time during that line split between its workers, "
        "busiest first. The workers share one listening socket and the first awake accepts every "
        "pending connection, so a line whose connections all landed on one worker (100/0%) "
        "measured one core, not two.",
        "",
        "| measurement | conns | value | vs bare FastAPI endpoint | target |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {r.what} | {r.conns} | {r.value} | {r.vs_bare} | {r.target} |" for r in rows]
    lines += ["", "Against the targets:", ""] + [f"- {v}" for v in verdicts]
    if notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines)


def write_doc(section: str) -> None:
    if not DOC.exists():
        DOC.write_text(f"# Performance\n\n{START}\n{END}\n", encoding="utf-8")
    write_section(DOC, START, END, section)


if __name__ == "__main__":
    main()
