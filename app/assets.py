"""URLs the templates write: the root path (ROOT_PATH) in front of every one, and a content
version on every static file so it can be cached for a year.

`url(path)` and `static(name)` are Jinja globals (app.templating); every template writes its
links through them, so a page served under /tools/tune links /tools/tune/static/app.css.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.settings import ROOT

STATIC_DIR = ROOT / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
# An unversioned or outdated URL: the browser checks back (ETag / Last-Modified) each time.
REVALIDATE = "no-cache"


def root_path(scope: Scope) -> str:
    # app_root_path: the server's prefix, even inside a mounted sub-application.
    return str(scope.get("app_root_path", scope.get("root_path", "")) or "")


@lru_cache(maxsize=256)
def version(name: str) -> str:
    """The first 12 hex digits of the file's SHA-256; files do not change while serving."""
    path = (STATIC_DIR / name).resolve()
    if STATIC_DIR.resolve() not in path.parents or not path.is_file():
        raise ValueError(f"no static file {name!r}")
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_path(name: str) -> str:
    """/static/<name>?v=<version>, from the app's root (callers add the root path)."""
    return f"/static/{name}?v={version(name)}"


@pass_context
def url(context: Any, path: str) -> str:
    """`path` (from the app's root, starting with /) under the server's root path."""
    return root_path(context["request"].scope) + path


@pass_context
def static(context: Any, name: str) -> str:
    return root_path(context["request"].scope) + static_path(name)


class VersionedStaticFiles(StaticFiles):
    """Static files; a URL carrying the file's current version is cached for a year."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            query = scope.get("query_string", b"").decode("latin-1")
            current = _current_version(path)
            fresh = current is not None and f"v={current}" in query.split("&")
            response.headers["cache-control"] = IMMUTABLE if fresh else REVALIDATE
        return response


def _current_version(path: str) -> str | None:
    try:
        return version(Path(path).as_posix())
    except (ValueError, OSError):
        return None
