"""restflow's pytest plugin: client fixtures, and async database tests that roll back.

pytest loads this module through the ``pytest11`` entry point, so installing
restflow is enough. It works together with pytest-django and pytest-asyncio
and stays out of the way when pytest-django is not in use.

The problem it solves: pytest-django wraps a ``django_db`` test in a
transaction opened on pytest's main thread, and rolls it back afterwards.
pytest-asyncio runs an ``async def`` test in an event loop on that same main
thread, so every ``sync_to_async(thread_sensitive=True)`` call the test makes
- each async ORM call, each sync view reached through ``AsyncClient`` - is
sent to asgiref's shared worker thread instead. That thread has its own
database connection, outside the transaction, and its writes are committed
for good: the next test sees them.

The fix follows Django's own ``TestCase``, which runs ``async def`` test
methods through ``async_to_sync``: the coroutine runs on a loop in another
thread while the main thread waits and carries out the sync calls the
coroutine hands back. Here the loop lives in a helper thread for the length
of one test and serves the test and its function-scoped async fixtures alike,
so that everything the test does reaches the database through the main
thread's connection, the one inside the test's transaction. See
``docs/pytest.md`` for the user-facing account.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import os
import queue
import sys
import threading
import unittest
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from concurrent.futures import Executor, Future
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from asgiref.sync import AsyncToSync, SyncToAsync

if TYPE_CHECKING:
    from restflow.test.client import AsyncAPIClient
    from restflow.test.factory import AsyncAPIRequestFactory

__all__ = ["async_api_client", "async_api_rf"]

_T = TypeVar("_T")

#: pytest-django's fixtures that give a test the database, besides the marker.
_DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "live_server",
    }
)

_ON_MAIN_THREAD = pytest.StashKey[bool]()
_TEST_FUNCTION = pytest.StashKey[Callable[..., Any]]()
_TEST_LOOP = pytest.StashKey["_TestLoop"]()


# -- fixtures --------------------------------------------------------------


@pytest.fixture
def async_api_client(request: pytest.FixtureRequest) -> AsyncAPIClient:
    """A new :class:`~restflow.test.AsyncAPIClient` for each test.

    A fresh client means no cookies, credentials or forced authentication
    carry over from another test. The client itself needs no database;
    mark the test ``django_db`` when the views it calls use one.

    Its responses are checked against the OpenAPI schema when the
    ``restflow_validate_schema`` ini option is on, or when the test (or its
    class or module) is marked ``@pytest.mark.validate_schema``;
    ``@pytest.mark.validate_schema(False)`` turns the check off for one test.
    """
    _skip_without_django()
    from restflow.test.client import AsyncAPIClient

    marker = request.node.get_closest_marker("validate_schema")
    if marker is None:
        return AsyncAPIClient()
    return AsyncAPIClient(validate_schema=_marker_switch(marker))


def _marker_switch(marker: pytest.Mark) -> bool:
    value = marker.args[0] if marker.args else marker.kwargs.get("on", True)
    if (
        len(marker.args) > 1
        or set(marker.kwargs) - {"on"}
        or not isinstance(value, bool)
    ):
        raise pytest.UsageError(
            "@pytest.mark.validate_schema takes one True or False (or nothing, "
            "meaning True), as in @pytest.mark.validate_schema(False)."
        )
    return value


@pytest.fixture
def async_api_rf() -> AsyncAPIRequestFactory:
    """An :class:`~restflow.test.AsyncAPIRequestFactory`, for calling views directly."""
    _skip_without_django()
    from restflow.test.factory import AsyncAPIRequestFactory

    return AsyncAPIRequestFactory()


def _skip_without_django() -> None:
    # The same courtesy pytest-django's rf and client fixtures extend.
    if not _django_is_configured():
        pytest.skip("restflow's client fixtures need configured Django settings")


# -- options -------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``restflow_validate_schema`` ini option."""
    parser.addini(
        "restflow_validate_schema",
        type="bool",
        default=False,
        help="check every AsyncAPIClient response against the project's "
        'OpenAPI schema (needs pip install "restflow-testing[schema]")',
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; make the ini option the clients' default."""
    from restflow.test import _schema_default

    config.addinivalue_line(
        "markers",
        "validate_schema(on=True): check (or with False, do not check) the "
        "responses of async_api_client against the OpenAPI schema",
    )
    previous = _schema_default.validate_schema
    _schema_default.validate_schema = bool(config.getini("restflow_validate_schema"))
    config.add_cleanup(lambda: setattr(_schema_default, "validate_schema", previous))


# -- which tests are taken over ----------------------------------------------


def _django_is_configured() -> bool:
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        return True
    if "django.conf" not in sys.modules:
        return False
    from django.conf import settings

    return settings.configured


def _async_database_test(item: pytest.Item) -> bool:
    """Whether ``item`` is an ``async def`` test that uses pytest-django's database.

    Valid until the test's call phase, in which pytest-asyncio replaces the
    test function with a sync wrapper.
    """
    if not isinstance(item, pytest.Function) or not inspect.iscoroutinefunction(
        item.obj
    ):
        return False
    if isinstance(item.cls, type) and issubclass(item.cls, unittest.TestCase):
        return False  # Django's TestCase already runs its async methods well.
    if not item.config.pluginmanager.hasplugin("django"):
        return False
    uses_database = item.get_closest_marker("django_db") is not None or any(
        name in _DATABASE_FIXTURES for name in item.fixturenames
    )
    return uses_database and _django_is_configured()


def _pytest_asyncio_runs(item: pytest.Item) -> bool:
    """Whether pytest-asyncio is loaded and has claimed ``item`` as its test.

    In strict mode that takes ``@pytest.mark.asyncio``; in auto mode
    pytest-asyncio adds the marker itself while collecting.
    """
    return (
        item.config.pluginmanager.hasplugin("asyncio")
        and item.get_closest_marker("asyncio") is not None
    )


def _runs_on_main_thread(item: pytest.Item) -> bool:
    """Whether restflow runs ``item``'s coroutine and async fixtures itself.

    Decided once, before the test's fixtures are set up; the test function
    is kept for the call phase.
    """
    decided = item.stash.get(_ON_MAIN_THREAD, None)
    if decided is None:
        decided = _async_database_test(item) and _pytest_asyncio_runs(item)
        item.stash[_ON_MAIN_THREAD] = decided
        if decided:
            assert isinstance(item, pytest.Function)
            item.stash[_TEST_FUNCTION] = item.obj
    return decided


# -- hooks -------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True, wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    """Run the function-scoped async fixtures of taken-over tests on the test's loop.

    pytest-asyncio would run them in its own loop on the main thread, which
    sends their ORM calls to the connection outside the transaction. The
    fixture function is swapped for a sync one for the length of this setup;
    being the outermost wrapper, this happens before pytest-asyncio looks, so
    it sees a plain sync fixture and leaves it alone.
    """
    original = fixturedef.func
    test = request.node
    if not (
        (inspect.iscoroutinefunction(original) or inspect.isasyncgenfunction(original))
        and fixturedef.scope == "function"
        and isinstance(test, pytest.Function)
        and _runs_on_main_thread(test)
    ):
        return (yield)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            fixturedef,
            "func",
            _on_test_loop(_bind_to_test_instance(original, request), _loop_for(test)),
        )
        return (yield)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Stop an async database test that no plugin would run, and say why.

    Without this, pytest reports only that async functions are not natively
    supported, or first fails on one of the test's async fixtures. Stopping
    before any fixture is set up also spares their work.
    """
    if (
        not _runs_on_main_thread(item)
        and _async_database_test(item)
        and not _claimed_by_another_async_plugin(item)
    ):
        assert isinstance(item, pytest.Function)
        pytest.fail(_not_run_message(item), pytrace=False)


def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a taken-over test's coroutine on its loop, with sync work on this thread."""
    if not _runs_on_main_thread(pyfuncitem):
        return None
    test_function = pyfuncitem.stash[_TEST_FUNCTION]
    arguments = {
        name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames
    }
    _loop_for(pyfuncitem).run(lambda: test_function(**arguments))
    return True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, None, None]:
    """Close the test's loop once every fixture, async ones included, is torn down."""
    try:
        return (yield)
    finally:
        loop = item.stash.get(_TEST_LOOP, None)
        if loop is not None:
            del item.stash[_TEST_LOOP]
            loop.close()


def _claimed_by_another_async_plugin(item: pytest.Item) -> bool:
    # anyio's plugin runs tests that use its anyio_backend fixture, and
    # pytest-trio those marked trio; they are not restflow's to judge.
    return "anyio_backend" in getattr(item, "fixturenames", ()) or (
        item.get_closest_marker("trio") is not None
    )


def _not_run_message(item: pytest.Function) -> str:
    if not item.config.pluginmanager.hasplugin("asyncio"):
        reason = "pytest-asyncio is not installed, or was disabled with -p no:asyncio"
        fix = "Install pytest-asyncio and mark the test with @pytest.mark.asyncio"
    else:
        reason = "pytest-asyncio is in strict mode and the test is not marked"
        fix = (
            "Mark the test with @pytest.mark.asyncio, or set asyncio_mode = auto "
            "in the pytest configuration"
        )
    return (
        f"{item.nodeid} is an async test that uses the Django database, but "
        f"nothing would run it: {reason}. {fix}; restflow then runs it inside "
        "the test's transaction."
    )


# -- running coroutines with their sync work on the main thread --------------


def _loop_for(item: pytest.Function) -> _TestLoop:
    loop = item.stash.get(_TEST_LOOP, None)
    if loop is None:
        loop = item.stash[_TEST_LOOP] = _TestLoop()
    return loop


def _bind_to_test_instance(
    function: Callable[..., Any], request: pytest.FixtureRequest
) -> Callable[..., Any]:
    # A fixture defined on a test class arrives bound to some instance of it;
    # like pytest, call it on the instance that runs this test.
    instance = request.instance
    owner = getattr(function, "__self__", None)
    if instance is None or owner is None or not isinstance(instance, type(owner)):
        return function
    rebound: Callable[..., Any] = function.__func__.__get__(instance)  # type: ignore[attr-defined]
    return rebound


def _on_test_loop(fixture: Callable[..., Any], loop: _TestLoop) -> Callable[..., Any]:
    """Wrap an async fixture function as a sync one that runs on ``loop``."""
    if inspect.isasyncgenfunction(fixture):

        def setup_and_teardown(**kwargs: Any) -> Generator[Any, None, None]:
            generator: AsyncGenerator[Any, None] = fixture(**kwargs)
            try:
                value = loop.run(lambda: generator.__anext__())
            except StopAsyncIteration:
                raise ValueError(f"{fixture.__name__} did not yield a value") from None
            yield value
            loop.run(lambda: _finish(generator))

        return setup_and_teardown

    def setup(**kwargs: Any) -> Any:
        return loop.run(lambda: fixture(**kwargs))

    return setup


async def _finish(generator: AsyncGenerator[Any, None]) -> None:
    try:
        await generator.__anext__()
    except StopAsyncIteration:
        return
    await generator.aclose()
    raise ValueError("an async generator fixture must yield only once")


class _TestLoop:
    """An event loop in a helper thread, serving one test from setup to teardown.

    :meth:`run` hands the loop a coroutine and blocks the calling thread -
    pytest's main thread - until it finishes. Meanwhile the main thread runs
    the sync functions that code on the loop passes to
    ``sync_to_async(thread_sensitive=True)``: that is how Django runs ORM
    queries and sync views for async callers, so they all reach the
    database through the main thread's connections. Django's ``TestCase``
    gets the same arrangement from ``async_to_sync``, for a single
    coroutine; here it lasts for the whole test.

    One loop serves every async fixture and the test, as pytest-asyncio's
    per-test loop does: an async generator fixture starts and finishes on
    it, and a task a fixture starts keeps running, and can still query, while
    the test runs. Each coroutine sees the context variables set by sync
    fixtures and by the earlier coroutines of the same test; what coroutines
    set stays out of the main thread's context, and so out of other tests.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._sync_work = _MainThreadExecutor()
        # Context variables set by the coroutines run so far, for the next.
        self._async_changes: dict[contextvars.ContextVar[Any], Any] = {}
        self._thread = threading.Thread(
            target=self._serve, name="restflow-test-loop", daemon=True
        )
        self._thread.start()

    def _serve(self) -> None:
        try:
            self._loop.run_forever()
        finally:
            self._sync_work.close()

    def run(self, make_coroutine: Callable[[], Awaitable[_T]]) -> _T:
        """Run ``make_coroutine()`` on the loop; do its sync work on this thread."""
        from django.db import connections

        if threading.current_thread() is self._thread:
            # Waiting here would block the very loop the coroutine needs.
            raise RuntimeError(
                "An async fixture of a test that restflow runs cannot be set up "
                "from inside the test's event loop (request.getfixturevalue() in "
                "async code); ask for the fixture as an argument instead."
            )

        # Django's connection objects are per thread. Give the loop's thread
        # the main thread's, so that `connection` in async code is the
        # test's connection too: its atomic state, its on_commit callbacks.
        test_connections = {alias: connections[alias] for alias in connections}
        # What sync fixtures have set so far, plus what earlier coroutines set.
        context = contextvars.copy_context()
        for variable, value in self._async_changes.items():
            context.run(variable.set, value)
        outcome: Future[_T] = Future()

        async def call() -> None:
            started = contextvars.copy_context()
            # asgiref sends thread-sensitive sync work to the executor named
            # here; tasks started from this coroutine inherit the setting.
            AsyncToSync.executors.current = self._sync_work
            for alias, connection in test_connections.items():
                connections[alias] = connection
            try:
                result = await make_coroutine()
            except BaseException as error:
                settle = functools.partial(outcome.set_exception, error)
            else:
                settle = functools.partial(outcome.set_result, result)
            # Record the changes before the caller can wake up and start the
            # next coroutine.
            for variable, value in contextvars.copy_context().items():
                if started.get(variable, _UNSET) is not value:
                    self._async_changes[variable] = value
            settle()

        self._loop.call_soon_threadsafe(self._loop.create_task, call(), context=context)
        self._sync_work.serve_until(outcome)
        return outcome.result()

    def close(self) -> None:
        """Cancel what is still running on the loop, then stop and close it."""
        try:
            self.run(self._shut_down)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()
            # asgiref remembers, per thread, the loop it last did sync work
            # for; do not leave it pointing at a closed one.
            local = SyncToAsync.threadlocal
            if getattr(local, "main_event_loop", None) is self._loop:
                del local.main_event_loop

    async def _shut_down(self) -> None:
        this = asyncio.current_task()
        leftovers = [task for task in asyncio.all_tasks() if task is not this]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        await self._loop.shutdown_asyncgens()
        await self._loop.shutdown_default_executor()


_UNSET = object()

_WorkItem = tuple["Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class _MainThreadExecutor(Executor):
    """Runs submitted functions on the thread that calls :meth:`serve_until`.

    Work submitted while nobody serves - by a task still running between
    two steps of a test - waits for the next call, instead of failing.
    """

    def __init__(self) -> None:
        # None is only a wake-up call, sent when an outcome is ready and
        # when the executor is closed.
        self._queue: queue.SimpleQueue[_WorkItem | None] = queue.SimpleQueue()
        self._closed = False

    def close(self) -> None:
        """Say that no more work will come: the loop has stopped."""
        self._closed = True
        self._queue.put(None)

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        """Queue ``fn(*args, **kwargs)`` for the serving thread."""
        future: Future[_T] = Future()
        self._queue.put((future, fn, args, kwargs))
        return future

    def serve_until(self, outcome: Future[Any]) -> None:
        """Run queued work, in order, until ``outcome`` is resolved."""
        outcome.add_done_callback(lambda _: self._queue.put(None))
        while not outcome.done():
            if self._closed:
                raise RuntimeError("restflow's test event loop stopped unexpectedly")
            item = self._queue.get()
            if item is not None:
                self._run(item)

    def _run(self, item: _WorkItem) -> None:
        future, fn, args, kwargs = item
        if not future.set_running_or_notify_cancel():
            return  # the caller was cancelled while this waited
        try:
            result = fn(*args, **kwargs)
        except BaseException as error:
            # Failures, pytest.fail() and pytest.skip() included, belong to
            # the awaiting coroutine; an interrupt belongs to pytest as well.
            future.set_exception(error)
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
        else:
            future.set_result(result)
