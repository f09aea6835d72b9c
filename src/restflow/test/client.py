"""``AsyncAPIClient``: Django's ``AsyncClient`` with DRF's conveniences."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any, cast

from django.http import HttpResponseBase, StreamingHttpResponse
from django.test.client import AsyncClient, RedirectCycleError
from django.urls import resolve
from django.utils.functional import SimpleLazyObject

from restflow.test._capture import RequestTrail, capturing
from restflow.test._exchange import Exchange
from restflow.test._handler import FORCED_AUTHENTICATION, ClientHandler
from restflow.test._message import RequestMessage
from restflow.test.authentication import refuse_awaitables
from restflow.test.factory import AsyncAPIRequestFactory
from restflow.test.pending import PendingResponse
from restflow.test.response import ClientResponse
from restflow.test.streaming import ClientDisconnected, StreamContext

__all__ = ["MAX_REDIRECTS", "AsyncAPIClient"]


@dataclasses.dataclass(frozen=True)
class _Sending:
    """How the client sends one request, beside the HTTP message itself."""

    #: ``(user, token)`` given to ``force_authenticate()``, or ``None``.
    forced: tuple[Any, Any] | None
    #: Whether the response is checked against the OpenAPI schema.
    check_schema: bool


#: The status codes ``follow=True`` follows.
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: The longest redirect chain followed before giving up (Firefox's limit,
#: which Django's client uses too).
MAX_REDIRECTS = 20


class AsyncAPIClient(AsyncAPIRequestFactory, AsyncClient):
    """An async test client for DRF APIs that runs the real ASGI request cycle.

    It is DRF's ``APIClient`` rebuilt on Django's ``AsyncClient``: requests
    are described by :class:`~restflow.test.AsyncAPIRequestFactory` (DRF's
    ``format=``/``content_type=`` encoding, JSON by default) and handled by
    Django's ASGI handler with the full middleware stack. Every request
    method returns an awaitable; ``await`` it for the response
    (:class:`~restflow.test.ClientResponse`), which carries ``data`` for DRF
    responses, ``json()``, ``asgi_request`` and, after ``follow=True``,
    ``redirect_chain``.

    ``enforce_csrf_checks`` and ``raise_request_exception`` keep their
    Django meaning, as do ``headers=`` and ``query_params=``. Other keywords
    are sent with every request, and can be changed later in
    :attr:`defaults`: ``AsyncAPIClient(HTTP_X_TEAM="red")``. Keywords mean
    what they mean to DRF's client, or, for names DRF gives no meaning, to
    Django's ``AsyncClient``; the guide has the table. The client sends a
    ``Host`` header, as a browser and Django's ``AsyncClient`` do.

    With ``validate_schema=True`` every response is checked against the
    project's OpenAPI schema (see "Contract testing"; needs the ``schema``
    extra) and a mismatch raises
    :class:`~restflow.test.schema.SchemaMismatchError`; one request can opt
    out with ``validate_schema=False``. Left at None, it follows the
    ``restflow_validate_schema`` ini option under pytest, and is off
    otherwise. The :attr:`validate_schema` attribute can be changed later.
    """

    handler: ClientHandler  # type: ignore[assignment]
    #: Whether an exception a view raises is raised in the test (the
    #: default), rather than left on ``response.exc_info`` of a 500 response.
    raise_request_exception: bool

    def __init__(
        self,
        enforce_csrf_checks: bool = False,
        raise_request_exception: bool = True,
        *,
        headers: dict[str, str] | None = None,
        query_params: dict[str, Any] | None = None,
        validate_schema: bool | None = None,
        **defaults: Any,
    ) -> None:
        self._credentials: dict[str, Any] = {}
        self._forced: tuple[Any, Any] | None = None
        self._validate_schema = _schema_option(validate_schema, "AsyncAPIClient()")
        super().__init__(
            enforce_csrf_checks, headers=headers, query_params=query_params, **defaults
        )
        self.handler = ClientHandler(enforce_csrf_checks)
        self.raise_request_exception = raise_request_exception

    @property
    def validate_schema(self) -> bool:
        """Whether responses are checked against the OpenAPI schema.

        Can be set; None sets the run's default (the
        ``restflow_validate_schema`` ini option under pytest, else False).
        """
        return self._validate_schema

    @validate_schema.setter
    def validate_schema(self, value: bool | None) -> None:
        self._validate_schema = _schema_option(value, "client.validate_schema")

    # -- authentication ----------------------------------------------------

    def credentials(self, **kwargs: Any) -> None:
        """Send these keywords with every later request; no arguments clears them.

        Typically a header: ``credentials(HTTP_AUTHORIZATION="Token abc")``.
        They win over the same keywords given to a request, as in DRF, and a
        call replaces the previous credentials rather than adding to them.
        """
        call = f"{type(self).__name__}.credentials()"
        self._describe("GET", "/", b"", None, False, dict(kwargs), call=call)
        self._credentials = kwargs

    def force_authenticate(self, user: Any = None, token: Any = None) -> None:
        """Authenticate every later request as ``user``/``token``, skipping DRF's
        authentication classes.

        Calling it with neither argument switches forced authentication off
        and, as in DRF, also logs the client out: stored credentials and the
        session cookie are dropped. That part happens on the client only, with
        no database access, so it is safe inside ``async def`` tests.
        """
        refuse_awaitables(user, token)
        if user is None and token is None:
            self._forget_identity()
            self.cookies.clear()
        else:
            self._forced = (user, token)

    def login(self, **credentials: Any) -> bool:
        """Log in through the auth backends; sync code only (see
        :meth:`AsyncAPIClient.alogin`)."""
        _refuse_in_event_loop("login(...)", "alogin(...)")
        return super().login(**credentials)

    async def alogin(self, **credentials: Any) -> bool:
        """Log in through the auth backends, from async code.

        Returns whether the backends accepted the credentials; later
        requests then carry the session cookie.
        """
        return await super().alogin(**credentials)

    async def aforce_login(self, user: Any, backend: str | None = None) -> None:
        """Log ``user`` in without a password, from async code.

        ``backend`` is chosen as Django's ``force_login`` chooses it: the
        first of ``AUTHENTICATION_BACKENDS`` unless given.
        """
        await super().aforce_login(user, backend)

    def force_login(self, user: Any, backend: str | None = None) -> None:
        """Log ``user`` in without a password; sync code only.

        In ``async def`` tests use :meth:`aforce_login`.
        """
        _refuse_in_event_loop("force_login(user)", "aforce_login(user)")
        super().force_login(user, backend)

    def logout(self) -> None:
        """Log out: end the session and drop credentials and forced authentication.

        Sync code only; in ``async def`` tests use :meth:`alogout`.
        """
        _refuse_in_event_loop("logout()", "alogout()")
        self._forget_identity()
        super().logout()

    async def alogout(self) -> None:
        """Log out: end the session and drop credentials and forced authentication."""
        self._forget_identity()
        await super().alogout()

    def _forget_identity(self) -> None:
        self._credentials = {}
        self._forced = None

    # -- request methods ---------------------------------------------------
    #
    # DRF's verbs encode the body and build the query string; they all end in
    # generic(), which describes the request and returns it as pending.

    def get(  # type: ignore[override]
        self, path: str, data: Any = None, follow: bool = False, **extra: Any
    ) -> PendingResponse[ClientResponse]:
        """Send a GET request; ``data`` becomes the query string.

        ``format=`` is accepted and has no effect, as in DRF.
        """
        return cast(
            PendingResponse[ClientResponse],
            super().get(path, data, follow=follow, **extra),
        )

    def head(  # type: ignore[override]
        self, path: str, data: Any = None, follow: bool = False, **extra: Any
    ) -> PendingResponse[ClientResponse]:
        """Send a HEAD request; ``data`` becomes the query string."""
        return cast(
            PendingResponse[ClientResponse],
            super().head(path, data, follow=follow, **extra),
        )

    def trace(  # type: ignore[override]
        self, path: str, follow: bool = False, **extra: Any
    ) -> PendingResponse[ClientResponse]:
        """Send a TRACE request."""
        return cast(
            PendingResponse[ClientResponse], super().trace(path, follow=follow, **extra)
        )

    def post(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> PendingResponse[ClientResponse]:
        """Send a POST request with ``data`` rendered by ``format`` (JSON unless
        configured otherwise), or as the raw body when ``content_type`` is given."""
        return cast(
            PendingResponse[ClientResponse],
            super().post(path, data, format, content_type, follow=follow, **extra),
        )

    def put(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> PendingResponse[ClientResponse]:
        """Send a PUT request; the body is encoded as for :meth:`post`."""
        return cast(
            PendingResponse[ClientResponse],
            super().put(path, data, format, content_type, follow=follow, **extra),
        )

    def patch(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> PendingResponse[ClientResponse]:
        """Send a PATCH request; the body is encoded as for :meth:`post`."""
        return cast(
            PendingResponse[ClientResponse],
            super().patch(path, data, format, content_type, follow=follow, **extra),
        )

    def delete(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> PendingResponse[ClientResponse]:
        """Send a DELETE request, with an optional body as for :meth:`post`."""
        return cast(
            PendingResponse[ClientResponse],
            super().delete(path, data, format, content_type, follow=follow, **extra),
        )

    def options(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> PendingResponse[ClientResponse]:
        """Send an OPTIONS request, with an optional body as for :meth:`post`."""
        return cast(
            PendingResponse[ClientResponse],
            super().options(path, data, format, content_type, follow=follow, **extra),
        )

    def generic(  # type: ignore[override]
        self,
        method: str,
        path: str,
        data: Any = "",
        content_type: str | None = "application/octet-stream",
        secure: bool = False,
        *,
        follow: bool = False,
        disconnect_after: float | None = None,
        validate_schema: bool | None = None,
        _deliver: Callable[[RequestMessage, _Sending], Any] | None = None,
        **extra: Any,
    ) -> PendingResponse[ClientResponse]:
        """Send a request with any method and a raw body; the verbs end here.

        The request is built at once, so mistakes in the call raise here,
        even before ``await``. With ``disconnect_after`` (seconds; every verb
        takes it), the client hangs up if the response is not complete by
        then, as a user closing the tab: Django cancels the view, and
        ``await`` raises :class:`~restflow.test.ClientDisconnected`.
        ``validate_schema`` (every verb takes it) overrides the client's
        :attr:`validate_schema` for this request.
        """
        message = self._describe(
            method, path, data, content_type, secure, extra, host_header=True
        )
        check = self._validate_schema
        if validate_schema is not None:
            check = _schema_option(validate_schema, self._call(method))
        sending = _Sending(self._forced, check)
        if _deliver is not None:
            return cast(PendingResponse[ClientResponse], _deliver(message, sending))
        description = f"client.{method.lower()}({path!r})"
        if disconnect_after is not None:
            if follow:
                raise ValueError(
                    f"{self._call(method)} got both follow=True and "
                    "disconnect_after=: hang up on one request at a time."
                )
            coroutine = self._hang_up_after(
                message, sending, disconnect_after, description
            )
        elif follow:
            coroutine = self._follow(message, sending)
        else:
            coroutine = self._send(message, sending)
        return PendingResponse(coroutine, description)

    def stream(
        self,
        method: str,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        *,
        timeout: float | None = None,
        **extra: Any,
    ) -> StreamContext:
        """Send a request and read its response as it is produced.

        Use it with ``async with``; the block is entered as soon as the view
        has answered with its status and headers::

            async with client.stream("GET", "/api/orders/7/events/") as response:
                async for event in response.aiter_sse(timeout=2):
                    ...

        The arguments are those of the verbs, with the same encoding,
        credentials, cookies and middleware. ``timeout`` (seconds, ``None``
        for no limit) bounds the wait for the response start and, unless an
        iterator is given its own, for each chunk. Leaving the block before
        the body is complete hangs up: the client sends ``http.disconnect``,
        and Django cancels the view as it does under an ASGI server.
        """
        verb = method.lower()
        call = f"client.stream({method!r}, {path!r})"

        def deliver(message: RequestMessage, sending: _Sending) -> StreamContext:
            exchange = Exchange(
                self.handler, self._scope(message, sending), message.body
            )
            started = partial(self._stream_started, message=message, sending=sending)
            return StreamContext(exchange, call, timeout, started)

        extra["_deliver"] = deliver
        if verb in ("get", "head"):
            return cast(StreamContext, getattr(self, verb)(path, data, **extra))
        if verb in ("post", "put", "patch", "delete", "options"):
            send = getattr(self, verb)
            return cast(StreamContext, send(path, data, format, content_type, **extra))
        if format is not None:
            raise ValueError(
                f"{call} got format=, but only the verbs with a body encode data: "
                "pass the body as bytes with content_type=."
            )
        body = "" if data is None else data
        kind = content_type or "application/octet-stream"
        return cast(StreamContext, self.generic(method, path, body, kind, **extra))

    def _final_keywords(self) -> dict[str, Any]:
        return self._credentials

    # -- sending -----------------------------------------------------------

    def _scope(self, message: RequestMessage, sending: _Sending) -> dict[str, Any]:
        scope = message.scope(self.cookies)
        if sending.forced is not None:
            scope[FORCED_AUTHENTICATION] = sending.forced
        return scope

    async def _send(self, message: RequestMessage, sending: _Sending) -> ClientResponse:
        scope = self._scope(message, sending)
        with capturing() as trail:
            response = await self.handler.respond(scope, message.body)
        return self._received(response, message, scope, trail, sending)

    async def _hang_up_after(
        self, message: RequestMessage, sending: _Sending, seconds: float, call: str
    ) -> ClientResponse:
        """Send ``message`` as ASGI messages; hang up after ``seconds`` unless
        the response is complete by then."""
        exchange = Exchange(self.handler, self._scope(message, sending), message.body)
        exchange.begin()
        chunks: list[bytes] = []

        async def read_to_the_end() -> None:
            chunks.extend([chunk async for chunk in exchange.body(None)])

        try:
            await asyncio.wait_for(read_to_the_end(), seconds)
        except asyncio.TimeoutError:  # not yet the built-in TimeoutError on 3.10
            await exchange.hang_up()
            raise ClientDisconnected(
                f"{call} hung up after {seconds} s, before the response was "
                "complete; Django cancelled the view, as it does when a client "
                "of an ASGI server goes away."
            ) from None
        except BaseException:
            await exchange.hang_up()
            raise
        await exchange.hang_up()
        response = exchange.trail.response
        assert response is not None
        response.asgi_request = exchange.trail.request  # type: ignore[attr-defined]
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = _replay(chunks)
        return self._received(
            response, message, exchange.scope, exchange.trail, sending
        )

    def _stream_started(
        self, exchange: Exchange, *, message: RequestMessage, sending: _Sending
    ) -> None:
        trail = exchange.trail
        if trail.exc_info is not None and self.raise_request_exception:
            raise trail.exc_info[1]
        response = trail.response
        if response is None:
            return
        if response.cookies:
            self.cookies.update(response.cookies)
        if sending.check_schema:
            response.asgi_request = trail.request  # type: ignore[attr-defined]
            _check_schema(response, message)

    def _received(
        self,
        response: HttpResponseBase,
        message: RequestMessage,
        scope: dict[str, Any],
        trail: RequestTrail,
        sending: _Sending,
    ) -> ClientResponse:
        """Give ``response`` what Django's test client gives it; raise the
        view's error unless ``raise_request_exception`` is off; check it
        against the OpenAPI schema if asked."""
        received = cast(Any, response)
        received.exc_info = trail.exc_info
        if trail.exc_info is not None and self.raise_request_exception:
            raise trail.exc_info[1]
        received.client = self
        received.request = scope
        received.templates = trail.rendered.get("templates", [])
        context = trail.rendered.get("context")
        received.context = context[0] if context and len(context) == 1 else context
        # Django's own parser: its message and caching, as tests expect them.
        received.json = partial(self._parse_json, response)  # type: ignore[attr-defined]
        received.redirect_chain = []
        request = received.asgi_request
        match = getattr(request, "resolver_match", None)
        if match is None:
            urlconf = getattr(request, "urlconf", None)
            match = SimpleLazyObject(lambda: resolve(scope["path"], urlconf=urlconf))
        received.resolver_match = match
        if response.cookies:
            self.cookies.update(response.cookies)
        if sending.check_schema:
            _check_schema(response, message)
        return cast(ClientResponse, received)

    async def _follow(
        self, message: RequestMessage, sending: _Sending
    ) -> ClientResponse:
        """Send ``message``, then follow redirects as Django's client does."""
        response = await self._send(message, sending)
        chain: list[tuple[str, int]] = []
        while response.status_code in _REDIRECTS:
            location = response["Location"]
            chain.append((location, response.status_code))
            message = message.redirected(location, response.status_code)
            response = await self._send(message, sending)
            response.redirect_chain = chain
            if chain[-1] in chain[:-1]:
                raise RedirectCycleError("Redirect loop detected.", cast(Any, response))
            if len(chain) > MAX_REDIRECTS:
                raise RedirectCycleError("Too many redirects.", cast(Any, response))
        response.redirect_chain = chain
        return response


def _check_schema(response: HttpResponseBase, message: RequestMessage) -> None:
    """Check ``response`` (and a JSON request body) against the OpenAPI schema."""
    from restflow.test.schema._check import check_exchange

    content_type = dict(message.headers).get(b"content-type")
    response.schema_check = check_exchange(  # type: ignore[attr-defined]
        response,
        message.body,
        None if content_type is None else content_type.decode("latin-1"),
    )


def _schema_option(value: object, where: str) -> bool:
    """Check a ``validate_schema`` value; None means the run's default."""
    if value is None:
        from restflow.test import _schema_default

        value = _schema_default.validate_schema
    if not isinstance(value, bool):
        raise TypeError(
            f"{where}: validate_schema takes True, False or None (None: the "
            "restflow_validate_schema ini option under pytest, else off), "
            f"not {value!r}."
        )
    if value:
        import restflow.test.schema  # noqa: F401 - a missing extra fails here
    return value


async def _replay(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _refuse_in_event_loop(call: str, async_call: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        f"client.{call} was called inside a running event loop, where the "
        f"session and database work it does is not allowed. Use "
        f"`await client.{async_call}` instead."
    )
