"""Security headers, read-only CORS for the GET API, request size and time limits, HEAD,
and the last-resort 500.

Plain ASGI middleware: it runs for every route (pages, API, static files, errors), so no
route can forget a header, an oversized request is refused before any route reads it, and
whatever escapes a route still gets the JSON error shape with the headers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import deadline
from app.settings import settings

logger = logging.getLogger("app")

# No inline script, no eval, nothing from another origin. SVG charts are inline markup, not
# images, so img-src needs only 'self' and data: (favicons). frame-src: the page previews its
# own /embed in an iframe, and frames nothing else.
_CSP_BASE = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-src 'self'; child-src 'self'"
)
_PERMISSIONS = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)
MAX_QUERY_BYTES = 8 * 1024
MAX_BODY_BYTES = 256 * 1024
# Routes that take large texts (prompts to count) have their own, larger limit.
MAX_TOKENS_BODY_BYTES = 2 * 1024 * 1024  # a very long prompt is ~500k tokens, well under this
LARGE_BODY_PATHS = {"/api/v1/tokens": MAX_TOKENS_BODY_BYTES, "/tokens/count": MAX_TOKENS_BODY_BYTES}
# Routes another site may frame, by exact path (a prefix would let /embedx be framed).
EMBED_PATHS = frozenset({"/embed"})
# HTML answers depend on the query and on today's prices: caches may keep them briefly.
HTML_CACHE = "public, max-age=60"


def frameable(path: str) -> bool:
    return path in EMBED_PATHS and settings.frame_ancestors != "'none'"


def frame_ancestors(path: str) -> str:
    if frameable(path):
        allowed = settings.frame_ancestors
        # The page previews /embed in an iframe of its own, so a restricted list keeps
        # 'self'; '*' already covers it and 'none' turns embedding (and the preview) off.
        if allowed not in ("*", "'none'") and "'self'" not in allowed.split():
            allowed += " 'self'"
        return allowed
    return "'none'"


def security_headers(path: str) -> list[tuple[str, str]]:
    headers = [
        ("content-security-policy", f"{_CSP_BASE}; frame-ancestors {frame_ancestors(path)}"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("permissions-policy", _PERMISSIONS),
        ("cross-origin-opener-policy", "same-origin"),
    ]
    if not frameable(path):
        headers.append(("x-frame-options", "DENY"))  # for browsers without frame-ancestors
    return headers


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"


def _too_large(limit: int, declared: int | None = None) -> bytes:
    reason = f"The request body is larger than the limit of {limit} bytes ({_size(limit)})."
    return _error(413, "Request body too large", "body", reason, declared)


def _error(
    status: int,
    title: str,
    field: str | None,
    reason: str = "",
    value: object = None,
    kind: str = "too_large",
) -> bytes:
    errors = (
        []
        if field is None
        else [{"field": field, "reason": reason, "type": kind, "input": value, "suggestions": []}]
    )
    return json.dumps({"status": status, "title": title, "errors": errors}).encode()


SERVER_ERROR = _error(500, "Internal server error", None)
TIMED_OUT = _error(
    503,
    "Request took too long",
    "request",
    "stopped after the time limit (REQUEST_TIME_LIMIT); retry, or simplify the scenario",
    kind="time_limit",
)
JSON = [(b"content-type", b"application/json")]


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, deadline.RequestTimeout):
        return True
    if isinstance(exc, BaseExceptionGroup):  # task groups wrap what their tasks raised
        return all(_is_timeout(e) for e in exc.exceptions)
    return False


class SecurityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        method: str = scope["method"]
        head = method == "HEAD"
        if head:
            # HEAD is GET without the body (RFC 9110): every route that answers GET answers it.
            scope = {**scope, "method": "GET"}
        extra = security_headers(path)
        is_api_read = path.startswith("/api/") and method in ("GET", "HEAD", "OPTIONS")
        if is_api_read:
            extra += [("access-control-allow-origin", "*"), ("vary", "Origin")]

        started = False
        limit = deadline.Deadline(settings.request_time_limit)
        # A request waiting (on a thread, a slow upload) rather than computing is cancelled
        # by a timer; one computing is stopped by app.deadline's watchdog.
        expired = False
        task = asyncio.current_task()

        def expire() -> None:
            nonlocal expired
            if task is not None and not started:
                expired = True
                task.cancel()

        timer = asyncio.get_running_loop().call_later(settings.request_time_limit, expire)

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                # From here the answer is on its way: a slow client reading a large file is
                # not a runaway computation.
                limit.at = math.inf
                timer.cancel()
                headers = MutableHeaders(scope=message)
                for key, value in extra:
                    if key == "vary" and "vary" in headers:
                        headers["vary"] = headers["vary"] + ", " + value
                    elif key not in headers:
                        headers[key] = value
                if "cache-control" not in headers and headers.get("content-type", "").startswith(
                    "text/html"
                ):
                    headers["cache-control"] = HTML_CACHE
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        if is_api_read and method == "OPTIONS":
            # A CORS preflight: reads only. Anything else cross-origin gets no CORS headers.
            await _respond(
                send_with_headers,
                204,
                b"",
                [
                    (b"access-control-allow-methods", b"GET, HEAD"),
                    (b"access-control-max-age", b"600"),
                ],
            )
            return

        if len(scope.get("query_string", b"")) > MAX_QUERY_BYTES:
            await _respond(
                send_with_headers,
                414,
                _error(414, "Query string too long", "query", f"at most {MAX_QUERY_BYTES} bytes"),
                [(b"content-type", b"application/json")],
            )
            return

        size_limit = LARGE_BODY_PATHS.get(path, MAX_BODY_BYTES)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > size_limit):
            await _respond(
                send_with_headers,
                413,
                _too_large(size_limit, int(declared) if declared.isdigit() else None),
                [(b"content-type", b"application/json")],
            )
            return

        received = 0
        too_large = False
        replaced = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > size_limit:
                    # Frameworks turn errors while reading the body into their own answer;
                    # the flag lets the send wrapper replace that answer with the 413.
                    too_large = True
                    raise _BodyTooLarge(size_limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal replaced
            if too_large:
                if not replaced:
                    replaced = True
                    await _respond(
                        send_with_headers,
                        413,
                        _too_large(size_limit),
                        [(b"content-type", b"application/json")],
                    )
                return
            await send_with_headers(message)

        token = deadline.current.set(limit)  # for `def` routes run in the thread pool
        timed_out = False
        try:
            await deadline.bound(self.app(scope, limited_receive, guarded_send), limit)
        except _BodyTooLarge:
            await guarded_send({"type": "http.response.start", "status": 413, "headers": []})
        except asyncio.CancelledError:
            if not expired:
                raise  # the server is stopping or the client left: not ours to answer
            if task is not None:
                task.uncancel()
            timed_out = True
        except BaseException as exc:
            if not _is_timeout(exc):
                if not started and isinstance(exc, Exception):
                    # The last resort: the error shape and the headers, never a plain-text 500.
                    await _respond(send_with_headers, 500, SERVER_ERROR, JSON)
                raise  # for the server's log (uvicorn prints the traceback)
            timed_out = True
        finally:
            timer.cancel()
            deadline.current.reset(token)
        if timed_out:
            logger.warning(
                "%s %s stopped after the %ss time limit", method, path, settings.request_time_limit
            )
            if not started:
                await _respond(send_with_headers, 503, TIMED_OUT, JSON)


class _BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"body over {limit} bytes")


async def _respond(
    send: Send, status: int, body: bytes, headers: Iterable[tuple[bytes, bytes]]
) -> None:
    raw = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
