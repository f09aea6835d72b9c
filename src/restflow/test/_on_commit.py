"""``captureOnCommitCallbacks`` for async tests: callbacks that may use the ORM.

Django's version runs the captured callbacks where the ``with`` block ends.
In an ``async def`` test that is the event loop's thread, where the ORM
refuses to work. Here the block still starts and ends in the test, but the
end - collecting the callbacks and, with ``execute=True``, running them - is
handed to the test's database thread, the one whose connection holds the
transaction, while the loop waits.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.test import TestCase

from restflow.test._database_thread import (
    SyncWorkRouter,
    _loop_running_here,
    current_router,
)

Callbacks = list[Callable[[], Any]]


def capture_on_commit_callbacks(
    *, using: str = DEFAULT_DB_ALIAS, execute: bool = False
) -> AbstractContextManager[Callbacks]:
    """Django's ``captureOnCommitCallbacks``, ending on the test's database thread
    when used in async code that has one."""
    capture = TestCase.captureOnCommitCallbacks(using=using, execute=execute)
    thread = current_router.get()
    if thread is None or not _loop_running_here():
        return capture
    return _EndOnDatabaseThread(capture, thread)


class _EndOnDatabaseThread(AbstractContextManager[Callbacks]):
    def __init__(
        self, capture: AbstractContextManager[Callbacks], thread: SyncWorkRouter
    ) -> None:
        self._capture = capture
        self._thread = thread

    def __enter__(self) -> Callbacks:
        return self._capture.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        return self._thread.call(self._capture.__exit__, exc_type, exc, traceback)
