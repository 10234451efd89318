"""Instructions per request, counted by valgrind (callgrind): a figure a busy machine cannot move.

Wall-clock figures on a shared 2-core machine drift by half between runs (bench/run.py's bare
endpoint went from 4,300 to 6,900 req/s within minutes). The instruction count of the same code
on the same inputs does not, so two versions of the app can be compared from two runs that are
hours apart, and a change that saves 10% shows as 10%.

Each case is called through the app's ASGI callable in process (middleware, routing, the view;
no socket, no HTTP parsing), with a new volume on every call for the slider path: what a
dragged volume slider asks for. The bare FastAPI endpoint of bench/bare_app.py is measured the
same way, and each case is also given as its ratio to it. The count of one call is the
difference between runs of `--calls` and `--calls * 6` calls after the same warm-up, divided
by the extra calls: start-up and imports cancel out.

    python bench/instructions.py [--root DIR] [--calls 10] [--only SUBSTRING]

`--root` measures another checkout (a `git worktree` of an older commit, with this venv) with
this script, so both are measured by the same harness. Needs valgrind (Debian's package).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 30

CASES = {
    "bare FastAPI endpoint": "bare",
    "GET /healthz": "healthz",
    "GET /api/v1/compare, a new volume each call": "api",
    "results fragment, a new volume each call": "fragment",
    "results fragment, the same URL (response cache)": "fragment-cached",
    "candidates fragment, 2 cards, a new volume each call": "candidates",
}
# Cases under a million instructions a call run ten times the calls, so that the difference
# between the two runs is not lost in the noise of start-up (about 1% of it varies).
CHEAP = frozenset({"bare", "healthz", "fragment-cached"})


def _asgi_call(
    app: Any, path: str, query: str, headers: list[tuple[bytes, bytes]]
) -> Awaitable[None]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise SystemExit(f"{path}?{query[:80]} answered {message['status']}")

    result: Awaitable[None] = app(scope, receive, send)
    return result


def child(case: str, calls: int) -> None:
    """Run under valgrind: warm up, then `calls` calls of one case."""
    sys.path.insert(0, str(Path.cwd()))  # the checkout being measured
    from urllib.parse import urlencode

    from bench.harness import CANDIDATES_2, PER_TOKEN

    volume = "workload.queries_per_month"
    base = urlencode({k: v for k, v in PER_TOKEN.items() if k != volume})
    cards = urlencode({k: v for k, v in CANDIDATES_2.items() if k != volume})
    hx = [(b"hx-request", b"true")]
    # (path, query with {v} for the volume, headers, whether the volume changes each call)
    requests: dict[str, tuple[str, str, list[tuple[bytes, bytes]], bool]] = {
        "bare": ("/bare", "", [], False),
        "healthz": ("/healthz", "", [], False),
        "api": ("/api/v1/compare", f"{base}&{volume}={{v}}", [], True),
        "fragment": ("/", f"{base}&{volume}={{v}}", hx, True),
        "fragment-cached": ("/", f"{base}&{volume}={{v}}", hx, False),
        "candidates": ("/", f"{cards}&{volume}={{v}}", hx, True),
    }
    if case not in requests:
        raise SystemExit(f"unknown case {case}")
    path, query, headers, new_volume = requests[case]
    if case == "bare":
        from bench.bare_app import app
    else:
        from app.main import app, lifespan

    async def run() -> None:
        for i in range(WARM_UP + calls):
            v = 100_000 + (i if new_volume else 0)
            await _asgi_call(app, path, query.format(v=v), headers)

    async def main() -> None:
        if case == "bare":
            await run()
        else:
            async with lifespan(app):
                await run()

    asyncio.run(main())


def count(root: Path, case: str, calls: int) -> int:
    out = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            case,
            "--calls",
            str(calls),
        ],
        cwd=root,
        # valgrind runs the app about fifty times slower: a first computation must not be
        # stopped by the request time limit.
        env={**os.environ, "REQUEST_TIME_LIMIT": "300"},
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Collected\s*:\s*(\d+)", out.stderr)
    if out.returncode != 0 or found is None:
        raise SystemExit(f"valgrind failed for {case}:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    parser.add_argument("--calls", type=int, default=10, help="calls in the shorter run")
    parser.add_argument("--only", default="", help="comma-separated substrings of case names")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.calls)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is missing: apt-get install valgrind")
    wanted = [s for s in args.only.split(",") if s]
    root = args.root.resolve()
    print(
        f"Instructions per call (callgrind), {root}; each case: {args.calls} and {args.calls * 6} calls after {WARM_UP} warm-up calls."
    )
    print()
    print("| case | instructions per call | vs bare FastAPI endpoint |")
    print("|---|---|---|")
    bare: float | None = None
    for name, case in CASES.items():
        if wanted and case != "bare" and not any(w in name for w in wanted):
            continue
        calls = args.calls * (10 if case in CHEAP else 1)
        short, long = count(root, case, calls), count(root, case, calls * 6)
        per_call = (long - short) / (calls * 5)
        if case == "bare":
            bare = per_call
        ratio = f"{per_call / bare:.1f}×" if bare else "1 (the yardstick)"
        print(f"| {name} | {per_call / 1e6:.2f} M | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
