"""Where tasks and threads are: the text of timeout and leftover-task reports.

The reports are tested end to end in ``test_timeouts.py`` and
``test_leftover_tasks.py``; here are the awaitables and threads those tests
do not produce: hand-written coroutines and awaitables, and threads working
for another event loop.
"""

from __future__ import annotations

import asyncio
import collections.abc
import threading
from collections.abc import Generator
from typing import Any

from asgiref.sync import sync_to_async

from restflow.test._task_report import (
    awaited_frames,
    describe_task,
    sync_work_threads,
)


class HandwrittenCoroutine(collections.abc.Coroutine[Any, Any, None]):
    """A coroutine written as a class, as C extensions and Cython make them:
    asyncio runs it as a task, but it has no Python frame."""

    def __init__(self, future: asyncio.Future[None]) -> None:
        self._steps = future.__await__()

    def send(self, value: Any) -> Any:
        return self._steps.send(value)

    def throw(self, *error: Any) -> Any:
        return self._steps.throw(*error)

    def close(self) -> None:
        self._steps.close()

    def __await__(self) -> Generator[Any, None, None]:
        return self._steps


class Relay:
    """The iterator of a hand-written awaitable that keeps a reference to
    the generator driving it, so the chain of awaitables leads back."""

    __slots__ = ("driver", "steps")

    def __init__(self, future: asyncio.Future[None]) -> None:
        self.steps = future.__await__()
        self.driver: Generator[Any, None, None] | None = None

    def __iter__(self) -> Relay:
        return self

    def __next__(self) -> Any:
        return next(self.steps)


class RelayedAwaitable:
    def __init__(self, future: asyncio.Future[None]) -> None:
        self.relay = Relay(future)

    def __await__(self) -> Generator[Any, None, None]:
        driver = self._drive()
        self.relay.driver = driver
        return driver

    def _drive(self) -> Generator[Any, None, None]:
        yield from self.relay


async def awaits_a_relay(future: asyncio.Future[None]) -> None:
    await RelayedAwaitable(future)


def test_a_task_without_python_frames_is_named_without_a_place() -> None:
    async def main() -> str:
        never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        task = asyncio.get_running_loop().create_task(
            HandwrittenCoroutine(never), name="handwritten"
        )
        await asyncio.sleep(0)
        try:
            return describe_task(task, "the test")
        finally:
            task.cancel()

    assert asyncio.run(main()) == (
        "Task 'handwritten' running HandwrittenCoroutine() - the test: its coroutine "
        "has no Python frames to show"
    )


def test_an_awaitable_leading_back_to_its_driver_is_shown_once() -> None:
    async def main() -> list[str]:
        never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(awaits_a_relay(never))
        await asyncio.sleep(0)
        try:
            return [frame.f_code.co_name for frame in awaited_frames(task)]
        finally:
            task.cancel()

    assert asyncio.run(main()) == ["awaits_a_relay", "_drive"]


def _wait(
    entered: threading.Event, release: threading.Event, idents: list[int]
) -> None:
    idents.append(threading.get_ident())
    entered.set()
    release.wait(30)


def test_only_threads_working_for_the_given_loop_are_listed() -> None:
    # A report lists the threads of the test's loop, not those another loop
    # (a live server's, another test's) keeps busy at the same moment.
    release = threading.Event()
    theirs_entered, ours_entered = threading.Event(), threading.Event()
    theirs: list[int] = []
    ours: list[int] = []

    async def their_work() -> None:
        wait = sync_to_async(_wait, thread_sensitive=False)
        await wait(theirs_entered, release, theirs)

    async def our_report() -> list[tuple[Any, ...]]:
        wait = sync_to_async(_wait, thread_sensitive=False)
        work = asyncio.ensure_future(wait(ours_entered, release, ours))
        while not (ours_entered.is_set() and theirs_entered.is_set()):
            await asyncio.sleep(0.005)
        found = sync_work_threads(asyncio.get_running_loop())
        release.set()
        await work
        return found

    other_loop = threading.Thread(target=asyncio.run, args=(their_work(),))
    other_loop.start()
    try:
        found = asyncio.run(our_report())
    finally:
        release.set()
        other_loop.join()
    [(thread, ident, stack, waits_for_loop)] = found
    assert ident == ours[0] != theirs[0]
    assert thread is not None and thread.ident == ident
    assert "_wait" in [frame.name for frame in stack]
    assert not waits_for_loop
