"""The request time limit (REQUEST_TIME_LIMIT): a last line of defence, not a code path.

Every computation is meant to end in bounded time; this stops one that does not, without
losing the worker. Route handlers compute synchronously, on the event loop thread (async
routes) or a pool thread (plain `def` routes), so an endless loop there cannot be cancelled
by asyncio: nothing else runs until it returns. Instead the synchronous stretches of a request
run as *sections* with a deadline, and a watchdog thread raises `RequestTimeout` inside the
thread of a section that outlives it (CPython's PyThreadState_SetAsyncExc, checked between
bytecodes). Only a section of the late request is ever interrupted: the watchdog raises in a
thread only while that request's section runs there, under the lock that ends the section.

`bound(coro, deadline)` runs a coroutine with each of its steps as a section (used by
app.middleware around the whole app); `bounded` does the same for a plain function run in
the thread pool.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import functools
import math
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterator
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# How often the watchdog looks: a late request is stopped within this of its limit.
POLL_SECONDS = 0.05


class RequestTimeout(BaseException):
    """Raised inside a request that ran past its deadline.

    A BaseException, so that `except Exception` in the code it interrupts cannot swallow it.
    """


class Deadline:
    """A request's deadline on the monotonic clock; `inf` once its response has started."""

    __slots__ = ("at",)

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.at


_lock = threading.Lock()
_sections: dict[int, Deadline] = {}  # thread id -> deadline of the section running there
_fired: set[int] = set()  # threads with a RequestTimeout raised and not yet seen
_watchdog: threading.Thread | None = None
current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "request_deadline", default=None
)


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    # exc None clears a pending exception (NULL at the C level).
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else None
    )


def _watch() -> None:  # pragma: no cover - runs in its own thread; tested through requests
    while True:
        time.sleep(POLL_SECONDS)
        now = time.monotonic()
        with _lock:
            for thread_id, deadline in _sections.items():
                # Raised again on every look while the section runs: code that catches
                # BaseException and carries on is interrupted again.
                if now >= deadline.at:
                    _fired.add(thread_id)
                    _set_async_exc(thread_id, RequestTimeout)


def _start_watchdog() -> None:
    global _watchdog
    with _lock:
        if _watchdog is None or not _watchdog.is_alive():
            _watchdog = threading.Thread(target=_watch, name="request-deadline", daemon=True)
            _watchdog.start()


def _enter(deadline: Deadline) -> int:
    if deadline.passed:
        raise RequestTimeout
    if _watchdog is None:
        _start_watchdog()
    thread_id = threading.get_ident()
    with _lock:
        _sections[thread_id] = deadline
    return thread_id


def _leave(thread_id: int) -> bool:
    """End the section; True when the watchdog raised in it (the caller then raises)."""
    with _lock:
        _sections.pop(thread_id, None)
        if thread_id not in _fired:
            return False
        _fired.discard(thread_id)
        # The exception may still be pending (raised after the section's last bytecode):
        # clear it so it cannot surface outside the section, in unrelated code.
        _set_async_exc(thread_id, None)
        return True


class _Bound:
    __slots__ = ("coro", "deadline")

    def __init__(self, coro: Awaitable[Any], deadline: Deadline) -> None:
        if not isinstance(coro, Coroutine):
            raise TypeError(f"a coroutine is needed, not {type(coro).__name__}")
        self.coro = coro
        self.deadline = deadline

    def __await__(self) -> Generator[Any, Any, Any]:
        # What `await coro` does, with a section around each step until the response starts.
        # Inlined (no helper calls): it runs several times per request.
        coro, deadline = self.coro, self.deadline
        if _watchdog is None:
            _start_watchdog()
        thread_id = threading.get_ident()
        value: Any = None
        error: BaseException | None = None
        while True:
            timed = deadline.at != math.inf
            if timed:
                if time.monotonic() >= deadline.at:
                    coro.close()
                    raise RequestTimeout
                with _lock:
                    _sections[thread_id] = deadline
            try:
                step = coro.send(value) if error is None else coro.throw(error)
            except StopIteration as stop:
                return stop.value
            finally:
                if timed:
                    with _lock:
                        del _sections[thread_id]
                        late = thread_id in _fired
                        if late:
                            _fired.discard(thread_id)
                            _set_async_exc(thread_id, None)
            if timed and late:
                coro.close()
                raise RequestTimeout
            try:
                value, error = (yield step), None
            except BaseException as exc:  # handed to the coroutine, as await does
                value, error = None, exc


def bound(coro: Awaitable[T], deadline: Deadline) -> Awaitable[T]:
    """`coro`, with every synchronous step run as a section of `deadline`."""
    return _Bound(coro, deadline)


def bounded(func: Callable[P, T]) -> Callable[P, T]:
    """A plain function (a `def` route run in the thread pool) bound by the request's deadline.

    The deadline travels in a context variable: the thread pool runs the function in a copy
    of the request's context.
    """

    @functools.wraps(func)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        deadline = current.get()
        if deadline is None:
            return func(*args, **kwargs)
        thread_id = _enter(deadline)
        try:
            result = func(*args, **kwargs)
        finally:
            late = _leave(thread_id)
        if late:
            raise RequestTimeout
        return result

    return call


@contextlib.contextmanager
def limit(seconds: float) -> Iterator[None]:
    """Run a block of synchronous code as a section: RequestTimeout after `seconds`.

    For code outside a request (tests, benchmarks) that must end in bounded time.
    """
    thread_id = _enter(Deadline(seconds))
    late = False
    try:
        yield
    finally:
        late = _leave(thread_id)
    if late:
        raise RequestTimeout
