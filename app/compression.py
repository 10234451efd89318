"""Compressed answers on the wire: brotli or gzip, whichever the client prefers and accepts.

Plain ASGI middleware, outermost, so it compresses what every route and layer below wrote
(pages, fragments, the embed, JSON, CSV, static files). Two paths:

- An answer rendered per request (one body message) is compressed per request at a low level
  (settings.gzip_level, settings.brotli_level): on the slider path compression costs CPU on
  every move, and bench/compression.py shows levels 1-2 already get a 20 KB fragment to about
  a fifth of its size for a fraction of the cost of zlib's default 6.
- A static file (served by StaticFiles) is never compressed per request: every file under
  static/ is compressed once, at higher levels, in a thread the app starts at start-up; an
  answer whose bytes are one of those files is sent from memory. Files are found by their
  content (size, then digest), not their URL, so any URL scheme for static files
  (content-hashed names, a version prefix) works unchanged. The thread takes about 0.3 s of
  CPU (most of it the 1.7 MB Swagger bundle), so start-up does not wait for it: until it is
  done static files go uncompressed, which is correct, only larger.

Only complete 200 answers of text types above settings.compression_min_bytes are compressed;
every answer of such a type says `Vary: Accept-Encoding`, so a shared cache keeps the
encodings apart. A strong ETag becomes weak once compressed: the bytes differ from the
identity answer, the meaning does not (RFC 9110 8.8.1).
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import brotli
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import ROOT, settings

# Text formats worth compressing: HTML, CSS, JS, JSON, CSV, SVG, plain text.
_TYPES = ("text/", "application/json", "application/javascript", "image/svg+xml")
# Static files are compressed once per process, so they get higher levels than answers
# rendered per request. Brotli stops at 5: 11 takes 5.6 s for the 1.7 MB Swagger bundle
# (docs/performance.md), 5 takes 0.16 s and is within 13% of it.
STATIC_GZIP_LEVEL = 9
STATIC_BROTLI_LEVEL = 5
# Larger streamed answers are passed through without being looked up (and so without being
# held in memory): nothing under static/ is this large.
STATIC_MAX_BYTES = 8 * 1024 * 1024


def compressible(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith(_TYPES) or kind.endswith("+json")


def choose(accept_encoding: str) -> str | None:
    """The coding to answer with: "br", "gzip" or None (identity), from Accept-Encoding.

    The client's q-values rank the codings; between equals the server prefers brotli (smaller
    at the same cost). `*` stands for any coding not named; q=0 refuses one.
    """
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0  # an unreadable weight accepts nothing rather than guessing
        weights[name] = q
    best, best_q = None, 0.0
    for coding in ("br", "gzip"):
        q = weights.get(coding, weights.get("*", 0.0))
        if q > best_q:
            best, best_q = coding, q
    return best


def gzip_bytes(data: bytes, level: int) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31: a gzip header and trailer
    return packer.compress(data) + packer.flush()


def brotli_bytes(data: bytes, quality: int) -> bytes:
    mode = brotli.MODE_TEXT  # every compressible type here is UTF-8 text
    return bytes(brotli.compress(data, mode=mode, quality=quality))


def encode(data: bytes, coding: str, *, gzip_level: int, brotli_level: int) -> bytes:
    if coding == "br":
        return brotli_bytes(data, brotli_level)
    return gzip_bytes(data, gzip_level)


@dataclass(frozen=True)
class Variants:
    """One static file's bytes in each coding."""

    br: bytes
    gzip: bytes

    def get(self, coding: str) -> bytes:
        return self.br if coding == "br" else self.gzip


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


class StaticVariants:
    """Every compressible file under a directory, compressed once, found by its content."""

    def __init__(self) -> None:
        self._by_size: dict[int, dict[bytes, Variants]] = {}

    @classmethod
    def of(cls, directory: Path, min_bytes: int) -> StaticVariants:
        variants = cls()
        for path in _files(directory):
            data = path.read_bytes()
            if len(data) < min_bytes or len(data) > STATIC_MAX_BYTES:
                continue
            variants._by_size.setdefault(len(data), {})[_digest(data)] = Variants(
                br=brotli_bytes(data, STATIC_BROTLI_LEVEL),
                gzip=gzip_bytes(data, STATIC_GZIP_LEVEL),
            )
        return variants

    def has_size(self, size: int) -> bool:
        return size in self._by_size

    def find(self, data: bytes) -> Variants | None:
        same_size = self._by_size.get(len(data))
        return None if same_size is None else same_size.get(_digest(data))

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_size.values())


def _files(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        kind, _ = mimetypes.guess_type(path.name)
        if path.is_file() and kind is not None and compressible(kind):
            yield path


# One set per process and directory: an app built twice (tests) does not compress twice.
_prepared: dict[tuple[Path, int, tuple[tuple[str, int, int], ...]], StaticVariants] = {}
_preparing = threading.Lock()


def static_variants(directory: Path, min_bytes: int) -> StaticVariants:
    """The compressed static files, computed on the first call; later callers wait for it."""
    with _preparing:
        signature = tuple(
            (str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in _files(directory)
        )
        key = (directory, min_bytes, signature)
        if key not in _prepared:
            _prepared[key] = StaticVariants.of(directory, min_bytes)
        return _prepared[key]


def _merge_vary(headers: MutableHeaders) -> None:
    vary = headers.get("vary")
    if vary is None:
        headers["vary"] = "Accept-Encoding"
    elif "accept-encoding" not in vary.lower():
        headers["vary"] = vary + ", Accept-Encoding"


def _set_encoded(headers: MutableHeaders, coding: str, length: int) -> None:
    headers["content-encoding"] = coding
    headers["content-length"] = str(length)
    etag = headers.get("etag")
    if etag is not None and not etag.startswith("W/"):
        headers["etag"] = "W/" + etag


class CompressionMiddleware:
    def __init__(self, app: ASGIApp, static_dir: Path = ROOT / "static") -> None:
        self.app = app
        self.static_dir = static_dir
        self.static = StaticVariants()  # none until the start-up thread has compressed them
        self.ready = threading.Event()
        self._started = False

    def prepare_in_background(self) -> None:
        if self._started:
            return
        self._started = True

        def run() -> None:
            self.static = static_variants(self.static_dir, settings.compression_min_bytes)
            self.ready.set()

        threading.Thread(target=run, name="compress-static", daemon=True).start()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._preparing(receive), send)
            return
        if scope["type"] != "http" or not settings.compression:
            await self.app(scope, receive, send)
            return
        coding = None
        if scope["method"] == "GET":
            coding = choose(Headers(scope=scope).get("accept-encoding", ""))
        await self.app(scope, receive, _Compressing(send, coding, self.static).send)

    def _preparing(self, receive: Receive) -> Receive:
        # Compress static files once per process, in a thread beside serving, so start-up
        # does not wait for it.
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup" and settings.compression:
                self.prepare_in_background()
            return message

        return wrapped


class _Compressing:
    """The send side of one request: holds the start until it knows the body."""

    def __init__(self, send: Send, coding: str | None, static: StaticVariants) -> None:
        self._send = send
        self.coding = coding
        self.static = static
        self.start: Message | None = None
        self.passing = False
        self.chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if self.passing:
            await self._send(message)
            return
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            eligible = (
                message["status"] == 200
                and "content-encoding" not in headers
                and compressible(headers.get("content-type", ""))
                and "no-transform" not in headers.get("cache-control", "")
            )
            if eligible:
                _merge_vary(headers)
            if not eligible or self.coding is None:
                self.passing = True
                await self._send(message)
                return
            self.start = message
            return
        if message["type"] != "http.response.body":
            if self.start is not None:
                # http.response.pathsend (a file sent by the server): nothing in memory to
                # compress, so the answer goes as it is.
                await self._flush_start()
                self.passing = True
            await self._send(message)  # extensions before the start (TestClient's debug)
            return
        if self.start is None:
            await self._send(message)
            return
        body: bytes = message.get("body", b"")
        more = bool(message.get("more_body", False))
        if not self.chunks and not more:
            await self._finish_rendered(body)
            return
        # A streamed answer: only a static file's bytes are worth holding back.
        declared = Headers(raw=self.start["headers"]).get("content-length", "")
        if not self.chunks and not (declared.isdigit() and self.static.has_size(int(declared))):
            await self._flush_start()
            self.passing = True
            await self._send(message)
            return
        self.chunks.append(body)
        if not more:
            await self._finish_static(b"".join(self.chunks))

    async def _flush_start(self) -> None:
        if self.start is not None:
            start, self.start = self.start, None
            await self._send(start)

    async def _finish_rendered(self, body: bytes) -> None:
        assert self.start is not None and self.coding is not None
        # A small static file comes in one message too; it was compressed at start-up.
        found = self.static.find(body) if self.static.has_size(len(body)) else None
        if found is not None:
            body = found.get(self.coding)
            _set_encoded(MutableHeaders(scope=self.start), self.coding, len(body))
        elif len(body) >= settings.compression_min_bytes:
            body = encode(
                body,
                self.coding,
                gzip_level=settings.gzip_level,
                brotli_level=settings.brotli_level,
            )
            _set_encoded(MutableHeaders(scope=self.start), self.coding, len(body))
        await self._flush_start()
        await self._send({"type": "http.response.body", "body": body})

    async def _finish_static(self, body: bytes) -> None:
        assert self.start is not None and self.coding is not None
        found = self.static.find(body)
        if found is not None:
            body = found.get(self.coding)
            _set_encoded(MutableHeaders(scope=self.start), self.coding, len(body))
        await self._flush_start()
        await self._send({"type": "http.response.body", "body": body})
