"""``async_timeout`` on the bases: a hung test fails alone, with a report.

The two ways a test hangs - a view that awaits forever, reached through the
client, and a ``sync_to_async`` function stuck on a lock - each run in a small
suite with a test after them that needs the database and the client. The
assertions are about the failure's report and about that next test, never
about how long anything took.
"""

from __future__ import annotations

import asyncio
import threading
import unittest
from typing import Any, ClassVar

import pytest
from asgiref.sync import sync_to_async
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.urls import path

from restflow.test import (
    AsyncAPISimpleTestCase,
    AsyncAPITestCase,
    AsyncAPITransactionTestCase,
    AsyncTimeoutError,
    _test_loop,
)
from restflow.test._database_thread import DatabaseThread, current_connections
from tests.testapp.models import Product

pytestmark = pytest.mark.django_db(transaction=True)

NEVER = asyncio.Event  # a new one per call: nothing ever sets it
LOCK = threading.Lock()


async def awaits_forever(request: HttpRequest) -> JsonResponse:
    await NEVER().wait()
    return JsonResponse({})  # pragma: no cover


async def answers(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"count": await Product.objects.acount()})


def wait_for_the_lock() -> None:
    with LOCK:
        pass


class HangingView:
    async_timeout = 0.5
    urlpatterns: ClassVar[list[Any]] = [
        path("forever/", awaits_forever),
        path("answers/", answers),
    ]

    async def test_1_hangs_in_a_view(self) -> None:
        await Product.objects.acreate(name="before the hang")
        await self.client.get("/forever/")

    async def test_2_database_and_client_still_work(self) -> None:
        await Product.objects.acreate(name="after the hang")
        response = await self.client.get("/answers/")
        assert response.json() == {"count": 1}


class HangingSyncCall:
    async_timeout = 0.5
    urlpatterns: ClassVar[list[Any]] = [path("answers/", answers)]

    async def test_1_hangs_in_sync_to_async(self) -> None:
        await sync_to_async(wait_for_the_lock)()

    async def test_2_database_and_client_still_work(self) -> None:
        await Product.objects.acreate(name="after the hang")
        response = await self.client.get("/answers/")
        assert response.json() == {"count": 1}


def _run(case: type[unittest.TestCase]) -> unittest.TestResult:
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    return result


@pytest.mark.parametrize("base", [AsyncAPITestCase, AsyncAPITransactionTestCase])
def test_a_view_awaiting_forever_fails_its_test_only(base: type[Any]) -> None:
    case = type("ViewHang", (HangingView, base), {"__module__": __name__})
    result = _run(case)
    assert result.testsRun == 2
    assert result.errors == []
    [(test, report)] = result.failures
    assert test.id().endswith("test_1_hangs_in_a_view")
    assert "AsyncTimeoutError" in report
    assert "did not finish within its async_timeout of 0.5 s" in report
    assert "(set by ViewHang.async_timeout)" in report
    # The test's task, suspended in the client call...
    assert "test_1_hangs_in_a_view() - the test" in report
    assert 'await self.client.get("/forever/")' in report
    # ...and the task of the request, suspended in the view.
    assert "in awaits_forever" in report
    assert "await NEVER().wait()" in report
    if base is AsyncAPITransactionTestCase:
        assert Product.objects.count() == 0


def test_a_sync_call_stuck_on_a_lock_fails_its_test_only() -> None:
    case = type(
        "LockHang", (HangingSyncCall, AsyncAPITestCase), {"__module__": __name__}
    )
    with LOCK:
        result = _run(case)
    assert result.testsRun == 2
    assert result.errors == []
    [(test, report)] = result.failures
    assert test.id().endswith("test_1_hangs_in_sync_to_async")
    assert "await sync_to_async(wait_for_the_lock)()" in report
    assert "Threads busy with the test's sync_to_async work:" in report
    assert (
        "Thread 'restflow-test-database' (the test's database thread: "
        "thread-sensitive work)" in report
    )
    assert "in wait_for_the_lock" in report
    assert "with LOCK:" in report


class Stubborn(AsyncAPISimpleTestCase):
    __test__ = False
    async_timeout = 0.3
    calls: ClassVar[list[str]] = []

    async def asyncTearDown(self) -> None:
        self.calls.append("asyncTearDown ran")

    async def test_swallows_cancellation(self) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(3600)


def test_tear_down_runs_after_a_timeout_with_a_fresh_limit() -> None:
    Stubborn.calls.clear()
    result = _run(Stubborn)
    [(_, report)] = result.failures
    assert "did not finish within its async_timeout of 0.3 s" in report
    assert Stubborn.calls == ["asyncTearDown ran"]


class HangsOnPython310(AsyncAPISimpleTestCase):
    __test__ = False
    async_timeout = 0.3

    async def test_hangs(self) -> None:
        await NEVER().wait()


def test_without_task_contexts_the_report_still_names_the_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before Python 3.11 the test's coroutine runs inside a wrapper of
    # restflow's (see test_testcases.py); the report shows the test instead.
    monkeypatch.setattr(_test_loop, "_TASKS_TAKE_A_CONTEXT", False)
    [(_, report)] = _run(HangsOnPython310).failures
    assert "running HangsOnPython310.test_hangs() - the test, suspended at:" in report
    assert "in test_hangs" in report
    assert "_keep_changes" not in report


class NoLimit(AsyncAPISimpleTestCase):
    __test__ = False

    async def test_sleeps_a_little(self) -> None:
        await asyncio.sleep(0.01)


def test_no_limit_by_default() -> None:
    assert NoLimit.async_timeout is None
    assert _run(NoLimit).wasSuccessful()


@pytest.mark.parametrize("value", [0, -1, "5", True])
def test_a_bad_limit_is_refused_naming_the_attribute(value: object) -> None:
    case = type(
        "BadLimit",
        (AsyncAPISimpleTestCase,),
        {"async_timeout": value, "test_x": lambda self: None, "__module__": __name__},
    )
    result = _run(case)
    [(_, traceback)] = result.errors
    assert "BadLimit.async_timeout must be a number of seconds above zero" in traceback


def test_the_error_is_an_assertion_error() -> None:
    # So unittest and pytest count a timeout as a failure, not an error.
    assert issubclass(AsyncTimeoutError, AssertionError)


RELEASE = threading.Event()
LATE: list[BaseException | int] = []


def wait_then_query() -> None:
    RELEASE.wait()
    try:
        LATE.append(Product.objects.count())
    except BaseException as error:
        LATE.append(error)
    finally:
        DONE.set()


DONE = threading.Event()


class WakesUpLate(AsyncAPITestCase):
    __test__ = False
    async_timeout = 0.3

    async def test_hangs_then_its_thread_wakes_up(self) -> None:
        await sync_to_async(wait_then_query)()


def test_an_abandoned_thread_may_not_query_when_it_wakes_up() -> None:
    RELEASE.clear()
    DONE.clear()
    LATE.clear()
    result = _run(WakesUpLate)
    assert len(result.failures) == 1
    # The connection is lent again, as it is during the next test: Django's
    # own thread check would let the old thread through, restflow's may not.
    next_test = DatabaseThread(current_connections())
    try:
        RELEASE.set()
        assert DONE.wait(10)
    finally:
        next_test.stop()
    [error] = LATE
    assert isinstance(error, DatabaseError)
    assert "gave up on it (the test timed out" in str(error)


#: A statement that runs about two minutes, far longer than the test waits.
SLOW_QUERIES = {
    "postgresql": "SELECT pg_sleep(120)",
    "sqlite": (
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
        "WHERE x < 500000000) SELECT count(*) FROM n"
    ),
}
SLOW_DONE = threading.Event()
SLOW_OUTCOME: list[BaseException | str] = []


def run_a_slow_query() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(SLOW_QUERIES[connection.vendor])
        SLOW_OUTCOME.append("the query ran to its end")
    except BaseException as error:
        SLOW_OUTCOME.append(error)
    finally:
        SLOW_DONE.set()


class SlowQuery(AsyncAPITransactionTestCase):
    __test__ = False
    async_timeout = 1

    async def test_waits_for_a_slow_query(self) -> None:
        await sync_to_async(run_a_slow_query)()


def test_a_query_running_at_the_timeout_is_stopped() -> None:
    if connection.vendor not in SLOW_QUERIES:
        pytest.skip(
            f"the {connection.vendor} driver cannot stop a running statement "
            "from another thread"
        )
    SLOW_DONE.clear()
    SLOW_OUTCOME.clear()
    result = _run(SlowQuery)
    [(_, report)] = result.failures
    assert "did not finish within its async_timeout of 1 s" in report
    assert "abandoned" in report
    # The database was asked to stop the statement, so the thread that ran
    # it gets an error now, instead of holding the connection for minutes.
    assert SLOW_DONE.wait(30)
    [error] = SLOW_OUTCOME
    assert isinstance(error, DatabaseError), error
