"""The live server's thread, and the application wrapper it serves.

Django's live server serves WSGI from a thread of the test process. This is
the same arrangement for ASGI: :class:`ASGILiveServerThread` runs Daphne or
uvicorn in a background thread. Being in the same process is what lets the
server see the test's data - for in-memory SQLite it uses the test's very
connection, as Django's live server does - and makes a view's traceback land
in the test's output.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, cast

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.apps import apps
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test.testcases import LiveServerThread
from django.utils.module_loading import import_string

from restflow.test.liveserver._servers import (
    ASGIApp,
    BackgroundServer,
    LiveServerError,
    Message,
    Receive,
    Scope,
    Send,
    choose_server,
    listen,
    load_server,
)

__all__ = ["ASGILiveServerThread", "project_application"]

# Named after the package, not this module: the logger users configure does
# not depend on how the package is split into modules.
logger = logging.getLogger("restflow.test.liveserver")

#: The live application handling the current request, if any: lets the
#: error echo pick out the records a live server's requests produce.
_serving: contextvars.ContextVar[_LiveApplication | None] = contextvars.ContextVar(
    "restflow_live_request", default=None
)


class _LiveApplication:
    """The project's application, as the live server runs it.

    Each request's sync code (views, and the ORM calls of async views) runs
    in a thread of its own. This wrapper gives that thread the connections
    the test shares with the server (in-memory SQLite), and closes every
    other connection the thread opened before the thread ends - otherwise
    PostgreSQL would still count them when the test database is flushed or
    dropped. An exception that escapes the application is logged and, if no
    response has started, answered with a 500.
    """

    def __init__(
        self, application: ASGIApp, shared_connections: dict[str, BaseDatabaseWrapper]
    ) -> None:
        self.application = application
        self.shared_connections = shared_connections

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Only "http" and "websocket" scopes arrive: Daphne has no lifespan
        # protocol, and uvicorn runs with it off.
        response_started = False

        async def watched_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        token = _serving.set(self)
        try:
            # The outermost ThreadSensitiveContext decides the thread; Django's
            # handler enters one too, which then changes nothing.
            async with ThreadSensitiveContext():
                await sync_to_async(self._share_connections)()
                try:
                    await self.application(scope, receive, watched_send)
                finally:
                    await sync_to_async(self._close_own_connections)()
        except Exception:
            logger.exception(
                "Exception in the live server's application (%s %s)",
                scope.get("method", scope["type"]),
                scope.get("path", ""),
            )
            if scope["type"] != "http" or response_started:
                raise
            await _send_500(send)
        finally:
            _serving.reset(token)

    def _share_connections(self) -> None:
        for alias, connection in self.shared_connections.items():
            connections[alias] = connection

    def _close_own_connections(self) -> None:
        for connection in connections.all(initialized_only=True):
            if connection.alias not in self.shared_connections:
                connection.close()


async def _send_500(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send(
        {
            "type": "http.response.body",
            "body": b"Internal Server Error: the traceback is in the test output.",
        }
    )


class _ErrorEcho(logging.Handler):
    """Copies the errors of a live server's requests to ``sys.stderr``.

    Django reports a failing view on the ``django.request`` logger, whose
    default handlers print nothing while ``DEBUG`` is off - and tests run
    with ``DEBUG`` off. Without this, a live-server test would see a bare 500
    and no traceback. The stream is looked up per record, so output captured
    by the test runner (pytest's capture, ``--buffer``) is captured here too.
    """

    def __init__(self, application: _LiveApplication, label: str) -> None:
        super().__init__(logging.ERROR)
        self.application = application
        self.setFormatter(logging.Formatter(f"[{label}] %(name)s: %(message)s"))
        self.addFilter(lambda record: _serving.get() is self.application)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


#: Loggers whose errors the echo repeats: Django's, for failing views, and
#: the live server's, for exceptions that escape the application.
_ECHOED_LOGGERS = ("django.request", logger.name)


class ASGILiveServerThread(LiveServerThread):
    """Django's live-server thread, serving ASGI through Daphne or uvicorn.

    Keeps Django's interface - ``host``, ``port`` (the bound one once
    started), ``is_ready``, ``error``, ``terminate()`` - so
    :class:`~django.test.LiveServerTestCase` drives it unchanged. The thread
    owns the server's life: the server starts when the thread starts and is
    gone, socket, connections and all, when the thread ends.

    :class:`AsyncAPILiveServerTestCase` makes one per class from its
    attributes; make one yourself only to run a server outside a test case.

    Args:
        host: The name or address to listen on; an IPv6 address is bracketed
            in URLs.
        static_handler: Wraps the application to serve static files, when
            ``django.contrib.staticfiles`` is installed; ``None`` serves none.
        connections_override: Database connections the server's requests
            use instead of their own, by alias (the test's in-memory SQLite
            connection).
        port: The port to listen on; ``0`` lets the operating system pick
            a free one, found in :attr:`port` once the thread has started.
        asgi_server: ``"daphne"`` or ``"uvicorn"``; ``None`` lets the
            ``RESTFLOW_LIVE_SERVER`` setting decide, then what is installed.
        get_application: Called once, in the server's thread, for the ASGI
            application to serve; by default ``settings.ASGI_APPLICATION``,
            else a new ``ASGIHandler``.
        timeout: Seconds the server may take to start or to stop.
        echo_errors: Copy the errors of the server's requests to
            ``sys.stderr``.
    """

    def __init__(
        self,
        host: str,
        static_handler: Any,
        connections_override: dict[str, BaseDatabaseWrapper] | None = None,
        port: int = 0,
        *,
        asgi_server: str | None = None,
        get_application: Callable[[], ASGIApp] | None = None,
        timeout: float = 10.0,
        echo_errors: bool = True,
    ) -> None:
        super().__init__(host, static_handler, connections_override, port)
        self.daemon = True
        #: The server asked for; ``None`` lets the ``RESTFLOW_LIVE_SERVER``
        #: setting decide, then what is installed.
        self.asgi_server: str | None = asgi_server
        #: The server chosen, once the thread runs: ``"daphne"`` or ``"uvicorn"``.
        self.server_name: str | None = None
        #: Returns the ASGI application to serve; called once, in this thread.
        self.get_application: Callable[[], ASGIApp] = (
            get_application or project_application
        )
        #: Seconds the server may take to start or to stop.
        self.timeout: float = timeout
        #: Whether errors of the server's requests are copied to ``sys.stderr``.
        self.echo_errors: bool = echo_errors
        #: The adapter running the chosen server, once the thread created it.
        self.server: BackgroundServer | None = None
        self._lock = threading.Lock()
        self._stopping = False

    def start(self) -> None:
        """Start the thread; return once the server answers requests, has
        failed (see ``error``), or has not started within ``timeout``."""
        super().start()
        if not self.is_ready.wait(self.timeout):
            self.error = LiveServerError(  # type: ignore[assignment]
                f"The live server did not start within {self.timeout} s."
            )
            self.is_ready.set()

    def run(self) -> None:
        # A fresh context: nothing bound to the thread that started the server
        # (asgiref's executor for a running test, for one) may leak into it.
        contextvars.Context().run(self._run)

    def _run(self) -> None:
        echo: _ErrorEcho | None = None
        try:
            self.server_name = choose_server(self.asgi_server)
            server_class = load_server(self.server_name)
            application = _LiveApplication(
                self._wrap_static(self.get_application()),
                self.connections_override or {},
            )
            sock = listen(self.host, self.port)
            self.port = sock.getsockname()[1]
            if self.echo_errors:
                echo = _ErrorEcho(application, f"{self.server_name} live server")
                for name in _ECHOED_LOGGERS:
                    logging.getLogger(name).addHandler(echo)
            with self._lock:
                self.server = server_class(application, sock, timeout=self.timeout)
                if self._stopping:
                    self.server.stop()
            self.server.serve(ready=self.is_ready.set)
        except (Exception, SystemExit) as exc:  # uvicorn calls sys.exit() on failure
            if self.is_ready.is_set():
                logger.exception("The live server stopped unexpectedly")
            else:
                self.error = _as_start_error(exc, self.server_name)  # type: ignore[assignment]
        finally:
            self.is_ready.set()
            if echo is not None:
                for name in _ECHOED_LOGGERS:
                    logging.getLogger(name).removeHandler(echo)

    def _wrap_static(self, application: ASGIApp) -> ASGIApp:
        if self.static_handler is None:
            return application
        if not apps.is_installed("django.contrib.staticfiles"):
            return application
        # Django types the attribute for its WSGI handlers; here it wraps ASGI.
        static_handler = cast(Callable[[ASGIApp], ASGIApp], self.static_handler)
        return static_handler(application)

    def terminate(self) -> None:
        """Stop the server and wait for the thread to end (up to ``timeout``)."""
        with self._lock:
            self._stopping = True
            server = self.server
        if server is not None:
            server.stop()
        if self.ident is not None:
            self.join(self.timeout)
            if self.is_alive():
                raise LiveServerError(
                    f"The {self.server_name} live server did not stop within "
                    f"{self.timeout} s."
                )


def _as_start_error(exc: BaseException, server_name: str | None) -> Exception:
    if isinstance(exc, Exception) and not isinstance(exc, OSError):
        return exc  # already says what went wrong (ImproperlyConfigured, ...)
    error = LiveServerError(f"The {server_name} live server failed to start: {exc!r}")
    error.__cause__ = exc
    return error


def project_application() -> ASGIApp:
    """``settings.ASGI_APPLICATION``, imported, or else a new ``ASGIHandler``."""
    path = getattr(settings, "ASGI_APPLICATION", None)
    return cast(ASGIApp, import_string(path) if path else ASGIHandler())
