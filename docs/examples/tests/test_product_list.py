"""A first restflow test: the product list, through the real ASGI stack."""

from restflow.test import AsyncAPITestCase
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
