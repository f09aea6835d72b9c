"""A sync and an async middleware, to prove both run around every request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase


def sync_stamp_middleware(
    get_response: Callable[[HttpRequest], HttpResponseBase],
) -> Callable[[HttpRequest], HttpResponseBase]:
    """Stamp the request and the response from sync code."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        request.sync_stamp = "sync-ran"  # type: ignore[attr-defined]
        response = get_response(request)
        response["X-Sync-Middleware"] = "1"
        return response

    return middleware


def async_stamp_middleware(
    get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]],
) -> Callable[[HttpRequest], Awaitable[HttpResponseBase]]:
    """Stamp the request and the response from async code."""
    assert iscoroutinefunction(get_response)

    async def middleware(request: HttpRequest) -> HttpResponseBase:
        request.async_stamp = "async-ran"  # type: ignore[attr-defined]
        response = await get_response(request)
        response["X-Async-Middleware"] = "1"
        return response

    markcoroutinefunction(middleware)
    return middleware


async_stamp_middleware.async_capable = True  # type: ignore[attr-defined]
async_stamp_middleware.sync_capable = False  # type: ignore[attr-defined]
