"""Signing up and signing in: every way a test can authenticate its client."""

from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from restflow.test import AsyncAPIClient, AsyncAPITestCase


class SignUpTests(AsyncAPITestCase):
    # --8<-- [start:credentials]
    async def test_the_token_from_sign_up_works(self):
        response = await self.client.post(
            "/api/users/", {"username": "ana", "password": "s3cret"}
        )
        self.assertEqual(response.status_code, 201)

        # Sent with every request from now on, until credentials() is called again.
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {response.data['token']}")
        me = await self.client.get("/api/users/me/")
        self.assertEqual(me.data["authenticated_by"], "TokenAuthentication")

        self.client.credentials()  # no arguments: forget them
        self.assertEqual((await self.client.get("/api/users/me/")).status_code, 403)
        # --8<-- [end:credentials]


class SignInTests(AsyncAPITestCase):
    @classmethod
    async def asetUpTestData(cls):
        cls.khan = await User.objects.acreate_user("khan", password="hunter2")

    # --8<-- [start:session]
    async def test_session_login_and_logout(self):
        self.assertTrue(await self.client.alogin(username="khan", password="hunter2"))
        me = await self.client.get("/api/users/me/")
        self.assertEqual(me.data["authenticated_by"], "SessionAuthentication")

        await self.client.alogout()
        self.assertEqual((await self.client.get("/api/users/me/")).status_code, 403)
        # --8<-- [end:session]

    # --8<-- [start:force-login]
    async def test_force_login_skips_the_password(self):
        await self.client.aforce_login(self.khan)
        me = await self.client.get("/api/users/me/")
        self.assertEqual(me.data["authenticated_by"], "SessionAuthentication")
        # --8<-- [end:force-login]

    # --8<-- [start:one-request]
    async def test_a_header_on_one_request(self):
        token = await Token.objects.acreate(user=self.khan)

        me = await self.client.get(
            "/api/users/me/", headers={"Authorization": f"Token {token.key}"}
        )
        self.assertEqual(me.data["username"], "khan")
        # The WSGI spelling works too: HTTP_AUTHORIZATION=f"Token {token.key}"
        # --8<-- [end:one-request]

    # --8<-- [start:force-authenticate]
    async def test_force_authenticate_skips_authentication(self):
        self.client.force_authenticate(self.khan)
        me = await self.client.get("/api/users/me/")
        # Neither session nor token authentication ran.
        self.assertEqual(me.data["authenticated_by"], "ForcedAuthentication")

        self.client.force_authenticate()  # no arguments: anonymous again
        self.assertEqual((await self.client.get("/api/users/me/")).status_code, 403)
        # --8<-- [end:force-authenticate]

    # --8<-- [start:csrf]
    async def test_csrf_is_checked_when_asked_for(self):
        client = AsyncAPIClient(enforce_csrf_checks=True)
        await client.aforce_login(self.khan)

        response = await client.post("/api/orders/", {"product": 1})

        self.assertEqual(response.status_code, 403)
        self.assertIn("CSRF", response.data["detail"])
        # --8<-- [end:csrf]
