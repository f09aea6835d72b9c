"""One request sent to Django as ASGI messages, the way a server sends it.

Most requests of ``AsyncAPIClient`` are handed to Django's handler as a
whole and give back the response object. ``client.stream()`` and
``disconnect_after=`` need what only a server has: the response start
before the body, the body as it is produced, and the means to hang up. For
those the client becomes an ASGI server in miniature: it runs Django's
``ASGIHandler.handle()`` as a task, answers its ``receive()`` with the
request body and then, if the client hangs up, ``http.disconnect``, and
collects what it ``send()``s. Django then does what it does under Daphne or
uvicorn: on a disconnect it cancels the view's task.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any

from restflow.test._capture import RequestTrail, capturing
from restflow.test._handler import keeping_connections_open

if TYPE_CHECKING:
    from restflow.test._handler import ClientHandler

__all__ = ["Exchange", "Message"]

Message = dict[str, Any]

#: How many messages the application may send ahead of the test. A server
#: makes ``send()`` wait while the network is busy; this bound does the
#: same, so a long stream is held in memory a few chunks at a time.
_AHEAD = 16


class Exchange:
    """The ASGI conversation of one request with Django's handler."""

    def __init__(self, handler: ClientHandler, scope: dict[str, Any], body: bytes):
        self._handler = handler
        self.scope = scope
        self._body = body
        self._sent: asyncio.Queue[Message] = asyncio.Queue(_AHEAD)
        self._hung_up = asyncio.Event()
        self._request_delivered = False
        self._task: asyncio.Task[None] | None = None
        self._raised = False
        self._left = False
        self.trail = RequestTrail()
        #: Whether the application has sent the last part of the body.
        self.complete = False

    # -- the server's side: what the application awaits and sends ----------

    async def _receive(self) -> Message:
        if not self._request_delivered:
            self._request_delivered = True
            return {"type": "http.request", "body": self._body, "more_body": False}
        await self._hung_up.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        # After a hang-up nobody reads: drop what comes, as a server would.
        if self._hung_up.is_set():
            return
        try:
            self._sent.put_nowait(message)
        except asyncio.QueueFull:
            await _first_of(self._sent.put(message), self._hung_up.wait())

    async def _serve(self) -> None:
        with keeping_connections_open():
            await self._handler(self.scope, self._receive, self._send)

    # -- the client's side ---------------------------------------------------

    def begin(self) -> None:
        """Start the application; its view's templates and errors go to
        :attr:`trail`."""
        with capturing() as self.trail:
            # The task copies the current context, and with it the trail.
            self._task = asyncio.ensure_future(self._serve())

    async def next_message(self, timeout: float | None) -> Message | None:
        """The next message the application sent; ``None`` once it has
        returned. Raises ``TimeoutError`` if nothing comes in ``timeout``
        seconds, and re-raises what the application raised."""
        assert self._task is not None
        while self._sent.empty():
            if self._task.done():
                self._raised = True
                await self._task  # re-raises the application's exception
                return None
            getting = asyncio.ensure_future(self._sent.get())
            try:
                done, _ = await asyncio.wait(
                    {getting, self._task},
                    timeout=timeout,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                await _settle(getting)
            if getting in done and not getting.cancelled():
                return self._note(getting.result())
            if not done:
                raise TimeoutError
        return self._note(self._sent.get_nowait())

    def _note(self, message: Message) -> Message:
        if message["type"] == "http.response.body" and not message.get(
            "more_body", False
        ):
            self.complete = True
        return message

    async def body(self, timeout: float | None) -> AsyncIterator[bytes]:
        """The response body, chunk by chunk, as the application sends it."""
        while not self.complete:
            message = await self.next_message(timeout)
            if message is None:
                if self._hung_up.is_set():
                    return  # the client left; nothing more will come
                raise RuntimeError(
                    "The application returned without finishing the response."
                )
            if message.get("body"):
                yield message["body"]

    async def hang_up(self) -> None:
        """Leave, as a browser closing the tab does: send ``http.disconnect``
        if the response is not complete, and wait for the application to
        finish (Django cancels the view's task). Leaving twice does nothing."""
        if self._task is None or self._left:
            return
        self._left = True
        if not self.complete:
            self._hung_up.set()
        try:
            await self._task
        except BaseException:
            if not self._raised:
                raise


async def _first_of(*waits: Awaitable[Any]) -> None:
    """Wait until one of ``waits`` is done; cancel the others."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        await _settle(*tasks)


async def _settle(*tasks: asyncio.Future[Any]) -> None:
    """Cancel those of ``tasks`` still pending, and wait until they are done,
    so that none is left behind for the test's leftover-task check."""
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
