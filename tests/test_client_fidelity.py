"""The client delivers what DRF's sync APIClient delivers, through ASGI.

Each case sends the same call through DRF's ``APIClient`` (WSGI) and through
``AsyncAPIClient`` (ASGI) to a view that answers with everything it saw,
including the work of the middleware, and compares the two answers.

Two differences are deliberate and applied to DRF's answer before comparing:
restflow's client sends a ``Host`` header, as every HTTP client and Django's
``AsyncClient`` do (DRF's sends none, and Django derives the same host from
``SERVER_NAME``), and both clients are given the same default format.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from restflow.test import AsyncAPIClient
from restflow.test.factory import default_format

EXTRAS: list[dict[str, Any]] = [
    {},
    {"HTTP_AUTHORIZATION": "Bearer not-checked"},
    {"HTTP_X_TRACE_ID": "t-1", "REMOTE_ADDR": "10.0.0.9"},
    {"headers": {"Accept-Language": "fr"}},
    {"secure": True},
    {"HTTP_HOST": "api.example.com"},
    {"QUERY_STRING": "from=environ"},
]

BODIES: list[tuple[str, Callable[[], dict[str, Any]]]] = [
    ("none", lambda: {}),
    ("json", lambda: {"data": {"name": "Thé", "tags": ["a"]}, "format": "json"}),
    ("multipart", lambda: {"data": {"a": "1", "b": ["x", "y"]}, "format": "multipart"}),
    (
        "file",
        lambda: {
            "data": {"f": SimpleUploadedFile("a.txt", b"hello", "text/plain")},
            "format": "multipart",
        },
    ),
    (
        "raw",
        lambda: {
            "data": "a=1&b=2",
            "content_type": "application/x-www-form-urlencoded",
        },
    ),
]


def _cases() -> list[Any]:
    cases = [
        pytest.param(verb, body, extra, id=f"{verb}-{name}-{i}")
        for verb, (name, body), (i, extra) in itertools.product(
            ["post", "put", "patch", "delete", "options"], BODIES, enumerate(EXTRAS)
        )
    ]
    cases += [
        pytest.param("get", lambda data=data: {"data": data}, extra, id=f"get-{j}-{i}")
        for (j, data), (i, extra) in itertools.product(
            enumerate([None, {"q": "é", "n": [1, 2]}]), enumerate(EXTRAS)
        )
    ]
    return cases


def drf_client(**kwargs: Any) -> APIClient:
    """DRF's client with the default format restflow uses."""
    client = APIClient(**kwargs)
    client.default_format = default_format()
    return client


def seen_by_drf(response: Any) -> dict[str, Any]:
    """What DRF's echo view saw, plus the Host header an ASGI client sends."""
    seen: dict[str, Any] = response.json()
    seen["headers"] = {"HTTP_HOST": seen["host"], **seen["headers"]}
    return seen


@pytest.mark.parametrize(("verb", "body", "extra"), _cases())
def test_same_call_same_view_input(
    verb: str, body: Callable[[], dict[str, Any]], extra: dict[str, Any]
) -> None:
    expected = getattr(drf_client(), verb)("/echo/", **body(), **extra)

    async def send() -> Any:
        return await getattr(AsyncAPIClient(), verb)("/echo/", **body(), **extra)

    received = async_to_sync(send)()
    assert received.status_code == expected.status_code
    assert received.json() == seen_by_drf(expected)


def test_defaults_and_credentials_match() -> None:
    sync = drf_client(HTTP_USER_AGENT="ua/1", REMOTE_ADDR="10.9.9.9")
    ours = AsyncAPIClient(HTTP_USER_AGENT="ua/1", REMOTE_ADDR="10.9.9.9")
    for client in (sync, ours):
        client.credentials(HTTP_AUTHORIZATION="Bearer x", HTTP_X_TENANT="t1")

    async def send() -> Any:
        return await ours.post(
            "/echo/", {"a": 1}, format="json", HTTP_X_TENANT="ignored"
        )

    assert async_to_sync(send)().json() == seen_by_drf(
        sync.post("/echo/", {"a": 1}, format="json", HTTP_X_TENANT="ignored")
    )


def test_followed_redirects_match_for_302() -> None:
    sync = drf_client().post("/redirect/302/?to=/echo/z%3Fk%3Dv", {"a": 1}, follow=True)

    async def send() -> Any:
        return await AsyncAPIClient().post(
            "/redirect/302/?to=/echo/z%3Fk%3Dv", {"a": 1}, follow=True
        )

    ours = async_to_sync(send)()
    assert ours.redirect_chain == sync.redirect_chain
    assert ours.json() == seen_by_drf(sync)


# -- following redirects -------------------------------------------------------------

#: Location headers, as answered to a request for /hop/a/b/?x=1, each with
#: where a browser goes next (RFC 3986 reference resolution).
LOCATIONS = [
    ("?page=2", "/hop/a/b/?page=2"),
    ("?", "/hop/a/b/"),
    ("c/", "/hop/a/b/c/"),
    ("./c/?q=1", "/hop/a/b/c/?q=1"),
    ("../c/", "/hop/a/c/"),
    ("../../d/", "/hop/d/"),
    ("../../../../up/", "/up/"),
    ("/hop/abs/?q=1&q=2", "/hop/abs/?q=1&q=2"),
    ("/hop/x/#section", "/hop/x/"),
    ("/hop/caf%C3%A9/", "/hop/café/"),
    ("/hop/with%20space/", "/hop/with space/"),
    ("//other.example/hop/x/", "http://other.example/hop/x/"),
    ("http://other.example/hop/x/?y=1", "http://other.example/hop/x/?y=1"),
    ("https://other.example/hop/x/", "https://other.example/hop/x/"),
    ("http://testserver/hop/same/", "/hop/same/"),
    ("/nowhere/", "/nowhere/"),
]


def _hop(location: str, status: int = 302) -> str:
    return "/hop/a/b/?" + urlencode({"x": 1, "to": location, "status": status})


@pytest.mark.parametrize(("location", "target"), LOCATIONS)
@pytest.mark.parametrize("verb", ["get", "post", "head"])
def test_redirects_are_followed_where_djangos_client_goes(
    location: str, target: str, verb: str
) -> None:
    expected = getattr(Client(), verb)(_hop(location), follow=True)

    async def send() -> Any:
        return await getattr(AsyncAPIClient(), verb)(_hop(location), follow=True)

    ours = async_to_sync(send)()
    assert ours.redirect_chain == expected.redirect_chain
    assert ours.status_code == expected.status_code
    assert ours.content == expected.content
    if expected.status_code == 200 and verb != "head":
        seen = ours.json()
        url = urlsplit(target)
        assert seen["path"] == url.path
        assert seen["host"] == (url.hostname or "testserver")
        assert seen["scheme"] == (url.scheme or "http")
        assert seen["method"] == "GET"


@pytest.mark.parametrize("status", [307, 308])
def test_307_and_308_repeat_the_method_and_body_where_djangos_client_does(
    status: int,
) -> None:
    path = _hop("/echo/moved/", status)
    expected = drf_client().post(path, {"a": "1"}, format="json", follow=True)

    async def send() -> Any:
        return await AsyncAPIClient().post(path, {"a": "1"}, format="json", follow=True)

    ours = async_to_sync(send)()
    assert ours.redirect_chain == expected.redirect_chain
    assert ours.json() == seen_by_drf(expected)


@pytest.mark.parametrize(
    ("location", "host"),
    [
        ("http://other.example:8080/hop/x/", "other.example:8080"),
        ("https://other.example:8443/hop/x/", "other.example:8443"),
    ],
)
def test_a_port_in_the_location_reaches_the_host_header(
    location: str, host: str
) -> None:
    """Django's client drops the port from the Host header it sends next
    (its request arrives at ``other.example``); a browser keeps it."""

    async def send() -> Any:
        return await AsyncAPIClient().get(_hop(location), follow=True)

    assert async_to_sync(send)().json()["host"] == host
    assert Client().get(_hop(location), follow=True).json()["host"] != host


def test_a_307_get_goes_to_the_query_of_the_location() -> None:
    """Django's client repeats the first request's query instead (and so
    drops ``?page=2``); a browser requests the Location as given."""
    path = _hop("/hop/next/?page=2", 307)

    async def send() -> Any:
        return await AsyncAPIClient().get(path, follow=True)

    assert async_to_sync(send)().json()["query"] == [["page", ["2"]]]
    assert Client().get(path, follow=True).json()["query"] != [["page", ["2"]]]
