"""Latency under saturation with each event loop: who waits when a worker is busy computing.

At 64 connections on 2 workers every route here is saturated, so the mean wait is fixed by
throughput (Little's law: connections / requests per second); what the event loop decides is
how that wait is shared. Python's asyncio loop serves ready connections in turn; uvloop
(libuv) was measured serving some connections again and again while others waited many
rounds, which puts p99 at 10-30 times the median. This script measures both side by side, in
one run, with the same servers started the same way (`bench/serve.py`, `EVENT_LOOP` set for
each), and prints a Markdown table. Asserts nothing.

    python bench/fairness.py [--seconds 5] [--connections 16,64] [--write-doc]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for bench.*

from bench.harness import ROOT, Server, machine, write_section
from bench.run import BARE, FRAGMENT, FRAGMENT_MISS, ROUTES, Load, run_load

DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- fairness:start -->", "<!-- fairness:end -->"
LOOPS = ("asyncio", "uvloop")
API_MISS = "GET /api/v1/compare, a new scenario each request"
MEASURED = (BARE, FRAGMENT, FRAGMENT_MISS, API_MISS)


def cell(load: Load) -> str:
    p50, p99 = load.p50_ms, load.p99_ms
    ratio = p99 / p50 if p50 else 0.0
    return (
        f"{load.rps:,.0f} req/s · p50 {p50:.1f} · p99 {p99:.1f} · max {load.max_ms:.0f} ms "
        f"({ratio:.1f}× p50)"
    )


def measure(
    tool: str, workers: int, conns: list[int], seconds: int
) -> dict[tuple[str, str, int], Load]:
    out: dict[tuple[str, str, int], Load] = {}
    for loop in LOOPS:
        env = {"EVENT_LOOP": loop}
        app = Server("app.main:app", workers, env).start()
        bare = Server("bench.bare_app:app", workers, env).start()
        try:
            servers = {"app": app, "bare": bare}
            for name in MEASURED:
                route = ROUTES[name]
                port = servers[route.server].port
                run_load(tool, port, route, 16, 1, 500_000)  # warm-up
                for c in conns:
                    load = run_load(tool, port, route, c, seconds, 500_000)
                    out[(loop, name, c)] = load
                    print(f"  {loop} {name} @{c}: {cell(load)}", file=sys.stderr)
        finally:
            app.stop()
            bare.stop()
    return out


def table(results: dict[tuple[str, str, int], Load], conns: list[int], command: str) -> str:
    box = machine()
    lines = [
        f"Measured {date.today().isoformat()} with `{command}` on {box['cpu']} "
        f"({box['cores']} cores): {len(LOOPS)} × 2 servers of 2 workers, started one loop "
        "after the other; the load generator shares the cores.",
        "",
        "| route | conns | " + " | ".join(f"EVENT_LOOP={loop}" for loop in LOOPS) + " |",
        "|---|---|" + "---|" * len(LOOPS),
    ]
    for name in MEASURED:
        for c in conns:
            cells = " | ".join(cell(results[(loop, name, c)]) for loop in LOOPS)
            lines.append(f"| {name} | {c} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=5, help="seconds per line")
    parser.add_argument("--connections", default="16,64")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write-doc", action="store_true", help=f"rewrite the table in {DOC.name}")
    args = parser.parse_args()
    conns = [int(c) for c in args.connections.split(",")]
    tool = "wrk" if shutil.which("wrk") else "python"
    results = measure(tool, args.workers, conns, args.seconds)
    command = "python bench/fairness.py " + " ".join(sys.argv[1:])
    section = table(results, conns, command.strip())
    print(section)
    if args.write_doc:
        write_section(DOC, START, END, section)
        print(f"\nwrote {DOC.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
