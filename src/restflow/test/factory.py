"""``AsyncAPIRequestFactory``: ASGI requests for calling views directly."""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.core.files import File
from django.core.handlers.asgi import ASGIRequest
from django.http.request import HttpHeaders
from django.test.client import RequestFactory
from django.utils.encoding import force_bytes
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from restflow.test._message import RequestMessage, describe

__all__ = ["AsyncAPIRequestFactory", "FactoryRequest"]

#: Attributes that only middleware puts on a request, with the middleware
#: that would have set them.
_MIDDLEWARE_ATTRIBUTES = {
    "session": "django.contrib.sessions.middleware.SessionMiddleware",
    "user": "django.contrib.auth.middleware.AuthenticationMiddleware",
    "auser": "django.contrib.auth.middleware.AuthenticationMiddleware",
    "LANGUAGE_CODE": "django.middleware.locale.LocaleMiddleware",
}

#: Content types whose dict or list bodies are encoded as JSON, as in Django.
_JSON_TYPE = re.compile(r"^application/(.+\+)?json", re.IGNORECASE)

#: The verbs with their own method; any other method goes through generic().
_VERBS = frozenset(
    {"get", "head", "trace", "post", "put", "patch", "delete", "options"}
)


class MiddlewareAttributeError(AttributeError):
    """A view read an attribute that only middleware sets, on a factory request."""


class FactoryRequest(ASGIRequest):
    """The ``ASGIRequest`` that :class:`AsyncAPIRequestFactory` returns.

    It behaves exactly like the request an ASGI server produces. The one
    addition is a better error when a view reads ``request.session``,
    ``request.user`` or another attribute that middleware would have set:
    the factory runs no middleware, and the plain ``AttributeError`` does not
    say so.
    """

    def __getattr__(self, name: str) -> Any:
        middleware = _MIDDLEWARE_ATTRIBUTES.get(name)
        if middleware is None:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}"
            )
        raise MiddlewareAttributeError(
            f"request.{name} is set by {middleware}, and AsyncAPIRequestFactory "
            "runs no middleware. Send the request through AsyncAPIClient, which "
            f"runs the full middleware stack, or set request.{name} yourself "
            "before calling the view."
        )


def default_format() -> str:
    """The ``format`` used when a call gives neither ``format`` nor
    ``content_type``: ``REST_FRAMEWORK["TEST_REQUEST_DEFAULT_FORMAT"]`` if the
    project sets it, else ``"json"``.

    DRF itself falls back to ``"multipart"``; restflow's guide makes JSON, what
    API clients send, the default.
    """
    configured = getattr(settings, "REST_FRAMEWORK", {}).get(
        "TEST_REQUEST_DEFAULT_FORMAT"
    )
    return str(configured) if configured else "json"


class AsyncAPIRequestFactory(APIRequestFactory):
    """Build ASGI requests that can be passed straight to ``await view(request)``.

    The factory is DRF's :class:`~rest_framework.test.APIRequestFactory`
    with one method replaced: DRF's verbs still encode ``data`` with the
    renderer chosen by ``format`` (JSON by default) and build the query
    string, and :meth:`generic`, where they all end, describes the request
    once and builds the :class:`~django.core.handlers.asgi.ASGIRequest` that
    Django's ASGI handler would give a view for the same HTTP message.

    No URL resolution and no middleware run: the request reaches the view
    exactly as built. Extra keyword arguments mean what they mean to DRF's
    factory (``HTTP_AUTHORIZATION=...``, ``REMOTE_ADDR=...``) or, for any
    other name, what they mean to Django's ``AsyncClient``: the header named
    after the keyword (``ACCEPT_LANGUAGE="de"``). The table is in the guide.
    """

    def __init__(self, enforce_csrf_checks: bool = False, **defaults: Any) -> None:
        # DRF reads these settings when rest_framework.test is imported; read
        # them per factory so override_settings(REST_FRAMEWORK=...) applies.
        self.renderer_classes_list = api_settings.TEST_REQUEST_RENDERER_CLASSES
        self.default_format = default_format()
        super().__init__(enforce_csrf_checks, **defaults)
        # Mistakes in the defaults raise here, not at the first request.
        self._describe(
            "GET", "/", b"", None, False, {}, call=f"{type(self).__name__}()"
        )

    # DRF's verbs do the encoding. These overrides give them honest types,
    # and stop a body DRF would send as its repr() (see _raw_body).

    def get(self, path: str, data: Any = None, **extra: Any) -> FactoryRequest:  # type: ignore[override]
        """Build a GET request; ``data`` becomes the query string.

        ``format=`` is accepted and has no effect, as in DRF: a GET has no body.
        """
        _refuse_data_with_query_params(data, extra, self._call("GET"))
        return cast(FactoryRequest, super().get(path, data, **extra))

    def head(self, path: str, data: Any = None, **extra: Any) -> FactoryRequest:  # type: ignore[override]
        """Build a HEAD request; ``data`` becomes the query string."""
        # Django's own, named explicitly: in AsyncAPIClient the next class in
        # line would be AsyncClient, whose verbs send instead of building.
        return cast(FactoryRequest, RequestFactory.head(self, path, data, **extra))

    def trace(self, path: str, **extra: Any) -> FactoryRequest:  # type: ignore[override]
        """Build a TRACE request."""
        return cast(FactoryRequest, RequestFactory.trace(self, path, **extra))

    def post(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: Any,
    ) -> FactoryRequest:
        """Build a POST request with ``data`` rendered by ``format``, or sent
        as the raw body when ``content_type`` is given."""
        data = self._body_data(data, format, content_type, self._call("POST"))
        return cast(
            FactoryRequest, super().post(path, data, format, content_type, **extra)
        )

    def put(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: Any,
    ) -> FactoryRequest:
        """Build a PUT request; the body is encoded as for :meth:`post`."""
        data = self._body_data(data, format, content_type, self._call("PUT"))
        return cast(
            FactoryRequest, super().put(path, data, format, content_type, **extra)
        )

    def patch(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: Any,
    ) -> FactoryRequest:
        """Build a PATCH request; the body is encoded as for :meth:`post`."""
        data = self._body_data(data, format, content_type, self._call("PATCH"))
        return cast(
            FactoryRequest, super().patch(path, data, format, content_type, **extra)
        )

    def delete(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: Any,
    ) -> FactoryRequest:
        """Build a DELETE request, with an optional body as for :meth:`post`."""
        data = self._body_data(data, format, content_type, self._call("DELETE"))
        return cast(
            FactoryRequest, super().delete(path, data, format, content_type, **extra)
        )

    def options(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: Any,
    ) -> FactoryRequest:
        """Build an OPTIONS request, with an optional body as for :meth:`post`."""
        data = self._body_data(data, format, content_type, self._call("OPTIONS"))
        return cast(
            FactoryRequest, super().options(path, data, format, content_type, **extra)
        )

    def generic(  # type: ignore[override]
        self,
        method: str,
        path: str,
        data: Any = "",
        content_type: str | None = "application/octet-stream",
        secure: bool = False,
        **extra: Any,
    ) -> FactoryRequest:
        """Build a request with any method and a raw body; the verbs end here."""
        if extra.get("follow"):
            raise ValueError(
                f"{self._call(method)} got follow=True, but a request factory "
                "builds one request and cannot follow redirects: use "
                "AsyncAPIClient for follow=True."
            )
        if extra.get("disconnect_after") is not None:
            raise ValueError(
                f"{self._call(method)} got disconnect_after=, but a request "
                "factory sends nothing to hang up on: use AsyncAPIClient."
            )
        if extra.get("validate_schema") is not None:
            raise ValueError(
                f"{self._call(method)} got validate_schema=, but a request "
                "factory gets no response to check: use AsyncAPIClient, or "
                "restflow.test.schema.assert_matches_schema() on the view's "
                "response."
            )
        for client_keyword in ("follow", "disconnect_after", "validate_schema"):
            extra.pop(client_keyword, None)
        message = self._describe(method, path, data, content_type, secure, extra)
        request = FactoryRequest(message.scope(self.cookies), io.BytesIO(message.body))
        request._dont_enforce_csrf_checks = not self.enforce_csrf_checks  # type: ignore[attr-defined]
        return request

    def request(self, **environ: Any) -> FactoryRequest:  # type: ignore[override]
        """Build a request from WSGI environ keys, as Django's ``request()`` does.

        ``PATH_INFO`` and ``REQUEST_METHOD`` give the path and method
        (``/`` and ``GET`` by default), ``wsgi.input`` the body; every other
        key is read as in the verbs.
        """
        method = environ.pop("REQUEST_METHOD", "GET")
        path = environ.pop("PATH_INFO", "/")
        stream = environ.pop("wsgi.input", None)
        body = b"" if stream is None else stream.read()
        return self.generic(method, path, body, None, **environ)

    # -- the one description of a request --------------------------------------

    def _describe(
        self,
        method: str,
        path: Any,
        data: Any,
        content_type: str | None,
        secure: bool,
        extra: dict[str, Any],
        *,
        host_header: bool = False,
        call: str | None = None,
    ) -> RequestMessage:
        """Describe the request of one call: the defaults, then the call's
        keywords, then ``headers=``, then :meth:`_final_keywords`."""
        call = call or self._call(method)
        extra.pop("format", None)  # only DRF's get() passes it on; DRF ignores it
        headers = extra.pop("headers", None) or {}
        query_params = extra.pop("query_params", None)
        body = _raw_body(data, content_type or "", call)
        if isinstance(body, (Mapping, list, tuple)):
            body = json.dumps(body, cls=self.json_encoder)
        return describe(
            method,
            path,
            b"" if body is None else force_bytes(body, settings.DEFAULT_CHARSET),
            content_type,
            defaults=self.defaults,
            layers=[
                {"wsgi.url_scheme": "https", "SERVER_PORT": "443"} if secure else {},
                extra,
                HttpHeaders.to_wsgi_names(headers),
                {"QUERY_STRING": urlencode(query_params, doseq=True)}
                if query_params
                else {},
                self._final_keywords(),
            ],
            host_header=host_header,
            call=call,
        )

    def _final_keywords(self) -> Mapping[str, Any]:
        """Keywords that beat the call's own; the client's credentials."""
        return {}

    def _call(self, method: str) -> str:
        """How error messages name the call the user made: ``AsyncAPIClient.get()``."""
        verb = method.lower()
        name = verb if verb in _VERBS else "generic"
        return f"{type(self).__name__}.{name}()"

    def _body_data(
        self, data: Any, format: str | None, content_type: str | None, call: str
    ) -> Any:
        """``data`` as DRF's encoding expects it, or a clear error.

        DRF would send an iterator's or a file's ``repr()`` as the raw body,
        and fail deep inside the JSON renderer on a file: both are caught
        here.
        """
        if format is not None and content_type is not None:
            return data  # DRF refuses the pair with its own assertion
        if content_type is not None:
            return _raw_body(data, content_type, call)
        chosen = format or self.default_format
        if chosen == "json" and (name := _file_field(data)) is not None:
            default = "" if format else " (the default format)"
            raise TypeError(
                f"{call} got a file in data[{name!r}], but the request is encoded "
                f"as JSON{default}, which cannot carry files. Pass "
                "format='multipart' to upload it."
            )
        return data


def _refuse_data_with_query_params(data: Any, extra: dict[str, Any], call: str) -> None:
    # Django's get() refuses both; DRF's would silently drop data.
    if data and extra.get("query_params"):
        raise ValueError(
            f"{call} got both data= and query_params=, which both set the query "
            "string: pass one of them."
        )


def _raw_body(data: Any, content_type: str, call: str) -> Any:
    """``data`` as a raw body that DRF and Django can encode without ``repr()``.

    Bytes, text and numbers pass through, as do a dict or list under a JSON
    content type (encoded as JSON). A file is read and an iterator joined;
    whatever else would be sent as its ``repr()`` is refused.
    """
    if data is None or isinstance(data, (bytes, str, int, float)):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, (Mapping, list, tuple)):
        if _JSON_TYPE.match(content_type):
            return data
        raise TypeError(
            f"{call} got a {type(data).__name__} as data= with "
            f"content_type={content_type!r}, which would be sent as its repr(). "
            "Encode the body yourself (bytes or str), or drop content_type= and "
            "pass format= to have DRF render it."
        )
    if isinstance(data, AsyncIterable):
        raise TypeError(
            f"{call} got an async iterator as data=, which cannot be read while "
            "the request is built. Collect it first: "
            "data=b''.join([chunk async for chunk in chunks])."
        )
    if hasattr(data, "read"):
        return _chunk(data.read(), call)
    if isinstance(data, Iterable):
        return b"".join(_chunk(chunk, call) for chunk in data)
    raise TypeError(
        f"{call} got a {type(data).__name__} as data=, which would be sent as "
        "its repr(): pass the body as bytes or str."
    )


def _chunk(chunk: object, call: str) -> bytes:
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        return bytes(chunk)
    if isinstance(chunk, str):
        return chunk.encode(settings.DEFAULT_CHARSET)
    raise TypeError(
        f"{call} got data= that yielded a {type(chunk).__name__}; a raw body is "
        "made of bytes or str."
    )


def _file_field(data: Any) -> str | None:
    """The name of the first field of ``data`` that holds a file, if any."""
    if not isinstance(data, Mapping):
        return None
    for name, value in data.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(v, (File, io.IOBase)) for v in values):
            return str(name)
    return None
