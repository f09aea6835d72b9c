"""One test's event loop, run by the test-case bases on the test's own thread.

Like ``unittest.IsolatedAsyncioTestCase``, each test gets a new loop that the
thread running the test drives, piece by piece - ``asyncSetUp``, the test
method, ``asyncTearDown``, async clean-ups - all in one context, so context
variables set by one piece are seen by the next. The sync hooks run on the
same thread, in the same context, between the pieces.

The test's thread-sensitive sync work goes to a :class:`DatabaseThread` that
borrows this thread's connections. The thread driving the loop therefore
never blocks on sync work itself, which is what lets it enforce a time limit:
when a piece runs past the test's ``async_timeout``, it reports where the
tasks and threads are, cancels the tasks, and replaces a stuck database
thread, and the test fails on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from restflow.test._database_thread import (
    SyncWorkRouter,
    current_connections,
    lend_to_async_code,
)
from restflow.test._leftover_tasks import cancel_tasks, report_leftovers
from restflow.test._timeouts import AsyncTimeoutError, aftermath, timeout_report

_T = TypeVar("_T")

#: Python 3.11 added ``create_task(context=...)``, which lets tasks share one.
_TASKS_TAKE_A_CONTEXT = sys.version_info >= (3, 11)

#: Seconds a cancelled task or a busy thread gets to finish after a timeout.
_GRACE = 1.0


class TestLoop:
    """The loop, context and database thread of one running test."""

    def __init__(
        self,
        test: str,
        *,
        timeout: float | None,
        timeout_source: str,
        fail_on_leftover_tasks: bool,
        turn_leftovers_into_errors: str,
    ) -> None:
        self.test = test
        self.timeout = timeout
        self.timeout_source = timeout_source
        self.fail_on_leftover_tasks = fail_on_leftover_tasks
        self.turn_leftovers_into_errors = turn_leftovers_into_errors
        self.loop = asyncio.new_event_loop()
        self.context = contextvars.copy_context()
        self.lent = current_connections()
        self.router = SyncWorkRouter(self.lent)
        self.context.run(self._route)
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._timed_out = False

    def _route(self) -> None:
        self.router.route()
        lend_to_async_code(self.lent)

    def run_sync(self, function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Call a sync hook in the test's context."""
        return self.context.run(function, *args, **kwargs)

    def run(self, coroutine: Coroutine[Any, Any, _T], role: str) -> _T:
        """Run one async piece of the test to its end, within the time limit."""
        task = self._task(coroutine)
        budget = self._budget()
        if budget is None:
            return self.loop.run_until_complete(task)
        self.loop.run_until_complete(asyncio.wait({task}, timeout=budget))
        if not task.done():
            self._expire(task, role)
        return task.result()

    def _budget(self) -> float | None:
        if self._deadline is None:
            return None
        if self._timed_out:
            # After a timeout, each clean-up piece gets the limit afresh: it
            # may release resources, but may not hang the run either.
            assert self.timeout is not None
            return self.timeout
        return max(self._deadline - time.monotonic(), 0.0)

    def _task(self, coroutine: Coroutine[Any, Any, _T]) -> asyncio.Task[_T]:
        if _TASKS_TAKE_A_CONTEXT:
            return self.loop.create_task(coroutine, context=self.context)  # type: ignore[call-arg,unused-ignore]
        wrapper = self._keep_changes(coroutine)
        wrapper.__qualname__ = getattr(coroutine, "__qualname__", wrapper.__qualname__)  # type: ignore[attr-defined]
        return self.context.run(self.loop.create_task, wrapper)

    async def _keep_changes(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        # Before Python 3.11 a task runs in a copy of the context; carry what
        # it changed back into the test's context for the next piece.
        __tracebackhide__ = True
        try:
            return await coroutine
        finally:
            for variable, value in contextvars.copy_context().items():
                if self.context.get(variable, _UNSET) is not value:
                    self.context.run(variable.set, value)

    def _expire(self, task: asyncio.Task[Any], role: str) -> None:
        assert self.timeout is not None
        tasks = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        report = timeout_report(
            self.test,
            self.timeout,
            self.timeout_source,
            tasks,
            {task: role},
            self.loop,
            self.router.thread.ident,
        )
        self._timed_out = True
        self.loop.run_until_complete(cancel_tasks(tasks, _GRACE))
        replaced = self.loop.run_until_complete(self.router.settle(_GRACE))
        raise AsyncTimeoutError(f"{report}\n{aftermath(replaced)}")

    def close(self) -> None:
        """Cancel what the test left running, then end the thread and the loop.

        Called after the test's last clean-up and before the database is
        reset, so nothing the test started can reach it afterwards.
        """
        try:
            leftovers = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            descriptions, pending = self.loop.run_until_complete(
                cancel_tasks(leftovers, self.timeout)
            )
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.run_until_complete(self._shutdown_default_executor())
        finally:
            self.router.close(
                f"{self.test} has ended: the sync work of a task it started "
                "can no longer run.",
                self.timeout,
            )
            self.loop.close()
        report_leftovers(
            self.test,
            descriptions,
            len(pending),
            as_error=self.fail_on_leftover_tasks,
            turn_into_error=self.turn_leftovers_into_errors,
        )

    async def _shutdown_default_executor(self) -> None:
        # Threads of sync_to_async(thread_sensitive=False) calls: let them
        # end before the database is reset.
        shutdown = self.loop.shutdown_default_executor()
        if self.timeout is None:
            await shutdown
        else:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(shutdown, self.timeout)


_UNSET = object()
