"""Tasks a test leaves running are cancelled before the database is reset.

The reproduction of the issue: a test starts a background writer and returns.
Each scenario runs a small suite inside the test (so it runs whole, in
order, also under ``-k`` or xdist) and checks that the writer's rows never
reach the next test, on the base that rolls back and on the one that flushes.
"""

from __future__ import annotations

import asyncio
import threading
import unittest
import warnings
from typing import ClassVar

import pytest
from asgiref.sync import sync_to_async
from django.db import DatabaseError

from restflow.test import (
    AsyncAPITestCase,
    AsyncAPITransactionTestCase,
    LeftoverTaskError,
    LeftoverTaskWarning,
)
from restflow.test._database_thread import DatabaseThread, current_connections
from tests.testapp.models import Product

# The suites run inside these tests need the database, and their classes
# commit (flush) or open class-wide transactions of their own.
pytestmark = pytest.mark.django_db(transaction=True)

#: Rows the writer had made when its test ended, seen from the next test.
SEEN: dict[str, int] = {}


async def write_forever(label: str) -> None:
    while True:
        await Product.objects.acreate(name=label)
        await asyncio.sleep(0.005)


class LeavesAWriterBehind:
    """The issue's reproduction, as test methods for either base."""

    async def test_1_starts_a_writer_and_returns(self) -> None:
        # Left running on purpose: this is the mistake under test.
        asyncio.create_task(write_forever("leftover"), name="background-writer")  # noqa: RUF006
        while await Product.objects.acount() < 3:
            await asyncio.sleep(0.005)

    async def test_2_sees_nothing_of_it(self) -> None:
        # Give a writer that survived the time to write again.
        await asyncio.sleep(0.05)
        SEEN["next test"] = await Product.objects.acount()


class RolledBack(LeavesAWriterBehind, AsyncAPITestCase):
    __test__ = False


class Flushed(LeavesAWriterBehind, AsyncAPITransactionTestCase):
    __test__ = False


class FlushedAndFailing(Flushed):
    __test__ = False
    fail_on_leftover_tasks = True


def _run(
    *cases: type[unittest.TestCase],
) -> tuple[unittest.TestResult, list[warnings.WarningMessage]]:
    suite = unittest.TestSuite(
        unittest.defaultTestLoader.loadTestsFromTestCase(case) for case in cases
    )
    result = unittest.TestResult()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LeftoverTaskWarning)
        suite.run(result)
    return result, [w for w in caught if issubclass(w.category, LeftoverTaskWarning)]


@pytest.mark.parametrize("case", [RolledBack, Flushed], ids=["rollback", "flush"])
def test_a_leftover_writer_is_cancelled_before_the_reset(
    case: type[unittest.TestCase],
) -> None:
    SEEN.clear()
    result, caught = _run(case)
    assert result.wasSuccessful(), result.errors + result.failures
    assert SEEN == {"next test": 0}
    # Nothing the writer started reaches the database afterwards either.
    assert Product.objects.count() == 0
    [warning] = caught
    message = str(warning.message)
    assert "test_1_starts_a_writer_and_returns left 1 task running" in message
    assert "Task 'background-writer' running write_forever()" in message
    assert "in write_forever" in message  # where it was suspended
    assert "fail_on_leftover_tasks = True" in message


def test_fail_on_leftover_tasks_makes_it_an_error() -> None:
    SEEN.clear()
    result, caught = _run(FlushedAndFailing)
    assert caught == []
    [(test, traceback)] = result.errors
    assert test.id().endswith("test_1_starts_a_writer_and_returns")
    assert LeftoverTaskError.__name__ in traceback
    assert "Task 'background-writer'" in traceback
    assert SEEN == {"next test": 0}
    assert Product.objects.count() == 0


class Tidy(AsyncAPITestCase):
    __test__ = False
    events: ClassVar[list[str]] = []

    async def asyncSetUp(self) -> None:
        self.worker = asyncio.create_task(asyncio.sleep(3600))
        self.addAsyncCleanup(self.stop_worker)

    async def stop_worker(self) -> None:
        self.worker.cancel()
        self.events.append("cleanup cancelled it")

    async def test_leaves_its_task_to_the_cleanup(self) -> None:
        assert not self.worker.done()


def test_tasks_ended_by_async_cleanups_are_not_leftovers() -> None:
    Tidy.events.clear()
    result, caught = _run(Tidy)
    assert result.wasSuccessful(), result.errors + result.failures
    assert caught == []
    assert Tidy.events == ["cleanup cancelled it"]


class IgnoresCancellation(AsyncAPITestCase):
    __test__ = False
    async_timeout = 0.3

    async def test_starts_a_stubborn_task(self) -> None:
        async def stubborn() -> None:
            while True:
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    continue

        asyncio.create_task(stubborn(), name="stubborn")  # noqa: RUF006
        await asyncio.sleep(0)


def test_a_task_that_ignores_cancellation_is_reported_as_still_pending() -> None:
    result, caught = _run(IgnoresCancellation)
    assert result.wasSuccessful(), result.errors + result.failures
    [warning] = caught
    assert "1 of them ignored the cancellation" in str(warning.message)


ENTERED = threading.Event()
RELEASE = threading.Event()
FINISHED = threading.Event()
LATE: list[BaseException | int] = []


def wait_then_query() -> None:
    ENTERED.set()
    RELEASE.wait()
    try:
        LATE.append(Product.objects.count())
    except BaseException as error:
        LATE.append(error)
    finally:
        FINISHED.set()


class LeavesSyncWorkRunning(AsyncAPITestCase):
    __test__ = False
    async_timeout = 0.3

    async def test_leaves_a_task_inside_sync_code(self) -> None:
        asyncio.create_task(  # noqa: RUF006
            sync_to_async(wait_then_query)(), name="stuck-in-sync-code"
        )
        while not ENTERED.is_set():
            await asyncio.sleep(0.005)


def test_sync_work_still_running_at_the_end_may_not_query_later() -> None:
    # The task is cancelled, but its sync code cannot be: after waiting
    # async_timeout for it, restflow gives up on the database thread, which
    # may not query when it wakes up, in whatever test is running then.
    ENTERED.clear()
    RELEASE.clear()
    FINISHED.clear()
    LATE.clear()
    result, caught = _run(LeavesSyncWorkRunning)
    assert result.wasSuccessful(), result.errors + result.failures
    [warning] = caught
    assert "Task 'stuck-in-sync-code'" in str(warning.message)
    # The connection is lent again, as it is during the next test: Django's
    # own thread check would let the old thread through, restflow's may not.
    next_test = DatabaseThread(current_connections())
    try:
        RELEASE.set()
        assert FINISHED.wait(10)
    finally:
        next_test.stop()
    [error] = LATE
    assert isinstance(error, DatabaseError)
    assert "may not query the database any more" in str(error)


def test_the_warning_is_a_runtime_warning() -> None:
    # So the suite's filterwarnings = error::RuntimeWarning makes it an error,
    # and -W error::restflow.test.LeftoverTaskWarning singles it out.
    assert issubclass(LeftoverTaskWarning, RuntimeWarning)
