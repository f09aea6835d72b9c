"""Test-case bases whose ``self.client`` is an :class:`AsyncAPIClient`.

Django runs each ``async def`` test method in an event loop of its own, while
``setUp`` and ``tearDown`` stay synchronous, so nothing bound to a loop can
be prepared before the test body. The bases here run the whole test -
``setUp``, ``asyncSetUp``, the test method, ``asyncTearDown``, ``tearDown``
and the cleanups - with one event loop, driven by the thread that runs the
test, in one context. Every piece of sync work the async code hands to
``sync_to_async`` - the ORM calls behind ``await Model.objects.acreate()``,
the views reached through the client - runs on the test's database thread,
which borrows the connections of the thread holding the test's transaction.
Hooks, test body and views therefore share one connection, and on
:class:`AsyncAPITestCase` everything is rolled back together.

Because the loop's thread never blocks on sync work, it can also watch the
clock (``async_timeout``), and it cancels the tasks a test leaves behind
before Django resets the database.
"""

from __future__ import annotations

import functools
import inspect
import unittest
import warnings
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from asgiref.sync import async_to_sync
from django.db import DEFAULT_DB_ALIAS
from django.test import SimpleTestCase, TestCase, TransactionTestCase
from django.test.utils import override_settings

from restflow.test._on_commit import Callbacks, capture_on_commit_callbacks
from restflow.test._queries import (
    assert_queries_everywhere,
    count_queries_around,
)
from restflow.test._test_loop import TestLoop
from restflow.test._timeouts import validate_timeout
from restflow.test.client import AsyncAPIClient

__all__ = [
    "AsyncAPISimpleTestCase",
    "AsyncAPITestCase",
    "AsyncAPITestCaseMixin",
    "AsyncAPITransactionTestCase",
]


class AsyncAPITestCaseMixin(unittest.TestCase):
    """What the four bases add to Django's: the async client, one event loop
    per test with async set-up and tear-down hooks, ``urlpatterns``, a time
    limit, the clean-up of leftover tasks, and query counting that works in
    async tests.

    Mix it in before a Django test case class to get the same behaviour on a
    base of your own.
    """

    # Django's stubs type ``client`` as the sync Client; here it is async on
    # purpose, hence the type: ignore[misc] on the bases below.
    #: The class of :attr:`client`, made new for every test.
    client_class = AsyncAPIClient
    #: The class of :attr:`async_client`; the same as :attr:`client_class`.
    async_client_class = AsyncAPIClient
    #: The test's :class:`~restflow.test.AsyncAPIClient`.
    client: AsyncAPIClient
    #: A second, separate client, under the name Django's test cases use.
    async_client: AsyncAPIClient

    #: URL patterns that replace ``ROOT_URLCONF`` for every test of the class.
    urlpatterns: ClassVar[Sequence[Any] | None] = None

    #: Check every response of ``self.client`` against the project's OpenAPI
    #: schema (True) or not (False); None follows the client's default: the
    #: ``restflow_validate_schema`` ini option under pytest, else off. Needs
    #: the ``schema`` extra. See "Contract testing".
    validate_schema: ClassVar[bool | None] = None

    #: Seconds each test may take, from ``asyncSetUp`` to its last async
    #: clean-up; ``None`` means no limit. A test that runs past it fails with
    #: :class:`~restflow.test.AsyncTimeoutError`, whose message says where its
    #: tasks and sync threads were, and the run goes on. Sync code run
    #: directly by the test's thread (``setUp``, a sync test method) is
    #: counted but cannot be interrupted.
    async_timeout: ClassVar[float | None] = None

    #: Fail the test with :class:`~restflow.test.LeftoverTaskError` instead of
    #: warning with :class:`~restflow.test.LeftoverTaskWarning` when it leaves
    #: tasks running.
    fail_on_leftover_tasks: ClassVar[bool] = False

    _restflow_loop: TestLoop | None = None
    #: Where async_timeout came from, when the pytest plugin set it.
    _restflow_timeout_source: str | None = None

    @classmethod
    def setUpClass(cls) -> None:
        """Install the class's ``urlpatterns``, if it has any; check its settings."""
        validate_timeout(cls.async_timeout, f"{cls.__qualname__}.async_timeout")
        if cls.urlpatterns is not None:
            if isinstance(cls.urlpatterns, (str, bytes)) or not isinstance(
                cls.urlpatterns, Sequence
            ):
                raise TypeError(
                    f"{cls.__qualname__}.urlpatterns must be a list of path() or "
                    f"re_path() entries, not {type(cls.urlpatterns).__name__}."
                )
            import types

            urlconf = types.ModuleType(f"{cls.__module__}.{cls.__qualname__}.urls")
            urlconf.urlpatterns = list(cls.urlpatterns)  # type: ignore[attr-defined]
            override = override_settings(ROOT_URLCONF=urlconf)
            override.enable()
            cls.addClassCleanup(override.disable)
        super().setUpClass()

    async def asyncSetUp(self) -> None:
        """Prepare each test, in the event loop the test will run in.

        Runs after ``setUp``. Objects bound to the loop (clients, tasks,
        queues) created here can be used by the test.
        """

    async def asyncTearDown(self) -> None:
        """Tidy up after each test, in the loop the test ran in.

        Runs before ``tearDown``, also when the test failed.
        """

    def addAsyncCleanup(
        self, func: Callable[..., Awaitable[Any]], /, *args: Any, **kwargs: Any
    ) -> None:
        """Register a coroutine function to run in the test's loop after
        ``asyncTearDown``, with the other cleanups (last registered, first run).
        """
        self.addCleanup(_AsyncCleanup(func, args, kwargs))

    # -- running the test --------------------------------------------------

    def __call__(self, result: unittest.TestResult | None = None) -> Any:
        self._keep_coroutine_method_from_django()
        return super().__call__(result)

    def debug(self) -> None:
        """Run the test without a result, raising its first error, as
        ``unittest`` does - with the same single event loop as a normal run."""
        self._keep_coroutine_method_from_django()
        super().debug()

    def _keep_coroutine_method_from_django(self) -> None:
        # Django turns an async test method into async_to_sync(method), which
        # would run it in a loop of its own and hide the attributes unittest
        # reads from it (expectedFailure). Shown as a sync callable instead,
        # it reaches _callTestMethod below untouched.
        method = getattr(self, self._testMethodName)
        if inspect.iscoroutinefunction(method):
            setattr(self, self._testMethodName, _CoroutineTest(method))

    def assertMatchesSchema(self, response: Any) -> Any:
        """Assert that ``response`` matches the project's OpenAPI schema.

        For a one-off check when :attr:`validate_schema` is off; see
        :func:`restflow.test.schema.assert_matches_schema`, which this calls
        and whose :class:`~restflow.test.schema.SchemaCheck` it returns.
        """
        from restflow.test.schema import assert_matches_schema

        return assert_matches_schema(response)

    def _callSetUp(self) -> None:
        if self.validate_schema is not None:
            for client in (self.client, self.async_client):
                client.validate_schema = self.validate_schema
        self._restflow_loop = TestLoop(
            self.id(),
            timeout=validate_timeout(
                self.async_timeout, f"{type(self).__qualname__}.async_timeout"
            ),
            timeout_source=self._restflow_timeout_source
            or f"{type(self).__qualname__}.async_timeout",
            fail_on_leftover_tasks=self.fail_on_leftover_tasks,
            turn_leftovers_into_errors=(
                f"Set {type(self).__qualname__}.fail_on_leftover_tasks = True to "
                "make this an error."
            ),
        )
        # The first cleanup runs last: after every other cleanup, before
        # Django rolls back or flushes.
        self.addCleanup(self._close_test_loop)
        self._restflow_loop.run_sync(self.setUp)
        self._restflow_loop.run(self.asyncSetUp(), "asyncSetUp")

    def _callTestMethod(self, method: Callable[[], Any]) -> None:
        loop = self._test_loop()
        coroutine_function = _coroutine_function(method)
        if coroutine_function is None:
            loop.run_sync(super()._callTestMethod, method)  # type: ignore[misc]
            return
        if loop.run(coroutine_function(), "the test") is not None:
            warnings.warn(
                f"It is deprecated to return a value that is not None from a "
                f"test case ({method})",
                DeprecationWarning,
                stacklevel=3,
            )

    def _callTearDown(self) -> None:
        loop = self._test_loop()
        loop.run(self.asyncTearDown(), "asyncTearDown")
        loop.run_sync(self.tearDown)

    def _callCleanup(
        self, function: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> None:
        if isinstance(function, _AsyncCleanup):
            self._test_loop().run(function.start(), f"cleanup {function}")
        elif self._restflow_loop is not None and function != self._close_test_loop:
            self._restflow_loop.run_sync(function, *args, **kwargs)
        else:
            function(*args, **kwargs)

    def _test_loop(self) -> TestLoop:
        if self._restflow_loop is None:
            raise RuntimeError(
                f"{self.id()}: the test's event loop is not running. restflow's "
                "bases start it in _callSetUp(); an override of run() or "
                "_callSetUp() must call the base's version."
            )
        return self._restflow_loop

    def _close_test_loop(self) -> None:
        loop = self._test_loop()
        self._restflow_loop = None
        loop.close()

    # -- counting queries ---------------------------------------------------

    def assertNumQueries(
        self,
        num: int,
        func: Callable[..., Any] | None = None,
        *args: Any,
        using: str = DEFAULT_DB_ALIAS,
        **kwargs: Any,
    ) -> Any:
        """Django's ``assertNumQueries``, usable in ``async def`` tests.

        As a context manager it counts the queries run on the ``using``
        connection inside the ``with`` block, including those of async ORM
        calls and of views reached through ``self.client``. Given a function
        that returns an awaitable (a coroutine function,
        ``self.client.get``...), it returns an awaitable to ``await``::

            await self.assertNumQueries(2, self.client.get, "/api/products/")
        """
        parent = getattr(super(), "assertNumQueries", None)
        if parent is None:
            raise TypeError(
                f"{type(self).__qualname__}.assertNumQueries(): "
                f"{type(self).__qualname__} is a test case without a database "
                "(Django's SimpleTestCase), where every query is refused. Count "
                "queries on AsyncAPITestCase or AsyncAPITransactionTestCase."
            )
        context = parent(num, using=using)
        if func is None:
            return context
        return count_queries_around(context, func, args, kwargs)

    def assertNumQueriesEverywhere(
        self,
        num: int,
        func: Callable[..., Any] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Assert that exactly ``num`` queries run, on any database and thread.

        Counts what the block causes: its own queries, those of the views
        it reaches, of ``sync_to_async(thread_sensitive=False)`` work and of
        every database alias. On failure the message lists each query with
        its alias and thread. Forms as :meth:`assertNumQueries`.
        """
        return assert_queries_everywhere(num, True, func, args, kwargs, self.fail)

    def assertMaxQueriesEverywhere(
        self,
        num: int,
        func: Callable[..., Any] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Like :meth:`assertNumQueriesEverywhere`, for at most ``num`` queries."""
        return assert_queries_everywhere(num, False, func, args, kwargs, self.fail)


class _CoroutineTest:
    """An async test method, dressed as a sync callable for Django."""

    def __init__(self, method: Callable[[], Awaitable[Any]]) -> None:
        functools.update_wrapper(self, method)
        self.coroutine_function = method

    def __call__(self) -> None:
        raise RuntimeError(
            "restflow runs this async test method itself, from _callTestMethod(); "
            "an override of _callTestMethod() must call the base's version."
        )

    def __repr__(self) -> str:
        return repr(self.coroutine_function)


def _coroutine_function(method: Any) -> Callable[[], Any] | None:
    if isinstance(method, _CoroutineTest):
        return method.coroutine_function
    if inspect.iscoroutinefunction(method):
        return method  # type: ignore[no-any-return]
    return None


class _AsyncCleanup:
    """A cleanup registered with ``addAsyncCleanup``."""

    def __init__(
        self,
        func: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        self.func, self.args, self.kwargs = func, args, kwargs

    async def start(self) -> Any:
        return await self.func(*self.args, **self.kwargs)

    def __call__(self) -> None:
        raise RuntimeError(
            f"restflow runs the async cleanup {self} in the test's event loop, "
            "from _callCleanup(); an override of _callCleanup() must call the "
            "base's version."
        )

    def __str__(self) -> str:
        return getattr(self.func, "__qualname__", repr(self.func))


class AsyncAPISimpleTestCase(AsyncAPITestCaseMixin, SimpleTestCase):  # type: ignore[misc]
    """For tests that need no database: health checks, schemas, pure view
    logic. A query raises Django's ``DatabaseOperationForbidden``.
    """


class AsyncAPITransactionTestCase(AsyncAPITestCaseMixin, TransactionTestCase):  # type: ignore[misc]
    """For tests that need real commits.

    Each test commits for real and the tables are flushed afterwards, so
    ``transaction.on_commit`` callbacks fire - for the test's own writes and
    for those of views reached through the client. Slower than
    :class:`AsyncAPITestCase`; use it when the behaviour under test happens
    after a commit (cache invalidation, outgoing messages).
    """


class AsyncAPITestCase(AsyncAPITestCaseMixin, TestCase):  # type: ignore[misc]
    """The default for database tests: each test runs in a transaction that
    is rolled back at its end.

    Because nothing commits, ``transaction.on_commit`` callbacks never run;
    wrap the code in ``self.captureOnCommitCallbacks(execute=True)`` to run
    them, or use :class:`AsyncAPITransactionTestCase`.
    """

    @classmethod
    def setUpTestData(cls) -> None:
        """Run :meth:`asetUpTestData` inside the class-wide transaction."""
        super().setUpTestData()
        async_to_sync(cls.asetUpTestData)()

    @classmethod
    async def asetUpTestData(cls) -> None:
        """Create data shared by every test of the class, with async code.

        The async twin of ``setUpTestData``: it runs once, inside the
        transaction that wraps the whole class, so the rows exist in each
        test and are rolled back after the last one. Attributes assigned to
        ``cls`` here are copied for each test, as with ``setUpTestData``.
        """

    @classmethod
    def captureOnCommitCallbacks(
        cls, *, using: str = DEFAULT_DB_ALIAS, execute: bool = False
    ) -> AbstractContextManager[Callbacks]:
        """Capture (and with ``execute=True`` run) ``on_commit`` callbacks.

        Works in ``async def`` tests too, including for callbacks registered
        by views reached through ``self.client`` inside the block. When the
        block ends, the callbacks are collected and run on the test's
        database thread, the one whose connection holds the test's
        transaction, so a callback may use the ORM, as it would after a real
        commit.
        """
        return capture_on_commit_callbacks(using=using, execute=execute)
