"""The live server on Daphne, which runs on Twisted.

Twisted's reactor runs at most once per process: after it stops it cannot
be started again. So the reactor is started once, on first use, in a daemon
thread that lives as long as the process, and each live server only adds a
listening port to it and removes that port again. Daphne's own ``Server``
assumes it owns the reactor (its ``run()`` starts it, its ``stop()`` stops
it); the subclass here keeps Daphne's request handling and replaces just
that part.

Imported only when a live server runs on Daphne. Importing it imports
``daphne.server``, which installs Twisted's asyncio reactor, as Daphne
always does.
"""

from __future__ import annotations

import asyncio
import atexit
import socket
import threading
import warnings
import weakref
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeoutError
from typing import Any

import daphne.server  # type: ignore[import-untyped]  # installs the reactor
from daphne.http_protocol import HTTPFactory  # type: ignore[import-untyped]
from daphne.ws_protocol import WebSocketFactory  # type: ignore[import-untyped]
from twisted.internet import defer, task
from twisted.logger import STDLibLogObserver, globalLogBeginner

from restflow.test.liveserver._servers import ASGIApp, BackgroundServer, LiveServerError

__all__ = ["DaphneLiveServer", "shared_reactor"]

_reactor_lock = threading.Lock()
_reactor_thread: threading.Thread | None = None


def _reactor() -> Any:
    # The reactor is a module attribute replaced at install time; Twisted's
    # annotations cannot describe the installed one.
    from twisted.internet import reactor

    return reactor


def shared_reactor(timeout: float) -> Any:
    """Return Twisted's reactor, running in a thread of its own.

    The first call starts it, in a daemon thread that serves every live
    server of the process; a reactor something else already runs is used as
    it is.
    """
    global _reactor_thread
    reactor = _reactor()
    with _reactor_lock:
        if reactor.running:
            return reactor
        if _reactor_thread is not None:
            raise LiveServerError(
                "Twisted's reactor has stopped, and a reactor cannot be started "
                "twice in one process; Daphne live servers are unavailable."
            )
        _send_twisted_logs_to_logging()
        running = threading.Event()
        reactor.callWhenRunning(running.set)
        thread = threading.Thread(
            target=_run_reactor,
            args=(reactor,),
            name="restflow-twisted-reactor",
            daemon=True,
        )
        thread.start()
        if not running.wait(timeout):
            raise LiveServerError(
                f"Twisted's reactor did not start within {timeout} s."
            )
        _reactor_thread = thread
        atexit.register(_stop_reactor, reactor, thread)
    return reactor


def _run_reactor(reactor: Any) -> None:
    # Daphne hands each request to the asyncio loop the reactor drives, and
    # finds it as this thread's current loop.
    asyncio.set_event_loop(reactor._asyncioEventloop)
    reactor.run(installSignalHandlers=False)


def _stop_reactor(reactor: Any, thread: threading.Thread) -> None:
    # At interpreter exit, stop the reactor properly so its loop closes its
    # sockets, instead of leaving a daemon thread to be frozen mid-call.
    if reactor.running:
        reactor.callFromThread(reactor.stop)
        thread.join(timeout=2)


def _send_twisted_logs_to_logging() -> None:
    # Until someone picks a destination, Twisted keeps its log events in a
    # buffer, where errors would go unseen. Route them to the standard
    # logging module (logger "twisted") unless the process already chose.
    if getattr(globalLogBeginner, "_temporaryObserver", None) is not None:
        observers: list[Any] = [STDLibLogObserver()]
        show_warning = warnings.showwarning
        globalLogBeginner.beginLoggingTo(observers, redirectStandardIO=False)
        # Twisted also takes over warnings; they belong to the test runner.
        warnings.showwarning = show_warning


def _call_in_reactor(
    reactor: Any, func: Callable[[], object], timeout: float, doing: str
) -> Any:
    """Run ``func`` in the reactor's thread and wait for its result.

    ``func`` may return a Deferred or a coroutine, whose outcome is then
    awaited. Unlike Twisted's ``blockingCallFromThread``, gives up after
    ``timeout`` seconds rather than waiting forever.
    """
    outcome: Future[Any] = Future()

    def succeed(result: object) -> None:
        outcome.set_result(result)

    def fail(failure: Any) -> None:
        outcome.set_exception(failure.value)

    def call() -> None:
        try:
            result = func()
            if isinstance(result, Coroutine):
                result = defer.ensureDeferred(result)
        except BaseException as exc:
            outcome.set_exception(exc)
            return
        if isinstance(result, defer.Deferred):
            result.addCallbacks(succeed, fail)
        else:
            outcome.set_result(result)

    reactor.callFromThread(call)
    try:
        return outcome.result(timeout)
    except FutureTimeoutError:
        raise LiveServerError(f"Daphne took more than {timeout} s {doing}.") from None


class _ChannelTrackingFactory(HTTPFactory):  # type: ignore[misc]
    """Daphne's HTTP factory, remembering the connections it made so that a
    stopping server can close idle keep-alive connections too (Daphne itself
    only tracks connections with a request in progress)."""

    def __init__(self, server: _PortServer) -> None:
        super().__init__(server)
        self.channels: weakref.WeakSet[Any] = weakref.WeakSet()

    def buildProtocol(self, addr: Any) -> Any:
        protocol = super().buildProtocol(addr)
        # Twisted hands out a proxy that does not expose the transport; the
        # HTTPChannel behind it has it.
        self.channels.add(protocol._channel)
        return protocol


class _PortServer(daphne.server.Server):  # type: ignore[misc]
    """A Daphne server that serves one port of a reactor it does not own.

    Instead of ``run()``, :meth:`start` adopts an already listening socket,
    and :meth:`close` stops listening, drops the connections and cancels the
    application instances still running - all of it in the reactor's thread.
    """

    def __init__(self, application: ASGIApp, description: str, timeout: float) -> None:
        super().__init__(application, endpoints=[description], signal_handlers=False)
        self.connections: dict[Any, dict[str, Any]] = {}
        self.http_factory = _ChannelTrackingFactory(self)
        self.ws_factory = WebSocketFactory(self, server=self.server_name)
        self.ws_factory.setProtocolOptions(
            autoPingTimeout=self.ping_timeout,
            allowNullOrigin=True,
            openHandshakeTimeout=self.websocket_handshake_timeout,
            maxMessagePayloadSize=self.websocket_max_message_size,
            maxFramePayloadSize=self.websocket_max_frame_size,
        )
        self._timeout = timeout
        self._port: Any = None

    def start(self, sock: socket.socket) -> None:
        reactor = _reactor()
        self._port = reactor.adoptStreamPort(
            sock.fileno(), sock.family, self.http_factory
        )
        self.listen_success(self._port)
        # Daphne's housekeeping: reaping finished application instances
        # (logging their errors) and enforcing timeouts. Both reschedule
        # themselves until the port closes.
        reactor.callLater(1, self.application_checker)
        reactor.callLater(2, self.timeout_checker)

    def application_checker(self) -> None:
        if self._port is not None:
            super().application_checker()

    def timeout_checker(self) -> None:
        if self._port is not None:
            super().timeout_checker()

    def stop(self) -> None:
        """Do nothing: :meth:`close` stops this server.

        Daphne calls this to stop the reactor, which every live server
        shares, in two cases that do not arise here: a failed listen (this
        server adopts a socket already listening), and an application that
        raises KeyboardInterrupt (raised in an asyncio task, it ends the
        reactor's loop before Daphne can see it).
        """

    async def close(self) -> None:
        reactor = _reactor()
        # start() set the port: close() runs only after it succeeded.
        port, self._port = self._port, None
        await defer.maybeDeferred(port.stopListening)
        transports = [
            channel.transport
            for channel in list(self.http_factory.channels)
            if channel.transport is not None and channel.transport.connected
        ]
        for transport in transports:
            transport.abortConnection()
        running = [
            details["application_instance"]
            for details in self.connections.values()
            if "application_instance" in details
            and not details["application_instance"].done()
        ]
        if running:
            # Their clients are gone, so they end soon, closing their
            # database connections on the way out; only stragglers are
            # cancelled.
            finished = asyncio.wait(running, timeout=self._timeout)
            await defer.Deferred.fromFuture(asyncio.ensure_future(finished))
            for instance in running:
                instance.cancel()
        # Aborted connections close their sockets on the reactor's next turn.
        deadline = reactor.seconds() + self._timeout
        while any(t.connected for t in transports) and reactor.seconds() < deadline:
            await task.deferLater(reactor, 0.001)
        self.connections.clear()


class DaphneLiveServer(BackgroundServer):
    """Serves the application on Daphne, on the process's shared reactor.

    :meth:`serve` hands the socket to the reactor's thread and then only
    waits, in the live server's thread, for :meth:`stop`; that keeps the
    live server's life cycle the same whichever server runs it.
    """

    name = "daphne"

    def __init__(
        self, application: ASGIApp, sock: socket.socket, *, timeout: float
    ) -> None:
        super().__init__(application, sock, timeout=timeout)
        self._stop_requested = threading.Event()

    def serve(self, ready: Callable[[], None]) -> None:
        try:
            if self._stop_requested.is_set():
                return
            reactor = shared_reactor(self.timeout)
            host, port = self.socket.getsockname()[:2]
            server = _PortServer(
                self.application, f"tcp:port={port}:interface={host}", self.timeout
            )
            _call_in_reactor(
                reactor,
                lambda: server.start(self.socket),
                self.timeout,
                "to start listening",
            )
        finally:
            # Twisted listens on a duplicate of the socket; this one is spare.
            self.socket.close()
        ready()
        self._stop_requested.wait()
        _call_in_reactor(reactor, server.close, self.timeout, "to stop")

    def stop(self) -> None:
        self._stop_requested.set()
