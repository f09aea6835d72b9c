"""One HTTP request, described once and rendered as an ASGI scope.

The factory and the client both turn a call such as
``client.post("/orders/", {"qty": 2}, format="json", HTTP_X_TEAM="red")``
into a :class:`RequestMessage`: method, path, query string, headers, body,
and the addresses an ASGI server would report. From it come the scope and
the body that Django's ASGI machinery receives, and, when a redirect is
followed, the next request. Nothing else describes a request, so a value can
only be set in one place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import unquote_to_bytes, urljoin, urlsplit

from django.utils.encoding import iri_to_uri, repercent_broken_unicode

from restflow.test._keywords import environ_name, header_name, header_value

__all__ = ["RequestMessage", "Scope", "describe"]

Scope = dict[str, Any]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_KEEP_METHOD = frozenset({HTTPStatus.TEMPORARY_REDIRECT, HTTPStatus.PERMANENT_REDIRECT})
_BODY_HEADERS = frozenset({b"content-type", b"content-length"})


@dataclasses.dataclass(frozen=True)
class RequestMessage:
    """An HTTP request as an ASGI server would hand it to Django."""

    method: str
    #: The decoded path (the ASGI ``path``) and the path as sent (``raw_path``).
    path: str
    raw_path: bytes
    query_string: bytes
    #: Every header but ``Cookie``, which comes from the client's jar when the
    #: request is sent, unless the call set one (``cookie``).
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    scheme: str = "http"
    server: tuple[str, int] = ("testserver", 80)
    client: tuple[str, int] = ("127.0.0.1", 0)
    root_path: str = ""
    http_version: str = "1.1"
    cookie: bytes | None = None

    def scope(self, cookies: SimpleCookie | None = None) -> Scope:
        """The ASGI HTTP scope, with a ``Cookie`` header made from ``cookies``.

        The header is sent even when empty, as Django's test clients do, so
        that ``request.META["HTTP_COOKIE"]`` exists as it does under DRF's.
        """
        cookie = self.cookie
        if cookie is None:
            cookie = b"; ".join(
                sorted(
                    f"{morsel.key}={morsel.coded_value}".encode("latin-1")
                    for morsel in (cookies or {}).values()
                )
            )
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": self.http_version,
            "method": self.method,
            "scheme": self.scheme,
            "path": self.path,
            "raw_path": self.raw_path,
            "root_path": self.root_path,
            "query_string": self.query_string,
            "headers": [*self.headers, (b"cookie", cookie)],
            "client": self.client,
            "server": self.server,
        }

    @property
    def host(self) -> str:
        """The host the request is addressed to: its ``Host`` header, or the
        server's name and (unless it is the scheme's default) port."""
        for name, value in self.headers:
            if name == b"host":
                return value.decode("latin-1")
        return _host(self.scheme, *self.server)

    @property
    def url(self) -> str:
        """The absolute URL of the request, as a browser would show it."""
        query = b"?" + self.query_string if self.query_string else b""
        return f"{self.scheme}://{self.host}{(self.raw_path + query).decode('latin-1')}"

    def redirected(self, location: str, status: int) -> RequestMessage:
        """The request a browser makes next when answered ``status`` with ``location``.

        ``location`` is resolved against this request's URL as RFC 3986
        says, so ``?page=2`` stays on the current path and ``../x`` climbs
        from it. 307 and 308 repeat the method and body; the other redirects
        become a GET without a body, as in Django's client.
        """
        target = urlsplit(urljoin(self.url, location))
        reference = location.partition("#")[0]
        if "?" in reference:
            # urljoin keeps the current query for a bare "?"; RFC 3986 empties it.
            target = target._replace(query=reference.partition("?")[2])
        changes: dict[str, Any] = {
            "path": _decoded_path(target.path or "/"),
            "raw_path": iri_to_uri(target.path or "/").encode("ascii"),
            "query_string": target.query.encode("latin-1"),
        }
        headers = list(self.headers)
        if target.netloc != self.host or target.scheme != self.scheme:
            # Another origin: address it as a browser would.
            name = target.hostname or self.server[0]
            port = target.port or _DEFAULT_PORTS.get(target.scheme, 80)
            changes.update(scheme=target.scheme, server=(name, port))
            headers = [(n, v) for n, v in headers if n != b"host"]
            headers.insert(0, (b"host", _host(target.scheme, name, port).encode()))
        if status not in _KEEP_METHOD:
            changes.update(method="GET", body=b"")
            headers = [(n, v) for n, v in headers if n not in _BODY_HEADERS]
        changes["headers"] = tuple(headers)
        return dataclasses.replace(self, **changes)


def describe(
    method: str,
    path: object,
    body: bytes,
    content_type: str | None,
    *,
    defaults: Mapping[str, Any],
    layers: Sequence[Mapping[str, Any]],
    host_header: bool,
    call: str,
) -> RequestMessage:
    """Describe the request for one call of the factory or the client.

    ``defaults`` are the factory's or client's (the constructor's keywords
    and ``headers=``); ``layers`` the call's own keywords, each layer
    winning over the ones before it: in the factory, ``secure=``, the
    extra keywords, ``headers=``, ``query_params=``, then the client's
    credentials. Keywords are compared by their environ name, so
    ``headers={"Accept": ...}`` replaces ``ACCEPT=...``. A non-empty
    ``QUERY_STRING`` among the layers beats the query in ``path``, which
    beats a default ``QUERY_STRING``. ``host_header`` adds ``Host``, as
    clients do and DRF's factory does not.
    """
    environ: dict[str, tuple[str, Any]] = {}
    query_keyword: tuple[str, Any] | None = None
    for layer in (defaults, *layers):
        for key, value in layer.items():
            name = environ_name(key, call)
            if name != "QUERY_STRING":
                environ[name] = (key, value)
            elif layer is not defaults and value:
                query_keyword = (key, value)
    scheme = _field(environ.pop("wsgi.url_scheme", None), call) or "http"
    server_name = _field(environ.pop("SERVER_NAME", None), call) or "testserver"
    server_port = _port(environ.pop("SERVER_PORT", None), 80, call)
    remote_addr = _field(environ.pop("REMOTE_ADDR", None), call) or "127.0.0.1"
    remote_port = _port(environ.pop("REMOTE_PORT", None), 0, call)
    script_name = _field(environ.pop("SCRIPT_NAME", None), call) or ""
    protocol = _field(environ.pop("SERVER_PROTOCOL", None), call) or "HTTP/1.1"
    cookie = environ.pop("HTTP_COOKIE", None)

    parsed = urlsplit(str(path))
    if query_keyword is not None:
        query = _query_bytes(_field(query_keyword, call) or "", call)
    elif parsed.query:
        query = parsed.query.encode()
    else:
        default_query = ("QUERY_STRING", defaults.get("QUERY_STRING"))
        query = _query_bytes(_field(default_query, call) or "", call)

    headers: list[tuple[bytes, bytes]] = []
    if host_header and "HTTP_HOST" not in environ:
        headers.append((b"host", _host(scheme, server_name, server_port).encode()))
    if content_type is not None:
        environ["CONTENT_TYPE"] = ("content_type", content_type)
    if body and "CONTENT_LENGTH" not in environ:
        environ["CONTENT_LENGTH"] = ("CONTENT_LENGTH", len(body))
    for name, (key, value) in environ.items():
        headers.append((header_name(name, call), header_value(key, value, call)))

    return RequestMessage(
        method=method.upper(),
        path=_with_script_name(script_name, _decoded_path(parsed.path)),
        raw_path=iri_to_uri(parsed.path or "/").encode("ascii"),
        query_string=query,
        headers=tuple(headers),
        body=body,
        scheme=scheme,
        server=(server_name, server_port),
        client=(remote_addr, remote_port),
        root_path=script_name,
        http_version=protocol.removeprefix("HTTP/"),
        cookie=None if cookie is None else header_value(cookie[0], cookie[1], call),
    )


def _field(entry: tuple[str, Any] | None, call: str) -> str | None:
    if entry is None:
        return None
    key, value = entry
    if value is None or isinstance(value, str):
        if value is None and key != "QUERY_STRING":
            raise TypeError(f"{call} got {key}=None: leave {key} out instead.")
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    raise TypeError(
        f"{call} got {key}={value!r}: pass it as str, not {type(value).__name__}."
    )


def _port(entry: tuple[str, Any] | None, default: int, call: str) -> int:
    if entry is None:
        return default
    key, value = entry
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{call} got {key}={value!r}, which is not a port number."
        ) from None


def _query_bytes(query: str, call: str) -> bytes:
    try:
        return query.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(
            f"{call} got QUERY_STRING={query!r}, which is not latin-1 text: "
            "percent-encode it (urllib.parse.urlencode) or pass data= or "
            "query_params= instead."
        ) from None


def _decoded_path(raw: str) -> str:
    # What Django's WSGI handler would make of the same path: percent-escapes
    # decoded as UTF-8, with broken sequences left percent-encoded.
    return repercent_broken_unicode(unquote_to_bytes(raw)).decode() or "/"


def _with_script_name(script_name: str, path: str) -> str:
    if not script_name:
        return path
    return f"{script_name.rstrip('/')}/{path.replace('/', '', 1)}"


def _host(scheme: str, name: str, port: int) -> str:
    if _DEFAULT_PORTS.get(scheme) == port:
        return name
    return f"{name}:{port}"
