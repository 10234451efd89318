"""A load generator for when wrk is missing: raw HTTP/1.1 keep-alive over asyncio streams.

Run as its own process (so it does not share the server's CPU time slice accounting):
    python bench/loadgen.py --port P --path /x --connections 16 --seconds 5 --max-requests 100000
Prints one JSON line with the same keys as bench/report.lua. Bounded in time and in count.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path


def build_request(
    host: str, port: int, method: str, path: str, headers: list[str], body: bytes
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", *headers]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def worker(
    host: str,
    port: int,
    make: Callable[[], bytes],
    deadline: float,
    budget: list[int],
    out: dict[str, object],
) -> None:
    latencies: list[float] = out["latencies"]  # type: ignore[assignment]
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            raw = make()
            t0 = time.perf_counter()
            writer.write(raw)
            try:
                status = await read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                out["socket_errors"] = int(out["socket_errors"]) + 1  # type: ignore[call-overload]
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                out["non200"] = int(out["non200"]) + 1  # type: ignore[call-overload]
    finally:
        writer.close()


async def run(args: argparse.Namespace) -> dict[str, object]:
    body = Path(args.body_file).read_bytes() if args.body_file else b""
    raw = build_request(args.host, args.port, args.method, args.path, args.header, body)
    counter = itertools.count(args.vary_from + 1)

    def make() -> bytes:
        if not args.vary:
            return raw
        # A distinct URL per request: measures the computation, not the response cache.
        sep = "&" if "?" in args.path else "?"
        path = f"{args.path}{sep}{args.vary}={next(counter)}"
        return build_request(args.host, args.port, args.method, path, args.header, body)

    out: dict[str, object] = {"latencies": [], "non200": 0, "socket_errors": 0}
    budget = [args.max_requests]
    start = time.perf_counter()
    deadline = start + args.seconds
    await asyncio.gather(
        *(
            worker(args.host, args.port, make, deadline, budget, out)
            for _ in range(args.connections)
        )
    )
    duration = time.perf_counter() - start
    latencies = sorted(out.pop("latencies"))  # type: ignore[call-overload]

    def pct(q: float) -> float:
        if not latencies:
            return float("nan")
        return float(latencies[min(len(latencies) - 1, int(q / 100 * len(latencies)))]) * 1e3

    return {
        "requests": len(latencies),
        "duration_s": duration,
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "max_ms": latencies[-1] * 1e3 if latencies else float("nan"),
        **out,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--body-file")
    parser.add_argument("--vary", default="", help="query parameter given a new value per request")
    parser.add_argument("--vary-from", type=int, default=0, help="values are this + 1, + 2, ...")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("load goes to loopback only")
    try:
        import uvloop

        result = uvloop.run(run(args))
    except ImportError:
        result = asyncio.run(run(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
