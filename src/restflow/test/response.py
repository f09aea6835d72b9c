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
    """

    #: The HTTP status code.
    status_code: int
    #: The status text, such as ``"OK"``.
    reason_phrase: str
    #: The response headers, case-insensitive.
    headers: ResponseHeaders
    #: The cookies the response sets; the client stores them too.
    cookies: SimpleCookie
    #: The body, for responses that are not streaming.
    content: bytes
    #: The body of a streaming response, as an async iterator of byte
    #: strings, whether the view produced a sync or an async iterator.
    streaming_content: AsyncIterator[bytes]
    #: Whether the response is streaming.
    streaming: bool
    #: For DRF responses, the data the view passed to ``Response``, before
    #: rendering. Absent on plain Django responses.
    data: Any
    #: The ``ASGIRequest`` the view received.
    asgi_request: ASGIRequest
    #: The ASGI scope of that request.
    request: dict[str, Any]
    #: The URL pattern that matched the request.
    resolver_match: ResolverMatch
    #: With ``follow=True``, the ``(url, status)`` of each redirect followed,
    #: in order; otherwise empty.
    redirect_chain: list[tuple[str, int]]
    #: The templates rendered while handling the request.
    templates: list[Any]
    #: The context of the rendered template, or a list of them when there
    #: were several; ``None`` when none was rendered.
    context: Any
    #: The exception the view raised, as ``sys.exc_info()`` gives it, when
    #: the client was made with ``raise_request_exception=False``; else ``None``.
    exc_info: Any
    #: The client that sent the request.
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
