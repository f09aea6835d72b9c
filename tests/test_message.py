"""A request described once: the scope it becomes and the request it redirects to."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import pytest

from restflow.test._message import RequestMessage, describe


def message(
    path: str = "/x/",
    *layers: dict[str, Any],
    defaults: dict[str, Any] | None = None,
    body: bytes = b"",
    content_type: str | None = None,
    method: str = "GET",
    host_header: bool = True,
) -> RequestMessage:
    return describe(
        method,
        path,
        body,
        content_type,
        defaults=defaults or {},
        layers=layers,
        host_header=host_header,
        call="f()",
    )


def headers(built: RequestMessage) -> dict[bytes, bytes]:
    return dict(built.headers)


# -- the scope -------------------------------------------------------------------


def test_the_scope_is_what_an_asgi_server_sends() -> None:
    scope = message("/caf%C3%A9/?a=1", {"HTTP_X_TRACE": "t"}).scope()
    assert scope["type"] == "http"
    assert scope["asgi"]["version"] == "3.0"
    assert scope["method"] == "GET"
    assert scope["path"] == "/café/"
    assert scope["raw_path"] == b"/caf%C3%A9/"
    assert scope["query_string"] == b"a=1"
    assert scope["scheme"] == "http"
    assert scope["server"] == ("testserver", 80)
    assert scope["client"] == ("127.0.0.1", 0)
    assert scope["headers"] == [
        (b"host", b"testserver"),
        (b"x-trace", b"t"),
        (b"cookie", b""),
    ]


def test_the_cookie_header_comes_from_the_jar_at_sending_time() -> None:
    built = message()
    jar = SimpleCookie()
    assert (b"cookie", b"") in built.scope(jar)["headers"]
    jar["b"] = "2"
    jar["a"] = "1 2"
    assert (b"cookie", b'a="1 2"; b=2') in built.scope(jar)["headers"]


def test_a_cookie_keyword_replaces_the_jar() -> None:
    jar = SimpleCookie()
    jar["a"] = "1"
    scope = message("/x/", {"HTTP_COOKIE": "mine=1"}).scope(jar)
    assert [value for name, value in scope["headers"] if name == b"cookie"] == [
        b"mine=1"
    ]


def test_body_headers_follow_the_body() -> None:
    built = message(body=b"abc", content_type="text/plain", method="post")
    assert built.method == "POST"
    assert headers(built)[b"content-type"] == b"text/plain"
    assert headers(built)[b"content-length"] == b"3"
    assert b"content-length" not in headers(message())


def test_the_host_header_is_only_there_when_asked_for() -> None:
    assert headers(message())[b"host"] == b"testserver"
    assert b"host" not in headers(message(host_header=False))
    built = message("/x/", {"SERVER_NAME": "api", "SERVER_PORT": "8000"})
    assert headers(built)[b"host"] == b"api:8000"
    built = message(
        "/x/", {"wsgi.url_scheme": "https", "SERVER_PORT": "443"}, {"HTTP_HOST": "h"}
    )
    assert [v for n, v in built.headers if n == b"host"] == [b"h"]


# -- precedence ------------------------------------------------------------------


def test_later_layers_win_and_spellings_of_one_header_are_one_keyword() -> None:
    built = message(
        "/x/",
        {"ACCEPT": "a"},
        {"HTTP_ACCEPT": "b", "X_ONE": "1"},
        {"Accept": "c"},
        defaults={"HTTP_ACCEPT": "default", "HTTP_X_TWO": "2"},
    )
    assert [v for n, v in built.headers if n == b"accept"] == [b"c"]
    assert headers(built)[b"x-one"] == b"1"
    assert headers(built)[b"x-two"] == b"2"


@pytest.mark.parametrize(
    ("path", "layer", "default", "query"),
    [
        ("/x/", {}, "", b""),
        ("/x/?p=1", {}, "", b"p=1"),
        ("/x/", {}, "d=1", b"d=1"),
        ("/x/?p=1", {}, "d=1", b"p=1"),
        ("/x/?p=1", {"QUERY_STRING": "k=1"}, "d=1", b"k=1"),
        ("/x/?p=1", {"QUERY_STRING": ""}, "d=1", b"p=1"),
        ("/x/", {"QUERY_STRING": ""}, "d=1", b"d=1"),
        ("/x/?q=thé", {}, "", "q=thé".encode()),
    ],
)
def test_the_query_string_comes_from_the_call_then_the_path_then_the_defaults(
    path: str, layer: dict[str, Any], default: str, query: bytes
) -> None:
    built = message(path, layer, defaults={"QUERY_STRING": default})
    assert built.query_string == query


# -- redirects --------------------------------------------------------------------


def test_a_303_becomes_a_get_without_a_body() -> None:
    posted = message(
        "/a/", {"HTTP_X_KEEP": "1"}, body=b"{}", content_type="x/y", method="POST"
    )
    after = posted.redirected("/b/?n=1", 303)
    assert (after.method, after.path, after.query_string, after.body) == (
        "GET",
        "/b/",
        b"n=1",
        b"",
    )
    assert b"content-type" not in headers(after)
    assert b"content-length" not in headers(after)
    assert headers(after)[b"x-keep"] == b"1"


@pytest.mark.parametrize("status", [307, 308])
def test_307_and_308_repeat_method_and_body(status: int) -> None:
    posted = message("/a/", body=b"{}", content_type="x/y", method="PUT")
    after = posted.redirected("/b/", status)
    assert (after.method, after.body, headers(after)[b"content-type"]) == (
        "PUT",
        b"{}",
        b"x/y",
    )


@pytest.mark.parametrize(
    ("location", "url"),
    [
        ("?page=2", "http://testserver/a/b?page=2"),
        ("?", "http://testserver/a/b"),
        ("c", "http://testserver/a/c"),
        ("../c", "http://testserver/c"),
        ("//h.example/z", "http://h.example/z"),
        ("https://h.example/z", "https://h.example/z"),
        ("https://h.example:8443/z?q", "https://h.example:8443/z?q"),
        ("http://testserver/z#frag", "http://testserver/z"),
    ],
)
def test_locations_resolve_as_rfc_3986_says(location: str, url: str) -> None:
    after = message("/a/b?x=1").redirected(location, 302)
    assert after.url == url


def test_another_origin_gets_its_host_header_scheme_and_server() -> None:
    after = message("/a/").redirected("https://h.example:8443/z", 302)
    assert after.scheme == "https"
    assert after.server == ("h.example", 8443)
    assert [v for n, v in after.headers if n == b"host"] == [b"h.example:8443"]
    back = after.redirected("http://testserver/", 302)
    assert (back.scheme, back.server, back.host) == (
        "http",
        ("testserver", 80),
        "testserver",
    )


def test_without_a_host_header_the_server_is_the_host() -> None:
    built = message("/a/?b=1", {"SERVER_NAME": b"api.example.com"}, host_header=False)
    assert built.host == "api.example.com"
    assert built.url == "http://api.example.com/a/?b=1"
    assert message("/a/", {"SERVER_PORT": "8080"}, host_header=False).host == (
        "testserver:8080"
    )
