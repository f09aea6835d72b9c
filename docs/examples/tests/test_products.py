"""Product API tests, written the way a DRF team writes them with restflow."""

from django.contrib.auth.models import User

from restflow.test import AsyncAPISimpleTestCase, AsyncAPITestCase
from shop.models import Product


class ProductListTests(AsyncAPITestCase):
    async def test_lists_active_products_only(self):
        await Product.objects.acreate(name="Phone", price=499)
        await Product.objects.acreate(name="Fax", is_active=False)

        response = await self.client.get("/api/products/")

        self.assertEqual(response.status_code, 200)
        self.assertEqual([p["name"] for p in response.data], ["Phone"])

    async def test_anonymous_users_cannot_create(self):
        response = await self.client.post("/api/products/", {"name": "Tablet"})
        self.assertEqual(response.status_code, 403)

    async def test_signed_in_users_create_with_json(self):
        user = await User.objects.acreate_user("khan", password="hunter2")
        self.client.force_authenticate(user)

        response = await self.client.post("/api/products/", {"name": "Tablet", "price": 300})

        self.assertEqual(response.status_code, 201)
        self.assertTrue(await Product.objects.filter(name="Tablet").aexists())

    async def test_old_links_redirect_to_the_api(self):
        response = await self.client.get("/catalogue/", follow=True)
        self.assertEqual(response.redirect_chain, [("/api/products/", 302)])
        self.assertEqual(response.status_code, 200)

    async def test_csv_export_streams(self):
        phone = await Product.objects.acreate(name="Phone", price=499)

        response = await self.client.get("/api/exports/products.csv")

        chunks = [chunk async for chunk in response.streaming_content]
        self.assertEqual(b"".join(chunks), f"id,name,price\n{phone.pk},Phone,499\n".encode())


class HealthTests(AsyncAPISimpleTestCase):
    async def test_schema_root_needs_no_database(self):
        response = await self.client.get("/api/")
        self.assertEqual(response.status_code, 200)
        self.assertIn("products", response.data)
