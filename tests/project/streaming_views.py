"""Streaming views of every kind, which record how they stopped.

Each view appends to :data:`STOPPED` when its stream ends - ``"<name>:
finished"``, ``"<name>: cancelled"`` or ``"<name>: closed"`` - so a test
can check that a client hanging up reached the view, however it is served
(``AsyncAPIClient.stream()``, Daphne, uvicorn). The live-server tests read
it from the server's thread, hence the lock-free list and the event.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from adrf.views import APIView as AsyncAPIView
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.views import APIView

from tests.testapp.models import Product

#: How each stream stopped, in order.
STOPPED: list[str] = []
#: Set whenever something is appended to STOPPED.
STOPPED_EVENT = threading.Event()
#: Made and set by a test to let ``after-start/`` send its body (an event
#: belongs to one loop, so each test makes its own).
RELEASE: asyncio.Event | None = None


def stopped(entry: str) -> None:
    STOPPED.append(entry)
    STOPPED_EVENT.set()


def _event(data: Any, **fields: Any) -> str:
    lines = [f"{name}: {value}" for name, value in fields.items()]
    lines += [f"data: {line}" for line in json.dumps(data).splitlines()]
    return "\n".join(lines) + "\n\n"


async def _order_events(name: str, forever: bool) -> AsyncIterator[str]:
    try:
        yield ": the order's status, as it changes\n\n"
        yield _event({"status": "paid"}, event="status", id=1)
        yield "data: line one\ndata: line two\n\n"
        yield "retry: 1500\nevent: status\nid: 2\r\n"
        yield 'data: {"status": "shipped"}\r\n\r\n'
        if forever:
            await asyncio.Event().wait()  # until the client goes away
    except asyncio.CancelledError:
        stopped(f"{name}: cancelled")
        raise
    except GeneratorExit:
        stopped(f"{name}: closed")
        raise
    else:
        stopped(f"{name}: finished")


async def events(request: HttpRequest) -> StreamingHttpResponse:
    """A plain Django async view streaming server-sent events."""
    forever = "forever" in request.GET
    return StreamingHttpResponse(
        _order_events("events", forever), content_type="text/event-stream"
    )


class AsyncEventsView(AsyncAPIView):
    """An adrf view returning a stream of events."""

    permission_classes: list[Any] = []

    async def get(self, request: Request) -> StreamingHttpResponse:
        forever = "forever" in request.query_params
        return StreamingHttpResponse(
            _order_events("adrf", forever), content_type="text/event-stream"
        )


class ProductCountsView(APIView):
    """A sync DRF view streaming, from a sync iterator, what the ORM sees."""

    permission_classes: list[Any] = []

    def get(self, request: Request) -> StreamingHttpResponse:
        def counts() -> Iterator[bytes]:
            for round_number in range(2):
                count = Product.objects.count()
                yield f"{round_number}: {count} products by {request.user}\n".encode()

        return StreamingHttpResponse(counts(), content_type="text/plain")


async def after_start(request: HttpRequest) -> StreamingHttpResponse:
    """Sends its headers at once (of ``?type=``, text/plain by default), and
    its body only once a test releases it."""

    async def body() -> AsyncIterator[bytes]:
        assert RELEASE is not None, "the test sets streaming_views.RELEASE"
        await RELEASE.wait()
        yield b"released"

    kind = request.GET.get("type", "text/plain")
    return StreamingHttpResponse(body(), content_type=kind)


async def slow(request: HttpRequest) -> HttpResponse:
    """A view that takes its time, and notes whether it was cancelled."""
    try:
        await asyncio.sleep(float(request.GET.get("seconds", 30)))
    except asyncio.CancelledError:
        stopped("slow: cancelled")
        raise
    stopped("slow: finished")
    return HttpResponse("done")


async def fails_midway(request: HttpRequest) -> StreamingHttpResponse:
    async def body() -> AsyncIterator[bytes]:
        yield b"first\n"
        raise ZeroDivisionError("the stream failed on purpose")

    return StreamingHttpResponse(body(), content_type="text/plain")


async def text_in(request: HttpRequest) -> StreamingHttpResponse:
    """Streams ``?body=`` back in pieces of ``?size=`` bytes, encoded as
    ``?charset=`` says, less the last ``?truncate=`` bytes, as ``?type=``
    (``text/plain`` by default); ``?cookie=`` sets the cookie ``seen``."""
    text = request.GET.get("body", "")
    size = int(request.GET.get("size", 3))
    charset = request.GET.get("charset", "utf-8")
    encoded = text.encode(charset)
    encoded = encoded[: len(encoded) - int(request.GET.get("truncate", 0))]

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(encoded), size):
            yield encoded[start : start + size]

    kind = request.GET.get("type", "text/plain")
    response = StreamingHttpResponse(body(), content_type=f"{kind}; charset={charset}")
    if "cookie" in request.GET:
        response.set_cookie("seen", request.GET["cookie"])
    return response


#: How many chunks ``counted/`` has yielded so far.
YIELDED: list[int] = []


async def counted(request: HttpRequest) -> StreamingHttpResponse:
    """Streams ``?chunks=`` one-byte chunks as fast as it is let, counting them."""
    YIELDED.clear()

    async def body() -> AsyncIterator[bytes]:
        for number in range(int(request.GET["chunks"])):
            YIELDED.append(number)
            yield b"x"

    return StreamingHttpResponse(body(), content_type="application/octet-stream")


urlpatterns = [
    path("events/", events),
    path("adrf-events/", AsyncEventsView.as_view()),
    path("product-counts/", ProductCountsView.as_view()),
    path("after-start/", after_start),
    path("slow/", slow),
    path("fails-midway/", fails_midway),
    path("text/", text_in),
    path("counted/", counted),
]
