"""Choosing, and the common shape of, the ASGI servers behind the live server.

:class:`~restflow.test.AsyncAPILiveServerTestCase` can run on Daphne or on
uvicorn. Neither is a dependency of restflow, so this module only knows them
by name; the adapter for the chosen one (``_daphne`` or ``_uvicorn``, next to
this module) is imported when a live server first needs it, and importing
:mod:`restflow.test` never imports a server, Twisted included.
"""

from __future__ import annotations

import abc
import errno
import importlib
import importlib.util
import os
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from restflow._installation import DISTRIBUTION

__all__ = [
    "SERVER_SETTING",
    "ASGIApp",
    "BackgroundServer",
    "LiveServerError",
    "choose_server",
    "listen",
    "load_server",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
#: An ASGI 3 application: ``await app(scope, receive, send)``.
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The setting that picks the server when a test case does not.
SERVER_SETTING = "RESTFLOW_LIVE_SERVER"

#: Server name -> (module, class) of its adapter, in order of preference:
#: when nothing names a server, the first one installed is used. Daphne comes
#: first because it is the server Django's own documentation pairs with ASGI.
_ADAPTERS: dict[str, tuple[str, str]] = {
    "daphne": ("restflow.test.liveserver._daphne", "DaphneLiveServer"),
    "uvicorn": ("restflow.test.liveserver._uvicorn", "UvicornLiveServer"),
}

_INSTALL_HINT = f"pip install '{DISTRIBUTION}[{{name}}]'"


class LiveServerError(RuntimeError):
    """The live server could not start, or could not stop, in time.

    Raised from ``setUpClass`` (so the whole class errors out at once, rather
    than each test timing out against a server that is not there) or from
    the class clean-up.
    """


def choose_server(requested: str | None) -> str:
    """Return the name of the server to run: ``"daphne"`` or ``"uvicorn"``.

    ``requested`` (the test case's ``asgi_server`` attribute) wins; without
    it the :data:`SERVER_SETTING` setting decides; without that, the first
    installed server in order of preference. A name that is unknown or not
    installed raises :class:`~django.core.exceptions.ImproperlyConfigured`
    saying what to install, instead of an ``ImportError`` from deep inside a
    thread.
    """
    if requested is not None:
        return _checked(requested, "asgi_server attribute")
    configured = getattr(settings, SERVER_SETTING, None)
    if configured is not None:
        return _checked(configured, f"{SERVER_SETTING} setting")
    for name in _ADAPTERS:
        if _installed(name):
            return name
    raise ImproperlyConfigured(
        "The live server needs an ASGI server, and neither Daphne nor uvicorn "
        "is installed. Install one of them: "
        + " or ".join(_INSTALL_HINT.format(name=name) for name in _ADAPTERS)
        + "."
    )


def load_server(name: str) -> type[BackgroundServer]:
    """Import the adapter for server ``name`` and return its class."""
    module_name, class_name = _ADAPTERS[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"The {name} live server could not be imported ({exc}). "
            f"Install it with {_INSTALL_HINT.format(name=name)}."
        ) from exc
    server_class: type[BackgroundServer] = getattr(module, class_name)
    return server_class


def _checked(name: object, source: str) -> str:
    if not isinstance(name, str) or name.lower() not in _ADAPTERS:
        raise ImproperlyConfigured(
            f"The {source} is {name!r}; the live server supports "
            + " and ".join(repr(known) for known in _ADAPTERS)
            + "."
        )
    name = name.lower()
    if not _installed(name):
        raise ImproperlyConfigured(
            f"The {source} asks for {name}, which is not installed. "
            f"Install it with {_INSTALL_HINT.format(name=name)}."
        )
    return name


def _installed(name: str) -> bool:
    # find_spec looks without importing: importing Daphne would install
    # Twisted's reactor as a side effect.
    return importlib.util.find_spec(name) is not None


#: Advice added to the error when binding fails, by errno.
_BIND_HINTS = {
    errno.EADDRINUSE: "Something else is listening on that port; set port = 0 "
    "to let the operating system pick a free one.",
    errno.EADDRNOTAVAIL: "That address does not belong to this machine.",
    errno.EACCES: "Ports below 1024 need privileges; use port = 0.",
}


def listen(host: str, port: int) -> socket.socket:
    """Open a listening TCP socket on ``host``:``port`` (0: any free port).

    The socket is bound here, in the thread starting the server, rather than
    by the server itself: a port in use or a host that does not resolve then
    fails at once with a :class:`LiveServerError` that says so, and the port
    the operating system picked is known before the server runs.
    """
    # Like Django's live server: IPv4 unless the host is an IPv6 address.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        address = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)[0][4]
    except socket.gaierror as exc:
        raise LiveServerError(
            f"The live server cannot listen on {host}:{port}: {exc.strerror}. "
            "The host name does not resolve."
        ) from exc
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if os.name == "posix":
            # Lets a fixed port be reused while the previous class's
            # connections linger in TIME_WAIT; on POSIX it never lets two
            # servers listen on one port.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen()
    except OSError as exc:
        sock.close()
        hint = _BIND_HINTS.get(exc.errno or 0, "")
        message = f"The live server cannot listen on {host}:{port}: {exc.strerror}."
        raise LiveServerError(f"{message} {hint}".rstrip()) from exc
    # Both servers want a non-blocking socket; Twisted refuses to adopt any
    # other kind.
    sock.setblocking(False)
    return sock


class BackgroundServer(abc.ABC):
    """One ASGI server serving one application on one listening socket.

    The live server's thread calls :meth:`serve`, which blocks until another
    thread calls :meth:`stop`. An adapter owns nothing that outlives
    :meth:`serve`: when it returns, the socket and every connection accepted
    on it are closed.
    """

    #: The server's name, as accepted by :func:`choose_server`.
    name: ClassVar[str]

    def __init__(
        self, application: ASGIApp, sock: socket.socket, *, timeout: float
    ) -> None:
        self.application = application
        self.socket = sock
        #: How long one step (starting, stopping) may take before it is
        #: reported as a failure instead of hanging the test run.
        self.timeout = timeout

    @abc.abstractmethod
    def serve(self, ready: Callable[[], None]) -> None:
        """Serve until :meth:`stop` is called; call ``ready`` once requests
        are being answered."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Make :meth:`serve` return. Safe from any thread, at any time -
        also before :meth:`serve` has started, which then returns at once."""
