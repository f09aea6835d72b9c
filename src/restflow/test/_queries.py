"""Counting the queries a block of test code causes, wherever they run.

Django's ``CaptureQueriesContext`` watches one connection object, and a
connection object belongs to one thread: queries made by
``sync_to_async(thread_sensitive=False)`` work, or on another database
alias, go unseen. :class:`CaptureAllQueries` follows the code instead: it
marks the block's context, asgiref carries the context to every thread that
runs sync work for the block, and each query run under the mark is recorded,
whatever its connection and thread.
"""

from __future__ import annotations

import contextvars
import inspect
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, NoReturn

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

__all__ = ["CaptureAllQueries"]

_recorders: contextvars.ContextVar[tuple[CaptureAllQueries, ...]] = (
    contextvars.ContextVar("restflow_query_recorders", default=())
)
_install_lock = threading.Lock()
_installed = False
#: Per thread: how deep inside ``BaseDatabaseWrapper.connect()`` it is.
_connecting = threading.local()


class CaptureAllQueries:
    """Record the queries a block causes, on every connection and thread.

    Use it as a (sync) ``with`` block, in sync or async code::

        with CaptureAllQueries() as queries:
            await self.client.get("/api/orders/")
        assert len(queries) == 3

    Recorded are the queries of code running in the block's context: the
    block itself, the tasks it starts, and the sync code they hand to
    ``sync_to_async`` - thread-sensitive or not - which includes the async
    ORM and the views reached through the test client, on any database
    alias. Threads started by hand with ``threading.Thread`` do not carry
    the context and are not seen. The queries Django runs to set up a new
    connection (the server's version and settings, session variables) are
    not counted: they are not the code's, and they differ from one
    database backend to the next.

    Each entry of :attr:`captured_queries` is a dict with ``sql`` (the
    query as the database ran it; for one that failed, the SQL as given),
    ``time`` (seconds, as a string, like
    Django's ``connection.queries``), ``alias`` and ``thread`` (the name of
    the thread that ran it).
    """

    def __init__(self) -> None:
        #: The queries recorded so far, oldest first.
        self.captured_queries: list[dict[str, str]] = []

    def __enter__(self) -> CaptureAllQueries:
        _install()
        _recorders.set((*_recorders.get(), self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Not a reset to a token: the awaitable form (count_queries_around)
        # may end the block in a task, whose context is a copy of the one
        # the block began in.
        _recorders.set(tuple(r for r in _recorders.get() if r is not self))

    def __len__(self) -> int:
        return len(self.captured_queries)

    def __iter__(self) -> Iterator[dict[str, str]]:
        return iter(self.captured_queries)

    def __getitem__(self, index: int) -> dict[str, str]:
        return self.captured_queries[index]

    def listing(self) -> str:
        """The recorded queries, numbered, each with its alias and thread."""
        return "\n".join(
            f"{number}. [{query['alias']} | {query['thread']}] {query['sql']}"
            for number, query in enumerate(self.captured_queries, start=1)
        )


class _AssertQueries(CaptureAllQueries):
    def __init__(self, num: int, exact: bool, fail: Callable[[str], NoReturn]) -> None:
        if isinstance(num, bool) or not isinstance(num, int) or num < 0:
            raise TypeError(
                f"The expected number of queries must be an int >= 0, not {num!r}."
            )
        super().__init__()
        self.num, self.exact, self.fail = num, exact, fail

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        super().__exit__(exc_type, exc, traceback)
        if exc_type is not None:
            return
        executed = len(self)
        if executed == self.num or (not self.exact and executed < self.num):
            return
        expected = f"{self.num}" if self.exact else f"at most {self.num}"
        listing = self.listing() or "(none)"
        self.fail(
            f"{executed} queries executed, {expected} expected, counting every "
            f"database and thread.\nCaptured queries [alias | thread]:\n{listing}"
        )


def assert_queries_everywhere(
    num: int,
    exact: bool,
    func: Callable[..., Any] | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    fail: Callable[[str], NoReturn],
) -> Any:
    """A context manager asserting ``num`` queries (exactly, or at most when
    not ``exact``), or, given ``func``, the result of counting around it
    (see :func:`count_queries_around`)."""
    context = _AssertQueries(num, exact, fail)
    return (
        context if func is None else count_queries_around(context, func, args, kwargs)
    )


def count_queries_around(
    context: AbstractContextManager[Any],
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Call ``func(*args, **kwargs)`` inside ``context``.

    If the call returns an awaitable (a coroutine function, a client request
    method), the context stays open until it is awaited: the return value is
    a coroutine, to ``await``.
    """
    context.__enter__()
    try:
        result = func(*args, **kwargs)
    except BaseException as error:
        context.__exit__(type(error), error, error.__traceback__)
        raise
    if inspect.isawaitable(result):
        return _finish_after(context, result)
    context.__exit__(None, None, None)
    return result


async def _finish_after(
    context: AbstractContextManager[Any], awaitable: Awaitable[Any]
) -> Any:
    try:
        result = await awaitable
    except BaseException as error:
        context.__exit__(type(error), error, error.__traceback__)
        raise
    context.__exit__(None, None, None)
    return result


def _install() -> None:
    """Route Django's cursor ``execute`` and ``executemany`` through the recorder.

    Installed once, on first use; outside a capturing block it costs one
    context variable lookup per query.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        CursorWrapper.execute = _recording(CursorWrapper.execute, many=False)  # type: ignore[method-assign]
        CursorWrapper.executemany = _recording(CursorWrapper.executemany, many=True)  # type: ignore[method-assign]
        BaseDatabaseWrapper.connect = _marking_set_up(BaseDatabaseWrapper.connect)  # type: ignore[method-assign]
        _installed = True


def _setting_up_a_connection() -> bool:
    return bool(getattr(_connecting, "depth", 0))


def _marking_set_up(connect: Callable[[BaseDatabaseWrapper], None]) -> Any:
    """``connect`` that marks its thread as setting up a connection meanwhile."""

    def connecting(self: BaseDatabaseWrapper) -> None:
        _connecting.depth = getattr(_connecting, "depth", 0) + 1
        try:
            connect(self)
        finally:
            _connecting.depth -= 1

    connecting.__name__ = connect.__name__
    connecting.__qualname__ = connect.__qualname__
    connecting.__doc__ = connect.__doc__
    connecting.__wrapped__ = connect  # type: ignore[attr-defined]
    return connecting


def _recording(method: Callable[..., Any], *, many: bool) -> Callable[..., Any]:
    def recorded(self: CursorWrapper, sql: str, params: Any = None) -> Any:
        recorders = _recorders.get()
        if not recorders or _setting_up_a_connection():
            return method(self, sql, params)
        started = time.perf_counter()
        ran = False
        try:
            result = method(self, sql, params)
            ran = True
            return result
        finally:
            duration = time.perf_counter() - started
            _record(recorders, self, sql, params, duration, many=many, ran=ran)

    recorded.__name__ = method.__name__
    recorded.__qualname__ = method.__qualname__
    recorded.__doc__ = method.__doc__
    recorded.__wrapped__ = method  # type: ignore[attr-defined]
    return recorded


def _record(
    recorders: tuple[CaptureAllQueries, ...],
    cursor: CursorWrapper,
    sql: str,
    params: Any,
    duration: float,
    *,
    many: bool,
    ran: bool,
) -> None:
    if many:
        count = len(params) if hasattr(params, "__len__") else "?"
        text = f"{sql} ... ({count} times)"
    elif ran:
        # What Django's own debug cursor shows; None when the backend cannot
        # say (psycopg with server-side binding, for some parameters).
        text = cursor.db.ops.last_executed_query(cursor.cursor, sql, params) or sql
    else:
        # What the driver holds may be an earlier statement, or nothing.
        text = sql
    entry = {
        "sql": text,
        "time": f"{duration:.3f}",
        "alias": cursor.db.alias,
        "thread": threading.current_thread().name,
    }
    for recorder in recorders:
        recorder.captured_queries.append(entry)


# Shown, raised and filtered under their public name.
CaptureAllQueries.__module__ = "restflow.test"
