"""``ClientResponse``: the type of what ``await client.get(...)`` returns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from django.core.handlers.asgi import ASGIRequest
    from django.http.response import ResponseHeaders
    from django.urls import ResolverMatch

    from restflow.test.client import AsyncAPIClient

__all__ = ["ClientResponse"]


class ClientResponse(Protocol):
    """What ``await client.get(...)`` gives back: the view's response, with
    what the client adds.

    At run time this is the very object the view returned - a DRF
    ``Response``, a Django ``HttpResponse`` or ``StreamingHttpResponse`` -
    so everything those classes offer is there. This protocol names what a
    test usually reads, with types, so that a type checker knows
    ``response.status_code`` is an ``int``, and flags a forgotten ``await``.

    Attributes:
        status_code: The HTTP status code.
        reason_phrase: The status text, such as ``"OK"``.
        headers: The response headers, case-insensitive.
        cookies: The cookies the response sets; the client stores them too.
        content: The body, for responses that are not streaming.
        streaming_content: The body of a streaming response, as an async
            iterator of byte strings, whether the view produced a sync or an
            async iterator.
        streaming: Whether the response is streaming.
        data: For DRF responses, the data the view passed to ``Response``,
            before rendering. Absent on plain Django responses.
        asgi_request: The ``ASGIRequest`` the view received.
        request: The ASGI scope of that request.
        resolver_match: The URL pattern that matched the request.
        redirect_chain: With ``follow=True``, the ``(url, status)`` of each
            redirect followed, in order; otherwise empty.
        templates: The templates rendered while handling the request.
        context: The context of the rendered template, or a list of them
            when there were several; ``None`` when none was rendered.
        exc_info: The exception the view raised, as ``sys.exc_info()``
            gives it, when the client was made with
            ``raise_request_exception=False``; otherwise ``None``.
        client: The client that sent the request.
    """

    status_code: int
    reason_phrase: str
    headers: ResponseHeaders
    cookies: SimpleCookie
    content: bytes
    streaming_content: AsyncIterator[bytes]
    streaming: bool
    data: Any
    asgi_request: ASGIRequest
    request: dict[str, Any]
    resolver_match: ResolverMatch
    redirect_chain: list[tuple[str, int]]
    templates: list[Any]
    context: Any
    exc_info: Any
    client: AsyncAPIClient

    @property
    def text(self) -> str:
        """The body decoded with the response's charset."""

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON; the response must have a JSON content type."""

    def __getitem__(self, header: str) -> str:
        """The value of one response header."""

    def has_header(self, header: str) -> bool:
        """Whether the response has the header."""

    def get(self, header: str, alternate: str | None = None) -> str | None:
        """The value of one response header, or ``alternate``."""
