"""Translating a WSGI request description into an ASGI scope."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory

from restflow.test.scope import check_environ_keys, scope_for

sync_factory = APIRequestFactory()


def test_headers_become_lower_case_byte_pairs() -> None:
    scope = scope_for(
        sync_factory.get("/x/", HTTP_X_REQUEST_ID="r1", HTTP_ACCEPT="*/*")
    )
    assert (b"x-request-id", b"r1") in scope["headers"]
    assert (b"accept", b"*/*") in scope["headers"]
    assert all(name == name.lower() for name, _ in scope["headers"])


def test_header_values_get_their_original_bytes_back() -> None:
    # WSGI holds header bytes as latin-1 text; the scope must carry the bytes.
    wsgi_text = "café".encode().decode("latin-1")
    scope = scope_for(sync_factory.get("/x/", HTTP_X_NAME=wsgi_text))
    assert (b"x-name", "café".encode()) in scope["headers"]


def test_content_headers_keep_their_names() -> None:
    scope = scope_for(sync_factory.post("/x/", {"a": 1}, format="json"))
    names = {name for name, _ in scope["headers"]}
    assert {b"content-type", b"content-length"} <= names


def test_cookie_header_can_be_left_to_the_client() -> None:
    request = sync_factory.get("/x/")
    assert any(name == b"cookie" for name, _ in scope_for(request)["headers"])
    without = scope_for(request, include_cookie_header=False)
    assert not any(name == b"cookie" for name, _ in without["headers"])


def test_connection_details() -> None:
    request = sync_factory.get(
        "/p/?a=1",
        secure=True,
        REMOTE_ADDR="10.0.0.2",
        SERVER_NAME="h",
        SERVER_PORT="8443",
    )
    scope = scope_for(request)
    assert scope["scheme"] == "https"
    assert scope["client"] == ("10.0.0.2", 0)
    assert scope["server"] == ("h", 8443)
    assert scope["query_string"] == b"a=1"
    assert scope["path"] == "/p/"
    assert scope["http_version"] == "1.1"
    assert scope["type"] == "http"


@pytest.mark.parametrize(
    "key",
    [
        "HTTP_AUTHORIZATION",
        "CONTENT_TYPE",
        "REMOTE_ADDR",
        "SERVER_NAME",
        "wsgi.url_scheme",
    ],
)
def test_keys_an_asgi_request_can_carry(key: str) -> None:
    check_environ_keys([key], where="f()")


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("AUTHORIZATION", "write HTTP_AUTHORIZATION="),
        ("x-api-key", "headers={'X-Api-Key': ...}"),
        ("wsgi.input", "an ASGI request cannot carry"),
        ("HTTPS", "Use secure=True"),
        ("follow", "use AsyncAPIClient for follow=True"),
        ("format", "carry no body"),
    ],
)
def test_keys_that_cannot_be_carried_are_explained(key: str, hint: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_environ_keys([key], where="client.get()")
    assert str(caught.value).startswith(
        f"client.get() got the keyword argument {key!r}"
    )
    assert hint in str(caught.value)
