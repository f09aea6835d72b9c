"""The client delivers what DRF's sync APIClient delivers, through ASGI.

Each case sends the same call through DRF's ``APIClient`` (WSGI) and through
``AsyncAPIClient`` (ASGI) to a view that answers with everything it saw,
including the work of the middleware, and compares the two answers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from restflow.test import AsyncAPIClient

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


@pytest.mark.parametrize(("verb", "body", "extra"), _cases())
def test_same_call_same_view_input(
    verb: str, body: Callable[[], dict[str, Any]], extra: dict[str, Any]
) -> None:
    expected = getattr(APIClient(), verb)("/echo/", **body(), **extra)

    async def send() -> Any:
        return await getattr(AsyncAPIClient(), verb)("/echo/", **body(), **extra)

    received = async_to_sync(send)()
    assert received.status_code == expected.status_code
    assert received.json() == expected.json()


def test_defaults_and_credentials_match() -> None:
    sync = APIClient(HTTP_USER_AGENT="ua/1", REMOTE_ADDR="10.9.9.9")
    ours = AsyncAPIClient(HTTP_USER_AGENT="ua/1", REMOTE_ADDR="10.9.9.9")
    for client in (sync, ours):
        client.credentials(HTTP_AUTHORIZATION="Bearer x", HTTP_X_TENANT="t1")

    async def send() -> Any:
        return await ours.post(
            "/echo/", {"a": 1}, format="json", HTTP_X_TENANT="ignored"
        )

    assert (
        async_to_sync(send)().json()
        == sync.post("/echo/", {"a": 1}, format="json", HTTP_X_TENANT="ignored").json()
    )


def test_followed_redirects_match_for_302() -> None:
    sync = APIClient().post("/redirect/302/?to=/echo/z%3Fk%3Dv", {"a": 1}, follow=True)

    async def send() -> Any:
        return await AsyncAPIClient().post(
            "/redirect/302/?to=/echo/z%3Fk%3Dv", {"a": 1}, follow=True
        )

    ours = async_to_sync(send)()
    assert ours.redirect_chain == sync.redirect_chain
    assert ours.json() == sync.json()
