"""AsyncAPIClient: DRF's APIClient conveniences on Django's ASGI request path."""

from __future__ import annotations

import asyncio
import base64
import gc
import types
import warnings
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import AsyncClient, override_settings
from django.test.client import RedirectCycleError
from django.urls import path
from rest_framework.authtoken.models import Token
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from restflow.test import (
    AsyncAPIClient,
    AsyncAPISimpleTestCase,
    AsyncAPITestCase,
    NotAwaitedError,
)
from tests.testapp.models import Product

ASYNC_CAPABLE_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tests.project.middleware.async_stamp_middleware",
]


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class VerbTests(AsyncAPISimpleTestCase):
    """Every verb is awaitable and reaches the view through the middleware."""

    async def test_every_verb_reaches_the_view(self) -> None:
        for verb in ["get", "post", "put", "patch", "delete", "options"]:
            response = await getattr(self.client, verb)("/echo/")
            assert response.status_code == 200, verb
            assert response.data["method"] == verb.upper()
            assert response.data["stamps"] == ["sync-ran", "async-ran"]
            assert (
                response["X-Sync-Middleware"] == response["X-Async-Middleware"] == "1"
            )

    async def test_head_has_headers_but_no_body(self) -> None:
        response = await self.client.head("/echo/")
        assert response.status_code == 200
        assert response.content == b""

    async def test_generic_sends_any_method_with_a_raw_body(self) -> None:
        response = await self.client.generic(
            "PATCH", "/echo/", b'{"a": 1}', "application/json", HTTP_X_TRACE="g"
        )
        assert response.data["method"] == "PATCH"
        assert response.data["data"] == {"a": 1}
        assert response.data["headers"]["HTTP_X_TRACE"] == "g"

    async def test_generic_follows_redirects(self) -> None:
        response = await self.client.generic("POST", "/redirect/307/", follow=True)
        assert response.data["method"] == "POST"
        assert response.redirect_chain == [("/echo/", 307)]

    async def test_trace(self) -> None:
        response = await self.client.trace("/echo/")
        assert response.status_code == 405  # DRF views do not allow TRACE

    async def test_json_body(self) -> None:
        response = await self.client.post(
            "/echo/", {"name": "Phone", "tags": ["a"]}, format="json"
        )
        assert response.data["content_type"] == "application/json"
        assert response.data["data"] == {"name": "Phone", "tags": ["a"]}

    async def test_multipart_upload(self) -> None:
        photo = SimpleUploadedFile("p.jpg", b"\xff\xd8jpeg", content_type="image/jpeg")
        response = await self.client.post(
            "/echo/", {"photo": photo, "alt": "x"}, format="multipart"
        )
        assert response.json()["FILES"] == {
            "photo": [["p.jpg", "image/jpeg", "\xff\xd8jpeg"]]
        }
        assert response.json()["POST"] == [["alt", ["x"]]]

    async def test_raw_body_with_content_type(self) -> None:
        response = await self.client.post(
            "/echo/", b'{"raw": 1}', content_type="application/json"
        )
        assert response.data["data"] == {"raw": 1}

    async def test_format_and_content_type_together_fail_before_sending(self) -> None:
        with pytest.raises(AssertionError, match="both `format` and `content_type`"):
            self.client.post(
                "/echo/", {}, format="json", content_type="application/json"
            )

    async def test_get_data_is_the_query_string(self) -> None:
        response = await self.client.get("/echo/", {"q": "thé", "n": [1, 2]})
        assert response.json()["GET"] == [["n", ["1", "2"]], ["q", ["thé"]]]

    async def test_per_request_environ_extras(self) -> None:
        response = await self.client.get(
            "/echo/", HTTP_X_TRACE="t1", REMOTE_ADDR="10.0.0.1"
        )
        assert response.data["headers"]["HTTP_X_TRACE"] == "t1"
        assert response.data["remote_addr"] == "10.0.0.1"

    async def test_other_keywords_are_header_names_as_in_django(self) -> None:
        response = await self.client.get(
            "/echo/", ACCEPT="application/json", REMOTE_USER="alice", x_trace="t2"
        )
        headers = response.data["headers"]
        assert headers["HTTP_ACCEPT"] == "application/json"
        assert headers["HTTP_REMOTE_USER"] == "alice"
        assert headers["HTTP_X_TRACE"] == "t2"

    async def test_two_spellings_of_one_header_send_it_once(self) -> None:
        response = await self.client.get(
            "/echo/", HTTP_X_TRACE="environ", X_TRACE="django", headers={"X-Trace": "h"}
        )
        assert response.data["headers"]["HTTP_X_TRACE"] == "h"
        response = await self.client.get("/echo/", HTTP_X_TRACE="environ", X_TRACE="k")
        assert response.data["headers"]["HTTP_X_TRACE"] == "k"

    async def test_format_is_accepted_on_get_head_and_trace_as_in_drf(self) -> None:
        response = await self.client.get("/echo/", {"q": "1"}, format="json")
        assert response.json()["GET"] == [["q", ["1"]]]
        assert (await self.client.head("/echo/", format="json")).status_code == 200
        assert (await self.client.trace("/echo/", format="json")).status_code == 405

    async def test_headers_keyword(self) -> None:
        response = await self.client.get("/echo/", headers={"Accept-Language": "fr"})
        assert response.data["headers"]["HTTP_ACCEPT_LANGUAGE"] == "fr"


class ConstructorTests(AsyncAPISimpleTestCase):
    async def test_environ_defaults_go_with_every_request(self) -> None:
        client = AsyncAPIClient(HTTP_HOST="api.example.com", HTTP_X_CLIENT="c1")
        response = await client.get("/echo/")
        assert response.data["host"] == "api.example.com"
        assert response.data["headers"]["HTTP_X_CLIENT"] == "c1"
        override = await client.get("/echo/", HTTP_X_CLIENT="c2")
        assert override.data["headers"]["HTTP_X_CLIENT"] == "c2"

    async def test_django_keywords_keep_their_meaning(self) -> None:
        client = AsyncAPIClient(
            headers={"X-Api-Version": "2"}, query_params={"lang": "en"}
        )
        response = await client.get("/echo/")
        assert response.data["headers"]["HTTP_X_API_VERSION"] == "2"
        assert response.json()["GET"] == [["lang", ["en"]]]

    async def test_raise_request_exception(self) -> None:
        with pytest.raises(ZeroDivisionError):
            await self.client.get("/raises/")
        quiet = AsyncAPIClient(raise_request_exception=False)
        response = await quiet.get("/raises/")
        assert response.status_code == 500

    def test_bad_default_is_refused_when_the_client_is_made(self) -> None:
        with pytest.raises(
            TypeError, match=r"^AsyncAPIClient\(\) got HTTP_X_TEAM=None"
        ):
            AsyncAPIClient(HTTP_X_TEAM=None)
        with pytest.raises(ValueError, match=r"^AsyncAPIClient\(\) got .*'PATH_INFO'"):
            AsyncAPIClient(PATH_INFO="/elsewhere/")

    async def test_defaults_can_be_changed_after_the_client_is_made(self) -> None:
        self.client.defaults["HTTP_X_TEAM"] = "red"
        self.client.defaults["REMOTE_ADDR"] = "10.4.4.4"
        response = await self.client.get("/echo/")
        assert response.data["headers"]["HTTP_X_TEAM"] == "red"
        assert response.data["remote_addr"] == "10.4.4.4"
        del self.client.defaults["HTTP_X_TEAM"]
        response = await self.client.get("/echo/")
        assert "HTTP_X_TEAM" not in response.data["headers"]

    async def test_a_cookie_keyword_replaces_the_jar_for_that_request(self) -> None:
        self.client.cookies["jar"] = "1"
        response = await self.client.get("/echo/", HTTP_COOKIE="given=2")
        assert response.data["headers"]["HTTP_COOKIE"] == "given=2"
        response = await self.client.get("/echo/")
        assert response.data["headers"]["HTTP_COOKIE"] == "jar=1"

    async def test_sends_a_host_header_like_every_http_client(self) -> None:
        response = await self.client.get("/echo/")
        assert response.data["headers"]["HTTP_HOST"] == "testserver"
        response = await self.client.get(
            "/echo/", SERVER_NAME="api.example.com", SERVER_PORT="8443"
        )
        assert response.data["headers"]["HTTP_HOST"] == "api.example.com:8443"
        response = await self.client.get("/echo/", secure=True)
        assert response.data["headers"]["HTTP_HOST"] == "testserver"
        response = await self.client.get("/echo/", headers={"Host": "h.example"})
        assert response.data["host"] == "h.example"


class ViewErrorTests(AsyncAPISimpleTestCase):
    def test_an_error_signalled_without_a_request_is_raised_as_django_does(
        self,
    ) -> None:
        try:
            raise KeyError("signalled")
        except KeyError:
            self.client.store_exc_info()
        with pytest.raises(KeyError, match="signalled"):
            self.client.check_exception(HttpResponse())

    async def test_the_error_is_kept_on_the_response_when_not_raised(self) -> None:
        client = AsyncAPIClient(raise_request_exception=False)
        response = await client.get("/raises/")
        assert response.exc_info[0] is ZeroDivisionError


class ResponseTests(AsyncAPISimpleTestCase):
    async def test_data_json_content_and_request(self) -> None:
        response = await self.client.get("/echo/?a=1")
        assert response.data["GET"] == [("a", ["1"])]
        assert response.json()["GET"] == [["a", ["1"]]]
        assert response.content.startswith(b"{")
        assert response.asgi_request.path == "/echo/"
        assert response.asgi_request.GET["a"] == "1"

    async def test_streaming_from_a_sync_iterator(self) -> None:
        response = await self.client.get("/stream/sync/")
        with pytest.warns(Warning, match="read to the end before the response") as w:
            chunks = [chunk async for chunk in response.streaming_content]
        assert chunks == [b"0,row0\n", b"1,row1\n", b"2,row2\n"]
        assert w[0].filename == __file__

    async def test_a_sync_stream_warns_as_django_does_in_production(self) -> None:
        response = await self.client.get("/stream/sync/")
        with pytest.warns(Warning, match="must consume synchronous iterators") as w:
            assert (
                b"".join([chunk async for chunk in response])
                == b"0,row0\n1,row1\n2,row2\n"
            )
        assert w[0].filename == __file__

    async def test_streaming_from_an_async_iterator(self) -> None:
        response = await self.client.get("/stream/async/")
        chunks = [chunk async for chunk in response.streaming_content]
        assert chunks == [b"0,row0\n", b"1,row1\n", b"2,row2\n"]


class ForgottenAwaitTests(AsyncAPISimpleTestCase):
    async def test_using_an_unawaited_call_says_to_await_it(self) -> None:
        pending = self.client.get("/echo/")
        with pytest.raises(
            NotAwaitedError, match=r"response = await client\.get\('/echo/'\)"
        ):
            pending.status_code  # noqa: B018
        with pytest.raises(NotAwaitedError, match="has not been awaited"):
            pending["Content-Type"]
        assert not hasattr(pending, "data")
        response = await pending  # still a normal awaitable
        assert response.status_code == 200

    async def test_works_with_gather_and_create_task(self) -> None:
        first, second = await asyncio.gather(
            self.client.get("/echo/"), self.client.post("/echo/")
        )
        assert (first.data["method"], second.data["method"]) == ("GET", "POST")
        task = asyncio.create_task(self.client.delete("/echo/"))
        assert (await task).data["method"] == "DELETE"

    async def test_cancelling_a_task_cancels_the_request(self) -> None:
        task = asyncio.create_task(self.client.get("/async/slow/"))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    def test_repr_and_close(self) -> None:
        pending = self.client.get("/echo/")
        assert (
            repr(pending) == "<PendingResponse client.get('/echo/'): not awaited yet>"
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pending.close()  # closing on purpose is not "forgetting"
            del pending

    async def test_a_request_driven_by_a_task_does_not_warn(self) -> None:
        # A task sends into the pending request (send(None)) instead of
        # awaiting it; that is using it, not forgetting it.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pending = self.client.get("/echo/")
            response = await asyncio.create_task(pending)
            del pending
            gc.collect()
        assert response.status_code == 200
        assert [str(w.message) for w in caught] == []

    async def test_never_awaiting_warns_with_the_call(self) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.client.get("/echo/")
        messages = [str(w.message) for w in caught]
        assert any("client.get('/echo/') was never awaited" in m for m in messages), (
            messages
        )
        assert not any("coroutine" in m for m in messages), messages


class RedirectTests(AsyncAPISimpleTestCase):
    async def test_not_followed_by_default(self) -> None:
        response = await self.client.get("/redirect/302/")
        assert response.status_code == 302
        assert response.redirect_chain == []

    async def test_302_and_303_turn_a_post_into_a_get(self) -> None:
        for status in (301, 302, 303):
            response = await self.client.post(
                f"/redirect/{status}/?to=/echo/done",
                {"a": 1},
                format="json",
                follow=True,
            )
            assert response.data["method"] == "GET"
            assert response.data["body"] == ""
            assert response.redirect_chain == [("/echo/done", status)]

    async def test_307_and_308_keep_method_and_body(self) -> None:
        for status in (307, 308):
            response = await self.client.put(
                f"/redirect/{status}/?to=/echo/moved",
                {"a": 1},
                format="json",
                follow=True,
            )
            assert response.data["method"] == "PUT"
            assert response.data["data"] == {"a": 1}
            assert response.redirect_chain == [("/echo/moved", status)]

    async def test_query_string_of_the_location_is_used(self) -> None:
        response = await self.client.get(
            "/redirect/302/?to=/echo/%3Fpage%3D3", follow=True
        )
        assert response.json()["GET"] == [["page", ["3"]]]

    async def test_relative_location(self) -> None:
        response = await self.client.get("/redirect/302/?to=../../echo/", follow=True)
        assert response.data["path"] == "/echo/"

    async def test_absolute_location_on_another_host(self) -> None:
        response = await self.client.get(
            "/redirect/302/?to=https://api.example.com:8443/echo/", follow=True
        )
        assert response.data["host"] == "api.example.com:8443"
        assert response.data["scheme"] == "https"

    async def test_headers_are_sent_again_after_a_redirect(self) -> None:
        response = await self.client.get(
            "/redirect/302/", follow=True, HTTP_X_TRACE="t9"
        )
        assert response.data["headers"]["HTTP_X_TRACE"] == "t9"

    async def test_cycle_raises_djangos_error(self) -> None:
        with pytest.raises(
            RedirectCycleError, match="Redirect loop detected"
        ) as caught:
            await self.client.get("/redirect/loop/", follow=True)
        assert caught.value.last_response.status_code == 302

    async def test_endless_chain_gives_up_after_twenty(self) -> None:
        with pytest.raises(RedirectCycleError, match="Too many redirects") as caught:
            await self.client.get("/redirect/forever/0/", follow=True)
        assert len(caught.value.last_response.redirect_chain) == 21

    async def test_307_get_uses_the_query_of_the_location(self) -> None:
        response = await self.client.get(
            "/redirect/307/", {"to": "/echo/?page=2"}, follow=True
        )
        assert response.json()["GET"] == [["page", ["2"]]]

    async def test_absolute_http_location_without_port(self) -> None:
        response = await self.client.get(
            "/redirect/302/",
            {"to": "http://other.example/echo/"},
            follow=True,
            secure=True,
        )
        assert response.data["host"] == "other.example"
        assert response.data["scheme"] == "http"
        assert response.json()["server"] == ["other.example", "80"]

    async def test_djangos_own_async_client_cannot_follow_a_307(self) -> None:
        """Why restflow follows redirects itself (Django 5.2 to 6.1)."""
        with pytest.raises(KeyError, match="REQUEST_METHOD"):
            await AsyncClient().post("/redirect/307/", follow=True)


class AuthenticationTests(AsyncAPITestCase):
    """Token, basic, session and forced authentication through real DRF."""

    async def asyncSetUp(self) -> None:
        self.alice = await User.objects.acreate_user("alice", password="wonderland")
        self.bob = await User.objects.acreate_user("bob", password="builder")

    async def test_token_credentials_on_every_request(self) -> None:
        token = await Token.objects.acreate(user=self.alice)
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        for _ in range(2):
            response = await self.client.get("/whoami/")
            assert response.data == {
                "user": "alice",
                "auth": token.key,
                "authenticator": "TokenAuthentication",
            }
        self.client.credentials()
        assert (await self.client.get("/whoami/")).status_code == 403

    async def test_basic_authentication_per_request(self) -> None:
        response = await self.client.get(
            "/whoami/", HTTP_AUTHORIZATION=basic("bob", "builder")
        )
        assert response.data["user"] == "bob"
        assert response.data["authenticator"] == "BasicAuthentication"

    def test_credentials_with_a_bad_value_name_the_header_and_the_fix(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"^AsyncAPIClient\.credentials\(\) got HTTP_AUTHORIZATION=None: "
            "leave HTTP_AUTHORIZATION out",
        ):
            self.client.credentials(HTTP_AUTHORIZATION=None)

    async def test_bytes_credentials_authenticate_as_in_drf(self) -> None:
        token = await Token.objects.acreate(user=self.alice)
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}".encode())
        response = await self.client.get("/whoami/")
        assert response.status_code == 200
        assert response.data["user"] == "alice"

    async def test_session_login_and_logout(self) -> None:
        assert await self.client.alogin(username="alice", password="wonderland")
        response = await self.client.get("/whoami/")
        assert response.data["authenticator"] == "SessionAuthentication"
        assert response.data["user"] == "alice"
        await self.client.alogout()
        assert (await self.client.get("/whoami/")).status_code == 403

    async def test_wrong_password(self) -> None:
        assert not await self.client.alogin(username="alice", password="nope")

    async def test_force_login(self) -> None:
        await self.client.aforce_login(self.bob)
        assert (await self.client.get("/whoami/")).data["user"] == "bob"
        assert (await self.client.get("/django-async/")).json()["user"] == "bob"

    async def test_force_authenticate_skips_the_authenticators(self) -> None:
        self.client.force_authenticate(user=self.alice, token="fake-token")
        response = await self.client.post("/whoami/")
        assert response.data == {
            "user": "alice",
            "auth": "fake-token",
            "authenticator": "ForcedAuthentication",
        }
        assert (await self.client.get("/async/echo/")).data["user"] == "alice"

    async def test_force_authenticate_with_a_token_and_no_user(self) -> None:
        # A service token with no user behind it, as DRF's APIClient allows:
        # request.auth is the token and request.user is None.
        self.client.force_authenticate(token="service-token")
        with override_settings(ROOT_URLCONF=_TOKEN_URLS):
            response = await self.client.get("/token-only/")
        assert response.data == {"user": None, "auth": "service-token"}

    async def test_force_authenticate_with_nothing_clears_everything(self) -> None:
        await self.client.aforce_login(self.bob)
        self.client.credentials(HTTP_AUTHORIZATION=basic("bob", "builder"))
        self.client.force_authenticate(self.alice)
        self.client.force_authenticate()
        assert (await self.client.get("/whoami/")).status_code == 403

    async def test_alogout_clears_credentials_and_forced_authentication(self) -> None:
        self.client.force_authenticate(self.alice)
        self.client.credentials(HTTP_AUTHORIZATION=basic("bob", "builder"))
        await self.client.alogout()
        assert (await self.client.get("/whoami/")).status_code == 403

    async def test_force_authenticate_refuses_an_unawaited_user(self) -> None:
        pending = User.objects.aget(username="alice")
        with pytest.raises(TypeError, match="forget to await"):
            self.client.force_authenticate(pending)
        await pending

    async def test_sync_session_methods_in_async_code_point_to_the_async_ones(
        self,
    ) -> None:
        with pytest.raises(RuntimeError, match=r"await client\.alogout\(\)"):
            self.client.logout()
        with pytest.raises(RuntimeError, match=r"await client\.alogin\(\.\.\.\)"):
            self.client.login(username="alice", password="wonderland")
        with pytest.raises(RuntimeError, match=r"await client\.aforce_login"):
            self.client.force_login(self.alice)

    def test_sync_session_methods_in_sync_code(self) -> None:
        async def who() -> Any:
            return (await self.client.get("/whoami/")).data.get("user")

        from asgiref.sync import async_to_sync

        assert self.client.login(username="alice", password="wonderland")
        assert async_to_sync(who)() == "alice"
        self.client.logout()
        self.client.force_login(self.bob)
        assert async_to_sync(who)() == "bob"

    async def test_clients_forced_as_different_users_stay_apart(self) -> None:
        clients = []
        for user in [self.alice, self.bob] * 10:
            client = AsyncAPIClient()
            client.force_authenticate(user)
            clients.append((user.username, client))
        responses = await asyncio.gather(*(c.get("/async/slow/") for _, c in clients))
        assert [r.data["user"] for r in responses] == [name for name, _ in clients]

    async def test_csrf_is_enforced_only_when_asked(self) -> None:
        strict = AsyncAPIClient(enforce_csrf_checks=True)
        await strict.aforce_login(self.alice)
        refused = await strict.post("/csrf-guarded/")
        assert refused.status_code == 403
        assert "CSRF" in refused.data["detail"]
        await self.client.aforce_login(self.alice)
        assert (await self.client.post("/csrf-guarded/")).status_code == 200


class ViewKindTests(AsyncAPITestCase):
    async def test_model_viewset_through_a_router(self) -> None:
        created = await self.client.post(
            "/api/products/", {"name": "Lamp", "price": 5}, format="json"
        )
        assert created.status_code == 201
        pk = created.data["id"]
        assert (await self.client.get(f"/api/products/{pk}/")).data["name"] == "Lamp"
        patched = await self.client.patch(
            f"/api/products/{pk}/", {"price": 7}, format="json"
        )
        assert patched.data["price"] == 7
        assert (await self.client.delete(f"/api/products/{pk}/")).status_code == 204
        assert await Product.objects.acount() == 0

    async def test_generic_list_view(self) -> None:
        await Product.objects.acreate(name="On", is_active=True)
        await Product.objects.acreate(name="Off", is_active=False)
        response = await self.client.get("/active-products/")
        assert [p["name"] for p in response.data] == ["On"]

    async def test_api_view_function(self) -> None:
        response = await self.client.post("/echo-function/", {"a": 1}, format="json")
        assert response.data["data"] == {"a": 1}

    async def test_adrf_view_and_viewset(self) -> None:
        response = await self.client.post("/async/echo/", {"x": 1}, format="json")
        assert response.data["async"] is True
        assert (
            await self.client.post(
                "/async/products/", {"name": "Kettle"}, format="json"
            )
        ).status_code == 201
        assert (await self.client.get("/async/products/")).data == ["Kettle"]

    async def test_plain_django_async_view_with_middleware(self) -> None:
        response = await self.client.get("/django-async/")
        assert response.json()["stamps"] == ["sync-ran", "async-ran"]


class ConcurrencyTests(AsyncAPITestCase):
    async def test_five_hundred_gathered_requests(self) -> None:
        user = await User.objects.acreate_user("carol", password="pw")
        await self.client.aforce_login(user)
        responses = await asyncio.gather(
            *(self.client.get(f"/echo/?i={i}") for i in range(500))
        )
        assert [r.json()["GET"] for r in responses] == [
            [["i", [str(i)]]] for i in range(500)
        ]
        assert {r.data["user"] for r in responses} == {"carol"}

    @override_settings(MIDDLEWARE=ASYNC_CAPABLE_MIDDLEWARE)
    async def test_a_failing_view_raises_in_its_own_request_only(self) -> None:
        async def outcome(path: str) -> Any:
            try:
                return (await self.client.get(path)).status_code
            except ZeroDivisionError:
                return "raised"

        paths = ["/async/raises/" if i % 3 == 0 else "/async/slow/" for i in range(30)]
        outcomes = await asyncio.gather(*(outcome(p) for p in paths))
        assert outcomes == ["raised" if "raises" in p else 200 for p in paths]

    @override_settings(MIDDLEWARE=ASYNC_CAPABLE_MIDDLEWARE)
    async def test_awaiting_views_overlap(self) -> None:
        # Each view waits until all 40 requests are inside a view at once:
        # that only happens if the client really runs them concurrently. A
        # serialising client would make the first one give up (504).
        MEETING.update(expected=40, inside=0, everyone=asyncio.Event())
        with override_settings(ROOT_URLCONF=_MEETING_URLS):
            responses = await asyncio.gather(
                *(self.client.get("/meet/") for _ in range(40))
            )
        assert [r.status_code for r in responses] == [200] * 40

    async def test_a_sync_only_middleware_serialises_requests_as_in_production(
        self,
    ) -> None:
        # Django runs a sync middleware in its one sync thread for the whole
        # inner request, so requests queue behind it. The client shows that:
        # never more than one request is inside the view.
        MEETING.update(inside=0, most=0)
        with override_settings(ROOT_URLCONF=_MEETING_URLS):
            await asyncio.gather(*(self.client.get("/count/") for _ in range(10)))
        assert MEETING["most"] == 1


@api_view(["GET"])
@permission_classes([])
def token_only(request: Request) -> Response:
    return Response(
        {
            "user": None if request.user is None else str(request.user),
            "auth": request.auth,
        }
    )


_TOKEN_URLS = types.ModuleType("token_urls")
_TOKEN_URLS.urlpatterns = [path("token-only/", token_only)]  # type: ignore[attr-defined]


#: Shared state of the views below, reset by each test that uses them.
MEETING: dict[str, Any] = {}


async def meet(request: HttpRequest) -> JsonResponse:
    MEETING["inside"] += 1
    if MEETING["inside"] == MEETING["expected"]:
        MEETING["everyone"].set()
    try:
        await asyncio.wait_for(MEETING["everyone"].wait(), timeout=30)
    except asyncio.TimeoutError:
        return JsonResponse({"inside": MEETING["inside"]}, status=504)
    return JsonResponse({})


async def count_inside(request: HttpRequest) -> JsonResponse:
    MEETING["inside"] += 1
    MEETING["most"] = max(MEETING["most"], MEETING["inside"])
    await asyncio.sleep(0.01)
    MEETING["inside"] -= 1
    return JsonResponse({})


_MEETING_URLS = types.ModuleType("meeting_urls")
_MEETING_URLS.urlpatterns = [  # type: ignore[attr-defined]
    path("meet/", meet),
    path("count/", count_inside),
]


@override_settings(REST_FRAMEWORK={"TEST_REQUEST_DEFAULT_FORMAT": "json"})
class SettingsTests(AsyncAPISimpleTestCase):
    async def test_default_format_follows_the_settings(self) -> None:
        response = await AsyncAPIClient().post("/echo/", {"a": [1, 2]})
        assert response.data["content_type"] == "application/json"
        assert response.data["data"] == {"a": [1, 2]}


class MistakeTests(AsyncAPISimpleTestCase):
    """Mistakes raise when the call is made, naming the call the user wrote."""

    def test_errors_name_the_client_call(self) -> None:
        cases: list[tuple[str, Any, str]] = [
            ("get", {"HTTP_X": None}, "AsyncAPIClient.get() got HTTP_X=None"),
            ("post", {"HTTP_X": "東京"}, "AsyncAPIClient.post() got HTTP_X='東京'"),
            ("put", {"PATH_INFO": "/y/"}, "AsyncAPIClient.put() got the keyword"),
            ("options", {"SERVER_PORT": "x"}, "AsyncAPIClient.options() got SERVER"),
        ]
        for verb, keywords, start in cases:
            with self.subTest(verb=verb):
                with pytest.raises((TypeError, ValueError)) as caught:
                    getattr(self.client, verb)("/echo/", **keywords)
                assert str(caught.value).startswith(start)

    def test_generic_and_subclasses_are_named_as_written(self) -> None:
        class ShopClient(AsyncAPIClient):
            pass

        with pytest.raises(TypeError, match=r"^ShopClient\.generic\(\) got HTTP_X"):
            ShopClient().generic("PURGE", "/echo/", HTTP_X=None)

    async def test_a_generator_body_is_sent_as_its_bytes(self) -> None:
        response = await self.client.post(
            "/echo/", (c for c in [b'{"a": ', b"1}"]), content_type="application/json"
        )
        assert response.data["data"] == {"a": 1}

    async def test_a_file_under_the_json_default_says_to_use_multipart(self) -> None:
        photo = SimpleUploadedFile("p.jpg", b"jpeg", content_type="image/jpeg")
        with pytest.raises(TypeError, match=r"^AsyncAPIClient\.post\(\) got a file"):
            self.client.post("/echo/", {"photo": photo})

    @override_settings(REST_FRAMEWORK={"TEST_REQUEST_DEFAULT_FORMAT": "multipart"})
    async def test_the_projects_default_format_wins(self) -> None:
        response = await AsyncAPIClient().post("/echo/", {"a": "1"})
        assert response.data["content_type"] == "multipart/form-data"
