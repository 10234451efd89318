"""Compression on the wire: which coding, which answers, static files compressed once."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from urllib.parse import urlencode

import brotli
import pytest
from fastapi.testclient import TestClient

from app import compression
from app.compression import choose, compressible
from app.settings import ROOT, settings

QUERY = urlencode(
    {
        "workload.queries_per_month": "1000000",
        "workload.monthly_growth": "0.05",
        "workload.horizon_months": "36",
        "prompted.model": "gpt-4.1",
        "finetuned.model": "ft:gpt-4.1-mini",
    }
)
FRAGMENT = (f"/?{QUERY}", {"HX-Request": "true"})


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    from app.main import create_app

    with TestClient(create_app()) as c:
        # Static files are compressed in a thread started at start-up: wait for it here.
        layer = c.app.middleware_stack  # type: ignore[attr-defined]
        while not isinstance(layer, compression.CompressionMiddleware):
            layer = layer.app
        assert layer.ready.wait(timeout=60)
        yield c


def raw(
    client: TestClient, url: str, encoding: str | None, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the body as sent on the wire (not decoded by the client)."""
    sent = {"Accept-Encoding": encoding or "identity", **headers}
    with client.stream("GET", url, headers=sent) as response:
        body = b"".join(response.iter_raw())
        return response.status_code, dict(response.headers), body


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("gzip, deflate, br", "br"),
        ("gzip, deflate", "gzip"),
        ("br;q=0.5, gzip", "gzip"),  # the client's ranking first
        ("br;q=1.0, gzip;q=1.0", "br"),  # between equals, brotli
        ("*", "br"),
        ("*;q=0.3, br;q=0", "gzip"),  # `*` stands for the codings not named
        ("gzip;q=0", None),
        ("identity", None),
        ("", None),
        ("gzip;q=zero", None),  # an unreadable weight accepts nothing
        ("GZIP", "gzip"),
    ],
)
def test_the_coding_follows_accept_encoding(accept: str, expected: str | None) -> None:
    assert choose(accept) == expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/html; charset=utf-8", True),
        ("text/csv; charset=utf-8", True),
        ("application/json", True),
        ("application/problem+json", True),
        ("text/javascript; charset=utf-8", True),
        ("text/css; charset=utf-8", True),
        ("image/svg+xml", True),
        ("image/png", False),
        ("application/octet-stream", False),
        ("", False),
    ],
)
def test_only_text_formats_are_compressible(content_type: str, expected: bool) -> None:
    assert compressible(content_type) is expected


def test_the_fragment_is_gzipped_at_the_configured_level(client: TestClient) -> None:
    url, hx = FRAGMENT
    _, _, identity = raw(client, url, None, **hx)
    status, headers, body = raw(client, url, "gzip", **hx)
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert int(headers["content-length"]) == len(body)
    assert gzip.decompress(body) == identity
    # Exactly zlib at settings.gzip_level: the level in use is the one measured.
    assert body == compression.gzip_bytes(identity, settings.gzip_level)
    assert len(body) < len(identity) / 3
    assert [v.strip() for v in headers["vary"].split(",")] == ["HX-Request", "Accept-Encoding"]


def test_brotli_when_the_client_accepts_it(client: TestClient) -> None:
    url, hx = FRAGMENT
    _, _, identity = raw(client, url, None, **hx)
    _, headers, body = raw(client, url, "gzip, deflate, br", **hx)
    assert headers["content-encoding"] == "br"
    assert brotli.decompress(body) == identity


@pytest.mark.parametrize(
    "url",
    [
        f"/?{QUERY}",
        f"/embed?{QUERY}",
        f"/api/v1/compare?{QUERY}",
        f"/api/v1/compare?{QUERY}&format=csv",
        f"/api/v1/compare/curves?{QUERY}&format=csv",
    ],
)
def test_pages_the_embed_json_and_csv_are_compressed(client: TestClient, url: str) -> None:
    _, plain_headers, identity = raw(client, url, None)
    status, headers, body = raw(client, url, "gzip")
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["content-type"] == plain_headers["content-type"]
    assert gzip.decompress(body) == identity
    assert "accept-encoding" in headers["vary"].lower()
    # The identity answer says Vary too: a shared cache must not hand it to a gzip client
    # as if it were the only form, nor the gzip one to a client without gzip.
    assert "accept-encoding" in plain_headers["vary"].lower()
    assert "content-encoding" not in plain_headers


def test_small_answers_stay_uncompressed(client: TestClient) -> None:
    status, headers, body = raw(client, "/healthz", "gzip, br")
    assert status == 200 and len(body) < settings.compression_min_bytes
    assert "content-encoding" not in headers
    assert body.startswith(b'{"status":"ok"')


def test_errors_are_not_compressed(client: TestClient) -> None:
    status, headers, _ = raw(client, "/api/v1/compare?prompted.cache_hit_rate=1.4", "gzip")
    assert status == 422 and "content-encoding" not in headers


def test_head_is_not_compressed(client: TestClient) -> None:
    response = client.head(f"/api/v1/compare?{QUERY}", headers={"Accept-Encoding": "gzip"})
    if response.status_code == 405:
        pytest.skip("HEAD is not answered on this route yet")
    assert "content-encoding" not in response.headers


def test_compression_can_be_turned_off(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "compression", False)
    _, headers, _ = raw(client, f"/api/v1/compare?{QUERY}", "gzip, br")
    assert "content-encoding" not in headers


def test_static_files_are_compressed_once_at_start_up(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    css = (ROOT / "static" / "app.css").read_bytes()

    def refuse(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("compressed per request")

    # After start-up nothing compresses a static file again.
    monkeypatch.setattr(compression, "gzip_bytes", refuse)
    monkeypatch.setattr(compression, "brotli_bytes", refuse)
    for coding, decode in (("gzip", gzip.decompress), ("br", brotli.decompress)):
        status, headers, body = raw(client, "/static/app.css", coding)
        assert status == 200
        assert headers["content-encoding"] == coding
        assert int(headers["content-length"]) == len(body) < len(css) / 2
        assert decode(body) == css
        assert headers["etag"].startswith('W/"')  # not the identity file's bytes


def test_static_files_compress_at_the_static_levels() -> None:
    css = (ROOT / "static" / "app.css").read_bytes()
    variants = compression.static_variants(ROOT / "static", settings.compression_min_bytes)
    found = variants.find(css)
    assert found is not None
    assert found.gzip == compression.gzip_bytes(css, compression.STATIC_GZIP_LEVEL)
    assert found.br == compression.brotli_bytes(css, compression.STATIC_BROTLI_LEVEL)
    # A file of the same size but other bytes is not mistaken for it.
    assert variants.find(bytes(len(css))) is None


def test_a_compressed_static_file_still_revalidates(client: TestClient) -> None:
    _, headers, _ = raw(client, "/static/app.css", "gzip")
    status, _, body = raw(client, "/static/app.css", "gzip", **{"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""


def test_a_range_of_a_static_file_is_sent_as_is(client: TestClient) -> None:
    status, headers, body = raw(client, "/static/app.css", "gzip", Range="bytes=0-99")
    assert status == 206
    assert "content-encoding" not in headers
    assert body == (ROOT / "static" / "app.css").read_bytes()[:100]
