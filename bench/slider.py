"""A slider move as a person feels it: in Chromium, from the input event to the swapped results.

The app is served as `python -m app` serves it (bench/serve.py, 2 workers) once per setting of
INPUT_DELAY_MS (htmx's debounce: the form waits that long after the last input before it asks),
with its response cache off, and Debian's Chromium (through Playwright) opens each page, focuses
the volume slider and presses the right arrow key, as a keyboard user moves it one step: every
step is a volume not asked before, so every answer is computed. For every move it records:

- swapped: the input event's timestamp to htmx's `afterSwap` of the results (the new figures
  are in the DOM);
- painted: the same to the first animation frame after the swap (the new figures on screen);
- requests: how many requests the move sent (one, or the move is not what was measured).

A burst of moves (ten presses 20 ms apart, faster than the debounce) checks that stale
requests are not sent or are cancelled: it counts requests sent and results swapped.

Prints figures; asserts nothing. Run:

    .venv/bin/python bench/slider.py [--moves 40] [--delays 150,30] [--write-doc]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ROOT, candidates_query, machine, percentile, serving
from tests.web.chromium import ARGS, CHROMIUM

DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- slider:start -->", "<!-- slider:end -->"
SLIDER = "#f-workload-queries_per_month-slider"
TARGET_MEDIAN_MS, TARGET_P95_MS = 100.0, 150.0

# Installed once per page: timestamps of the last input event and of each swap of #results.
PROBE = """
() => {
  window.__moves = [];
  window.__input = null;
  let sent = null, answered = null;
  document.addEventListener("input", (e) => { window.__input = e.timeStamp; }, true);
  document.body.addEventListener("htmx:beforeRequest", () => { sent = performance.now(); });
  document.body.addEventListener("htmx:beforeSwap", () => { answered = performance.now(); });
  document.body.addEventListener("htmx:afterSwap", (e) => {
    // Once per answer: htmx also fires afterSwap on each out-of-band element (the cards).
    if (e.target.id !== "results") return;
    const t = performance.now();
    const start = window.__input;
    const req = sent, resp = answered;
    requestAnimationFrame(() => {
      window.__moves.push({start, sent: req, answered: resp, swapped: t, painted: performance.now()});
    });
  });
}
"""


def pages() -> dict[str, str]:
    """The pages a slider is dragged on: the two-option page and the candidates page."""
    return {
        "two options (GET /)": "/",
        "candidates, 2 cards": "/?" + urlencode(candidates_query(2)),
        "candidates, 6 cards": "/?" + urlencode(candidates_query(6)),
    }


def measure_page(browser: Any, base: str, path: str, moves: int) -> dict[str, Any]:
    page = browser.new_page()
    sent: list[str] = []

    def on_request(request: Any) -> None:
        if request.headers.get("hx-request") == "true" and "/analysis" not in request.url:
            sent.append(request.url)

    page.on("request", on_request)
    page.goto(base + path)
    page.wait_for_load_state("networkidle")
    page.evaluate(PROBE)
    slider = page.locator(SLIDER).first
    slider.focus()
    # One step first, not counted: the worker's first answer of a page warms what it caches.
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.__moves.length > 0", timeout=10_000)
    page.wait_for_timeout(250)
    page.evaluate("() => { window.__moves = []; }")
    sent.clear()
    slider.focus()
    swapped: list[float] = []
    painted: list[float] = []
    waited: list[float] = []  # input to request sent: the debounce
    answer: list[float] = []  # request sent to answer received: network and server
    requests: list[int] = []
    for _ in range(moves):
        # Always up: every step is a volume not asked before (the log slider steps through
        # two-figure values, 100,000 -> 110,000 -> ...), so no answer comes from a cache.
        before_moves = page.evaluate("() => window.__moves.length")
        before_sent = len(sent)
        page.keyboard.press("ArrowRight")
        page.wait_for_function("(n) => window.__moves.length > n", arg=before_moves, timeout=10_000)
        # Let a second (unwanted) request show itself before counting.
        page.wait_for_timeout(250)
        move = page.evaluate("(i) => window.__moves[i]", before_moves)
        swapped.append(move["swapped"] - move["start"])
        waited.append(move["sent"] - move["start"])
        answer.append(move["answered"] - move["sent"])
        painted.append(move["painted"] - move["start"])
        requests.append(len(sent) - before_sent)
        slider.focus()
    # A burst: ten presses 20 ms apart, then quiet.
    before_moves = page.evaluate("() => window.__moves.length")
    before_sent = len(sent)
    for _ in range(10):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(20)
    page.wait_for_timeout(1500)
    burst_sent = len(sent) - before_sent
    burst_swaps = page.evaluate("() => window.__moves.length") - before_moves
    page.close()
    return {
        "swapped": swapped,
        "painted": painted,
        "waited": waited,
        "answer": answer,
        "requests": requests,
        "burst_sent": burst_sent,
        "burst_swaps": burst_swaps,
    }


def ms(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.0f} ms · p95 {percentile(values, 95):.0f} ms "
        f"· max {max(values):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=40, help="slider moves per page")
    parser.add_argument(
        "--delays", default="150,30", help="INPUT_DELAY_MS values, side by side (ms)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write-doc", action="store_true", help="rewrite the doc's table")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing (make browser)")
    from playwright.sync_api import sync_playwright

    delays = [int(d) for d in args.delays.split(",") if d]
    info = machine()
    load_before = Path("/proc/loadavg").read_text().split()[0]
    rows: list[str] = []
    verdicts: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        version = browser.version
        for delay in delays:
            # No response cache either: each move is computed, as a new scenario is.
            env = {"INPUT_DELAY_MS": str(delay), "RESPONSE_CACHE_SIZE": "0"}
            with serving("app.main:app", args.workers, env) as server:
                base = f"http://127.0.0.1:{server.port}"
                for name, path in pages().items():
                    t0 = time.perf_counter()
                    r = measure_page(browser, base, path, args.moves)
                    took = time.perf_counter() - t0
                    one = sum(1 for n in r["requests"] if n == 1)
                    line = (
                        f"| {name} | {delay} ms | {ms(r['painted'])} "
                        f"| {statistics.median(r['waited']):.0f} ms "
                        f"| {statistics.median(r['answer']):.0f} ms "
                        f"| {one} of {len(r['requests'])} | {r['burst_sent']} sent, "
                        f"{r['burst_swaps']} swapped |"
                    )
                    print(line, f"({took:.0f} s)", flush=True)
                    rows.append(line)
                    med = statistics.median(r["painted"])
                    p95 = percentile(r["painted"], 95)
                    met = med < TARGET_MEDIAN_MS and p95 < TARGET_P95_MS
                    verdicts.append(
                        f"- {name}, debounce {delay} ms: painted median {med:.0f} ms, p95 "
                        f"{p95:.0f} ms; target median < {TARGET_MEDIAN_MS:.0f} ms and p95 < "
                        f"{TARGET_P95_MS:.0f} ms: {'met' if met else 'MISSED'}."
                    )
        browser.close()
    load_after = Path("/proc/loadavg").read_text().split()[0]
    table = "\n".join(
        [
            f"Measured {date.today().isoformat()} with `python bench/slider.py "
            f"--moves {args.moves} --delays {args.delays}`: Chromium {version} (Debian), "
            f"{args.moves} moves a page; {info['cpu']}, {info['cores']} cores; load average "
            f"{load_before} before, {load_after} after.",
            "",
            "| page | debounce | input to painted | of which: input to request (median) "
            "| request to answer (median) | moves that sent one request "
            "| burst of 10 presses 20 ms apart |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            *verdicts,
        ]
    )
    print()
    print(table)
    if args.write_doc:
        text = DOC.read_text()
        pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
        block = f"{START}\n{table}\n{END}"
        text = pattern.sub(lambda _: block, text) if START in text else text + "\n" + block + "\n"
        DOC.write_text(text)
        print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
