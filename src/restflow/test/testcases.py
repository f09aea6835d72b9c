"""Test-case bases whose ``self.client`` is an :class:`AsyncAPIClient`.

Django runs each ``async def`` test method in an event loop of its own, while
``setUp`` and ``tearDown`` stay synchronous, so nothing bound to a loop can
be prepared before the test body. The bases here run the whole test -
``setUp``, ``asyncSetUp``, the test method, ``asyncTearDown``, ``tearDown``
and the cleanups - inside one event loop, while every piece of sync code,
including the ORM calls behind ``await Model.objects.acreate()`` and the
views reached through the client, runs on the thread that holds the test's
database transaction. Hooks, test body and views therefore share one
connection, and on :class:`AsyncAPITestCase` everything is rolled back
together.
"""

from __future__ import annotations

import contextvars
import functools
import types
import unittest
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from asgiref.sync import async_to_sync, sync_to_async
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import SimpleTestCase, TestCase, TransactionTestCase
from django.test.utils import override_settings

from restflow.test.client import AsyncAPIClient

__all__ = [
    "AsyncAPISimpleTestCase",
    "AsyncAPITestCase",
    "AsyncAPITestCaseMixin",
    "AsyncAPITransactionTestCase",
]

#: The connections of the thread that runs the test's sync code, so code on
#: the event loop's thread can find the connection that holds the test's
#: transaction.
_test_connections: contextvars.ContextVar[dict[str, BaseDatabaseWrapper]] = (
    contextvars.ContextVar("restflow_test_connections")
)


class AsyncAPITestCaseMixin(unittest.TestCase):
    """What the four bases add to Django's: the async client, one event loop
    per test with async set-up and tear-down hooks, and ``urlpatterns``.

    Mix it in before a Django test case class to get the same behaviour on a
    base of your own.
    """

    # Django's stubs type ``client`` as the sync Client; here it is async on
    # purpose, hence the type: ignore[misc] on the bases below.
    client_class = AsyncAPIClient
    async_client_class = AsyncAPIClient
    client: AsyncAPIClient
    async_client: AsyncAPIClient

    #: URL patterns that replace ``ROOT_URLCONF`` for every test of the class.
    urlpatterns: ClassVar[Sequence[Any] | None] = None

    #: Check every response of ``self.client`` against the project's OpenAPI
    #: schema (True) or not (False); None follows the client's default: the
    #: ``restflow_validate_schema`` ini option under pytest, else off. Needs
    #: the ``schema`` extra. See "Contract testing".
    validate_schema: ClassVar[bool | None] = None

    @classmethod
    def setUpClass(cls) -> None:
        """Install the class's ``urlpatterns``, if it has any."""
        if cls.urlpatterns is not None:
            if isinstance(cls.urlpatterns, (str, bytes)) or not isinstance(
                cls.urlpatterns, Sequence
            ):
                raise TypeError(
                    f"{cls.__qualname__}.urlpatterns must be a list of path() or "
                    f"re_path() entries, not {type(cls.urlpatterns).__name__}."
                )
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
        self.addCleanup(self._run_async, func, *args, **kwargs)

    def __call__(self, result: unittest.TestResult | None = None) -> Any:
        run_test = functools.partial(super().__call__, result)
        token = _test_connections.set(
            {alias: connections[alias] for alias in connections}
        )
        try:
            return async_to_sync(_run_in_database_thread)(run_test)
        finally:
            _test_connections.reset(token)

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
        self.setUp()
        self._run_async(self.asyncSetUp)

    def _callTearDown(self) -> None:
        self._run_async(self.asyncTearDown)
        self.tearDown()

    def _run_async(
        self, func: Callable[..., Awaitable[Any]], /, *args: Any, **kwargs: Any
    ) -> Any:
        # Called from the database thread; async_to_sync hands the coroutine
        # to the loop that __call__ started, not to a new one.
        return async_to_sync(func)(*args, **kwargs)


async def _run_in_database_thread(run_test: Callable[[], Any]) -> Any:
    # thread_sensitive=True sends run_test back to the thread that called
    # async_to_sync: the one holding the test's connections.
    return await sync_to_async(run_test, thread_sensitive=True)()


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
    @contextmanager
    def captureOnCommitCallbacks(
        cls, *, using: str = DEFAULT_DB_ALIAS, execute: bool = False
    ) -> Iterator[list[Callable[[], Any]]]:
        """Capture (and with ``execute=True`` run) ``on_commit`` callbacks.

        Works in ``async def`` tests too, including for callbacks registered
        by views reached through ``self.client`` inside the block. There the
        ``with`` block runs on the event loop's thread, so the callbacks run
        there as well: callbacks that use the database must be wrapped in
        ``sync_to_async`` by the code that registers them, as in production.
        """
        database_connection = _test_connections.get({}).get(using)
        if database_connection is None or connections[using] is database_connection:
            with super().captureOnCommitCallbacks(using=using, execute=execute) as cbs:
                yield cbs
            return
        # The loop thread has its own (unused) connection; let it see the
        # test's for as long as the block lasts.
        own_connection = connections[using]
        connections[using] = database_connection
        try:
            with super().captureOnCommitCallbacks(using=using, execute=execute) as cbs:
                yield cbs
        finally:
            connections[using] = own_connection
