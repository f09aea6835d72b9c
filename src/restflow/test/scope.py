"""Turn WSGI-environ style request descriptions into ASGI scopes.

Every DRF and Django test suite describes requests with WSGI environ keys:
``HTTP_AUTHORIZATION="Token abc"``, ``REMOTE_ADDR="10.0.0.1"``,
``secure=True``. An ASGI server never sees an environ; it hands Django a
*scope* whose headers are a list of lower-case byte pairs. This module is
the single place where the first vocabulary is translated into the second,
so that the request a view receives is the one a real ASGI server would have
produced for the same HTTP message.

Keys with no ASGI counterpart are refused with an explanation instead of
being dropped: a test that sets ``AUTHORIZATION=...`` (without ``HTTP_``)
would otherwise pass a request without the header and fail far from the
mistake.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.handlers.wsgi import WSGIRequest

__all__ = ["ASGIScope", "check_environ_keys", "scope_for"]

ASGIScope = dict[str, Any]

#: Environ keys that are not headers but still describe something an ASGI
#: scope can carry.
_SCOPE_KEYS = frozenset(
    {
        "CONTENT_LENGTH",
        "CONTENT_TYPE",
        "PATH_INFO",
        "QUERY_STRING",
        "REMOTE_ADDR",
        "REMOTE_PORT",
        "REQUEST_METHOD",
        "SCRIPT_NAME",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "wsgi.url_scheme",
        # Django's own keyword arguments, which travel with the environ keys.
        "headers",
        "query_params",
    }
)


def check_environ_keys(keys: Iterable[str], *, where: str) -> None:
    """Refuse keyword arguments that cannot become part of an ASGI request.

    ``where`` names the call being checked (for instance
    ``"AsyncAPIClient.get()"``) so the message points at the user's code.
    """
    for key in keys:
        if key.startswith("HTTP_") or key in _SCOPE_KEYS:
            continue
        raise ValueError(f"{where} got the keyword argument {key!r}, " + _hint(key))


def _hint(key: str) -> str:
    if key == "follow":
        return (
            "but a request factory builds one request and cannot follow "
            "redirects: use AsyncAPIClient for follow=True."
        )
    if key in ("format", "content_type"):
        return (
            "but GET, HEAD and TRACE requests carry no body to encode: pass "
            "query parameters with data= or query_params=."
        )
    if key.startswith("wsgi.") or key in ("HTTPS", "REMOTE_USER", "REMOTE_HOST"):
        return (
            "which an ASGI request cannot carry: an ASGI server only passes "
            "the method, path, query string, headers, client, server and "
            "scheme. Use secure=True for https, or send the value as a header."
        )
    wsgi_name = "HTTP_" + key.upper().replace("-", "_")
    header_name = key.replace("_", "-").title()
    return (
        "which is neither a header nor a request attribute. Extra keyword "
        "arguments are WSGI environ keys, and header keys start with HTTP_: "
        f"write {wsgi_name}=... or headers={{{header_name!r}: ...}}."
    )


def _latin1(value: object) -> bytes:
    return (value if isinstance(value, str) else str(value)).encode("latin-1")


def scope_for(request: WSGIRequest, *, include_cookie_header: bool = True) -> ASGIScope:
    """Build the ASGI HTTP scope for the same HTTP message as ``request``.

    ``request`` is the ``WSGIRequest`` Django's sync request factory built.
    WSGI keeps header values and the query string as latin-1 decoded text;
    the scope gets the original bytes back, exactly as an ASGI server would
    deliver them, and the already decoded path.

    ``include_cookie_header=False`` leaves out ``Cookie`` so that a client
    which adds its own cookie jar does not send two of them.
    """
    environ = request.META
    headers: list[tuple[bytes, bytes]] = []
    for key, value in environ.items():
        if key[:5] == "HTTP_":
            if key == "HTTP_COOKIE" and not include_cookie_header:
                continue
            name = key[5:]
        elif key == "CONTENT_TYPE" or key == "CONTENT_LENGTH":
            name = key
        else:
            continue
        headers.append(
            (name.replace("_", "-").lower().encode("latin-1"), _latin1(value))
        )

    protocol = str(environ.get("SERVER_PROTOCOL", "HTTP/1.1"))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": protocol.removeprefix("HTTP/"),
        "method": request.method,
        "scheme": str(environ.get("wsgi.url_scheme", "http")),
        "path": request.path,
        "root_path": environ.get("SCRIPT_NAME", ""),
        "query_string": _latin1(environ.get("QUERY_STRING", "")),
        "headers": headers,
        "client": (
            str(environ.get("REMOTE_ADDR", "127.0.0.1")),
            int(environ.get("REMOTE_PORT", 0) or 0),
        ),
        "server": (
            str(environ.get("SERVER_NAME", "testserver")),
            int(environ.get("SERVER_PORT", 80) or 80),
        ),
    }
