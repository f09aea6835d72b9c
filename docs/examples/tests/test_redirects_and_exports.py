"""Following redirects, and reading a streamed CSV export."""

from django.contrib.auth.models import User

from restflow.test import AsyncAPITestCase
from shop.models import Product


class RedirectTests(AsyncAPITestCase):
    # --8<-- [start:no-follow]
    async def test_without_follow_you_get_the_redirect(self):
        response = await self.client.get("/catalogue/")
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response["Location"], "/api/products/")
        # --8<-- [end:no-follow]

    # --8<-- [start:follow]
    async def test_follow_a_302(self):
        response = await self.client.get("/catalogue/", follow=True)

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.redirect_chain, [("/api/products/", 302)])
        # --8<-- [end:follow]

    # --8<-- [start:follow-308]
    async def test_a_308_keeps_the_method_and_the_body(self):
        khan = await User.objects.acreate_user("khan")
        phone = await Product.objects.acreate(name="Phone", price=499)
        self.client.force_authenticate(khan)

        response = await self.client.post(
            "/api/v1/orders/", {"product": phone.pk}, follow=True
        )

        self.assertEqual(response.redirect_chain, [("/api/orders/", 308)])
        self.assertEqual(response.status_code, 201)  # POSTed again, with its body
        # --8<-- [end:follow-308]


class ExportTests(AsyncAPITestCase):
    # --8<-- [start:streaming]
    async def test_csv_export_streams(self):
        phone = await Product.objects.acreate(name="Phone", price=499)

        response = await self.client.get("/api/exports/products.csv")

        self.assertTrue(response.streaming)
        self.assertEqual(response["Content-Type"], "text/csv")
        body = b"".join([chunk async for chunk in response.streaming_content])
        self.assertEqual(body, f"id,name,price\n{phone.pk},Phone,499\n".encode())
        # --8<-- [end:streaming]
