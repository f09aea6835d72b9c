"""The live server on uvicorn: one event loop in the live server's thread.

Imported only when a live server runs on uvicorn; it imports uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable

import uvicorn

from restflow.test.liveserver._servers import ASGIApp, BackgroundServer

__all__ = ["UvicornLiveServer"]


class _PromptServer(uvicorn.Server):
    """uvicorn's server, made to stop as soon as it is asked to.

    uvicorn checks for a stop request every 0.1 s and pauses another 0.1 s
    while shutting down - fine for a process that runs for days, a visible
    cost for a test suite that starts and stops a server per class. This
    subclass sleeps until woken by :meth:`request_exit`, and when shutting
    down waits only for as long as connections are actually still open.
    """

    def __init__(
        self, config: uvicorn.Config, ready: Callable[[], None], grace: float
    ) -> None:
        super().__init__(config)
        self._ready = ready
        self._grace = grace
        self._exit_requested = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    def request_exit(self) -> None:
        """Stop serving; callable from any thread."""
        self._exit_requested = True
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed already
                loop.call_soon_threadsafe(wake.set)

    async def main_loop(self) -> None:
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._ready()
        # on_tick refreshes the Date header, so it still runs once a second.
        while not await self.on_tick(0) and not self._exit_requested:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        # Idle keep-alive connections close now; busy ones after their response.
        for connection in list(self.server_state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._grace
        while (self.server_state.connections or self.server_state.tasks) and (
            loop.time() < deadline
        ):
            await asyncio.sleep(0.001)
        for task in list(self.server_state.tasks):
            task.cancel()
        for server in self.servers:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(server.wait_closed(), timeout=self._grace)
        await self.lifespan.shutdown()


class UvicornLiveServer(BackgroundServer):
    """Runs uvicorn with an event loop of its own in the calling thread.

    The loop lives exactly as long as :meth:`serve`, so nothing of it is left
    once the live server's thread ends.
    """

    name = "uvicorn"

    def __init__(
        self, application: ASGIApp, sock: socket.socket, *, timeout: float
    ) -> None:
        super().__init__(application, sock, timeout=timeout)
        self._lock = threading.Lock()
        self._stop_requested = False
        self._server: _PromptServer | None = None

    def serve(self, ready: Callable[[], None]) -> None:
        config = uvicorn.Config(
            self.application,
            interface="asgi3",
            # The test case, not a lifespan protocol, sets the application up.
            lifespan="off",
            # Leave the process's logging configuration alone: uvicorn's
            # loggers propagate to whatever the test runner installed.
            log_config=None,
            proxy_headers=False,
        )
        server = _PromptServer(config, ready, grace=self.timeout)
        with self._lock:
            if self._stop_requested:
                self.socket.close()
                return
            self._server = server
        try:
            asyncio.run(server.serve(sockets=[self.socket]))
        finally:
            self.socket.close()

    def stop(self) -> None:
        with self._lock:
            self._stop_requested = True
            server = self._server
        if server is not None:
            server.request_exit()
