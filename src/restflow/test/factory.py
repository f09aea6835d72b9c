"""``AsyncAPIRequestFactory``: ASGI requests for calling views directly."""

from __future__ import annotations

import io
from typing import Any, cast

from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.wsgi import WSGIRequest
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from restflow.test.scope import ASGIScope, check_environ_keys, scope_for

__all__ = ["AsyncAPIRequestFactory", "FactoryRequest"]

#: Attributes that only middleware puts on a request, with the middleware
#: that would have set them.
_MIDDLEWARE_ATTRIBUTES = {
    "session": "django.contrib.sessions.middleware.SessionMiddleware",
    "user": "django.contrib.auth.middleware.AuthenticationMiddleware",
    "auser": "django.contrib.auth.middleware.AuthenticationMiddleware",
    "LANGUAGE_CODE": "django.middleware.locale.LocaleMiddleware",
}


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


class AsyncAPIRequestFactory(APIRequestFactory):
    """Build ASGI requests that can be passed straight to ``await view(request)``.

    The factory is DRF's :class:`~rest_framework.test.APIRequestFactory` with
    a different last step. DRF's code still turns each call into a WSGI
    environ - encoding ``data`` with the renderer chosen by ``format``,
    setting ``Content-Type``, building the query string - so by construction
    the request describes the same HTTP message as DRF's sync factory would.
    Only then is that message translated into an ASGI scope and wrapped in an
    :class:`~django.core.handlers.asgi.ASGIRequest`, the class Django's ASGI
    handler gives to views in production.

    No URL resolution and no middleware run: the request reaches the view
    exactly as built. Extra keyword arguments are WSGI environ keys
    (``HTTP_AUTHORIZATION=...``, ``REMOTE_ADDR=...``); keys that an ASGI
    request cannot carry raise ``ValueError``.
    """

    def __init__(self, enforce_csrf_checks: bool = False, **defaults: Any) -> None:
        # DRF reads these settings when rest_framework.test is imported; read
        # them per factory so override_settings(REST_FRAMEWORK=...) applies.
        self.renderer_classes_list = api_settings.TEST_REQUEST_RENDERER_CLASSES
        self.default_format = api_settings.TEST_REQUEST_DEFAULT_FORMAT
        check_environ_keys(
            defaults,
            where=f"{type(self).__name__}()",
        )
        super().__init__(enforce_csrf_checks, **defaults)

    # DRF's verbs do the work; these overrides only give them honest types
    # (they return FactoryRequest, not a WSGI request) and documentation.

    def get(self, path: str, data: Any = None, **extra: Any) -> FactoryRequest:  # type: ignore[override]
        """Build a GET request; ``data`` becomes the query string."""
        return cast(FactoryRequest, super().get(path, data, **extra))

    def head(self, path: str, data: Any = None, **extra: Any) -> FactoryRequest:  # type: ignore[override]
        """Build a HEAD request; ``data`` becomes the query string."""
        return cast(FactoryRequest, super().head(path, data, **extra))

    def trace(self, path: str, **extra: Any) -> FactoryRequest:  # type: ignore[override]
        """Build a TRACE request."""
        return cast(FactoryRequest, super().trace(path, **extra))

    def post(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: Any,
    ) -> FactoryRequest:
        """Build a POST request with ``data`` rendered by ``format``, or raw
        when ``content_type`` is given."""
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
        """Build a request with any method; the verbs all end up here."""
        check_environ_keys(
            extra,
            where=f"{type(self).__name__}.{method.lower()}()",
        )
        # DRF's stubs say content_type is a str; DRF itself accepts None.
        request = super().generic(method, path, data, content_type, secure, **extra)  # type: ignore[arg-type]
        return cast(FactoryRequest, request)

    def request(self, **environ: Any) -> FactoryRequest:  # type: ignore[override]
        """Turn a finished WSGI environ into the equivalent ``ASGIRequest``."""
        scope, body = self.asgi_message(**environ)
        request = FactoryRequest(scope, io.BytesIO(body))
        request._dont_enforce_csrf_checks = not self.enforce_csrf_checks  # type: ignore[attr-defined]
        return request

    def asgi_message(self, **environ: Any) -> tuple[ASGIScope, bytes]:
        """The ASGI scope and body for a finished WSGI environ.

        This is what :meth:`request` wraps in an ``ASGIRequest``; the client
        hands it to Django's handler instead, which builds the request itself.
        """
        if not environ.get("QUERY_STRING"):
            # Django's generic() always sets QUERY_STRING, even to "", which
            # hides the query_params= given to the constructor.
            environ["QUERY_STRING"] = self.defaults.get("QUERY_STRING", "")
        wsgi_request = cast(WSGIRequest, super().request(**environ))
        return scope_for(wsgi_request), wsgi_request.environ["wsgi.input"].read()
