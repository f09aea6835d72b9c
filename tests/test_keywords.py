"""The meaning of request keywords: DRF's environ keys, else Django's header names."""

from __future__ import annotations

from typing import Any

import pytest

from restflow.test import AsyncAPIRequestFactory
from restflow.test._keywords import environ_name, header_name, header_value

factory = AsyncAPIRequestFactory()


@pytest.mark.parametrize(
    ("keyword", "name"),
    [
        # DRF's meaning: environ keys.
        ("HTTP_AUTHORIZATION", "HTTP_AUTHORIZATION"),
        ("CONTENT_TYPE", "CONTENT_TYPE"),
        ("CONTENT_LENGTH", "CONTENT_LENGTH"),
        ("QUERY_STRING", "QUERY_STRING"),
        ("REMOTE_ADDR", "REMOTE_ADDR"),
        ("REMOTE_PORT", "REMOTE_PORT"),
        ("SERVER_NAME", "SERVER_NAME"),
        ("SERVER_PORT", "SERVER_PORT"),
        ("SCRIPT_NAME", "SCRIPT_NAME"),
        ("SERVER_PROTOCOL", "SERVER_PROTOCOL"),
        ("wsgi.url_scheme", "wsgi.url_scheme"),
        # Django's meaning: any other name is a header.
        ("ACCEPT", "HTTP_ACCEPT"),
        ("ACCEPT_LANGUAGE", "HTTP_ACCEPT_LANGUAGE"),
        ("REMOTE_USER", "HTTP_REMOTE_USER"),
        ("x_api_key", "HTTP_X_API_KEY"),
        ("Content-Type", "CONTENT_TYPE"),
        ("HTTPS", "HTTP_HTTPS"),
    ],
)
def test_each_keyword_has_one_environ_name(keyword: str, name: str) -> None:
    assert environ_name(keyword, "f()") == name


@pytest.mark.parametrize(
    ("keyword", "reason"),
    [
        ("PATH_INFO", "the path is the first argument"),
        ("REQUEST_METHOD", "the method is the verb you call"),
        ("wsgi.input", "pass the body as data="),
        ("wsgi.errors", "an ASGI request has no such part"),
    ],
)
def test_keys_that_repeat_the_call_are_refused_with_the_fix(
    keyword: str, reason: str
) -> None:
    with pytest.raises(ValueError) as caught:
        environ_name(keyword, "AsyncAPIClient.get()")
    message = str(caught.value)
    assert message.startswith(
        f"AsyncAPIClient.get() got the keyword argument {keyword!r}"
    )
    assert reason in message


def test_header_names_are_lower_case_with_hyphens() -> None:
    assert header_name("HTTP_X_REQUEST_ID", "f()") == b"x-request-id"
    assert header_name("CONTENT_TYPE", "f()") == b"content-type"
    with pytest.raises(ValueError, match=r"^f\(\) got the header name 'X_ÜBER'"):
        header_name("HTTP_X_ÜBER", "f()")


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        ("Token abc", b"Token abc"),
        ("café", "café".encode("latin-1")),
        (b"Token abc", b"Token abc"),
        ("日本".encode(), "日本".encode()),
        (42, b"42"),
    ],
)
def test_header_values_are_sent_as_an_asgi_server_delivers_them(
    value: Any, sent: bytes
) -> None:
    assert header_value("HTTP_X", value, "f()") == sent


def test_none_names_the_header_and_says_to_leave_it_out() -> None:
    with pytest.raises(
        TypeError,
        match=r"^AsyncAPIClient\.get\(\) got HTTP_AUTHORIZATION=None: leave "
        r"HTTP_AUTHORIZATION out to send no such header\.$",
    ):
        header_value("HTTP_AUTHORIZATION", None, "AsyncAPIClient.get()")


def test_text_that_is_not_latin1_names_the_header_and_the_fix() -> None:
    with pytest.raises(ValueError) as caught:
        header_value("HTTP_X_CITY", "東京", "AsyncAPIRequestFactory.get()")
    message = str(caught.value)
    assert message.startswith("AsyncAPIRequestFactory.get() got HTTP_X_CITY='東京'")
    assert "HTTP_X_CITY='東京'.encode()" in message


@pytest.mark.parametrize("value", [True, 1.5, ["a"], object()])
def test_other_values_would_be_a_repr_and_are_refused(value: object) -> None:
    with pytest.raises(TypeError, match=r"pass the value as str or bytes, not"):
        header_value("HTTP_X", value, "f()")


# -- through the factory -----------------------------------------------------------


def test_bytes_values_reach_the_view_as_latin1_text_like_any_header() -> None:
    request = factory.get("/x/", HTTP_X_NAME="café".encode())
    assert request.META["HTTP_X_NAME"] == "café".encode().decode("latin-1")


def test_environ_fields_shape_the_scope() -> None:
    request = factory.get(
        "/x/",
        REMOTE_ADDR="10.0.0.2",
        REMOTE_PORT="5555",
        SERVER_NAME="h",
        SERVER_PORT=8443,
        SCRIPT_NAME="/app",
        SERVER_PROTOCOL="HTTP/2",
        QUERY_STRING="a=1",
    )
    scope = request.scope
    assert scope["client"] == ("10.0.0.2", 5555)
    assert scope["server"] == ("h", 8443)
    assert scope["root_path"] == "/app"
    assert scope["path"] == "/app/x/"
    assert request.path_info == "/x/"
    assert scope["http_version"] == "2"
    assert scope["query_string"] == b"a=1"


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"SERVER_PORT": "eighty"}, "got SERVER_PORT='eighty', which is not a port"),
        ({"REMOTE_ADDR": None}, "got REMOTE_ADDR=None: leave REMOTE_ADDR out"),
        ({"SERVER_NAME": 5}, "got SERVER_NAME=5: pass it as str, not int"),
        ({"QUERY_STRING": "q=東京"}, "got QUERY_STRING='q=東京', which is not latin-1"),
    ],
)
def test_bad_environ_fields_name_the_call(
    keywords: dict[str, Any], message: str
) -> None:
    with pytest.raises((TypeError, ValueError)) as caught:
        factory.get("/x/", **keywords)
    assert str(caught.value).startswith(f"AsyncAPIRequestFactory.get() {message}")
