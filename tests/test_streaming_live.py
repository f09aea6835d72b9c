"""The same streams over a real socket: httpx and httpx-sse against the live server.

What ``client.stream()`` shows in process must be what an outside client
sees from Daphne and uvicorn: the same events, and a hang-up that reaches
the view.
"""

from __future__ import annotations

from contextlib import aclosing
from typing import ClassVar

import httpx
from httpx_sse import aconnect_sse

from restflow.test import AsyncAPILiveServerTestCase
from tests.project import streaming_views

#: How long to wait for the server's thread to report that the view stopped:
#: a bound for a hung server, not a measure of speed.
STOP_REPORTED_WITHIN = 30


class LiveStreamBehaviour:
    asgi_server: ClassVar[str]
    live_server_url: str
    client: object

    async def test_httpx_sse_sees_the_events_the_client_sees(self) -> None:
        async with self.client.stream(  # type: ignore[attr-defined]
            "GET", "/streams/events/"
        ) as response:
            in_process = [
                (e.event, e.data, e.id, e.retry) async for e in response.aiter_sse()
            ]
        async with (
            httpx.AsyncClient(base_url=self.live_server_url) as http,
            aconnect_sse(http, "GET", "/streams/events/") as source,
        ):
            over_the_wire = [
                (e.event, e.data, e.id, e.retry) async for e in source.aiter_sse()
            ]
        assert over_the_wire == in_process
        assert len(in_process) == 3

    async def test_bytes_match_too(self) -> None:
        path = "/streams/text/?size=2&body=zwölf Zeilen"
        async with self.client.stream("GET", path) as response:  # type: ignore[attr-defined]
            in_process = await response.aread()
        async with (
            httpx.AsyncClient(base_url=self.live_server_url) as http,
            http.stream("GET", path) as wire,
        ):
            assert await wire.aread() == in_process

    async def test_a_client_hanging_up_reaches_the_view(self) -> None:
        streaming_views.STOPPED_EVENT.clear()
        mark = len(streaming_views.STOPPED)
        async with (
            httpx.AsyncClient(base_url=self.live_server_url) as http,
            aconnect_sse(http, "GET", "/streams/events/?forever") as source,
            aclosing(source.aiter_sse()) as events,
        ):
            async for event in events:
                if event.id == "2":
                    break
        # Leaving the block closed the connection; the server tells Django.
        assert streaming_views.STOPPED_EVENT.wait(STOP_REPORTED_WITHIN)
        assert streaming_views.STOPPED[mark:] == ["events: cancelled"]


class DaphneStreamTests(LiveStreamBehaviour, AsyncAPILiveServerTestCase):
    asgi_server = "daphne"


class UvicornStreamTests(LiveStreamBehaviour, AsyncAPILiveServerTestCase):
    asgi_server = "uvicorn"
