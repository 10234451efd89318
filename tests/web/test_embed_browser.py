"""/embed in a real browser, framed by a page from a second origin as a wiki would.

The app runs on one loopback port; a stdlib http.server on another port serves the host page
(another port is another origin). With FRAME_ANCESTORS restricted to a third origin, a
uvicorn subprocess serves the app and Chromium must refuse to frame it.
Fixtures (browser, base_url) are in tests/web/conftest.py.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.settings import ROOT
from tests.web.conftest import ARTIFACTS, Watch, free_port

pytestmark = pytest.mark.browser

SCENARIO = "workload.queries_per_month=20000&title=Support+bot"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def host_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wiki")


@pytest.fixture(scope="module")
def host_origin(host_dir: Path) -> Iterator[str]:
    """A 'wiki' on a second origin: static files from host_dir."""
    handler = functools.partial(_QuietHandler, directory=str(host_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def wiki_page(host_dir: Path, name: str, src: str) -> str:
    """A host page with one iframe, as the page's snippet makes it."""
    (host_dir / name).write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Team wiki</title>"
        "<link rel='icon' href='data:,'></head>"
        "<body><h1>Design doc</h1>"
        f'<iframe id="calc" src="{src}" width="600" height="400" '
        'title="Tune or Prompt: Support bot" loading="lazy"></iframe></body></html>',
        encoding="utf-8",
    )
    return name


@pytest.fixture(scope="module")
def restricted_app() -> Iterator[str]:
    """The app in its own process with FRAME_ANCESTORS naming another origin."""
    port = free_port()
    env = {**os.environ, "FRAME_ANCESTORS": "https://wiki.example.com"}
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "app.main:app"),
            *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the restricted app did not start within 30 s")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def embed_frame(page: Any) -> Any:
    frame = page.frame_locator("#calc")
    return frame


def test_a_page_on_another_origin_frames_the_embed_and_it_stays_interactive(
    browser: Any, base_url: str, host_origin: str, host_dir: Path
) -> None:
    src = f"{base_url}/embed?{SCENARIO}&embed.inputs=true"
    name = wiki_page(host_dir, "interactive.html", src)
    context = browser.new_context(viewport={"width": 900, "height": 700})
    page = context.new_page()
    watch = Watch(page)
    page.goto(f"{host_origin}/{name}")
    frame = embed_frame(page)
    frame.locator("#verdict").wait_for()
    assert frame.locator("#verdict").inner_text().strip()
    assert frame.locator(".scenario-title").inner_text() == "Support bot"
    before = frame.locator("#embed-chart").inner_html()
    assert "you: 20k/mo" in before

    # Move the volume slider inside the frame: the frame's own htmx request updates it.
    with page.expect_response(
        lambda r: "/embed?" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        frame.locator("#f-workload-queries_per_month-slider").fill("7")
    child = next(f for f in page.frames if "/embed?" in f.url)
    child.wait_for_function(
        "() => document.querySelector('#embed-chart').innerHTML.includes('you: 10M')"
    )
    assert frame.locator("#f-workload-queries_per_month").input_value() == "10000000"
    link = frame.locator("#embed-open a")
    assert "workload.queries_per_month=10000000" in str(link.get_attribute("href"))
    assert link.get_attribute("target") == "_blank"
    # The frame's own address did not change (no history entries in the wiki's tab).
    assert child.url == src
    assert watch.errors == []
    context.close()


def test_the_embed_fits_a_600_by_400_frame_and_grows_with_its_width(
    browser: Any, base_url: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    widths = {}
    for width, height, scheme in ((600, 400, "light"), (1000, 560, "dark")):
        context = browser.new_context(
            viewport={"width": width, "height": height}, color_scheme=scheme
        )
        page = context.new_page()
        watch = Watch(page)
        page.goto(f"{base_url}/embed?{SCENARIO}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if width == 600:
            # Everything a reader needs is inside the frame without scrolling.
            for selector in (
                "#verdict",
                "#fig-recoup",
                "#savings",
                "#embed-chart",
                "#embed-open a",
            ):
                box = page.locator(selector).bounding_box()
                assert box is not None and box["y"] + box["height"] <= height, selector
                assert box["x"] >= 0 and box["x"] + box["width"] <= width, selector
        widths[width] = page.locator("#embed-chart").bounding_box()["width"]
        page.screenshot(path=str(ARTIFACTS / f"embed-{width}x{height}-{scheme}.png"))
        assert watch.errors == []
        context.close()
    assert widths[1000] > widths[600] * 1.3


def test_theme_option_overrides_the_readers_preference(browser: Any, base_url: str) -> None:
    context = browser.new_context(color_scheme="light")
    page = context.new_page()
    page.goto(f"{base_url}/embed?{SCENARIO}&embed.theme=dark")
    dark_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.goto(f"{base_url}/embed?{SCENARIO}")
    light_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (dark_bg, light_bg) == ("rgb(20, 23, 27)", "rgb(255, 255, 255)")
    context.close()


def test_a_restricted_app_refuses_to_be_framed_by_another_origin(
    browser: Any, restricted_app: str, host_origin: str, host_dir: Path
) -> None:
    src = f"{restricted_app}/embed?{SCENARIO}"
    name = wiki_page(host_dir, "refused.html", src)
    context = browser.new_context()
    page = context.new_page()
    watch = Watch(page)
    with page.expect_response(lambda r: "/embed?" in r.url) as response:
        page.goto(f"{host_origin}/{name}")
    csp = response.value.headers["content-security-policy"]
    assert "frame-ancestors https://wiki.example.com 'self'" in csp
    page.wait_for_function("() => document.readyState === 'complete'")
    deadline = time.monotonic() + 10
    while not any("frame-ancestors" in m for m in watch.console):
        assert time.monotonic() < deadline, watch.console
        page.wait_for_timeout(100)
    # The frame holds Chromium's error page, not the embed.
    assert embed_frame(page).locator("#verdict").count() == 0
    assert all("/embed?" not in f.url for f in page.frames[1:]), [f.url for f in page.frames]
    # The app itself works: opened directly, the same address renders.
    page.goto(src)
    assert page.locator("#verdict").is_visible()
    context.close()


def test_the_calculator_previews_its_embed_and_the_snippet_follows_the_inputs(
    page: Any, base_url: str
) -> None:
    watch = Watch(page)
    page.goto(f"{base_url}/?{SCENARIO}")
    # No request for the preview until it is asked for.
    assert not any("/embed?" in u for u in watch.requests)
    assert page.locator("iframe.embed-preview").get_attribute("src") is None
    page.get_by_role("button", name="Show live preview").click()
    preview = page.frame_locator("iframe.embed-preview")
    page.locator("iframe.embed-preview").scroll_into_view_if_needed()
    preview.locator("#verdict").wait_for()
    assert preview.locator(".scenario-title").inner_text() == "Support bot"
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.locator("#f-workload-queries_per_month").fill("3000000")
    page.wait_for_function(
        "() => document.querySelector('#embed-snippet').value.includes('queries_per_month=3000000')"
    )
    # app.js points the shown preview at the new scenario after the swap settles.
    page.wait_for_function(
        "() => (document.querySelector('iframe.embed-preview').getAttribute('src') || '')"
        ".includes('queries_per_month=3000000')"
    )
    page.locator("iframe.embed-preview").scroll_into_view_if_needed()
    preview.locator("#embed-chart").wait_for()
    assert "you: 3M/mo" in preview.locator("#embed-chart").inner_html()
    assert watch.errors == []
    assert watch.foreign(base_url) == []


def test_copy_snippet_puts_the_snippet_on_the_clipboard(browser: Any, base_url: str) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{base_url}/?{SCENARIO}")
    page.get_by_role("button", name="Copy snippet").click()
    page.wait_for_function(
        "() => document.querySelector('.copy-snippet-status').textContent.length > 0"
    )
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#embed-snippet").input_value()
    assert copied.startswith(f'<iframe src="{base_url}/embed?')
    context.close()
