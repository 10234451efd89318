"""A small in-process cache of rendered GET responses.

Every GET view here is a pure function of its URL, the catalog, the settings and today's date
(staleness and lifecycle months depend on it). A wiki page that embeds a scenario, or a link
passed around a team, asks for the same URL again and again; answering those from memory keeps
a burst from queueing behind the computation. Distinct URLs (a slider being dragged) still
compute. Each worker has its own cache; nothing is shared or persisted.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from threading import Lock
from typing import TypeVar

from fastapi import Request
from fastapi.responses import Response

from app.domain.candidates import CandidatesScenario, Costed, cost
from app.domain.candidates import volume_free_key as candidates_key
from app.domain.engine import Resolved, resolve, volume_free_key
from app.domain.scenario import Scenario
from app.pricing import Catalog
from app.settings import settings

T = TypeVar("T")

# Headers that change what a view renders. Anything else in a request is ignored by the views.
_VARY = ("hx-request", "hx-history-restore-request")


@dataclass(frozen=True)
class _Entry:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


class ResponseCache:
    """At most `maxsize` answers and `maxbytes` of their bodies, least recently used out
    first: a candidates fragment is several times a spreadsheet figure, so a count alone
    does not bound a worker's memory."""

    def __init__(self, maxsize: int, maxbytes: int = 8_000_000) -> None:
        self.maxsize = maxsize
        self.maxbytes = maxbytes
        self.bytes = 0
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
        body = bytes(response.body)
        if len(body) > self.maxbytes:
            return response
        headers = tuple(
            (k, v) for k, v in response.headers.items() if k.lower() != "content-length"
        )
        entry = _Entry(response.status_code, body, headers)
        with self._lock:
            old = self._entries.pop(key, None)
            self.bytes += len(body) - (len(old.body) if old is not None else 0)
            self._entries[key] = entry
            while len(self._entries) > self.maxsize or self.bytes > self.maxbytes:
                _, gone = self._entries.popitem(last=False)
                self.bytes -= len(gone.body)
        return response

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


class ArmsCache:
    """Arms priced month by month, by what pricing reads of a scenario (everything but the
    volume, the growth and the discount rate), for the two-arm comparison (`resolve`) and
    the candidates (`cost`). A scenario that differs from a recent one only in those (a
    dragged volume slider, a spreadsheet's column of volumes) skips pricing the arms month by
    month, the dearest part of a comparison, and reuses what was derived from them (the
    volume curve, the envelope: `Resolved.derived`, `Costed.derived`)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        # Each entry holds its catalog, so the catalog's id in the key cannot be reused by
        # another catalog (tests swap catalogs; the app loads one per process).
        self._entries: OrderedDict[Hashable, tuple[Catalog, object]] = OrderedDict()
        self._lock = Lock()

    def resolve(self, scenario: Scenario, catalog: Catalog, today: date) -> Resolved:
        if self.maxsize <= 0:
            return resolve(scenario, catalog, today)
        key = ("two_arms", today, id(catalog), volume_free_key(scenario))
        kept = self._kept(key, catalog, Resolved, lambda: resolve(scenario, catalog, today))
        return kept.at_volume(scenario)

    def cost(self, scenario: CandidatesScenario, catalog: Catalog, today: date) -> Costed:
        if self.maxsize <= 0:
            return cost(scenario, catalog, today)
        key = ("candidates", today, id(catalog), candidates_key(scenario))
        kept = self._kept(key, catalog, Costed, lambda: cost(scenario, catalog, today))
        return kept.at_volume(scenario)

    def _kept(self, key: Hashable, catalog: Catalog, kind: type[T], compute: Callable[[], T]) -> T:
        """The value kept under `key`, or `compute()` kept there (a ScenarioError is raised
        before anything is kept)."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
        if found is not None and isinstance(found[1], kind):
            return found[1]
        value = compute()
        with self._lock:
            self._entries[key] = (catalog, value)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


responses = ResponseCache(settings.response_cache_size, settings.response_cache_bytes)
arms = ArmsCache(settings.arms_cache_size)
