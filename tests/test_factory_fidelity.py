"""The factory builds the request DRF's sync factory builds, as ASGI.

Each case makes the same call on DRF's ``APIRequestFactory`` and on
``AsyncAPIRequestFactory`` and compares everything a view can observe:
method, path, query, body, parsed data and files, content type, every
header, host, scheme, remote address and the CSRF flag.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.asgi import ASGIRequest
from rest_framework.test import APIRequestFactory

from restflow.test import AsyncAPIRequestFactory
from restflow.test.factory import default_format
from tests.project.snapshot import snapshot

PATHS = ["/items/", "/items/?page=2&page=3", "/%C3%BCn%C3%AF/%C3%A7ode/"]

EXTRAS: list[dict[str, Any]] = [
    {},
    {"HTTP_AUTHORIZATION": "Token abc123"},
    {"HTTP_X_TRACE_ID": "t-1", "REMOTE_ADDR": "10.0.0.9", "HTTP_ACCEPT": "*/*"},
    {"headers": {"Accept-Language": "fr", "X-Request-Id": "r-7"}},
    {"secure": True},
    {"SERVER_NAME": "api.example.com", "SERVER_PORT": "8443"},
    {"HTTP_HOST": "api.example.com:8000", "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
    {"QUERY_STRING": "from=environ"},
    {"query_params": {"q": "search", "tag": ["a", "b"]}},
    {"CONTENT_TYPE": "text/plain; charset=utf-8"},
]


def _upload() -> dict[str, Any]:
    return {
        "title": "report",
        "attachment": SimpleUploadedFile("r.csv", b"a,b\n1,2\n", "text/csv"),
    }


BODIES: list[tuple[str, Callable[[], dict[str, Any]]]] = [
    ("no data", lambda: {}),
    ("json default", lambda: {"data": {"name": "Phone", "price": 3, "tags": ["x"]}}),
    ("json explicit", lambda: {"data": {"name": "Thé", "n": None}, "format": "json"}),
    ("json list", lambda: {"data": [1, 2, 3], "format": "json"}),
    ("multipart", lambda: {"data": {"a": "1", "b": ["x", "y"]}, "format": "multipart"}),
    ("multipart file", lambda: {"data": _upload(), "format": "multipart"}),
    (
        "raw bytes",
        lambda: {"data": b"\x00\x01raw", "content_type": "application/x-raw"},
    ),
    (
        "raw text",
        lambda: {
            "data": "a=1&b=2",
            "content_type": "application/x-www-form-urlencoded",
        },
    ),
    (
        "dict as json type",
        lambda: {"data": {"k": "v"}, "content_type": "application/json"},
    ),
    ("type without data", lambda: {"content_type": "application/json"}),
]

QUERY_DATA: list[dict[str, Any] | None] = [None, {"q": "thé", "tags": ["a", "b"]}, {}]


def drf_factory(**kwargs: Any) -> APIRequestFactory:
    """DRF's factory, with the default format restflow uses.

    DRF falls back to multipart and restflow to JSON when the project does
    not choose; the comparison is between two factories configured alike.
    """
    sync = APIRequestFactory(**kwargs)
    sync.default_format = default_format()
    return sync


def _assert_same(sync_request: Any, async_request: Any) -> None:
    assert isinstance(async_request, ASGIRequest)
    assert snapshot(async_request) == snapshot(sync_request)


@pytest.mark.parametrize(
    ("verb", "path", "extra", "data"),
    [
        case
        for case in itertools.product(["get", "head"], PATHS, EXTRAS, QUERY_DATA)
        # Django refuses data= together with query_params= (tested below).
        if not (case[3] and "query_params" in case[2])
    ],
)
def test_query_verbs_match_drf(
    verb: str, path: str, extra: dict[str, Any], data: dict[str, Any] | None
) -> None:
    sync = getattr(drf_factory(), verb)(path, data, **extra)
    built = getattr(AsyncAPIRequestFactory(), verb)(path, data, **extra)
    _assert_same(sync, built)


def _body_cases() -> list[Any]:
    cases = []
    for verb, path, extra, (name, body) in itertools.product(
        ["post", "put", "patch", "delete", "options"], PATHS, EXTRAS, BODIES
    ):
        if "CONTENT_TYPE" in extra and name != "no data":
            continue  # an explicit CONTENT_TYPE only makes sense with no body
        cases.append(pytest.param(verb, path, extra, body, id=f"{verb}-{name}-{path}"))
    return cases


@pytest.mark.parametrize(("verb", "path", "extra", "body"), _body_cases())
def test_body_verbs_match_drf(
    verb: str, path: str, extra: dict[str, Any], body: Callable[[], dict[str, Any]]
) -> None:
    sync = getattr(drf_factory(), verb)(path, **body(), **extra)
    built = getattr(AsyncAPIRequestFactory(), verb)(path, **body(), **extra)
    _assert_same(sync, built)


@pytest.mark.parametrize("extra", EXTRAS)
def test_trace_matches_drf(extra: dict[str, Any]) -> None:
    _assert_same(
        drf_factory().trace("/items/", **extra),
        AsyncAPIRequestFactory().trace("/items/", **extra),
    )


@pytest.mark.parametrize("enforce", [True, False])
def test_defaults_and_csrf_flag_match_drf(enforce: bool) -> None:
    defaults = {"HTTP_USER_AGENT": "restflow-tests", "REMOTE_ADDR": "192.168.1.5"}
    sync = drf_factory(enforce_csrf_checks=enforce, **defaults)
    built = AsyncAPIRequestFactory(enforce_csrf_checks=enforce, **defaults)
    _assert_same(sync.post("/x/", {"a": 1}), built.post("/x/", {"a": 1}))
    _assert_same(
        sync.get("/x/", HTTP_USER_AGENT="other"),
        built.get("/x/", HTTP_USER_AGENT="other"),
    )


def test_constructor_headers_match_drf() -> None:
    kwargs: dict[str, Any] = {"headers": {"X-Api-Key": "k"}}
    _assert_same(
        drf_factory(**kwargs).get("/x/"),
        AsyncAPIRequestFactory(**kwargs).get("/x/"),
    )


def test_constructor_query_params_are_defaults_for_every_request() -> None:
    # Django's sync RequestFactory stores query_params= but then overwrites
    # it with each request's (empty) query string; restflow applies it.
    built = AsyncAPIRequestFactory(query_params={"v": "2"})
    assert built.get("/x/").GET.dict() == {"v": "2"}
    assert built.post("/x/", {"a": 1}, format="json").GET.dict() == {"v": "2"}
    assert built.get("/x/", {"page": "3"}).GET.dict() == {"page": "3"}
    assert built.get("/x/?page=4").GET.dict() == {"page": "4"}


def test_raw_non_ascii_query_in_path_decodes_like_drf() -> None:
    sync = drf_factory().get("/search/?q=thé&city=Zürich")
    built = AsyncAPIRequestFactory().get("/search/?q=thé&city=Zürich")
    assert built.GET.dict() == sync.GET.dict() == {"q": "thé", "city": "Zürich"}
    # WSGI keeps the query as latin-1 text and so double-encodes it in
    # get_full_path(); an ASGI server hands Django the bytes, as here.
    assert built.get_full_path() == "/search/?q=th%C3%A9&city=Z%C3%BCrich"


def test_query_params_with_data_is_refused_like_drf() -> None:
    with pytest.raises(ValueError, match="mutually exclusive"):
        APIRequestFactory().head("/x/", {"a": 1}, query_params={"b": 2})
    with pytest.raises(ValueError, match="mutually exclusive"):
        AsyncAPIRequestFactory().head("/x/", {"a": 1}, query_params={"b": 2})
