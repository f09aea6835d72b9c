"""Mistakes that are easy to make in async tests, and what restflow says."""

from django.core.exceptions import SynchronousOnlyOperation
from django.http import JsonResponse
from django.urls import path

from restflow.test import AsyncAPIRequestFactory, AsyncAPITestCase, NotAwaitedError
from shop.models import Product


async def visits(request):
    """A view that relies on SessionMiddleware."""
    request.session["visits"] = request.session.get("visits", 0) + 1
    await request.session.asave()
    return JsonResponse({"visits": request.session["visits"]})


class PitfallTests(AsyncAPITestCase):
    urlpatterns = [path("visits/", visits)]

    # --8<-- [start:await]
    async def test_forgotten_await(self):
        response = self.client.get("/visits/")  # no await: nothing was sent

        with self.assertRaisesMessage(NotAwaitedError, "has not been awaited"):
            self.assertEqual(response.status_code, 200)

        response = await response  # the fix
        self.assertEqual(response.status_code, 200)
        # --8<-- [end:await]

    # --8<-- [start:sync-orm]
    async def test_sync_orm_calls_in_an_async_test(self):
        with self.assertRaises(SynchronousOnlyOperation):
            Product.objects.count()

        self.assertEqual(await Product.objects.acount(), 0)  # the fix
        # --8<-- [end:sync-orm]

    # --8<-- [start:sync-login]
    async def test_sync_login_in_an_async_test(self):
        with self.assertRaisesMessage(RuntimeError, "client.alogout()"):
            self.client.logout()

        await self.client.alogout()  # the fix
        # --8<-- [end:sync-login]

    # --8<-- [start:middleware]
    async def test_the_factory_runs_no_middleware(self):
        request = AsyncAPIRequestFactory().get("/visits/")
        with self.assertRaisesMessage(AttributeError, "runs no middleware"):
            await visits(request)

        # The client runs the whole middleware stack, sessions included.
        response = await self.client.get("/visits/")
        self.assertEqual(response.json(), {"visits": 1})
        # --8<-- [end:middleware]

    # --8<-- [start:format]
    async def test_format_and_content_type_together(self):
        with self.assertRaises(AssertionError):
            self.client.post("/visits/", {}, format="json", content_type="text/csv")
        # --8<-- [end:format]
