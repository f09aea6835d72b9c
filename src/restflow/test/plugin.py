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

The fix leaves the event loop alone - pytest-asyncio runs the test on the
loop its ``loop_scope`` asks for, in the main thread - and changes where the
sync work goes. Once pytest-django has opened the test's transaction, a
database thread is started for the test; it borrows the main thread's
connection objects, and asgiref is told to send the test's thread-sensitive
work to it, the way ``async_to_sync`` tells it about the thread it blocks.
Async fixtures and tasks inherit that setting through their context. When
the test and its fixtures are done, leftover tasks are cancelled and the
thread is stopped before pytest-django rolls back. See ``docs/pytest.md``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import importlib.metadata
import inspect
import os
import sys
import unittest
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from restflow._installation import check_installation

if TYPE_CHECKING:
    from restflow.test._database_thread import SyncWorkRouter
    from restflow.test.client import AsyncAPIClient
    from restflow.test.factory import AsyncAPIRequestFactory

# pytest loads this module in every run: the place to notice that another
# distribution replaced restflow's __init__ files (see restflow._installation).
check_installation("restflow.test.plugin")

__all__ = [
    "assert_max_queries_everywhere",
    "assert_num_queries_everywhere",
    "async_api_client",
    "async_api_rf",
]

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

#: pytest-django's fixture that opens (and rolls back) a test's transaction.
DJANGO_DB_HELPER = "_django_db_helper"

_ISOLATION_INI = "restflow_isolation"
_TIMEOUT_INI = "restflow_async_timeout"
_LEFTOVERS_INI = "restflow_fail_on_leftover_tasks"

_MANAGED = pytest.StashKey[bool]()
#: The managed test whose code runs in this context; tasks inherit it.
_current_run: contextvars.ContextVar[_AsyncDatabaseTest | None] = (
    contextvars.ContextVar("restflow_current_test", default=None)
)
_RUN = pytest.StashKey["_AsyncDatabaseTest"]()

#: Seconds a cancelled task or a busy database thread gets after a timeout.
_GRACE = 1.0


# -- options -------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare restflow's ini options."""
    parser.addini(
        _ISOLATION_INI,
        type="bool",
        default=True,
        help="restflow: run async django_db tests, their async fixtures and the "
        "views they call inside the test's transaction (default: true).",
    )
    parser.addini(
        _TIMEOUT_INI,
        type="string",
        default="",
        help="restflow: seconds an async django_db test, or a test on restflow's "
        "bases, may take before it fails with a report of what hung "
        "(default: no limit).",
    )
    parser.addini(
        _LEFTOVERS_INI,
        type="bool",
        default=False,
        help="restflow: fail a test that leaves asyncio tasks running, instead "
        "of warning (default: false).",
    )
    parser.addini(
        "restflow_validate_schema",
        type="bool",
        default=False,
        help="restflow: check every AsyncAPIClient response against the "
        "project's OpenAPI schema (needs pip install "
        '"restflow-testing[schema]"; default: false).',
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register restflow's markers; make the schema ini option the clients'
    default."""
    from restflow.test import _schema_default

    config.addinivalue_line(
        "markers",
        "restflow_isolation(enabled=True): whether restflow runs this async "
        "django_db test inside the test's transaction (overrides the "
        f"{_ISOLATION_INI} ini option).",
    )
    config.addinivalue_line(
        "markers",
        "async_timeout(seconds): fail this async test, with a report of where it "
        "hung, if it runs longer than `seconds` (None: no limit).",
    )
    config.addinivalue_line(
        "markers",
        "validate_schema(on=True): check (or with False, do not check) the "
        "responses of async_api_client against the OpenAPI schema",
    )
    previous = _schema_default.validate_schema
    _schema_default.validate_schema = bool(config.getini("restflow_validate_schema"))
    config.add_cleanup(lambda: setattr(_schema_default, "validate_schema", previous))


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say what restflow does to the run, and how to turn it off."""
    if not config.pluginmanager.hasplugin("django"):
        return ["restflow: pytest-django is not active; only the fixtures are offered"]
    if config.getini(_ISOLATION_INI):
        line = (
            "restflow: async django_db tests share the test's transaction "
            "(rolled back with it); off: "
            f"{_ISOLATION_INI} = false, @pytest.mark.restflow_isolation(False), "
            "or -p no:restflow"
        )
    else:
        line = (
            f"restflow: isolation of async django_db tests is off ({_ISOLATION_INI} "
            "= false); fixtures only"
        )
    timeout = _ini_timeout(config)
    if timeout is not None:
        line += f"; async_timeout {timeout:g} s"
    return [line]


def _ini_timeout(config: pytest.Config) -> float | None:
    raw = str(config.getini(_TIMEOUT_INI)).strip()
    if raw.lower() in ("", "none"):
        return None
    try:
        value = float(raw)
    except ValueError:
        raise pytest.UsageError(
            f"{_TIMEOUT_INI} = {raw!r} in the pytest configuration is not a number; "
            "give the seconds a test may take, e.g. 30, or none."
        ) from None
    if value <= 0:
        raise pytest.UsageError(
            f"{_TIMEOUT_INI} = {raw!r} in the pytest configuration must be above "
            "zero; use none for no limit."
        )
    return value


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


@pytest.fixture
def assert_num_queries_everywhere() -> Callable[..., Any]:
    """Assert how many queries a block causes, on every database and thread.

    ``with assert_num_queries_everywhere(3): await client.get(...)`` counts
    the queries of the block, of the views it reaches, of its
    ``sync_to_async`` work (thread-sensitive or not) and of every database
    alias, and fails listing each query with its alias and thread unless
    there are exactly 3. Also callable as
    ``await assert_num_queries_everywhere(3, client.get, "/x/")``.
    See :class:`~restflow.test.CaptureAllQueries`.
    """
    _skip_without_django()
    return _queries_everywhere_check(exact=True)


@pytest.fixture
def assert_max_queries_everywhere() -> Callable[..., Any]:
    """Like ``assert_num_queries_everywhere``, for at most the given number."""
    _skip_without_django()
    return _queries_everywhere_check(exact=False)


def _queries_everywhere_check(*, exact: bool) -> Callable[..., Any]:
    from restflow.test._queries import assert_queries_everywhere

    def check(
        num: int, func: Callable[..., Any] | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        return assert_queries_everywhere(num, exact, func, args, kwargs, _fail)

    return check


def _fail(message: str) -> NoReturn:
    pytest.fail(message, pytrace=False)


def _skip_without_django() -> None:
    # The same courtesy pytest-django's rf and client fixtures extend.
    if not _django_is_configured():
        pytest.skip("restflow's fixtures need configured Django settings")


# -- which tests are taken over ----------------------------------------------


def _django_is_configured() -> bool:
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        return True
    if "django.conf" not in sys.modules:
        return False
    from django.conf import settings

    return settings.configured


def _async_database_test(item: pytest.Item) -> bool:
    """Whether ``item`` is an ``async def`` test that uses pytest-django's database."""
    if not isinstance(item, pytest.Function) or not inspect.iscoroutinefunction(
        item.obj
    ):
        return False
    if isinstance(item.cls, type) and issubclass(item.cls, unittest.TestCase):
        return False  # unittest classes run their async methods themselves.
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


@functools.cache
def _old_pytest_asyncio() -> str | None:
    """pytest-asyncio's version if it is older than 1.0, whose fixtures and
    tests the isolation has not been made for; else None."""
    try:
        version = importlib.metadata.version("pytest-asyncio")
    except importlib.metadata.PackageNotFoundError:
        return None
    return version if int(version.split(".")[0]) < 1 else None


def _isolation_enabled(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("restflow_isolation")
    if marker is None:
        return bool(item.config.getini(_ISOLATION_INI))
    if marker.kwargs.keys() - {"enabled"} or len(marker.args) > 1:
        pytest.fail(
            f"{item.nodeid}: @pytest.mark.restflow_isolation takes one argument, "
            "True or False, e.g. @pytest.mark.restflow_isolation(False).",
            pytrace=False,
        )
    enabled = marker.kwargs.get("enabled", marker.args[0] if marker.args else True)
    if not isinstance(enabled, bool):
        pytest.fail(
            f"{item.nodeid}: @pytest.mark.restflow_isolation({enabled!r}) needs "
            "True or False.",
            pytrace=False,
        )
    return enabled


def _managed(item: pytest.Item) -> bool:
    """Whether restflow runs ``item``'s sync work on a database thread of its own.

    Decided once, before the test's fixtures are set up.
    """
    decided = item.stash.get(_MANAGED, None)
    if decided is None:
        decided = (
            _async_database_test(item)
            and _pytest_asyncio_runs(item)
            and _isolation_enabled(item)
        )
        item.stash[_MANAGED] = decided
    return decided


def _timeout_for(item: pytest.Item) -> tuple[float | None, str]:
    from restflow.test._timeouts import validate_timeout

    marker = item.get_closest_marker("async_timeout")
    if marker is not None:
        if len(marker.args) != 1 or marker.kwargs:
            pytest.fail(
                f"{item.nodeid}: @pytest.mark.async_timeout takes the seconds, e.g. "
                "@pytest.mark.async_timeout(5), or None for no limit.",
                pytrace=False,
            )
        try:
            value = validate_timeout(marker.args[0], "@pytest.mark.async_timeout")
        except TypeError as error:
            pytest.fail(f"{item.nodeid}: {error}", pytrace=False)
        return value, "@pytest.mark.async_timeout"
    return _ini_timeout(item.config), f"the {_TIMEOUT_INI} ini option"


# -- hooks -------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True, wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    """Start a managed test's database thread once its transaction is open,
    and watch the event loops pytest-asyncio creates for it."""
    test = request.node
    if not (isinstance(test, pytest.Function) and _managed(test)):
        return (yield)
    if fixturedef.argname == "django_capture_on_commit_callbacks":
        from restflow.test._on_commit import capture_on_commit_callbacks

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(fixturedef, "func", lambda: capture_on_commit_callbacks)
            return (yield)
    value = yield
    if fixturedef.argname == DJANGO_DB_HELPER:
        run = _AsyncDatabaseTest.start(test)
        fixturedef.addfinalizer(run.finish)
    elif fixturedef.scope == "function" and (loop := _loop_of(value)) is not None:
        # A per-test loop of pytest-asyncio: what is left on it belongs to
        # this test, and is checked before pytest-asyncio closes it.
        test.stash.setdefault(_PER_TEST_LOOPS, set()).add(loop)
        fixturedef.addfinalizer(functools.partial(_finish_tasks, test, loop))
    return value


_PER_TEST_LOOPS = pytest.StashKey[set[asyncio.AbstractEventLoop]]()


def _loop_of(value: object) -> asyncio.AbstractEventLoop | None:
    """The event loop of a pytest-asyncio runner fixture's value (an
    ``asyncio.Runner``, or its backport on Python 3.10)."""
    get_loop = getattr(value, "get_loop", None)
    if callable(get_loop) and hasattr(value, "run"):
        loop = get_loop()
        if isinstance(loop, asyncio.AbstractEventLoop):
            return loop
    return None


def _finish_tasks(item: pytest.Item, loop: asyncio.AbstractEventLoop) -> None:
    run = item.stash.get(_RUN, None)
    if run is not None:
        run.finish_tasks(loop)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Stop an async database test that no plugin would run, and say why.

    Without this, pytest reports only that async functions are not natively
    supported, or first fails on one of the test's async fixtures. Stopping
    before any fixture is set up also spares their work.
    """
    if _managed(item) and (old := _old_pytest_asyncio()) is not None:
        pytest.fail(
            f"{item.nodeid} is an async test that uses the Django database, and "
            f"restflow runs such tests inside the test's transaction with "
            f"pytest-asyncio 1.0 or newer; pytest-asyncio {old} is installed. "
            'Upgrade it (pip install "pytest-asyncio>=1.0"), or turn the '
            f"isolation off with {_ISOLATION_INI} = false.",
            pytrace=False,
        )
    if (
        not _managed(item)
        and _async_database_test(item)
        and not _pytest_asyncio_runs(item)
        and not _claimed_by_another_async_plugin(item)
    ):
        assert isinstance(item, pytest.Function)
        pytest.fail(_not_run_message(item), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    """Let go of the test's task and loops once its fixtures are torn down.

    pytest keeps every item to the end of the session; what an item's stash
    still held would keep each test's task and event loop alive that long,
    and make ``asyncio.all_tasks()`` slower with every test.
    """
    try:
        return (yield)
    finally:
        if _RUN in item.stash:
            del item.stash[_RUN]
        if _PER_TEST_LOOPS in item.stash:
            del item.stash[_PER_TEST_LOOPS]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Run a managed test through restflow's wrapper; give restflow's bases
    the marker's or the ini file's timeout."""
    if isinstance(item, pytest.Function) and _managed(item):
        run = item.stash.get(_RUN, None)
        if run is None:  # pytest-django opened the database some other way
            run = _AsyncDatabaseTest.start(item)
            item.addfinalizer(run.finish)
        if not hasattr(item.obj, "hypothesis"):
            original = item.obj
            item.obj = run.wrap(original)
            try:
                return (yield)
            finally:
                item.obj = original
    elif isinstance(item, pytest.Function):
        _configure_base_instance(item)
    return (yield)


def _configure_base_instance(item: pytest.Function) -> None:
    instance = getattr(item, "instance", None)
    if not isinstance(instance, unittest.TestCase):
        return
    from restflow.test.testcases import AsyncAPITestCaseMixin

    if not isinstance(instance, AsyncAPITestCaseMixin):
        return
    marker = item.get_closest_marker("async_timeout")
    if marker is not None or not _set_below_mixin(type(instance), "async_timeout"):
        timeout, source = _timeout_for(item)
        if marker is not None or timeout is not None:
            instance.async_timeout = timeout  # type: ignore[misc]
            instance._restflow_timeout_source = source
    if not _set_below_mixin(type(instance), "fail_on_leftover_tasks") and (
        item.config.getini(_LEFTOVERS_INI)
    ):
        instance.fail_on_leftover_tasks = True  # type: ignore[misc]


def _set_below_mixin(cls: type, name: str) -> bool:
    from restflow.test.testcases import AsyncAPITestCaseMixin

    return any(
        name in vars(klass)
        for klass in cls.__mro__
        if issubclass(klass, AsyncAPITestCaseMixin)
        and klass is not AsyncAPITestCaseMixin
    )


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


# -- one managed test ----------------------------------------------------------


class _AsyncDatabaseTest:
    """What restflow holds for one managed test, from its transaction's start
    to just before pytest-django rolls it back."""

    def __init__(self, item: pytest.Function, router: SyncWorkRouter) -> None:
        self.item = item
        self.timeout, self.timeout_source = _timeout_for(item)
        self.fail_on_leftovers = bool(item.config.getini(_LEFTOVERS_INI))
        self.router = router
        self.test_loop: asyncio.AbstractEventLoop | None = None
        self.test_task: asyncio.Task[Any] | None = None
        self.finished_loops: set[asyncio.AbstractEventLoop] = set()
        self.leftovers: list[str] = []
        self.still_pending = 0
        self._undo: list[Callable[[], None]] = []
        self._created: list[asyncio.Task[Any]] = []

    @classmethod
    def start(cls, item: pytest.Function) -> _AsyncDatabaseTest:
        from restflow.test._database_thread import (
            SyncWorkRouter,
            current_connections,
            lend_to_async_code,
        )

        lent = current_connections()
        run = cls(item, SyncWorkRouter(lent))
        item.stash[_RUN] = run
        run.router.route()
        run._undo.append(SyncWorkRouter.unroute)
        run._undo.append(lend_to_async_code(lent))
        token = _current_run.set(run)
        run._undo.append(lambda: _current_run.reset(token))
        return run

    # -- the test function

    def wrap(self, test: Callable[..., Any]) -> Callable[..., Any]:
        """The test function, run with restflow's bookkeeping and time limit."""

        @functools.wraps(test)
        async def restflow_test(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            loop = asyncio.get_running_loop()
            self.test_loop = loop
            self.test_task = asyncio.current_task()
            self._watch(loop)
            if self.timeout is None:
                return await test(*args, **kwargs)
            return await self._within_limit(test(*args, **kwargs), loop)

        return restflow_test

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        # Before Python 3.12 a task's context cannot be read, so on a loop
        # shared with other tests, the tasks this test creates are recorded
        # as they are created.
        if sys.version_info >= (3, 12) or loop in self._per_test_loops():
            return
        previous = loop.get_task_factory()
        created = self._created

        def record(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
            if previous is not None:
                task = previous(loop, coro, **kwargs)
            else:
                task = asyncio.Task(coro, loop=loop, **kwargs)
            if _current_run.get() is self and isinstance(task, asyncio.Task):
                created.append(task)
            return task

        loop.set_task_factory(record)
        self._undo.append(functools.partial(loop.set_task_factory, previous))

    async def _within_limit(
        self, coroutine: Any, loop: asyncio.AbstractEventLoop
    ) -> Any:
        from restflow.test._timeouts import AsyncTimeoutError, aftermath, timeout_report

        __tracebackhide__ = True
        assert self.timeout is not None
        task = asyncio.current_task()
        assert task is not None
        report: list[str] = []

        def expire() -> None:
            tasks = self.tasks_of(loop)
            report.append(
                timeout_report(
                    self.item.nodeid,
                    self.timeout or 0.0,
                    self.timeout_source,
                    tasks,
                    {task: "the test"},
                    loop,
                    self.router.thread.ident,
                )
            )
            for other in tasks:
                other.cancel()

        handle = loop.call_later(self.timeout, expire)
        try:
            return await coroutine
        except asyncio.CancelledError:
            if not report:
                raise
            uncancel = getattr(task, "uncancel", None)
            if uncancel is not None:  # pragma: no branch - None on Python 3.10
                uncancel()
            replaced = await self.router.settle(_GRACE)
            raise AsyncTimeoutError(f"{report[0]}\n{aftermath(replaced)}") from None
        finally:
            handle.cancel()

    # -- the test's tasks

    def _per_test_loops(self) -> set[asyncio.AbstractEventLoop]:
        return self.item.stash.get(_PER_TEST_LOOPS, set())

    def tasks_of(self, loop: asyncio.AbstractEventLoop) -> list[asyncio.Task[Any]]:
        """The unfinished tasks of ``loop`` that this test started."""
        tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
        if loop in self._per_test_loops():
            return tasks
        if sys.version_info >= (3, 12):  # pragma: no cover - 3.12+; CI measures on 3.11
            return [t for t in tasks if t.get_context().get(_current_run) is self]
        created = set(self._created)
        return [task for task in tasks if task in created]

    def finish_tasks(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel and await what the test left on ``loop`` (once per loop)."""
        from restflow.test._leftover_tasks import cancel_tasks

        if loop in self.finished_loops or loop.is_closed() or loop.is_running():
            return
        self.finished_loops.add(loop)
        leftovers = [t for t in self.tasks_of(loop) if t is not self.test_task]
        if not leftovers:
            return
        descriptions, pending = loop.run_until_complete(
            cancel_tasks(leftovers, self.timeout)
        )
        self.leftovers += descriptions
        self.still_pending += len(pending)

    # -- the end

    def finish(self) -> None:
        """Cancel leftovers, stop the database thread, undo the routing;
        report leftovers. Runs just before pytest-django's rollback or flush."""
        from restflow.test._leftover_tasks import report_leftovers

        try:
            if self.test_loop is not None:
                self.finish_tasks(self.test_loop)
        finally:
            for undo in reversed(self._undo):
                undo()
            self.router.close(
                f"{self.item.nodeid} has ended: the sync work of a task it "
                "started can no longer run.",
                self.timeout,
            )
        report_leftovers(
            self.item.nodeid,
            self.leftovers,
            self.still_pending,
            as_error=self.fail_on_leftovers,
            turn_into_error=f"Set {_LEFTOVERS_INI} = true in the pytest "
            "configuration to make this an error.",
        )
