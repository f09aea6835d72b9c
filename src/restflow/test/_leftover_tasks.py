"""Tasks a test leaves running: cancelled before the database is reset.

A task that outlives its test keeps querying while Django rolls back or
flushes, and its rows land in the next test. restflow cancels and awaits
what is left once the test's own clean-up is over, then warns - or, when
asked to, fails the test - naming each task and where it was suspended.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Collection
from typing import Any

from restflow.test._task_report import describe_task

__all__ = ["LeftoverTaskError", "LeftoverTaskWarning"]

#: Turns of the event loop that tasks get to finish by themselves.
_GRACE_TURNS = 3


class LeftoverTaskWarning(RuntimeWarning):
    """An async test ended with tasks still running; restflow cancelled them.

    Emitted after the test's asynchronous clean-up (``asyncTearDown``,
    ``addAsyncCleanup``, the teardown of its async fixtures) and before the
    database is rolled back or flushed. The message names each task and where
    it was suspended. Turn it into a test error with the
    ``fail_on_leftover_tasks`` class attribute of the test-case bases or the
    ``restflow_fail_on_leftover_tasks`` ini option of the pytest plugin, or
    with pytest's ``-W error::restflow.test.LeftoverTaskWarning``.
    """


class LeftoverTaskError(Exception):
    """Raised instead of :class:`LeftoverTaskWarning` when leftover tasks are
    configured to be an error."""


async def cancel_tasks(
    tasks: Collection[asyncio.Task[Any]], timeout: float | None
) -> tuple[list[str], set[asyncio.Task[Any]]]:
    """Describe ``tasks``, cancel them and wait at most ``timeout`` seconds.

    Returns the descriptions, taken before cancelling, and the tasks that
    are still not done (they ignored the cancellation).
    """
    # Clean-up already under way - the aclose() the garbage collector schedules
    # for a dropped async generator, a task woken to return - gets a few turns
    # of the loop to finish; only what is still running after them is left over.
    for _ in range(_GRACE_TURNS):
        if all(task.done() for task in tasks):
            break
        await asyncio.sleep(0)
    tasks = [task for task in tasks if not task.done()]
    descriptions = [describe_task(task) for task in tasks]
    for task in tasks:
        task.cancel()
    if not tasks:
        return descriptions, set()
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in done:
        if not task.cancelled():
            # Retrieved, so asyncio does not log it as never retrieved.
            task.exception()
    return descriptions, pending


def report_leftovers(
    test: str,
    descriptions: list[str],
    still_pending: int,
    *,
    as_error: bool,
    turn_into_error: str,
) -> None:
    """Warn about (or raise for) the tasks :func:`cancel_tasks` cancelled."""
    if not descriptions:
        return
    count = len(descriptions)
    tasks = "task" if count == 1 else "tasks"
    body = "\n".join(descriptions)
    message = (
        f"{test} left {count} {tasks} running when it ended; restflow "
        "cancelled them before resetting the database:\n"
        f"{body}\n"
        "Await or cancel the tasks a test starts (asyncTearDown, "
        "addAsyncCleanup and async fixture teardown run before this check)."
    )
    if still_pending:
        message += (
            f"\n{still_pending} of them ignored the cancellation and are still "
            "pending; they may still run when the event loop runs again."
        )
    if as_error:
        raise LeftoverTaskError(message)
    warnings.warn(LeftoverTaskWarning(f"{message}\n{turn_into_error}"), stacklevel=3)


# Shown, raised and filtered under their public name.
LeftoverTaskWarning.__module__ = "restflow.test"
LeftoverTaskError.__module__ = "restflow.test"
