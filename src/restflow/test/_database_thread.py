"""The test's database thread: where an async test's sync work meets its transaction.

Django keeps one connection object per thread, and a test's transaction lives
on the connection of the thread that opened it (pytest's main thread, or the
thread of Django's test runner). An ``async def`` test reaches the database
through ``sync_to_async(thread_sensitive=True)`` - every async ORM call, every
sync view or middleware behind the test client - and asgiref picks the thread
that runs such work.

For the length of one test, a :class:`DatabaseThread` is that thread. It is
started for the test, borrows the connection objects of the thread that holds
the transaction (Django's thread-sharing counter allows it, as for
``LiveServerTestCase``), and is announced to asgiref the way ``async_to_sync``
announces the thread it blocks: as ``AsyncToSync.executors.current`` in the
context the test's coroutines run in. Tasks inherit that context, so whatever
the test starts lands on the same thread and the same transaction.

Because the thread belongs to one test, the test can give up on it: when a
sync call hangs, the thread is abandoned (it is a daemon thread, and a guard
refuses any query it attempts later) and the next test gets a new one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import inspect
import sys
import threading
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any, TypeVar

from asgiref.current_thread_executor import CurrentThreadExecutor
from asgiref.sync import AsyncToSync, SyncToAsync
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

_T = TypeVar("_T")

#: asgiref 3.10 gave CurrentThreadExecutor a parent executor argument.
_EXECUTOR_TAKES_PARENT = bool(inspect.signature(CurrentThreadExecutor).parameters)

#: Threads given up on after a timeout: the guard refuses their queries.
_abandoned: weakref.WeakSet[threading.Thread] = weakref.WeakSet()

#: How many database threads borrow each connection at the moment.
_lendings: weakref.WeakKeyDictionary[BaseDatabaseWrapper, int] = (
    weakref.WeakKeyDictionary()
)
_lendings_lock = threading.Lock()


def _new_executor() -> CurrentThreadExecutor:
    if _EXECUTOR_TAKES_PARENT:
        return CurrentThreadExecutor(None)  # type: ignore[call-arg,unused-ignore]
    else:  # pragma: no cover - asgiref 3.8 and 3.9; CI installs the newest
        return CurrentThreadExecutor()  # type: ignore[call-arg,unused-ignore]


#: The router serving the code that runs in this context, if any.
current_router: contextvars.ContextVar[SyncWorkRouter | None] = contextvars.ContextVar(
    "restflow_sync_work_router", default=None
)


def current_connections() -> dict[str, BaseDatabaseWrapper]:
    """The calling thread's connection objects, one per configured alias."""
    return {alias: connections[alias] for alias in connections}


class DatabaseThread:
    """A thread that runs a test's thread-sensitive sync work on borrowed
    connections.

    Create it on the thread that holds the test's transaction, passing that
    thread's connections. It serves an asgiref ``CurrentThreadExecutor``,
    as a thread blocked in ``async_to_sync`` does; :meth:`stop` finishes the
    work already queued and ends the thread, or gives up on it.
    """

    def __init__(self, lent: Mapping[str, BaseDatabaseWrapper]) -> None:
        self.lent = dict(lent)
        _lend(self.lent.values())
        self._stop: Future[None] = Future()
        ready: Future[CurrentThreadExecutor] = Future()
        self._thread = threading.Thread(
            target=self._serve,
            args=(ready,),
            name="restflow-test-database",
            daemon=True,
        )
        self._thread.start()
        #: The executor asgiref sends the test's sync work to.
        self.executor = ready.result()
        #: How many pieces of work the thread is running at the moment.
        self.running = 0

    def _serve(self, ready: Future[CurrentThreadExecutor]) -> None:
        for alias, connection in self.lent.items():
            connections[alias] = connection
        executor = _new_executor()
        ready.set_result(executor)
        try:
            executor.run_until_future(self._stop)
        finally:
            # The connections go back to their owner; nothing in this thread
            # refers to them any more.
            for alias in self.lent:
                del connections[alias]

    @property
    def ident(self) -> int | None:
        """The thread's identifier, as ``sys._current_frames()`` keys it."""
        return self._thread.ident

    def call(self, function: Callable[..., _T], *args: Any) -> _T:
        """Run ``function(*args)`` here and wait for it, from any other thread.

        Meant for sync code that must run on the test's connection while the
        caller's event loop is blocked (``captureOnCommitCallbacks``). asgiref
        is told that no loop serves this call, so an ``async_to_sync`` inside
        it starts a loop of its own instead of waiting for the blocked one.
        """
        return self.executor.submit(_without_parent_loop, function, *args).result()

    def in_a_query(self) -> bool:
        """Whether the thread is inside a database query at the moment."""
        frame = sys._current_frames().get(self._thread.ident or 0)
        while frame is not None:
            if frame.f_code.co_filename.endswith(_DJANGO_QUERY_FILES):
                return True
            frame = frame.f_back
        return False

    def stop(self, timeout: float | None = None) -> bool:
        """Finish the queued work, end the thread and return the connections.

        Waits at most ``timeout`` seconds (``None``: as long as it takes).
        Returns ``False`` if the thread is still busy then: it is abandoned,
        and any query it attempts later fails.
        """
        self._stop.set_result(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._abandon()
            return False
        _return(self.lent.values())
        return True

    def release(self, timeout: float | None = None, *, idle: bool = False) -> bool:
        """Wait for the queued work to finish and return the connections,
        keeping the thread for the next test. ``idle`` says the caller knows
        that no work is queued or running.

        Returns ``False`` if the work was not done within ``timeout``
        seconds: the thread is then abandoned instead, as by :meth:`stop`.
        """
        if not idle:
            done = self.executor.submit(_nothing)
            try:
                done.result(timeout)
            except concurrent.futures.TimeoutError:
                self._stop.set_result(None)
                self._abandon()
                return False
        _return(self.lent.values())
        return True

    def end(self) -> None:
        """End a thread whose connections :meth:`release` has given back."""
        self._stop.set_result(None)
        self._thread.join()

    def reuse(self, lent: Mapping[str, BaseDatabaseWrapper]) -> None:
        """Borrow ``lent`` for the next test (a thread kept by :meth:`release`)."""
        _lend(lent.values())
        if any(self.lent.get(alias) is not c for alias, c in lent.items()) or (
            self.lent.keys() != lent.keys()
        ):
            self.executor.submit(self._install, dict(lent), list(self.lent)).result()
        self.lent = dict(lent)

    @staticmethod
    def _install(lent: dict[str, BaseDatabaseWrapper], old: list[str]) -> None:
        for alias in old:
            del connections[alias]
        for alias, connection in lent.items():
            connections[alias] = connection

    def _abandon(self) -> None:
        _abandoned.add(self._thread)
        busy_in_query = self.in_a_query()
        for connection in self.lent.values():
            if _refuse_abandoned_threads not in connection.execute_wrappers:
                connection.execute_wrappers.append(_refuse_abandoned_threads)
            if busy_in_query:
                _interrupt(connection)
        _return(self.lent.values())


def lend_to_async_code(
    lent: Mapping[str, BaseDatabaseWrapper],
) -> Callable[[], None]:
    """Make ``connections[alias]`` the lent objects for async code started
    from the current context; return a function that undoes it.

    On a thread that runs an event loop, Django's connection handler keeps
    the connections per context, not per thread, so async code would get
    fresh, unconnected objects: ``django.db.connection`` in an async test
    would not be the test's connection, and ``captureOnCommitCallbacks`` or
    ``CaptureQueriesContext`` would watch the wrong one. Setting them takes a
    running loop; a short coroutine on a private loop sets them, and the
    context variables it changed are copied into the current context.
    """

    async def install() -> contextvars.Context:
        for alias, connection in lent.items():
            connections[alias] = connection
        return contextvars.copy_context()

    changed = _private_loop().run_until_complete(install())
    tokens: list[tuple[contextvars.ContextVar[Any], contextvars.Token[Any]]] = []
    for variable, value in changed.items():
        if variable.get(_UNSET) is not value:
            tokens.append((variable, variable.set(value)))

    def undo() -> None:
        for variable, token in reversed(tokens):
            variable.reset(token)

    return undo


_UNSET = object()
_loop: asyncio.AbstractEventLoop | None = None


def _private_loop() -> asyncio.AbstractEventLoop:
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop


def _nothing() -> None:
    pass


#: A database thread kept between tests, ready for the next one.
_idle: list[DatabaseThread] = []
_idle_lock = threading.Lock()


def acquire_database_thread(lent: Mapping[str, BaseDatabaseWrapper]) -> DatabaseThread:
    """A database thread borrowing ``lent``: the idle one if there is one."""
    with _idle_lock:
        thread = _idle.pop() if _idle else None
    if thread is None:
        return DatabaseThread(lent)
    thread.reuse(lent)
    return thread


def release_database_thread(
    thread: DatabaseThread, timeout: float | None, *, idle: bool = False
) -> bool:
    """Give ``thread``'s connections back once its work is done, and keep it
    for the next test; ``False`` if it was still busy and was abandoned."""
    if not thread.release(timeout, idle=idle):
        return False
    with _idle_lock:
        if not _idle:
            _idle.append(thread)
            return True
    # One kept thread is enough; this one's connections are back already.
    thread.end()
    return True


def _without_parent_loop(function: Callable[..., _T], *args: Any) -> _T:
    local = SyncToAsync.threadlocal
    loop = getattr(local, "main_event_loop", None)
    local.main_event_loop = None
    try:
        return function(*args)
    finally:
        local.main_event_loop = loop


def _lend(lent: Any) -> None:
    with _lendings_lock:
        for connection in lent:
            connection.inc_thread_sharing()
            count = _lendings.get(connection, 0)
            if count == 0 and "ensure_connection" not in vars(connection):
                # An instance attribute, so the class's method (which Django's
                # and pytest-django's test machinery patch) is still the one
                # that does the work.
                connection.ensure_connection = _AsyncSafeEnsure(connection)
            _lendings[connection] = count + 1


def _return(lent: Any) -> None:
    with _lendings_lock:
        for connection in lent:
            connection.dec_thread_sharing()
            count = _lendings.get(connection, 0) - 1
            if count <= 0:
                _lendings.pop(connection, None)
                if isinstance(
                    vars(connection).get("ensure_connection"), _AsyncSafeEnsure
                ):
                    del connection.ensure_connection
            else:
                _lendings[connection] = count


class _AsyncSafeEnsure:
    """``ensure_connection`` of a lent connection, callable from the event loop.

    Django refuses it on a thread that runs an event loop, which makes
    ``CaptureQueriesContext`` and ``assertNumQueries`` unusable in an async
    test. On a lent connection that is open there is nothing to do; one that
    is closed is opened from a short-lived thread, so the loop's thread still
    does no blocking database work itself.
    """

    __slots__ = ("_connection",)

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self._connection = weakref.ref(connection)

    def __call__(self) -> None:
        connection = self._connection()
        assert connection is not None
        ensure = type(connection).ensure_connection
        if not _loop_running_here():
            ensure(connection)
        elif connection.connection is None:
            _in_a_thread(ensure, connection)


def _loop_running_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _in_a_thread(function: Callable[..., Any], *args: Any) -> None:
    outcome: Future[None] = Future()
    context = contextvars.copy_context()

    def run() -> None:
        try:
            context.run(function, *args)
        except BaseException as error:
            outcome.set_exception(error)
        else:
            outcome.set_result(None)

    threading.Thread(target=run, name="restflow-connect", daemon=True).start()
    outcome.result()


def _refuse_abandoned_threads(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
) -> Any:
    if threading.current_thread() in _abandoned:
        raise DatabaseError(
            "restflow: this thread was running a test's sync code when restflow "
            "gave up on it (the test timed out, or ended before that code did); "
            "it may not query the database any more."
        )
    return execute(sql, params, many, context)


#: Django's cursor wrappers: a thread with one of them on its stack is querying.
_DJANGO_QUERY_FILES = ("db/backends/utils.py", "db\\backends\\utils.py")


def _interrupt(connection: BaseDatabaseWrapper) -> None:
    """Ask the database driver to stop the statement running on ``connection``.

    psycopg connections have ``cancel()``, sqlite3's ``interrupt()``;
    MySQLdb's neither, so there the statement runs to its end.
    """
    raw = connection.connection
    stop = getattr(raw, "cancel", None) or getattr(raw, "interrupt", None)
    if stop is not None:
        # The statement may have finished meanwhile.
        with contextlib.suppress(Exception):
            stop()


class SyncWorkRouter(CurrentThreadExecutor):
    """The executor asgiref is given for one test's thread-sensitive work.

    It stands for the test's :class:`DatabaseThread` and forwards each piece
    of work to it. Contexts captured early (an async fixture's, kept for its
    teardown) hold this object, so when a stuck thread is replaced they
    reach the new one. It never runs work itself: it is marked finished at
    once, and asgiref, when it walks from a finished nested executor to its
    parent, is pointed at the live thread's executor instead.
    """

    def __init__(self, lent: Mapping[str, BaseDatabaseWrapper]) -> None:
        self.lent = dict(lent)
        self.thread = acquire_database_thread(self.lent)
        if _EXECUTOR_TAKES_PARENT:
            super().__init__(self.thread.executor)  # type: ignore[call-arg,unused-ignore]
        else:  # pragma: no cover - asgiref 3.8 and 3.9; CI installs the newest
            super().__init__()  # type: ignore[call-arg,unused-ignore]
        finished: Future[None] = Future()
        finished.set_result(None)
        self.run_until_future(finished)
        self._closed_reason: str | None = None
        self._unfinished = 0
        self._count_lock = threading.Lock()

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        """Hand ``fn(*args, **kwargs)`` to the test's database thread."""
        if self._closed_reason is not None:
            raise RuntimeError(self._closed_reason)
        thread = self.thread
        with self._count_lock:
            self._unfinished += 1
        future = thread.executor.submit(_track, thread, fn, *args, **kwargs)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: Future[Any]) -> None:
        with self._count_lock:
            self._unfinished -= 1

    @property
    def busy(self) -> bool:
        """Whether the database thread is running a piece of work now."""
        return self.thread.running > 0

    def route(self) -> None:
        """Send thread-sensitive sync work from the current context here.

        Sets what ``async_to_sync`` sets for the thread it blocks; tasks,
        async fixtures and ``sync_to_async`` calls started from this context
        inherit it.
        """
        AsyncToSync.executors.current = self
        current_router.set(self)

    @staticmethod
    def unroute() -> None:
        """Undo :meth:`route` in the current context."""
        AsyncToSync.executors.current = None
        current_router.set(None)

    def call(self, function: Callable[..., _T], *args: Any) -> _T:
        """Run ``function(*args)`` on the database thread and wait for it."""
        return self.thread.call(function, *args)

    async def settle(self, grace: float) -> bool:
        """Wait up to ``grace`` seconds for the database thread to be idle;
        replace it if it is not. Returns whether it had to be replaced."""
        deadline = asyncio.get_running_loop().time() + grace
        while self.busy and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        if not self.busy:
            return False
        stuck = self.thread
        stuck.stop(timeout=0)
        self.thread = DatabaseThread(self.lent)
        # asgiref 3.10+ walks from a finished executor to this parent.
        if _EXECUTOR_TAKES_PARENT:  # pragma: no branch - False on asgiref 3.8, 3.9
            self._old_executor = self.thread.executor
        return True

    def close(self, reason: str, timeout: float | None) -> bool:
        """Refuse further work, finish what is queued and end the thread.

        Returns ``False`` if the thread was still busy after ``timeout``
        seconds and had to be abandoned.
        """
        self._closed_reason = reason
        with self._count_lock:
            idle = self._unfinished == 0
        return release_database_thread(self.thread, timeout, idle=idle)


def _track(
    thread: DatabaseThread, fn: Callable[..., _T], *args: Any, **kwargs: Any
) -> _T:
    thread.running += 1
    try:
        return fn(*args, **kwargs)
    finally:
        thread.running -= 1
