"""``AsyncAPIClient``: Django's ``AsyncClient`` with DRF's conveniences."""

from __future__ import annotations

import asyncio
import sys
import weakref
from collections.abc import Coroutine
from http import HTTPStatus
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.http import HttpResponseBase
from django.test.client import AsyncClient, FakePayload, RedirectCycleError

from restflow.test.authentication import refuse_awaitables
from restflow.test.factory import AsyncAPIRequestFactory
from restflow.test.handler import ForceAuthAsyncClientHandler
from restflow.test.pending import PendingResponse
from restflow.test.scope import ASGIScope

__all__ = ["AsyncAPIClient"]

_KEEP_METHOD = frozenset({HTTPStatus.TEMPORARY_REDIRECT, HTTPStatus.PERMANENT_REDIRECT})
_REDIRECTS = _KEEP_METHOD | {
    HTTPStatus.MOVED_PERMANENTLY,
    HTTPStatus.FOUND,
    HTTPStatus.SEE_OTHER,
}
#: The longest redirect chain followed before giving up (Firefox's limit,
#: which Django's client uses too).
MAX_REDIRECTS = 20


class AsyncAPIClient(AsyncClient):
    """An async test client for DRF APIs that runs the real ASGI request cycle.

    Requests are built by :class:`~restflow.test.AsyncAPIRequestFactory`
    (DRF's ``format=``/``content_type=`` encoding, WSGI-style extra keys) and
    sent through Django's async handler with the full middleware stack.
    Every request method returns an awaitable; ``await`` it for the response,
    which carries ``data`` (for DRF responses), ``json()``,
    ``asgi_request`` and, after ``follow=True``, ``redirect_chain``.

    ``enforce_csrf_checks`` and ``raise_request_exception`` keep their Django
    meaning, as do ``headers=`` and ``query_params=``. Any other keyword is a
    WSGI environ key sent with every request:
    ``AsyncAPIClient(HTTP_HOST="api.example.com")``.

    With ``validate_schema=True`` every response is checked against the
    project's OpenAPI schema (see "Contract testing"; needs the ``schema``
    extra) and a mismatch raises
    :class:`~restflow.test.schema.SchemaMismatchError`; one request can opt
    out with ``validate_schema=False``. Left at None, it follows the
    ``restflow_validate_schema`` ini option under pytest, and is off
    otherwise. The :attr:`validate_schema` attribute can be changed later.
    """

    handler: ForceAuthAsyncClientHandler

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
        _refuse_cookie_key(defaults, "AsyncAPIClient()")
        self._validate_schema = _schema_option(validate_schema, "AsyncAPIClient()")
        super().__init__(enforce_csrf_checks, raise_request_exception)
        self.handler = ForceAuthAsyncClientHandler(enforce_csrf_checks)
        self._factory = _MessageFactory(
            enforce_csrf_checks, headers=headers, query_params=query_params, **defaults
        )
        self._credentials: dict[str, Any] = {}
        self._view_errors: weakref.WeakKeyDictionary[Any, Any] = (
            weakref.WeakKeyDictionary()
        )

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
        """Send these headers with every later request; no arguments clears them.

        Keys are WSGI environ names (``HTTP_AUTHORIZATION="Token abc"``), as in
        DRF. A call replaces the previous credentials rather than adding to
        them.
        """
        for key in kwargs:
            if not key.startswith(("HTTP_", "CONTENT_")):
                raise ValueError(
                    f"credentials() got {key!r}; credential keys are WSGI "
                    "header names starting with HTTP_ or CONTENT_, for "
                    f"example HTTP_{key.upper().replace('-', '_')}=..."
                )
        _refuse_cookie_key(kwargs, "credentials()")
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
        self.handler._force_user = user
        self.handler._force_token = token
        if user is None and token is None:
            self._credentials = {}
            self.cookies.clear()

    def login(self, **credentials: Any) -> bool:
        """Log in through the auth backends; sync code only (see :meth:`alogin`)."""
        _refuse_in_event_loop("login(...)", "alogin(...)")
        return super().login(**credentials)

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

    # -- errors raised by views -------------------------------------------

    def store_exc_info(self, **kwargs: Any) -> None:
        """Remember the exception a view raised, for the request that raised it.

        Django keeps a single ``exc_info`` per client, so when requests run
        concurrently one request could re-raise another's error. Keying it by
        request keeps each error with its own response.
        """
        request = kwargs.get("request")
        if request is None:
            super().store_exc_info(**kwargs)
        else:
            self._view_errors[request] = sys.exc_info()

    def check_exception(self, response: HttpResponseBase) -> None:  # type: ignore[override]
        """Re-raise the error of the view behind ``response``, if it raised one
        (unless the client was made with ``raise_request_exception=False``)."""
        request = getattr(response, "asgi_request", None)
        error = self._view_errors.pop(request, None) if request is not None else None
        if error is None:
            super().check_exception(response)
            return
        response.exc_info = error  # type: ignore[attr-defined]
        if self.raise_request_exception:
            raise error[1]

    def _forget_identity(self) -> None:
        self._credentials = {}
        self.handler._force_user = None
        self.handler._force_token = None

    # -- request methods ---------------------------------------------------

    def get(  # type: ignore[override]
        self, path: str, data: Any = None, follow: bool = False, **extra: Any
    ) -> PendingResponse[Any]:
        """Send a GET request; ``data`` becomes the query string."""
        return self._send("get", path, data, follow=follow, **extra)

    def head(  # type: ignore[override]
        self, path: str, data: Any = None, follow: bool = False, **extra: Any
    ) -> PendingResponse[Any]:
        """Send a HEAD request; ``data`` becomes the query string."""
        return self._send("head", path, data, follow=follow, **extra)

    def trace(  # type: ignore[override]
        self, path: str, follow: bool = False, **extra: Any
    ) -> PendingResponse[Any]:
        """Send a TRACE request."""
        return self._send("trace", path, follow=follow, **extra)

    def post(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> PendingResponse[Any]:
        """Send a POST request with ``data`` encoded by ``format`` or raw."""
        return self._send(
            "post", path, data, format, content_type, follow=follow, **extra
        )

    def put(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> PendingResponse[Any]:
        """Send a PUT request with ``data`` encoded by ``format`` or raw."""
        return self._send(
            "put", path, data, format, content_type, follow=follow, **extra
        )

    def patch(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> PendingResponse[Any]:
        """Send a PATCH request with ``data`` encoded by ``format`` or raw."""
        return self._send(
            "patch", path, data, format, content_type, follow=follow, **extra
        )

    def delete(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> PendingResponse[Any]:
        """Send a DELETE request, with an optional body."""
        return self._send(
            "delete", path, data, format, content_type, follow=follow, **extra
        )

    def options(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> PendingResponse[Any]:
        """Send an OPTIONS request, with an optional body."""
        return self._send(
            "options", path, data, format, content_type, follow=follow, **extra
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
        **extra: Any,
    ) -> PendingResponse[Any]:
        """Send a request with any method and a raw body, as Django's does."""
        return self._send(
            "generic", path, method, data, content_type, secure, follow=follow, **extra
        )

    def _send(
        self, verb: str, path: str, *args: Any, follow: bool, **extra: Any
    ) -> PendingResponse[Any]:
        _refuse_cookie_key(extra, f"AsyncAPIClient.{verb}()")
        validate_schema = extra.pop("validate_schema", None)
        if validate_schema is not None:
            _schema_option(validate_schema, f"AsyncAPIClient.{verb}()")
        # Build now, so mistakes in the call raise here, even without await.
        coroutine = self._dispatch(
            self._build(verb, path, args, extra), validate_schema
        )
        if follow:
            coroutine = self._follow(
                coroutine, verb, path, args, extra, validate_schema
            )
        return PendingResponse(coroutine, f"client.{verb}({path!r})")

    def _build(
        self, verb: str, path: str, args: tuple[Any, ...], extra: dict[str, Any]
    ) -> tuple[ASGIScope, bytes]:
        extra = {**extra, **self._credentials}
        if verb == "generic":  # args starts with the method, which comes first
            return self._factory.generic(args[0], path, *args[1:], **extra)  # type: ignore[return-value]
        message: tuple[ASGIScope, bytes] = getattr(self._factory, verb)(
            path, *args, **extra
        )
        return message

    async def _dispatch(
        self, message: tuple[ASGIScope, bytes], validate_schema: bool | None = None
    ) -> HttpResponseBase:
        scope, body = message
        # AsyncClient.request() adds the client's cookie jar to the scope.
        scope["headers"] = [h for h in scope["headers"] if h[0] != b"cookie"]
        response: HttpResponseBase = await self.request(
            **scope, _body_file=FakePayload(body)
        )
        self._check_schema(response, message, validate_schema)
        return response

    def _check_schema(
        self,
        response: HttpResponseBase,
        message: tuple[ASGIScope, bytes],
        validate_schema: bool | None,
    ) -> None:
        """Check ``response`` (and a JSON request body) against the OpenAPI
        schema when this client or this request asks for it."""
        if not (self.validate_schema if validate_schema is None else validate_schema):
            return
        from restflow.test.schema._check import check_exchange

        scope, body = message
        content_type = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"content-type"),
            None,
        )
        response.schema_check = check_exchange(response, body, content_type)  # type: ignore[attr-defined]

    async def _follow(
        self,
        first: Coroutine[Any, Any, HttpResponseBase],
        verb: str,
        path: str,
        args: tuple[Any, ...],
        extra: dict[str, Any],
        validate_schema: bool | None = None,
    ) -> HttpResponseBase:
        response = await first
        chain: list[tuple[str, int]] = []
        while response.status_code in _REDIRECTS:
            location = response["Location"]
            chain.append((location, response.status_code))
            if chain[-1] in chain[:-1]:
                response.redirect_chain = chain  # type: ignore[attr-defined]
                raise RedirectCycleError("Redirect loop detected.", response)
            if len(chain) > MAX_REDIRECTS:
                response.redirect_chain = chain  # type: ignore[attr-defined]
                raise RedirectCycleError("Too many redirects.", response)
            path = _redirect_target(path, location, extra)
            if response.status_code not in _KEEP_METHOD:
                # 301, 302 and 303 are re-requested with GET and no body (so
                # no Content-Type either), as Django's client and browsers do.
                verb, args = "get", ()
                extra["content_type"] = None
            elif verb in ("get", "head"):
                args = ()  # the Location's own query string replaces data=
            response = await self._dispatch(
                self._build(verb, path, args, extra), validate_schema
            )
        response.redirect_chain = chain  # type: ignore[attr-defined]
        return response


class _MessageFactory(AsyncAPIRequestFactory):
    """The factory, stopping one step short for the client: its verbs return
    the ASGI scope and body, and Django's handler builds the request."""

    def request(self, **environ: Any) -> tuple[ASGIScope, bytes]:  # type: ignore[override]
        return self.asgi_message(**environ)


def _redirect_target(previous: str, location: str, extra: dict[str, Any]) -> str:
    """Return the path to request next, updating host and scheme in ``extra``."""
    url = urlsplit(location)
    extra.pop("query_params", None)  # the Location's query string wins
    if url.scheme:
        extra["wsgi.url_scheme"] = url.scheme
        extra.pop("secure", None)
    if url.hostname:
        extra["SERVER_NAME"] = url.hostname
        extra["HTTP_HOST"] = f"{url.hostname}:{url.port}" if url.port else url.hostname
    if url.port:
        extra["SERVER_PORT"] = str(url.port)
    elif url.scheme:
        extra["SERVER_PORT"] = "443" if url.scheme == "https" else "80"
    path = url.path or "/"
    if not path.startswith("/"):
        path = urljoin(urlsplit(previous).path, path)
    return f"{path}?{url.query}" if url.query else path


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


def _refuse_cookie_key(keys: dict[str, Any], where: str) -> None:
    if "HTTP_COOKIE" in keys:
        raise ValueError(
            f"{where} got HTTP_COOKIE, but the client sends its own cookie "
            "jar: set client.cookies['name'] = 'value' instead."
        )


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
