"""AsyncAPIRequestFactory: ASGI requests for ``await view(request)``."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, JsonResponse
from django.test import override_settings
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.test import force_authenticate as drf_force_authenticate
from rest_framework.views import APIView

from restflow.test import (
    AsyncAPIRequestFactory,
    AsyncAPISimpleTestCase,
    force_authenticate,
)
from tests.project import views

factory = AsyncAPIRequestFactory()


class PlainTextRenderer(BaseRenderer):
    media_type = "text/plain"
    format = "txt"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> Any:
        return str(data)


# -- what the request looks like ---------------------------------------------


def test_builds_a_real_asgi_request() -> None:
    request = factory.get("/orders/")
    assert isinstance(request, ASGIRequest)
    assert request.scope["type"] == "http"
    assert request.method == "GET"


def test_default_format_is_json_unless_the_project_sets_one() -> None:
    request = factory.post("/orders/", {"item": "tea", "qty": 2})
    assert request.content_type == "application/json"
    assert json.loads(request.body) == {"item": "tea", "qty": 2}
    with override_settings(REST_FRAMEWORK={"TEST_REQUEST_DEFAULT_FORMAT": "multipart"}):
        request = AsyncAPIRequestFactory().post("/orders/", {"item": "tea", "qty": 2})
    assert request.content_type == "multipart/form-data"
    assert request.POST.dict() == {"item": "tea", "qty": "2"}


def test_a_file_under_the_json_default_says_to_use_multipart() -> None:
    photo = SimpleUploadedFile("p.jpg", b"jpeg", content_type="image/jpeg")
    with pytest.raises(
        TypeError,
        match=r"^AsyncAPIRequestFactory\.post\(\) got a file in data\['photo'\], "
        r"but the request is encoded as JSON \(the default format\).*"
        r"Pass format='multipart'",
    ):
        factory.post("/x/", {"photo": photo, "alt": "x"})
    with pytest.raises(TypeError, match=r"data\['photos'\].*encoded as JSON, which"):
        factory.put("/x/", {"photos": [photo]}, format="json")
    request = factory.post("/x/", {"photo": photo}, format="multipart")
    assert request.FILES["photo"].read() == b"jpeg"


def test_renderer_charset_is_part_of_the_content_type() -> None:
    with override_settings(
        REST_FRAMEWORK={
            "TEST_REQUEST_RENDERER_CLASSES": [
                "rest_framework.renderers.JSONRenderer",
                "tests.test_factory.PlainTextRenderer",
            ]
        }
    ):
        request = AsyncAPIRequestFactory().post("/x/", "héllo", format="txt")
    assert request.META["CONTENT_TYPE"] == "text/plain; charset=utf-8"
    assert request.body == "héllo".encode()


def test_renderer_settings_are_read_when_the_factory_is_created() -> None:
    with override_settings(
        REST_FRAMEWORK={
            "TEST_REQUEST_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
            "TEST_REQUEST_DEFAULT_FORMAT": "json",
        }
    ):
        inside = AsyncAPIRequestFactory()
    assert inside.post("/x/", {"a": "1"}).content_type == "application/json"
    with pytest.raises(AssertionError, match="Invalid format 'multipart'"):
        inside.post("/x/", {"a": "1"}, format="multipart")
    assert AsyncAPIRequestFactory().post("/x/", {"a": "1"}, format="multipart")


def test_unknown_format_names_the_available_ones() -> None:
    with pytest.raises(
        AssertionError, match=r"Invalid format 'xml'.*'json', 'multipart'"
    ):
        factory.post("/x/", {"a": 1}, format="xml")


def test_format_and_content_type_together_are_refused() -> None:
    with pytest.raises(AssertionError, match="both `format` and `content_type`"):
        factory.post("/x/", {"a": 1}, format="json", content_type="application/json")


def test_nested_data_in_multipart_gets_drfs_explanation() -> None:
    with pytest.raises(
        AssertionError, match="multipart uploads do not support nested data"
    ):
        factory.post("/x/", {"a": {"b": 1}}, format="multipart")


def test_content_type_means_data_is_the_raw_body() -> None:
    request = factory.put("/x/", b"<a/>", content_type="application/xml")
    assert request.body == b"<a/>"
    assert request.content_type == "application/xml"


def test_no_data_with_a_content_type_sends_an_empty_body_and_the_header() -> None:
    request = factory.post("/x/", None, content_type="application/json")
    assert request.body == b""
    assert request.META["CONTENT_TYPE"] == "application/json"


def test_get_data_becomes_the_query_string() -> None:
    request = factory.get("/search/", {"q": "thé", "tag": ["a", "b"]})
    assert request.GET.getlist("tag") == ["a", "b"]
    assert request.GET["q"] == "thé"


def test_get_keeps_a_query_in_the_path_when_no_data_is_given() -> None:
    assert factory.get("/search/?q=1&q=2").GET.getlist("q") == ["1", "2"]


def test_non_ascii_path_survives() -> None:
    request = factory.get("/caf%C3%A9/")
    assert request.path == "/café/"
    assert request.get_full_path() == "/caf%C3%A9/"


def test_environ_keys_become_what_asgi_carries() -> None:
    request = factory.get(
        "/x/",
        HTTP_AUTHORIZATION="Token t",
        REMOTE_ADDR="10.1.2.3",
        SERVER_NAME="api.example.com",
        SERVER_PORT="8443",
        secure=True,
    )
    assert (b"authorization", b"Token t") in request.scope["headers"]
    assert request.META["HTTP_AUTHORIZATION"] == "Token t"
    assert request.scope["client"] == ("10.1.2.3", 0)
    assert request.get_host() == "api.example.com:8443"
    assert request.is_secure()
    assert request.scope["scheme"] == "https"


def test_http_host_drives_get_host() -> None:
    assert (
        factory.get("/x/", HTTP_HOST="api.example.com").get_host() == "api.example.com"
    )


def test_headers_and_query_params_keywords_work_as_in_django() -> None:
    request = factory.get("/x/", headers={"X-Trace": "t1"}, query_params={"page": "2"})
    assert request.headers["X-Trace"] == "t1"
    assert request.GET["page"] == "2"


def test_csrf_checks_are_off_unless_asked_for() -> None:
    assert factory.post("/x/")._dont_enforce_csrf_checks is True  # type: ignore[attr-defined]
    strict = AsyncAPIRequestFactory(enforce_csrf_checks=True)
    assert strict.post("/x/")._dont_enforce_csrf_checks is False  # type: ignore[attr-defined]


# -- mistakes get explained ----------------------------------------------------


def test_keywords_drf_gives_no_meaning_are_headers_as_in_django() -> None:
    request = factory.get(
        "/x/", AUTHORIZATION="Token t", REMOTE_USER="alice", x_api_key="k"
    )
    assert request.headers["Authorization"] == "Token t"
    assert request.META["HTTP_REMOTE_USER"] == "alice"
    assert request.headers["X-Api-Key"] == "k"


def test_bad_default_is_refused_when_the_factory_is_created() -> None:
    with pytest.raises(
        TypeError, match=r"^AsyncAPIRequestFactory\(\) got HTTP_ACCEPT=None"
    ):
        AsyncAPIRequestFactory(HTTP_ACCEPT=None)


def test_format_on_get_head_and_trace_is_accepted_and_ignored_as_in_drf() -> None:
    assert factory.get("/x/", {"a": 1}, format="json").GET.dict() == {"a": "1"}
    assert factory.head("/x/", format="json").method == "HEAD"
    assert factory.trace("/x/", format="json").method == "TRACE"


def test_follow_on_the_factory_points_to_the_client() -> None:
    with pytest.raises(
        ValueError,
        match=r"^AsyncAPIRequestFactory\.get\(\) got follow=True.*use "
        "AsyncAPIClient for follow=True",
    ):
        factory.get("/x/", follow=True)


@pytest.mark.parametrize(
    "key", ["PATH_INFO", "REQUEST_METHOD", "wsgi.input", "wsgi.errors"]
)
def test_environ_keys_that_repeat_the_call_or_mean_nothing_are_refused(
    key: str,
) -> None:
    with pytest.raises(
        ValueError,
        match=rf"^AsyncAPIRequestFactory\.post\(\) got the keyword argument {key!r}",
    ):
        factory.post("/x/", **{key: "x"})


def test_reading_middleware_attributes_explains_that_none_ran() -> None:
    request = factory.get("/x/")
    with pytest.raises(AttributeError, match=r"SessionMiddleware.*runs no middleware"):
        request.session  # noqa: B018
    with pytest.raises(AttributeError, match="AuthenticationMiddleware"):
        request.user  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'nonsense'"):
        request.nonsense  # type: ignore[attr-defined]  # noqa: B018
    assert getattr(request, "user", None) is None


# -- calling views ---------------------------------------------------------------


class TokenOnly(APIView):
    permission_classes: list[Any] = []

    def get(self, request: Request) -> Response:
        return Response(
            {
                "user": None if request.user is None else str(request.user),
                "auth": request.auth,
            }
        )


class SyncWho(APIView):
    def get(self, request: Request) -> Response:
        return Response({"user": str(request.user), "auth": request.auth})


class FactoryViewTests(AsyncAPISimpleTestCase):
    """Factory requests go straight into views of every kind."""

    async def test_drf_view(self) -> None:
        response = await _call(
            views.EchoView.as_view(), factory.post("/echo/", {"a": 1}, format="json")
        )
        assert response.status_code == 200
        assert response.data["data"] == {"a": 1}
        # No middleware ran: neither stamp is there.
        assert response.data["stamps"] == [None, None]

    async def test_function_view(self) -> None:
        response = await _call(
            views.echo_function, factory.post("/f/", {"a": 1}, format="json")
        )
        assert response.data["data"] == {"a": 1}

    async def test_adrf_async_view(self) -> None:
        response = await views.AsyncEcho.as_view()(factory.get("/a/", {"q": "z"}))
        assert response.data["query"].dict() == {"q": "z"}

    async def test_plain_django_async_view_reading_user_gets_the_middleware_hint(
        self,
    ) -> None:
        with pytest.raises(AttributeError, match="AuthenticationMiddleware"):
            await views.django_async_view(factory.get("/d/"))

    async def test_force_authenticate_on_a_sync_drf_view(self) -> None:
        user = User(username="khan")
        request = factory.get("/who/")
        force_authenticate(request, user=user, token="tok")
        response = await _call(SyncWho.as_view(), request)
        assert response.data == {"user": "khan", "auth": "tok"}

    async def test_force_authenticate_with_a_token_and_no_user(self) -> None:
        request = factory.get("/who/")
        force_authenticate(request, token="service-token")
        response = await _call(TokenOnly.as_view(), request)
        # The same as DRF's own factory gives.
        drf_request = APIRequestFactory().get("/who/")
        drf_force_authenticate(drf_request, token="service-token")
        drf_response = TokenOnly.as_view()(drf_request)
        assert (
            response.data
            == drf_response.data
            == {
                "user": None,
                "auth": "service-token",
            }
        )

    async def test_force_authenticate_on_an_adrf_view(self) -> None:
        request = factory.get("/who/")
        force_authenticate(request, user=User(username="khan"))
        response = await views.AsyncEcho.as_view()(request)
        assert response.data["user"] == "khan"

    async def test_without_force_authenticate_the_user_is_anonymous(self) -> None:
        response = await _call(SyncWho.as_view(), factory.get("/who/"))
        assert response.data["user"] == str(AnonymousUser())

    async def test_force_authenticate_refuses_an_unawaited_user(self) -> None:
        async def fetch_user() -> User:
            return User(username="x")

        pending = fetch_user()
        with pytest.raises(TypeError, match="forget to await"):
            force_authenticate(factory.get("/x/"), user=pending)
        await pending


async def _call(view: Any, request: HttpRequest) -> Any:
    """Call a sync view from async code, as Django's handler would."""
    from asgiref.sync import sync_to_async

    return await sync_to_async(view)(request)


def test_a_sync_view_can_also_be_called_directly() -> None:
    def view(request: HttpRequest) -> JsonResponse:
        return JsonResponse({"path": request.path})

    assert json.loads(view(factory.get("/p/")).content) == {"path": "/p/"}


# -- raw bodies that DRF would send as their repr() --------------------------------


def test_a_generator_with_a_content_type_is_sent_as_its_bytes() -> None:
    chunks = (part for part in [b"a,b\n", "1,é\n"])
    request = factory.post("/x/", chunks, content_type="text/csv")
    assert request.body == "a,b\n1,é\n".encode()
    assert request.META["CONTENT_LENGTH"] == str(len(request.body))
    # DRF's own factory sends the generator's repr() instead.
    drf = APIRequestFactory().post("/x/", iter([b"a"]), content_type="text/csv")
    assert drf.body.startswith(b"<list_iterator object")


def test_a_file_object_with_a_content_type_is_read() -> None:
    request = factory.put("/x/", io.BytesIO(b"\x00raw"), content_type="x/raw")
    assert request.body == b"\x00raw"
    request = factory.generic("POST", "/x/", io.StringIO("text"), "text/plain")
    assert request.body == b"text"


def test_bytearray_and_memoryview_are_bytes() -> None:
    assert factory.post("/x/", bytearray(b"ab"), content_type="x/y").body == b"ab"
    assert factory.generic("POST", "/x/", memoryview(b"cd")).body == b"cd"


def test_a_dict_under_a_json_content_type_is_json() -> None:
    request = factory.post("/x/", {"a": 1}, content_type="application/vnd.api+json")
    assert json.loads(request.body) == {"a": 1}
    request = factory.generic("PUT", "/x/", {"b": [2]}, "application/json")
    assert json.loads(request.body) == {"b": [2]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"a": 1},
            r"got a dict as data= with content_type='text/plain', which "
            r"would be sent as its repr\(\)",
        ),
        (iter([1, 2]), r"got data= that yielded a int; a raw body is made of bytes"),
        (object(), r"got a object as data=, which would be sent as its repr\(\)"),
    ],
)
def test_bodies_that_would_be_a_repr_are_refused(data: Any, message: str) -> None:
    with pytest.raises(
        TypeError, match=rf"^AsyncAPIRequestFactory\.post\(\) {message}"
    ):
        factory.post("/x/", data, content_type="text/plain")


def test_an_async_iterator_says_to_collect_it_first() -> None:
    async def chunks() -> Any:
        yield b"a"

    with pytest.raises(TypeError, match=r"Collect it first: data=b''\.join"):
        factory.post("/x/", chunks(), content_type="text/plain")


def test_data_with_query_params_on_get_is_refused_not_dropped() -> None:
    with pytest.raises(
        ValueError,
        match=r"^AsyncAPIRequestFactory\.get\(\) got both data= and query_params=",
    ):
        factory.get("/x/", {"a": 1}, query_params={"b": 2})
    # DRF's own factory silently drops data=.
    assert APIRequestFactory().get(
        "/x/", {"a": 1}, query_params={"b": 2}
    ).GET.dict() == {"b": "2"}


def test_the_factory_sends_no_host_header_as_drfs_does() -> None:
    request = factory.get("/x/")
    assert "HTTP_HOST" not in request.META
    assert request.get_host() == "testserver"


def test_request_builds_from_environ_keys_as_djangos_does() -> None:
    request = factory.request(
        REQUEST_METHOD="PUT",
        PATH_INFO="/items/1/",
        QUERY_STRING="v=2",
        HTTP_X_TRACE="t",
        CONTENT_TYPE="application/json",
        **{"wsgi.input": io.BytesIO(b'{"a": 1}')},
    )
    assert (request.method, request.path, request.GET.dict()) == (
        "PUT",
        "/items/1/",
        {"v": "2"},
    )
    assert request.headers["X-Trace"] == "t"
    assert json.loads(request.body) == {"a": 1}
