"""Per-test time limits: the failure a hung async test gets, and its report."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from typing import Any

from restflow.test._task_report import describe_sync_work, describe_tasks

__all__ = ["AsyncTimeoutError", "aftermath", "timeout_report", "validate_timeout"]


class AsyncTimeoutError(AssertionError):
    """An async test did not finish within its ``async_timeout``.

    The test fails with this error and the run goes on. Its message lists
    the limit, every task of the test's event loop with the place it was
    suspended at (the coroutine stack, down to the view or call it waits
    for), and every thread that was running the test's ``sync_to_async``
    work, with its stack. By the time the error is raised, the tasks have
    been cancelled and a stuck database thread has been replaced, so the
    database and the client work for the next test.
    """


def validate_timeout(value: object, where: str) -> float | None:
    """Check an ``async_timeout`` setting: seconds above zero, or ``None``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise TypeError(
            f"{where} must be a number of seconds above zero, or None for no "
            f"limit; got {value!r}."
        )
    return float(value)


def timeout_report(
    test: str,
    limit: float,
    source: str,
    tasks: Collection[asyncio.Task[Any]],
    roles: Mapping[asyncio.Task[Any], str],
    loop: asyncio.AbstractEventLoop,
    database_thread_ident: int | None,
) -> str:
    """The message of :class:`AsyncTimeoutError` for ``test``."""
    parts = [
        f"{test} did not finish within its async_timeout of {limit:g} s "
        f"(set by {source}).",
        "",
        "Tasks of the test's event loop, where each one was suspended:",
        describe_tasks(tasks, dict(roles)) if tasks else "(none)",
    ]
    threads = describe_sync_work(loop, database_thread_ident)
    parts += ["Threads busy with the test's sync_to_async work:", threads or "(none)"]
    return "\n".join(parts)


def aftermath(database_thread_replaced: bool) -> str:
    """The last line of a timeout report: what restflow did about it."""
    if database_thread_replaced:
        return (
            "restflow cancelled the tasks. The test's database thread was still "
            "busy; it was abandoned (it may not query any more) and a new one "
            "serves the rest of the test and the next test."
        )
    return "restflow cancelled the tasks; the test's database thread is free again."


# Shown, raised and filtered under their public name.
AsyncTimeoutError.__module__ = "restflow.test"
