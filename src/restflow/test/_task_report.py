"""Where a test's tasks and sync threads are: the text of restflow's reports.

A task's own ``get_stack()`` shows only its outermost coroutine; to name the
view a test is waiting for, the chain of awaited coroutines is followed down
to the innermost one. A thread is reported when it is running
``sync_to_async`` work for the test's loop, found by the asgiref frame that
carries such work.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import sys
import threading
import traceback
from collections.abc import Iterable
from types import FrameType
from typing import Any

from asgiref.sync import AsyncToSync, SyncToAsync

#: The frame asgiref runs each piece of ``sync_to_async`` work under.
_SYNC_WORK_CODE = SyncToAsync.thread_handler.__code__
#: The frame of an ``await sync_to_async(...)()`` call.
_AWAIT_SYNC_CODE = SyncToAsync.__call__.__code__
#: The frame of an ``async_to_sync(...)()`` call, waiting for the loop.
_AWAIT_ASYNC_CODE = AsyncToSync.__call__.__code__

_MAX_DEPTH = 60


def awaited_frames(task: asyncio.Task[Any]) -> list[FrameType]:
    """The frames of ``task``'s coroutine and of what it awaits, outermost first."""
    frames: list[FrameType] = []
    awaitable: Any = task.get_coro()
    seen: set[int] = set()
    while awaitable is not None and len(frames) < _MAX_DEPTH:
        if id(awaitable) in seen:
            break
        seen.add(id(awaitable))
        frame = (
            getattr(awaitable, "cr_frame", None)
            or getattr(awaitable, "gi_frame", None)
            or getattr(awaitable, "ag_frame", None)
        )
        if frame is not None:
            frames.append(frame)
        awaitable = _next_awaitable(awaitable)
    return frames


def _next_awaitable(awaitable: Any) -> Any:
    for attribute in ("cr_await", "gi_yieldfrom", "ag_await"):
        if hasattr(awaitable, attribute):
            return getattr(awaitable, attribute)
    # An opaque wrapper, such as what a coroutine's __await__() returns to a
    # custom awaitable: it holds the coroutine it drives. (A future's own
    # iterator, the end of most chains, holds none.)
    inner = [
        referent
        for referent in gc.get_referents(awaitable)
        if inspect.iscoroutine(referent) or inspect.isgenerator(referent)
    ]
    return inner[0] if len(inner) == 1 else None


def describe_task(task: asyncio.Task[Any], role: str = "") -> str:
    """A task's name, its coroutine, and where it is suspended."""
    coroutine = task.get_coro()
    name = getattr(coroutine, "__qualname__", type(coroutine).__name__)
    heading = f"Task {task.get_name()!r} running {name}()"
    if role:
        heading += f" - {role}"
    frames = awaited_frames(task)
    if not frames:
        # Not a Python coroutine (one written as a class, or compiled):
        # even one that has not started has a frame.
        return f"{heading}: its coroutine has no Python frames to show"
    # Leave out wrappers that ask to be hidden (pytest's convention), such as
    # restflow's own around the test.
    shown = [f for f in frames if not f.f_locals.get("__tracebackhide__")] or frames
    stack = traceback.StackSummary.extract(
        ((frame, frame.f_lineno) for frame in shown), capture_locals=False
    )
    text = f"{heading}, suspended at:\n{_indent(''.join(stack.format()))}"
    if frames[-1].f_code is _AWAIT_SYNC_CODE:
        text += "    (waiting for sync code in a thread: see the threads below)\n"
    return text


def describe_tasks(
    tasks: Iterable[asyncio.Task[Any]], roles: dict[asyncio.Task[Any], str]
) -> str:
    """Each task as :func:`describe_task` gives it: those with a role first."""
    ordered = sorted(tasks, key=lambda task: task not in roles)
    return "\n".join(describe_task(task, roles.get(task, "")) for task in ordered)


def sync_work_threads(
    loop: asyncio.AbstractEventLoop,
) -> list[tuple[threading.Thread | None, int, traceback.StackSummary, bool]]:
    """The threads running ``sync_to_async`` work for ``loop``: each with its
    stack, starting at the sync function asgiref called, and whether it is
    blocked in ``async_to_sync``, waiting for the loop."""
    threads = {thread.ident: thread for thread in threading.enumerate()}
    found = []
    for ident, frame in sys._current_frames().items():
        chain: list[FrameType] = []
        current: FrameType | None = frame
        while current is not None:
            if current.f_code is _SYNC_WORK_CODE:
                if current.f_locals.get("loop") is loop:
                    stack = traceback.StackSummary.extract(
                        (f, f.f_lineno) for f in reversed(chain)
                    )
                    waits = any(f.f_code is _AWAIT_ASYNC_CODE for f in chain)
                    found.append((threads.get(ident), ident, stack, waits))
                break
            chain.append(current)
            current = current.f_back
    return found


def describe_sync_work(
    loop: asyncio.AbstractEventLoop, database_thread_ident: int | None
) -> str:
    """The threads of :func:`sync_work_threads`, each with its stack."""
    parts = []
    for thread, ident, stack, waits_for_loop in sync_work_threads(loop):
        name = thread.name if thread is not None else f"thread {ident}"
        role = (
            " (the test's database thread: thread-sensitive work)"
            if ident == database_thread_ident
            else ""
        )
        # Leave out asgiref's own frames between thread_handler and the call.
        frames = [f for f in stack if "asgiref" not in f.filename]
        body = "".join(traceback.StackSummary.from_list(frames).format())
        parts.append(f"Thread {name!r}{role}, in:\n{_indent(body)}")
        if waits_for_loop:
            parts.append(
                "    (blocked in async_to_sync, waiting for a coroutine on the "
                "test's event loop: see the tasks above)"
            )
    return "\n".join(parts)


def _indent(text: str, prefix: str = "    ") -> str:
    return "".join(prefix + line for line in text.rstrip("\n").splitlines(True)) + "\n"
