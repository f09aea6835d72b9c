"""Streamed responses: read a body as the view produces it, or hang up on it.

``client.stream()`` returns a :class:`StreamContext`; entering it sends the
request and gives a :class:`StreamedResponse` as soon as the view has
answered with its status and headers, before any of the body. The body is
then read with the iterators httpx users know (``aiter_bytes``,
``aiter_text``, ``aiter_lines``) and, for ``text/event-stream``, as
:class:`ServerSentEvent` objects. Leaving the ``async with`` block before
the body is complete hangs up, as a browser closing the tab does.
"""

from __future__ import annotations

import codecs
import warnings
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from django.utils.datastructures import CaseInsensitiveMapping

from restflow.test._exchange import Exchange
from restflow.test._sse import EventStreamParser, ServerSentEvent, SSEError

if TYPE_CHECKING:
    from django.core.handlers.asgi import ASGIRequest

_T = TypeVar("_T")

__all__ = [
    "ClientDisconnected",
    "SSEError",
    "ServerSentEvent",
    "StreamClosedError",
    "StreamContext",
    "StreamedResponse",
]


class ClientDisconnected(Exception):
    """The client hung up (``disconnect_after=``) before the response was complete."""


class StreamClosedError(RuntimeError):
    """A streamed response was read after its ``async with`` block ended, or
    after it was read to the end."""


class StreamedResponse:
    """A response whose body arrives while the test reads it."""

    #: The HTTP status code.
    status_code: int
    #: The response headers, case-insensitive; repeated headers are joined
    #: with ``", "``.
    headers: CaseInsensitiveMapping[str]
    #: The headers as the application sent them: ``(name, value)`` byte strings.
    raw_headers: list[tuple[bytes, bytes]]
    #: The ``ASGIRequest`` the view received (``None`` if Django refused to
    #: build one, answering 400 or 413).
    asgi_request: ASGIRequest | None
    #: The ASGI scope of the request.
    request: dict[str, Any]

    def __init__(
        self,
        exchange: Exchange,
        start: dict[str, Any],
        call: str,
        timeout: float | None,
    ) -> None:
        self._exchange = exchange
        self._call = call
        self._timeout = timeout
        self.status_code = start["status"]
        self.raw_headers = [
            (bytes(name), bytes(value)) for name, value in start.get("headers", [])
        ]
        joined: dict[str, str] = {}
        for name, value in self.raw_headers:
            key, text = name.decode("latin-1").lower(), value.decode("latin-1")
            joined[key] = f"{joined[key]}, {text}" if key in joined else text
        self.headers = CaseInsensitiveMapping(joined)
        self.request = exchange.scope
        self.asgi_request = exchange.trail.request
        self._closed = False
        self._reading = False
        self._open_iterators: list[AsyncGenerator[Any, None]] = []
        self._chunks = 0
        self._bytes = 0
        self._last = b""

    def __repr__(self) -> str:
        return f"<StreamedResponse {self.status_code} {self._call}>"

    @property
    def is_closed(self) -> bool:
        """Whether the client has hung up or the body has been read to its end."""
        return self._closed or self._exchange.complete

    def aiter_bytes(self, timeout: float | None = None) -> AsyncIterator[bytes]:
        """The body, chunk by chunk, as the view yields it.

        ``timeout`` (seconds; the one given to ``stream()`` by default) bounds
        the wait for each chunk: when it passes, ``TimeoutError`` says what
        had arrived so far.
        """
        return self._opened(self._read_bytes(timeout))

    async def _read_bytes(
        self, timeout: float | None = None
    ) -> AsyncGenerator[bytes, None]:
        self._start_reading()
        limit = self._timeout if timeout is None else timeout
        try:
            body = self._exchange.body(limit)
            while True:
                try:
                    chunk = await body.__anext__()
                except StopAsyncIteration:
                    if self._closed and not self._exchange.complete:
                        raise StreamClosedError(
                            f"The response to {self._call} was closed (aclose()) "
                            "while it was being read."
                        ) from None
                    return
                except TimeoutError:
                    raise TimeoutError(self._nothing_came(limit)) from None
                self._chunks += 1
                self._bytes += len(chunk)
                self._last = chunk
                yield chunk
        finally:
            self._reading = False

    def aiter_text(self, timeout: float | None = None) -> AsyncIterator[str]:
        """The body as text, decoded with the charset of ``Content-Type``
        (UTF-8 if it names none)."""
        return self._opened(self._read_text(timeout))

    async def _read_text(
        self, timeout: float | None = None
    ) -> AsyncGenerator[str, None]:
        decoder = codecs.getincrementaldecoder(self._charset())(errors="replace")
        async for chunk in self.aiter_bytes(timeout):
            if text := decoder.decode(chunk):
                yield text
        if text := decoder.decode(b"", final=True):
            yield text

    def aiter_lines(self, timeout: float | None = None) -> AsyncIterator[str]:
        """The body as lines of text, without their line endings, split where
        ``str.splitlines()`` splits."""
        return self._opened(self._read_lines(timeout))

    async def _read_lines(
        self, timeout: float | None = None
    ) -> AsyncGenerator[str, None]:
        pending = ""
        async for text in self.aiter_text(timeout):
            lines = (pending + text).splitlines(keepends=True)
            # The last piece waits for more: it has no line ending yet, or
            # ends in a CR that may be the first half of a CRLF.
            pending = lines.pop() if _open_line(lines[-1]) else ""
            for line in lines:
                yield line.splitlines()[0]
        if pending:
            yield pending.splitlines()[0]

    def aiter_sse(
        self, timeout: float | None = None, *, strict: bool = True
    ) -> AsyncIterator[ServerSentEvent]:
        """The body as server-sent events, parsed as the WHATWG standard says.

        The response must be ``text/event-stream``. ``timeout`` bounds the
        wait for each chunk of the stream. With ``strict`` (the default) a
        line the standard would have a browser ignore - an unknown field, a
        ``retry`` that is not a number - raises :class:`SSEError` naming the
        line, since it is most likely a bug in the server.
        """
        return self._opened(self._read_events(timeout, strict))

    async def _read_events(
        self, timeout: float | None, strict: bool
    ) -> AsyncGenerator[ServerSentEvent, None]:
        content_type = self.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != "text/event-stream":
            raise SSEError(
                f"{self._call} answered with Content-Type {content_type!r}, so its "
                "body is not a stream of server-sent events, which are sent as "
                "text/event-stream. Read it with aiter_bytes() or aiter_text()."
            )
        parser = EventStreamParser(strict=strict)
        received: list[ServerSentEvent] = []
        try:
            async for text in self.aiter_text(timeout):
                for event in parser.feed(text):
                    received.append(event)
                    yield event
            for event in parser.close():
                yield event
        except TimeoutError as error:
            summary = _events_so_far(received)
            raise TimeoutError(f"{error} Events so far: {summary}.") from None

    async def aread(self, timeout: float | None = None) -> bytes:
        """The rest of the body, as one byte string."""
        return b"".join([chunk async for chunk in self.aiter_bytes(timeout)])

    async def aclose(self) -> None:
        """Hang up if the body is not complete, and wait for the view to stop.

        Iterators of the body that are still open are closed first, so that
        none is left for the garbage collector to finish in another task.
        """
        if self._closed:
            return
        self._closed = True
        for iterator in self._open_iterators:
            if not getattr(iterator, "ag_running", False):
                await iterator.aclose()
        self._open_iterators.clear()
        await self._exchange.hang_up()

    def _opened(self, iterator: AsyncGenerator[_T, None]) -> AsyncGenerator[_T, None]:
        self._open_iterators.append(iterator)
        return iterator

    def _start_reading(self) -> None:
        if self._closed:
            raise StreamClosedError(
                f"The response to {self._call} was closed when its async with "
                "block ended (or by aclose()); read the body inside the block."
            )
        if self._exchange.complete:
            raise StreamClosedError(
                f"The body of the response to {self._call} has been read to its "
                "end already; keep what the first read gave you."
            )
        if self._reading:
            raise StreamClosedError(
                f"The body of the response to {self._call} is being read by "
                "another iterator; read it with one at a time."
            )
        self._reading = True

    def _charset(self) -> str:
        content_type = self.headers.get("Content-Type", "")
        for parameter in content_type.split(";")[1:]:
            name, _, value = parameter.strip().partition("=")
            if name.lower() == "charset" and value:
                return value.strip('"')
        return "utf-8"

    def _nothing_came(self, timeout: float | None) -> str:
        if not self._chunks:
            so_far = "no part of the body had arrived"
        else:
            so_far = (
                f"{self._chunks} chunk{'s' if self._chunks > 1 else ''} "
                f"({self._bytes} bytes) had arrived, the last ending "
                f"{self._last[-60:]!r}"
            )
        return f"{self._call}: nothing more arrived within {timeout} s; {so_far}."


def _open_line(piece: str) -> bool:
    return piece.endswith("\r") or piece.splitlines()[0] == piece


def _events_so_far(events: list[ServerSentEvent]) -> str:
    if not events:
        return "none"
    last = events[-1]
    return f"{len(events)}, the last event={last.event!r} data={last.data[:60]!r}"


class StreamContext:
    """What ``client.stream()`` returns: use it with ``async with``.

    Entering the block sends the request and waits for the response start
    (bounded by ``timeout``); leaving it hangs up if the body is not
    complete, and waits for the view to stop.
    """

    def __init__(
        self,
        exchange: Exchange,
        call: str,
        timeout: float | None,
        on_start: Callable[[Exchange], None],
    ) -> None:
        self._exchange = exchange
        self._call = call
        self._timeout = timeout
        self._on_start = on_start
        self._response: StreamedResponse | None = None
        self._entered = False

    async def __aenter__(self) -> StreamedResponse:
        self._entered = True
        self._exchange.begin()
        try:
            start = await self._response_start()
            self._on_start(self._exchange)
        except BaseException:
            await self._exchange.hang_up()
            raise
        self._response = StreamedResponse(
            self._exchange, start, self._call, self._timeout
        )
        return self._response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._response is not None
        await self._response.aclose()

    async def _response_start(self) -> dict[str, Any]:
        try:
            message = await self._exchange.next_message(self._timeout)
        except TimeoutError:
            raise TimeoutError(
                f"{self._call}: the view did not start its response within "
                f"{self._timeout} s."
            ) from None
        if message is None or message["type"] != "http.response.start":
            raise RuntimeError(
                f"{self._call}: the application sent {message!r} before starting "
                "its response."
            )
        return message

    if not TYPE_CHECKING:  # pragma: no branch
        # Hidden from type checkers, so that awaiting the context is a type
        # error rather than NoReturn.

        def __await__(self) -> NoReturn:
            self._entered = True
            raise TypeError(
                f"{self._call} is used with async with, not await: "
                f"`async with {self._call} as response:`."
            )

    def __repr__(self) -> str:
        return f"<StreamContext {self._call}>"

    def __del__(self) -> None:
        if not getattr(self, "_entered", True):
            warnings.warn(
                f"{self._call} was never entered, so the request was not sent. "
                f"Write `async with {self._call} as response:`.",
                RuntimeWarning,
                stacklevel=2,
            )
