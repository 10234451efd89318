"""ETag and 304 Not Modified for the GET API.

Every GET answer under /api/v1 is a pure function of its request (path and query, the
address it was asked at), the pricing catalog, the code and today's date (staleness and
lifecycle months depend on it); app/api/cache.py relies on the same fact. So the tag is
computed from those inputs before anything is computed, and a request whose If-None-Match
holds it is answered 304 without running the view: a spreadsheet that refreshes every few
minutes and mostly sees the same numbers costs a hash, not a comparison.

The one exception is a Monte Carlo run without a seed: each draws a fresh one, so two answers
to the same URL differ and it gets no tag.

Tags are weak (W/"..."): they promise the same numbers, not the same bytes, so one tag holds
for the identity, gzip and brotli forms of an answer (app/compression.py).
"""

from __future__ import annotations

import hashlib
from datetime import date
from urllib.parse import parse_qsl

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.pricing import Catalog, get_catalog
from app.settings import ROOT, settings

API_PREFIX = "/api/v1/"
# Answers that differ between two identical requests.
_UNTAGGED = {"/api/v1/uncertainty": "seed"}  # path -> the parameter that makes it repeatable


def _code_version() -> str:
    """A digest of the app's source: a deploy that changes an answer changes every tag."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted((ROOT / "app").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


CODE_VERSION = _code_version()
_catalog_versions: dict[int, tuple[Catalog, str]] = {}


def catalog_version(catalog: Catalog) -> str:
    """A digest of the catalog's rows and provenance, the same in every worker and replica."""
    known = _catalog_versions.get(id(catalog))
    if known is not None and known[0] is catalog:
        return known[1]
    text = repr((catalog.models, catalog.gpus, catalog.throughput, catalog.provenance))
    version = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    # Keeping the catalog referenced keeps its id from being reused by another object.
    _catalog_versions[id(catalog)] = (catalog, version)
    return version


def normalised_query(query_string: bytes) -> list[tuple[str, str]]:
    """Pairs decoded and ordered by name; values of one name keep their order (the last one
    wins for dotted fields, so their order is meaning)."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return sorted(pairs, key=lambda pair: pair[0])


def etag(scope: Scope, catalog: Catalog, today: date) -> str:
    headers = Headers(scope=scope)
    parts = [
        CODE_VERSION,
        catalog_version(catalog),
        today.isoformat(),
        str(settings.prices_stale_after_days),
        # Where it was asked: links in an answer may carry the host and the root path.
        scope.get("scheme", "http"),
        headers.get("host", ""),
        scope.get("root_path", ""),
        scope["path"],
        repr(normalised_query(scope.get("query_string", b""))),
    ]
    digest = hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()
    return f'W/"{digest}"'


def matches(if_none_match: str, tag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2), as If-None-Match asks for."""
    if if_none_match.strip() == "*":
        return True
    opaque = tag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == opaque for t in if_none_match.split(","))


def _tagged(scope: Scope) -> bool:
    if scope["method"] not in ("GET", "HEAD"):
        return False
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    if not path.startswith(API_PREFIX):
        return False
    needed = _UNTAGGED.get(path)
    if needed is not None:
        names = {name for name, _ in normalised_query(scope.get("query_string", b""))}
        return needed in names
    return True


class ETagMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _tagged(scope):
            await self.app(scope, receive, send)
            return
        tag = etag(scope, get_catalog(), date.today())
        if_none_match = Headers(scope=scope).get("if-none-match")
        if if_none_match is not None and matches(if_none_match, tag):
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": [(b"etag", tag.encode()), (b"cache-control", b"no-cache")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_tagged(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = MutableHeaders(scope=message)
                headers["etag"] = tag
                # Keep it, but ask again each time: a 304 is cheap, a stale number is not.
                if "cache-control" not in headers:
                    headers["cache-control"] = "no-cache"
            await send(message)

        await self.app(scope, receive, send_tagged)


__all__ = ["ETagMiddleware", "catalog_version", "etag", "matches", "normalised_query"]
