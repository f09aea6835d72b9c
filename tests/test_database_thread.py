"""The test's database thread, and the private behaviour of others it relies on.

restflow's async test machinery leans on a few things that Django, asgiref,
pytest-django and ``unittest`` do not document as public. Each test below
names one of them and fails with a message saying what changed, so that an
upgrade breaks here, clearly, rather than somewhere deep in a test run.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import unittest
from collections.abc import Callable
from concurrent.futures import Future
from typing import ClassVar

import pytest
from asgiref.current_thread_executor import CurrentThreadExecutor
from asgiref.sync import AsyncToSync, SyncToAsync, sync_to_async
from django.db import connection, connections
from django.test.testcases import DatabaseOperationForbidden
from django.test.utils import CaptureQueriesContext

from restflow.test import (
    AsyncAPISimpleTestCase,
    AsyncAPITestCase,
    AsyncAPITransactionTestCase,
)
from restflow.test._database_thread import (
    DatabaseThread,
    SyncWorkRouter,
    _new_executor,
    current_connections,
    lend_to_async_code,
)
from tests.testapp.models import Product

pytestmark = pytest.mark.django_db


def test_asgiref_sends_thread_sensitive_work_to_executors_current() -> None:
    # restflow routes a test's sync work by setting AsyncToSync.executors.current,
    # as async_to_sync does for the thread it blocks.
    router = SyncWorkRouter(current_connections())
    try:

        async def where() -> str:
            router.route()
            return await sync_to_async(lambda: threading.current_thread().name)()

        assert asyncio.run(where()) == "restflow-test-database", (
            "asgiref no longer sends sync_to_async(thread_sensitive=True) work to "
            "AsyncToSync.executors.current; restflow's routing must change."
        )
    finally:
        router.close("done", None)


def test_current_thread_executor_can_be_built_and_finished() -> None:
    executor = _new_executor()
    assert isinstance(executor, CurrentThreadExecutor)
    finished: Future[None] = Future()
    finished.set_result(None)
    executor.run_until_future(finished)
    with pytest.raises(RuntimeError):
        # A finished executor refuses work: the router relies on that to
        # never run work itself.
        CurrentThreadExecutor.submit(executor, print)


def test_asgiref_keeps_the_loop_of_sync_work_in_its_threadlocal() -> None:
    # DatabaseThread.call() clears SyncToAsync.threadlocal.main_event_loop so
    # that async_to_sync inside the call starts a loop of its own.
    async def loop_seen_by_sync_code() -> object:
        return await sync_to_async(
            lambda: getattr(SyncToAsync.threadlocal, "main_event_loop", None),
            thread_sensitive=False,
        )()

    async def main() -> bool:
        return await loop_seen_by_sync_code() is asyncio.get_running_loop()

    assert asyncio.run(main()), (
        "asgiref no longer records the caller's loop as "
        "SyncToAsync.threadlocal.main_event_loop"
    )


def test_asgiref_frames_the_reports_look_for() -> None:
    parameters = inspect.signature(SyncToAsync.thread_handler).parameters
    assert "loop" in parameters, (
        "SyncToAsync.thread_handler lost its `loop` parameter, which the timeout "
        "report reads to find the threads working for a test's loop"
    )
    assert SyncToAsync.__call__.__code__.co_flags & inspect.CO_COROUTINE
    assert callable(AsyncToSync.__call__)


def test_async_code_sees_the_lent_connection() -> None:
    # Django keeps connections per context when an event loop runs; restflow
    # sets them from a coroutine and copies the context variables back.
    lent = current_connections()
    undo = lend_to_async_code(lent)
    try:

        async def seen() -> object:
            return connections["default"]

        loop = asyncio.new_event_loop()
        try:
            assert loop.run_until_complete(seen()) is lent["default"]
        finally:
            loop.close()
    finally:
        undo()


def test_a_database_thread_borrows_and_returns_the_connection() -> None:
    before = connection.allow_thread_sharing
    thread = DatabaseThread(current_connections())
    assert connection.allow_thread_sharing
    assert thread.call(lambda: connections["default"]) is connections["default"]
    assert thread.stop(timeout=5)
    assert connection.allow_thread_sharing is before


def test_unittest_hooks_the_bases_override_exist() -> None:
    for name in ("_callSetUp", "_callTestMethod", "_callTearDown", "_callCleanup"):
        assert callable(getattr(unittest.TestCase, name, None)), (
            f"unittest.TestCase.{name} is gone; restflow's bases override it to "
            "run the test's async parts in its loop"
        )


def test_pytest_django_opens_the_transaction_in_its_db_helper() -> None:
    from pytest_django import fixtures

    from restflow.test.plugin import DJANGO_DB_HELPER

    assert callable(getattr(fixtures, DJANGO_DB_HELPER, None)), (
        f"pytest-django has no {DJANGO_DB_HELPER} fixture any more; restflow "
        "starts a test's database thread right after it"
    )


def test_sync_work_after_the_test_ended_is_refused_with_the_reason() -> None:
    # A task that outlives its test may not reach the next test's
    # transaction: its sync work is refused, naming the test that ended.
    router = SyncWorkRouter(current_connections())
    assert router.close("tests.Example.test_x has ended.", None)

    async def late_call() -> None:
        router.route()
        await sync_to_async(print)()

    with pytest.raises(RuntimeError, match=r"^tests\.Example\.test_x has ended\.$"):
        asyncio.run(late_call())


# -- one database thread at a time, on the connections of the test's thread ------

#: For each test below: the connection its thread holds, the connection its
#: sync work used, and the database thread that ran that work.
SEEN: list[tuple[object, object, threading.Thread]] = []
STARTED = threading.Event()
GO = threading.Event()


def _connection_and_thread() -> tuple[object, threading.Thread]:
    return connections["default"], threading.current_thread()


class RecordsItsSyncWork(AsyncAPISimpleTestCase):
    __test__ = False  # run by the tests below, on threads they choose

    def setUp(self) -> None:
        # The connection objects of the thread that runs the test.
        self.own = connections["default"]

    async def test_records_where_its_sync_work_ran(self) -> None:
        used, thread = await sync_to_async(_connection_and_thread)()
        SEEN.append((self.own, used, thread))


class RecordsThenWaits(RecordsItsSyncWork):
    __test__ = False

    async def test_records_where_its_sync_work_ran(self) -> None:
        await super().test_records_where_its_sync_work_ran()
        STARTED.set()
        while not GO.is_set():
            await asyncio.sleep(0.005)


def _run(case: type[unittest.TestCase]) -> unittest.TestResult:
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    return result


def _start_in_a_thread(
    case: type[unittest.TestCase], results: list[unittest.TestResult]
) -> threading.Thread:
    runner = threading.Thread(target=lambda: results.append(_run(case)))
    runner.start()
    return runner


def test_the_kept_thread_takes_the_connections_of_the_next_tests_thread() -> None:
    SEEN.clear()
    assert _run(RecordsItsSyncWork).wasSuccessful()
    results: list[unittest.TestResult] = []
    _start_in_a_thread(RecordsItsSyncWork, results).join()
    assert results[0].wasSuccessful(), results[0].errors + results[0].failures
    (main_own, main_used, first), (other_own, other_used, second) = SEEN
    assert main_own is not other_own  # two threads, two connection objects
    # The database thread of the first test was kept and served the second,
    # each time on the connections of the thread that ran the test.
    assert second is first
    assert main_used is main_own
    assert other_used is other_own


def test_of_two_tests_that_overlap_only_one_database_thread_is_kept() -> None:
    SEEN.clear()
    STARTED.clear()
    GO.clear()
    results: list[unittest.TestResult] = []
    waiting = _start_in_a_thread(RecordsThenWaits, results)
    try:
        assert STARTED.wait(30)
        # Another test runs from start to end while the first one waits.
        assert _run(RecordsItsSyncWork).wasSuccessful()
    finally:
        GO.set()
        waiting.join()
    assert results[0].wasSuccessful(), results[0].errors + results[0].failures
    (_, _, first), (_, _, second) = SEEN
    assert first is not second
    # The test that ended first left its thread for the next test; the one
    # that ended last found the place taken, and its thread was ended.
    assert second.is_alive()
    assert not first.is_alive()
    SEEN.clear()
    assert _run(RecordsItsSyncWork).wasSuccessful()
    [(_, _, next_one)] = SEEN
    assert next_one is second


# -- opening the lent connection from async code ----------------------------------


class CountsOnAClosedConnection(AsyncAPITransactionTestCase):
    __test__ = False

    async def test_counts_after_the_connection_was_closed(self) -> None:
        await sync_to_async(connection.close)()
        assert connection.connection is None
        # assertNumQueries opens the connection from the event loop's
        # thread, where Django refuses to; restflow opens it elsewhere.
        with self.assertNumQueries(1):
            await Product.objects.acount()


class OpensWhereItMayNot(AsyncAPISimpleTestCase):
    __test__ = False

    def setUp(self) -> None:
        connection.close()

    async def test_opening_is_refused(self) -> None:
        with (
            pytest.raises(DatabaseOperationForbidden, match="SimpleTestCase"),
            CaptureQueriesContext(connection),
        ):
            pass  # pragma: no cover - the with statement fails first


def _skip_on_memory_sqlite() -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("Django never closes an in-memory SQLite connection")


@pytest.mark.django_db(transaction=True)
def test_a_closed_connection_is_opened_for_async_query_counting() -> None:
    _skip_on_memory_sqlite()
    result = _run(CountsOnAClosedConnection)
    assert result.wasSuccessful(), result.errors + result.failures


@pytest.mark.django_db(transaction=True)
def test_an_error_opening_the_connection_reaches_the_test() -> None:
    _skip_on_memory_sqlite()
    result = _run(OpensWhereItMayNot)
    assert result.wasSuccessful(), result.errors + result.failures


class KeepsItsOwnEnsureConnection(AsyncAPITestCase):
    __test__ = False
    calls: ClassVar[list[str]] = []
    kept: ClassVar[list[bool]] = []
    replacement: ClassVar[Callable[[], None]]

    @classmethod
    def setUpClass(cls) -> None:
        # A class that wraps the connection's ensure_connection, say to
        # count how often the tests connect.
        own = connections["default"]

        def ensure_connection() -> None:
            cls.calls.append(threading.current_thread().name)
            type(own).ensure_connection(own)

        cls.replacement = ensure_connection
        own.ensure_connection = ensure_connection  # type: ignore[method-assign]
        cls.addClassCleanup(delattr, own, "ensure_connection")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        own = connections["default"]
        cls.kept.append(vars(own).get("ensure_connection") is cls.replacement)

    async def test_1_queries(self) -> None:
        await Product.objects.acount()

    async def test_2_queries(self) -> None:
        await Product.objects.acount()


@pytest.mark.django_db(transaction=True)
def test_a_connections_own_ensure_connection_is_left_in_place() -> None:
    KeepsItsOwnEnsureConnection.calls.clear()
    KeepsItsOwnEnsureConnection.kept.clear()
    result = _run(KeepsItsOwnEnsureConnection)
    assert result.wasSuccessful(), result.errors + result.failures
    # It served the tests' queries on the database thread, and was still
    # there after each test gave the connection back.
    assert "restflow-test-database" in KeepsItsOwnEnsureConnection.calls
    assert KeepsItsOwnEnsureConnection.kept == [True]
