"""The handler behind ``AsyncAPIClient``: Django's ASGI handler, for tests."""

from __future__ import annotations

import io
import os
import sys
import threading
import warnings
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler, ASGIRequest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.test.client import conditional_content_removal

import restflow
from restflow.test._capture import current_trail
from restflow.test.authentication import force_authenticate

__all__ = ["FORCED_AUTHENTICATION", "ClientHandler", "keeping_connections_open"]

#: The scope key under which the client passes ``(user, token)`` for
#: forced authentication; Django ignores keys it does not know.
FORCED_AUTHENTICATION = "restflow.force_authenticate"


class ClientHandler(ASGIHandler):
    """Django's production ASGI handler, with what a test client adds.

    Requests are created by ``ASGIHandler.create_request``, as in
    production, and then marked as Django's test handlers mark them: CSRF
    checks off unless ``enforce_csrf_checks``, and forced authentication
    applied when the scope asks for it. :meth:`respond` runs one request
    and returns the response object itself, as Django's ``AsyncClient``
    does.

    Unlike ``ASGIHandler``, the middleware is loaded on first use rather
    than when the handler is made, as Django's test handlers do, so settings
    changed after the client was made still apply to its first request.
    """

    def __init__(self, enforce_csrf_checks: bool = False) -> None:
        # ASGIHandler.__init__ would only load the middleware now.
        self.enforce_csrf_checks = enforce_csrf_checks
        self._loaded = False

    def load_middleware(self, is_async: bool = True) -> None:
        """Load the middleware chain from the current settings (async mode)."""
        super().load_middleware(is_async=True)
        self._loaded = True

    def create_request(
        self, scope: Mapping[str, Any], body_file: IO[bytes]
    ) -> tuple[ASGIRequest, None] | tuple[None, HttpResponseBase]:
        """Create the request as production does, then mark it for the test."""
        created = super().create_request(scope, body_file)
        request = created[0]
        if request is not None:
            request._dont_enforce_csrf_checks = not self.enforce_csrf_checks  # type: ignore[attr-defined]
            forced = scope.get(FORCED_AUTHENTICATION)
            if forced is not None:
                force_authenticate(request, *forced)
            if (trail := current_trail()) is not None:
                trail.request = request
        return created

    async def run_get_response(self, request: HttpRequest) -> HttpResponseBase:
        """Run middleware and view for a request served as ASGI messages, and
        keep the response object for the test."""
        response = await super().run_get_response(request)
        if (trail := current_trail()) is not None:
            trail.response = response
        return response

    async def respond(self, scope: dict[str, Any], body: bytes) -> HttpResponseBase:
        """Run one request through the middleware and view; return the response.

        As with Django's test client, the ``request_started`` and
        ``request_finished`` signals do not close the test's database
        connections, a HEAD response loses its body as a server would drop
        it, and streaming content is closed once fully read. Streaming
        content from a plain iterator is made async-iterable, read one chunk
        at a time in the thread where sync code runs, so a test can always
        write ``async for chunk in response.streaming_content``.
        """
        if not self._loaded:
            self.load_middleware()
        with keeping_connections_open():
            await request_started.asend(sender=type(self), scope=scope)
            request, error_response = self.create_request(scope, io.BytesIO(body))
            response: HttpResponseBase
            if request is None:
                response = cast(HttpResponseBase, error_response)
            else:
                response = await self.get_response_async(request)
                conditional_content_removal(request, response)
            response.asgi_request = request  # type: ignore[attr-defined]
            if isinstance(response, StreamingHttpResponse):
                _close_after_streaming(response)
            else:
                await sync_to_async(response.close)()
        return response

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve one request as ASGI messages, as a server would.

        Unlike ``ASGIHandler.__call__``, no ``ThreadSensitiveContext`` of its
        own: as with every request of the client, the view's sync code runs
        in the thread the test's sync code runs in, on the test's database
        connection.
        """
        if not self._loaded:
            self.load_middleware()
        await self.handle(scope, receive, send)


_lock = threading.Lock()
_requests_in_flight = 0


@contextmanager
def keeping_connections_open() -> Iterator[None]:
    """Keep ``close_old_connections`` from closing the test's connections.

    Django connects it to ``request_started`` and ``request_finished`` to
    tidy up between production requests; in a test it would close the
    connection that holds the test's transaction. Django's test handlers
    disconnect it around each signal they send, which breaks when requests
    overlap: the first to finish reconnects it under the others. Here it
    stays disconnected while any request of any client is in flight.
    """
    global _requests_in_flight
    with _lock:
        if _requests_in_flight == 0:
            request_started.disconnect(close_old_connections)
            request_finished.disconnect(close_old_connections)
        _requests_in_flight += 1
    try:
        yield
    finally:
        with _lock:
            _requests_in_flight -= 1
            if _requests_in_flight == 0:
                request_started.connect(close_old_connections)
                request_finished.connect(close_old_connections)


def _close_after_streaming(response: StreamingHttpResponse) -> None:
    if response.is_async:
        async_chunks = cast(AsyncIterator[bytes], response.streaming_content)
        response.streaming_content = _aclose_when_read(async_chunks, response)
    else:
        chunks = cast(Iterator[bytes], response.streaming_content)
        response.streaming_content = _pull_in_thread(_close_when_read(chunks, response))


async def _aclose_when_read(
    chunks: AsyncIterator[bytes], response: HttpResponseBase
) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        with keeping_connections_open():
            # In the sync thread: request_finished receivers may use the ORM.
            await sync_to_async(response.close)()


def _close_when_read(
    chunks: Iterator[bytes], response: HttpResponseBase
) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        with keeping_connections_open():
            response.close()


#: What Django says when an ASGI server has to read a sync iterator; quoted
#: so that tests which expect Django's warning see it.
SYNC_STREAM_WARNING = (
    "StreamingHttpResponse must consume synchronous iterators in order to "
    "serve them asynchronously. Use an asynchronous iterator instead."
)


async def _pull_in_thread(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Read a sync iterator from async code, one chunk at a time.

    Each chunk is produced in asgiref's sync thread, like any sync code a
    view runs, so an iterator that queries the database keeps working.
    Reading starts with the warning Django gives in production, where an
    ASGI server reads the whole iterator before it sends anything.
    """
    warnings.warn(
        f"{SYNC_STREAM_WARNING} (Django's warning: under an ASGI server the "
        "view's iterator is read to the end before the response is sent; "
        "restflow reads it chunk by chunk.)",
        Warning,
        stacklevel=_caller_outside_the_frameworks(),
    )
    next_chunk = sync_to_async(_next_or_none, thread_sensitive=True)
    while (chunk := await next_chunk(chunks)) is not None:
        yield chunk


_FRAMEWORK_DIRECTORIES = tuple(
    str(Path(module.__file__).parent) + os.sep
    for module in (restflow, django)
    if module.__file__ is not None
)


def _caller_outside_the_frameworks() -> int:
    """The ``stacklevel`` that points a warning at the test's own line."""
    level, frame = 2, sys._getframe(2)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(
        _FRAMEWORK_DIRECTORIES
    ):
        level, frame = level + 1, frame.f_back
    return level


def _next_or_none(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)
