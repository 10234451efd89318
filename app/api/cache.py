"""A small in-process cache of rendered GET responses.

Every GET view here is a pure function of its URL, the catalog, the settings and today's date
(staleness and lifecycle months depend on it). A wiki page that embeds a scenario, or a link
passed around a team, asks for the same URL again and again; answering those from memory keeps
a burst from queueing behind the computation. Distinct URLs (a slider being dragged) still
compute. Each worker has its own cache; nothing is shared or persisted.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from threading import Lock

from fastapi import Request
from fastapi.responses import Response

from app.pricing import Catalog
from app.settings import settings

# Headers that change what a view renders. Anything else in a request is ignored by the views.
_VARY = ("hx-request", "hx-history-restore-request")


@dataclass(frozen=True)
class _Entry:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


class ResponseCache:
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = Lock()

    def key(self, request: Request, catalog: Catalog) -> Hashable:
        return (
            # The page's embed snippet holds an absolute URL: host, scheme and root path count.
            str(request.base_url),
            request.url.path,
            request.url.query,
            tuple(request.headers.get(h, "") for h in _VARY),
            date.today(),
            id(catalog),
            settings.prices_stale_after_days,
        )

    def get(self, key: Hashable) -> Response | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
        return Response(entry.body, status_code=entry.status, headers=dict(entry.headers))

    def put(self, key: Hashable, response: Response) -> Response:
        """Keep a 200 answer; return the response unchanged either way."""
        if self.maxsize <= 0 or response.status_code != 200:
            return response
        headers = tuple(
            (k, v) for k, v in response.headers.items() if k.lower() != "content-length"
        )
        entry = _Entry(response.status_code, bytes(response.body), headers)
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return response

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


responses = ResponseCache(settings.response_cache_size)
