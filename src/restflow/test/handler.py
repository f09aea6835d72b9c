"""The async client handler behind ``AsyncAPIClient``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, cast

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.test.client import AsyncClientHandler

from restflow.test.authentication import force_authenticate

if TYPE_CHECKING:
    from django.test.client import _ASGIResponse

__all__ = ["ForceAuthAsyncClientHandler"]


class ForceAuthAsyncClientHandler(AsyncClientHandler):
    """Django's async test handler, plus forced authentication.

    The client stores the user and token given to
    :meth:`AsyncAPIClient.force_authenticate` here; they are applied to each
    request after it is built and before the middleware and view see it,
    which is the latest point at which DRF can still pick them up.

    Streaming responses whose view produced a plain (sync) iterator are
    turned into async ones, pulled one chunk at a time in the thread that
    runs sync code, so a test can always write
    ``async for chunk in response.streaming_content``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._force_user: Any = None
        self._force_token: Any = None
        super().__init__(*args, **kwargs)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        """Apply forced authentication, then run middleware and view."""
        if self._force_user is not None or self._force_token is not None:
            force_authenticate(request, self._force_user, self._force_token)
        return await super().get_response_async(request)

    async def __call__(self, scope: dict[str, Any]) -> _ASGIResponse:
        """Handle one request; make sync streaming content async-iterable."""
        response = await super().__call__(scope)
        if isinstance(response, StreamingHttpResponse) and not response.is_async:
            chunks = cast(Iterator[bytes], response.streaming_content)
            response.streaming_content = _pull_in_thread(chunks)
        return response


async def _pull_in_thread(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    # Each chunk is produced in asgiref's sync thread, like any sync code a
    # view runs, so an iterator that queries the database keeps working.
    next_chunk = sync_to_async(_next_or_none, thread_sensitive=True)
    while (chunk := await next_chunk(chunks)) is not None:
        yield chunk


def _next_or_none(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)
