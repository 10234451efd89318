"""Which compression level for answers compressed per request: bytes and time per level.

The bodies are the ones a person's actions produce most: the results fragment of one slider
move (~20 KB of HTML and inline SVG), the full page, the JSON comparison and the field,value
CSV. Each is compressed exactly as app/compression.py compresses it (zlib with a gzip
header; brotli in one call), in process, `repeats` times per level; the table gives the
compressed size, its share of the original and the median time in microseconds.

Then the whole answer with and without compression: the results fragment for a new scenario
on every request (the slider path: no response cache), asked of the app's ASGI callable
directly, identity, gzip and brotli in turn within each round so that a busy machine slows
all three alike. The time is the server's whole work for the request (routing, compute,
charts, template, middleware, compression), without a network or a client.

    python bench/compression.py [repeats] [--write-doc]

`--write-doc` rewrites the marked section of docs/performance.md with this run's table.
"""

from __future__ import annotations

import statistics
import sys
import time
import zlib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for bench.*

from bench.harness import PER_TOKEN, ROOT, machine, write_section

DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- compression:start -->", "<!-- compression:end -->"
GZIP_LEVELS = (1, 2, 3, 4, 6, 9)  # 6 is zlib's (and Starlette's GZipMiddleware's) default
BROTLI_LEVELS = (0, 1, 2, 3, 4, 5)


def bodies() -> dict[str, bytes]:
    from fastapi.testclient import TestClient

    from app.main import app
    from app.settings import settings

    query = urlencode(PER_TOKEN)
    # The bodies as the app renders them, before any compression.
    settings.compression = False
    try:
        with TestClient(app) as client:
            out = {
                "results fragment (GET / + HX-Request)": client.get(
                    f"/?{query}", headers={"HX-Request": "true"}
                ).content,
                "full page (GET /)": client.get(f"/?{query}").content,
                "GET /api/v1/compare (JSON)": client.get(f"/api/v1/compare?{query}").content,
                "GET /api/v1/compare?format=csv": client.get(
                    f"/api/v1/compare?{query}&format=csv"
                ).content,
            }
    finally:
        settings.compression = True
    return out


def gzip_at(level: int) -> Callable[[bytes], bytes]:
    def run(data: bytes) -> bytes:
        packer = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
        return packer.compress(data) + packer.flush()

    return run


def brotli_at(quality: int) -> Callable[[bytes], bytes]:
    import brotli

    def run(data: bytes) -> bytes:
        return bytes(brotli.compress(data, quality=quality))

    return run


def median_us(fn: Callable[[bytes], bytes], data: bytes, repeats: int) -> float:
    for _ in range(max(5, repeats // 20)):
        fn(data)
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        fn(data)
        samples.append((time.perf_counter_ns() - t0) / 1000)
    return statistics.median(samples)


async def asgi_get(app: object, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    """One GET through the ASGI app; returns the body's length on the wire."""
    path, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "headers": [(b"host", b"bench"), *headers],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    size = 0

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        nonlocal size
        if message["type"] == "http.response.body":
            size += len(message.get("body", b""))  # type: ignore[arg-type]

    await app(scope, receive, send)  # type: ignore[operator]
    return size


def whole_answers(rounds: int) -> str:
    import asyncio

    from fastapi.testclient import TestClient

    from app.api import cache
    from app.main import app

    cache.responses.maxsize = 0  # every request computes, as on the slider path
    base = urlencode({k: v for k, v in PER_TOKEN.items() if k != "workload.queries_per_month"})
    variants = {
        "identity": [(b"hx-request", b"true")],
        "gzip": [(b"hx-request", b"true"), (b"accept-encoding", b"gzip, deflate")],
        "brotli": [(b"hx-request", b"true"), (b"accept-encoding", b"gzip, deflate, br")],
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    sizes: dict[str, int] = {}
    with TestClient(app):  # runs the lifespan (catalog, templates, static compression)
        loop = asyncio.new_event_loop()
        try:
            volume = 1_000_000
            for i in range(rounds + 20):
                for name, headers in variants.items():
                    volume += 1
                    path = f"/?{base}&workload.queries_per_month={volume}"
                    t0 = time.perf_counter_ns()
                    sizes[name] = loop.run_until_complete(asgi_get(app, path, headers))
                    if i >= 20:  # the first rounds warm caches (imports, validators)
                        times[name].append((time.perf_counter_ns() - t0) / 1000)
        finally:
            loop.close()
    identity = statistics.median(times["identity"])
    lines = [
        f"**The whole answer**: the results fragment for a new scenario each request, through "
        f"the app's ASGI callable in process, {rounds} rounds of identity, gzip and brotli in "
        "turn (settings.gzip_level and brotli_level as configured).",
        "",
        "| answer | bytes sent | median µs per request | vs identity |",
        "|---|---|---|---|",
    ]
    for name in variants:
        med = statistics.median(times[name])
        lines.append(f"| {name} | {sizes[name]:,} | {med:,.0f} | {med / identity:.2f}× time |")
        print(f"  whole answer, {name}: {sizes[name]} bytes, {med:.0f} µs", file=sys.stderr)
    return "\n".join(lines)


def table(repeats: int) -> str:
    codecs: list[tuple[str, Callable[[bytes], bytes]]] = [
        *((f"gzip {level}", gzip_at(level)) for level in GZIP_LEVELS),
        *((f"brotli {quality}", brotli_at(quality)) for quality in BROTLI_LEVELS),
    ]
    lines = []
    for name, data in bodies().items():
        lines += [
            f"**{name}**: {len(data):,} bytes uncompressed.",
            "",
            "| codec and level | bytes | share | median µs |",
            "|---|---|---|---|",
        ]
        for codec, fn in codecs:
            size = len(fn(data))
            us = median_us(fn, data, repeats)
            lines.append(f"| {codec} | {size:,} | {size / len(data):.1%} | {us:,.0f} |")
            print(f"  {name}: {codec}: {size} bytes, {us:.0f} µs", file=sys.stderr)
        lines.append("")
    box = machine()
    head = [
        f"Measured {date.today().isoformat()} with `python bench/compression.py {repeats}` "
        f"on {box['cpu']} ({box['cores']} cores), {box['python']}: each body compressed "
        f"{repeats} times per level in one process, the median of the times.",
        "",
    ]
    lines += [whole_answers(max(100, repeats)), ""]
    return "\n".join(head + lines).rstrip()


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    repeats = int(args[0]) if args else 300
    section = table(repeats)
    print(section)
    if "--write-doc" in sys.argv:
        write_section(DOC, START, END, section)
        print(f"\nwrote {DOC.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
