"""The shop on a real socket, driven by httpx as an outside client would."""

import httpx
from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from django.core.handlers.asgi import ASGIHandler
from django.test import override_settings
from rest_framework.authtoken.models import Token

from restflow.test import AsyncAPILiveServerTestCase
from shop.models import Product


# --8<-- [start:live]
class LiveShopTests(AsyncAPILiveServerTestCase):
    async def asyncSetUp(self):
        # An httpx client is bound to the event loop it is used in, so it is
        # made here, in the test's loop, rather than in setUp.
        self.http = httpx.AsyncClient(base_url=self.live_server_url)

    async def asyncTearDown(self):
        await self.http.aclose()

    async def test_the_server_sees_the_tests_data(self):
        await Product.objects.acreate(name="Phone", price=499)

        response = await self.http.get("/api/products/")

        self.assertEqual(response.status_code, 200)
        self.assertEqual([p["name"] for p in response.json()], ["Phone"])
        # --8<-- [end:live]

    # --8<-- [start:live-token]
    async def test_an_order_over_http_with_a_token(self):
        khan = await User.objects.acreate_user("khan", "khan@example.com")
        token = await Token.objects.acreate(user=khan)
        phone = await Product.objects.acreate(name="Phone", price=499)
        customer = httpx.AsyncClient(
            base_url=self.live_server_url,
            headers={"Authorization": f"Token {token.key}"},
        )
        self.addAsyncCleanup(customer.aclose)

        response = await customer.post("/api/orders/", json={"product": phone.pk})

        self.assertEqual(response.status_code, 201)
        # The live server commits for real, so on_commit sent the e-mail.
        self.assertEqual(mail.outbox[0].to, ["khan@example.com"])
        # --8<-- [end:live-token]

    # --8<-- [start:live-stream]
    async def test_the_export_streams_over_the_socket(self):
        await Product.objects.acreate(name="Phone", price=499)

        async with self.http.stream("GET", "/api/exports/products.csv") as response:
            lines = [line async for line in response.aiter_lines()]

        self.assertEqual(lines[0], "id,name,price")
        self.assertEqual(len(lines), 2)
        # --8<-- [end:live-stream]


# --8<-- [start:choose-server]
class UvicornShopTests(AsyncAPILiveServerTestCase):
    asgi_server = "uvicorn"

    async def test_uvicorn_answers(self):
        async with httpx.AsyncClient(base_url=self.live_server_url) as http:
            response = await http.get("/health/")

        self.assertEqual(response.json(), {"status": "ok"})
        self.assertEqual(response.headers["server"], "uvicorn")
        # --8<-- [end:choose-server]


# --8<-- [start:asgi-application]
@override_settings(
    MIDDLEWARE=["django.middleware.security.SecurityMiddleware", *settings.MIDDLEWARE]
)
class SecurityHeaderTests(AsyncAPILiveServerTestCase):
    @classmethod
    def get_asgi_application(cls):
        # Called after override_settings is applied, so the handler is built
        # with the extra middleware.
        return ASGIHandler()

    async def test_responses_carry_the_security_headers(self):
        async with httpx.AsyncClient(base_url=self.live_server_url) as http:
            response = await http.get("/health/")

        self.assertEqual(response.headers["x-content-type-options"], "nosniff")
        # --8<-- [end:asgi-application]
