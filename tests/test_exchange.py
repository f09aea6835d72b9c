"""The ASGI conversation behind client.stream(), with applications that misbehave.

Django's handler always starts its response, finishes it, and stops sending
when the client leaves. These applications do not, to show that the client
still neither hangs nor hides the fault.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from restflow.test import StreamedResponse
from restflow.test._exchange import Exchange
from restflow.test.streaming import StreamContext

START = {"type": "http.response.start", "status": 200, "headers": []}


def exchange_with(app: Any) -> Exchange:
    return Exchange(app, {"type": "http", "path": "/"}, b"")


def test_an_application_that_keeps_sending_after_the_client_left() -> None:
    sent_after_leaving = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()  # the request
        await send(START)
        assert (await receive())["type"] == "http.disconnect"
        for number in range(100):  # more than the client would ever buffer
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
            sent_after_leaving.append(number)

    async def scenario() -> None:
        exchange = exchange_with(app)
        exchange.begin()
        assert (await exchange.next_message(None)) == START
        await exchange.hang_up()  # returns: what came after is dropped

    asyncio.run(scenario())
    assert len(sent_after_leaving) == 100


def test_an_application_that_ends_without_finishing_its_response() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send(START)
        await send({"type": "http.response.body", "body": b"half", "more_body": True})

    async def scenario() -> list[bytes]:
        exchange = exchange_with(app)
        exchange.begin()
        await exchange.next_message(None)
        return [chunk async for chunk in exchange.body(None)]

    with pytest.raises(RuntimeError, match="returned without finishing the response"):
        asyncio.run(scenario())


def test_an_application_that_sends_a_body_before_starting() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.body", "body": b"early"})

    async def scenario() -> StreamedResponse:
        context = StreamContext(
            exchange_with(app), "client.stream('GET', '/')", None, lambda e: None
        )
        async with context as response:
            return response

    with pytest.raises(RuntimeError, match=r"sent .*'early'.* before starting its"):
        asyncio.run(scenario())


def test_leaving_twice_or_before_starting_does_nothing() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send(START)
        await send({"type": "http.response.body", "body": b""})

    async def scenario() -> None:
        exchange = exchange_with(app)
        await exchange.hang_up()  # not begun
        exchange.begin()
        assert (await exchange.next_message(None)) == START
        assert (await exchange.next_message(None))["type"] == "http.response.body"
        assert exchange.complete
        await exchange.hang_up()
        await exchange.hang_up()

    asyncio.run(scenario())
