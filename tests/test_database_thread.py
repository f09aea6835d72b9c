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
from concurrent.futures import Future

import pytest
from asgiref.current_thread_executor import CurrentThreadExecutor
from asgiref.sync import AsyncToSync, SyncToAsync, sync_to_async
from django.db import connection, connections

from restflow.test._database_thread import (
    DatabaseThread,
    SyncWorkRouter,
    _new_executor,
    current_connections,
    lend_to_async_code,
)

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
