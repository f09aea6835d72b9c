"""client.stream(): responses read as they are produced, events, and hanging up."""

from __future__ import annotations

import asyncio
import json
import warnings

import pytest
from django.contrib.auth.models import User

from restflow.test import (
    AsyncAPIClient,
    AsyncAPISimpleTestCase,
    AsyncAPITestCase,
    ClientDisconnected,
    ServerSentEvent,
    SSEError,
    StreamClosedError,
)
from restflow.test.schema import SchemaMismatchError
from tests.project import streaming_views
from tests.schema_app import urls as schema_urls
from tests.testapp.models import Product

ORDER_EVENTS = [
    ServerSentEvent(event="status", data='{"status": "paid"}', id="1"),
    ServerSentEvent(event="message", data="line one\nline two", id="1"),
    ServerSentEvent(event="status", data='{"status": "shipped"}', id="2", retry=1500),
]


def stopped_since(mark: int) -> list[str]:
    return streaming_views.STOPPED[mark:]


class StreamTests(AsyncAPISimpleTestCase):
    async def test_the_block_is_entered_when_the_response_starts(self) -> None:
        streaming_views.RELEASE = asyncio.Event()
        async with self.client.stream("GET", "/streams/after-start/") as response:
            # The view has sent its headers and waits for us: no body yet.
            assert response.status_code == 200
            assert response.headers["content-type"] == "text/plain"
            assert not response.is_closed
            streaming_views.RELEASE.set()
            assert await response.aread() == b"released"
            assert response.is_closed

    async def test_server_sent_events_are_parsed_as_the_standard_says(self) -> None:
        mark = len(streaming_views.STOPPED)
        async with self.client.stream("GET", "/streams/events/") as response:
            events = [event async for event in response.aiter_sse(timeout=10)]
        assert events == ORDER_EVENTS
        assert events[0].json() == {"status": "paid"}
        assert stopped_since(mark) == ["events: finished"]

    async def test_every_kind_of_view(self) -> None:
        for path in ["/streams/events/", "/streams/adrf-events/"]:
            with self.subTest(path=path):
                async with self.client.stream("GET", path) as response:
                    assert response.headers["X-Sync-Middleware"] == "1"
                    assert response.headers["X-Async-Middleware"] == "1"
                    assert [e async for e in response.aiter_sse()] == ORDER_EVENTS

    async def test_bytes_text_and_lines(self) -> None:
        body = "première ligne\r\nzweite Zeile\nthird\rlast é"
        for size in (1, 2, 5, 100):
            path = f"/streams/text/?size={size}&body={body}"
            with self.subTest(size=size):
                async with self.client.stream("GET", path) as response:
                    chunks = [chunk async for chunk in response.aiter_bytes()]
                assert b"".join(chunks) == body.encode()
                async with self.client.stream("GET", path) as response:
                    assert "".join([t async for t in response.aiter_text()]) == body
                async with self.client.stream("GET", path) as response:
                    lines = [line async for line in response.aiter_lines()]
                assert lines == body.splitlines()

    async def test_text_is_decoded_with_the_charset_of_the_response(self) -> None:
        path = "/streams/text/?size=1&charset=latin-1&body=déjà"
        async with self.client.stream("GET", path) as response:
            assert "".join([t async for t in response.aiter_text()]) == "déjà"

    async def test_the_clients_behaviour_applies(self) -> None:
        self.client.force_authenticate(User(username="khan"))
        self.client.credentials(HTTP_X_TRACE="t1")
        self.client.cookies["crumb"] = "c"
        async with self.client.stream(
            "POST", "/echo/", {"a": [1]}, format="json"
        ) as response:
            seen = json.loads(await response.aread())
        assert seen["data"] == {"a": [1]}
        assert seen["user"] == "khan"
        assert seen["headers"]["HTTP_X_TRACE"] == "t1"
        assert seen["headers"]["HTTP_COOKIE"] == "crumb=c"
        assert seen["stamps"] == ["sync-ran", "async-ran"]
        assert response.asgi_request is not None
        assert response.asgi_request.path == "/echo/"

    async def test_a_view_error_is_raised_as_by_the_other_requests(self) -> None:
        with pytest.raises(ZeroDivisionError, match="failed on purpose"):
            async with self.client.stream("GET", "/raises/"):
                pass  # pragma: no cover
        async with self.client.stream("GET", "/streams/fails-midway/") as response:
            chunks = response.aiter_bytes()
            assert await chunks.__anext__() == b"first\n"
            with pytest.raises(ZeroDivisionError, match="stream failed on purpose"):
                await chunks.__anext__()


class HangingUpTests(AsyncAPISimpleTestCase):
    async def test_leaving_the_block_early_cancels_the_view(self) -> None:
        for path, name in [
            ("/streams/events/?forever", "events"),
            ("/streams/adrf-events/?forever", "adrf"),
        ]:
            with self.subTest(path=path):
                mark = len(streaming_views.STOPPED)
                async with self.client.stream("GET", path) as response:
                    async for event in response.aiter_sse():
                        if event.id == "2":
                            break
                # Django cancelled the view's task; its generator saw it.
                assert stopped_since(mark) == [f"{name}: cancelled"]
                assert response.is_closed

    async def test_aclose_hangs_up_too(self) -> None:
        mark = len(streaming_views.STOPPED)
        async with self.client.stream("GET", "/streams/events/?forever") as response:
            events = response.aiter_sse()
            for _ in ORDER_EVENTS:  # the view now waits, mid-stream
                await anext(events)
            await response.aclose()
            assert stopped_since(mark) == ["events: cancelled"]
            assert response.is_closed

    async def test_disconnect_after_cancels_a_slow_view(self) -> None:
        mark = len(streaming_views.STOPPED)
        with pytest.raises(ClientDisconnected) as caught:
            await self.client.get("/streams/slow/?seconds=30", disconnect_after=0.2)
        assert str(caught.value).startswith(
            "client.get('/streams/slow/?seconds=30') hung up after 0.2 s"
        )
        assert stopped_since(mark) == ["slow: cancelled"]

    async def test_disconnect_after_gives_the_response_if_it_came_in_time(
        self,
    ) -> None:
        response = await self.client.get("/echo/", {"q": "1"}, disconnect_after=30)
        assert response.status_code == 200
        assert response.data["GET"] == [("q", ["1"])]
        assert response.asgi_request.GET["q"] == "1"
        streamed = await self.client.get("/streams/events/", disconnect_after=30)
        body = b"".join([chunk async for chunk in streamed.streaming_content])
        assert b'data: {"status": "shipped"}' in body

    def test_disconnect_after_with_follow_is_refused(self) -> None:
        with pytest.raises(ValueError, match="both follow=True and disconnect_after"):
            self.client.get("/echo/", follow=True, disconnect_after=1)

    def test_the_factory_has_nothing_to_hang_up_on_or_to_check(self) -> None:
        from restflow.test import AsyncAPIRequestFactory

        with pytest.raises(ValueError, match="disconnect_after=, but a request"):
            AsyncAPIRequestFactory().get("/x/", disconnect_after=1)
        with pytest.raises(ValueError, match="validate_schema=, but a request"):
            AsyncAPIRequestFactory().post("/x/", validate_schema=True)


class TimeoutTests(AsyncAPISimpleTestCase):
    async def test_a_quiet_stream_times_out_saying_what_came(self) -> None:
        async with self.client.stream("GET", "/streams/events/?forever") as response:
            with pytest.raises(TimeoutError) as caught:
                async for _ in response.aiter_bytes(timeout=0.2):
                    pass
        assert str(caught.value) == (
            "client.stream('GET', '/streams/events/?forever'): nothing more "
            "arrived within 0.2 s; 5 chunks (178 bytes) had arrived, the last "
            'ending b\'data: {"status": "shipped"}\\r\\n\\r\\n\'.'
        )

    async def test_events_time_out_with_the_events_so_far(self) -> None:
        async with self.client.stream("GET", "/streams/events/?forever") as response:
            with pytest.raises(TimeoutError) as caught:
                async for _ in response.aiter_sse(timeout=0.2):
                    pass
        assert str(caught.value).endswith(
            "Events so far: 3, the last event='status' "
            'data=\'{"status": "shipped"}\'.'
        )

    async def test_a_body_that_never_starts_times_out(self) -> None:
        streaming_views.RELEASE = asyncio.Event()
        async with self.client.stream(
            "GET", "/streams/after-start/", timeout=0.1
        ) as response:
            with pytest.raises(TimeoutError) as caught:
                await response.aread()
        assert "no part of the body had arrived" in str(caught.value)

    async def test_the_response_start_times_out_too(self) -> None:
        mark = len(streaming_views.STOPPED)
        with pytest.raises(TimeoutError, match="did not start its response within"):
            async with self.client.stream(
                "GET", "/streams/slow/?seconds=30", timeout=0.1
            ):
                pass  # pragma: no cover
        assert stopped_since(mark) == ["slow: cancelled"]


class MistakeTests(AsyncAPISimpleTestCase):
    async def test_events_from_a_response_that_is_not_an_event_stream(self) -> None:
        async with self.client.stream("GET", "/echo/") as response:
            with pytest.raises(SSEError) as caught:
                await response.aiter_sse().__anext__()
        assert str(caught.value).startswith(
            "client.stream('GET', '/echo/') answered with Content-Type "
            "'application/json', so its body is not a stream of server-sent events"
        )

    async def test_awaiting_instead_of_async_with(self) -> None:
        with pytest.raises(TypeError, match=r"is used with async with, not await"):
            await self.client.stream("GET", "/echo/")  # type: ignore[misc]

    async def test_a_stream_never_entered_warns(self) -> None:
        with pytest.warns(RuntimeWarning, match="was never entered"):
            self.client.stream("GET", "/echo/")

    async def test_reading_after_the_block(self) -> None:
        async with self.client.stream("GET", "/streams/events/?forever") as response:
            pass
        with pytest.raises(StreamClosedError, match="read the body inside the block"):
            await response.aread()

    async def test_reading_twice(self) -> None:
        async with self.client.stream("GET", "/streams/events/") as response:
            await response.aread()
            with pytest.raises(StreamClosedError, match="read to its end already"):
                await response.aread()

    async def test_format_needs_a_verb_with_a_body(self) -> None:
        with pytest.raises(ValueError, match="only the verbs with a body encode"):
            self.client.stream("PURGE", "/echo/", {"a": 1}, format="json")


class DatabaseTests(AsyncAPITestCase):
    async def test_a_sync_iterator_sees_the_tests_rows(self) -> None:
        await Product.objects.acreate(name="Phone")
        self.client.force_authenticate(User(username="khan"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            async with self.client.stream("GET", "/streams/product-counts/") as r:
                lines = [line async for line in r.aiter_lines()]
        assert lines == ["0: 1 products by khan", "1: 1 products by khan"]
        # Django warns that an ASGI server reads a sync iterator to its end.
        assert any("synchronous iterators" in str(w.message) for w in caught)

    async def test_async_orm_calls_stay_on_the_tests_connection(self) -> None:
        await Product.objects.acreate(name="Phone")
        response = await self.client.get("/async/products/", disconnect_after=30)
        assert response.data == ["Phone"]


def test_a_client_made_outside_a_loop_can_stream_inside_one() -> None:
    client = AsyncAPIClient()

    async def read() -> list[ServerSentEvent]:
        async with client.stream("GET", "/streams/events/") as response:
            return [event async for event in response.aiter_sse()]

    from asgiref.sync import async_to_sync

    assert async_to_sync(read)() == ORDER_EVENTS


class EdgeTests(AsyncAPISimpleTestCase):
    """What a stream does at its edges: errors, refusals, its own state."""

    async def test_a_long_stream_is_held_a_few_chunks_at_a_time(self) -> None:
        async with self.client.stream("GET", "/streams/counted/?chunks=200") as r:
            for _ in range(100):  # let the view run as far as it can
                await asyncio.sleep(0)
            # The view waits for the test to read, as under a server: it got
            # no further than the client's small buffer allows.
            assert 0 < len(streaming_views.YIELDED) < 40
            assert len(await r.aread()) == 200
        assert len(streaming_views.YIELDED) == 200

    async def test_a_request_django_refuses_has_no_asgi_request(self) -> None:
        # A query string that is not UTF-8: Django's ASGI handler answers 400.
        response = await self.client.get("/echo/", QUERY_STRING=b"q=\xff")
        assert response.status_code == 400
        assert response.asgi_request is None
        async with self.client.stream("GET", "/echo/", QUERY_STRING=b"q=\xff") as r:
            assert r.status_code == 400
            assert r.asgi_request is None

    async def test_cookies_the_stream_sets_are_kept(self) -> None:
        async with self.client.stream("GET", "/streams/text/?body=x&cookie=1"):
            pass
        assert self.client.cookies["seen"].value == "1"

    async def test_any_method(self) -> None:
        async with self.client.stream("TRACE", "/echo/") as response:
            assert response.status_code == 405  # DRF views do not allow TRACE

    async def test_a_text_body_cut_mid_character_ends_with_a_replacement(self) -> None:
        path = "/streams/text/?size=1&truncate=1&body=café"
        async with self.client.stream("GET", path) as response:
            assert "".join([t async for t in response.aiter_text()]) == "caf\ufffd"

    async def test_the_charset_is_found_among_other_parameters(self) -> None:
        path = "/streams/text/?charset=latin-1&type=text/plain; format=flowed&body=é"
        async with self.client.stream("GET", path) as response:
            assert response.headers["Content-Type"] == (
                "text/plain; format=flowed; charset=latin-1"
            )
            assert await anext(response.aiter_text()) == "é"

    async def test_an_event_ended_by_a_last_lone_cr(self) -> None:
        path = "/streams/text/?type=text/event-stream&body=data: x\r\r"
        async with self.client.stream("GET", path) as response:
            assert [e async for e in response.aiter_sse()] == [
                ServerSentEvent(data="x")
            ]

    async def test_no_event_at_all_before_the_timeout(self) -> None:
        streaming_views.RELEASE = asyncio.Event()
        path = "/streams/after-start/?type=text/event-stream"
        async with self.client.stream("GET", path) as response:
            with pytest.raises(TimeoutError, match=r"Events so far: none\.$"):
                await anext(response.aiter_sse(timeout=0.1))

    async def test_two_readers_at_once_are_refused(self) -> None:
        async with self.client.stream("GET", "/streams/text/?size=1&body=ab") as r:
            first = r.aiter_bytes()
            assert await anext(first) == b"a"
            with pytest.raises(StreamClosedError, match="by another iterator"):
                await anext(r.aiter_bytes())

    async def test_closing_while_another_task_reads(self) -> None:
        streaming_views.RELEASE = asyncio.Event()
        async with self.client.stream("GET", "/streams/after-start/") as response:
            reader = asyncio.create_task(response.aread())
            await asyncio.sleep(0)  # the reader now waits for the body
            await response.aclose()
            with pytest.raises(StreamClosedError, match=r"closed .* while it was"):
                await reader

    async def test_an_error_after_the_start_is_raised_when_the_block_ends(
        self,
    ) -> None:
        with pytest.raises(ZeroDivisionError, match="stream failed on purpose"):
            async with self.client.stream("GET", "/streams/fails-midway/"):
                pass  # the body is not read: the error comes at the exit

    async def test_cancelling_a_request_that_would_hang_up_later(self) -> None:
        mark = len(streaming_views.STOPPED)
        with pytest.raises(asyncio.TimeoutError):  # TimeoutError from 3.11 on
            await asyncio.wait_for(
                self.client.get("/streams/slow/?seconds=30", disconnect_after=30),
                0.2,
            )
        assert stopped_since(mark) == ["slow: cancelled"]

    async def test_reprs_name_the_call(self) -> None:
        context = self.client.stream("GET", "/echo/")
        assert repr(context) == "<StreamContext client.stream('GET', '/echo/')>"
        async with context as response:
            assert repr(response) == (
                "<StreamedResponse 200 client.stream('GET', '/echo/')>"
            )


class StreamSchemaTests(AsyncAPISimpleTestCase):
    """A streamed response is checked against the schema when it starts."""

    urlpatterns = schema_urls.urlpatterns

    async def test_an_undocumented_status_fails_when_the_block_is_entered(
        self,
    ) -> None:
        with pytest.raises(SchemaMismatchError, match="answered 418"):
            async with self.client.stream("GET", "/api/teapot/", validate_schema=True):
                pass  # pragma: no cover
        async with self.client.stream("GET", "/api/teapot/") as response:
            assert response.status_code == 418  # not checked unless asked
