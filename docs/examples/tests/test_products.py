"""Editing products: every verb, JSON, raw and multipart bodies."""

import asyncio

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from restflow.test import AsyncAPITestCase
from shop.models import Product


# --8<-- [start:shared-data]
class ProductEditingTests(AsyncAPITestCase):
    @classmethod
    async def asetUpTestData(cls):
        # Runs once for the class; every test starts from these rows.
        cls.khan = await User.objects.acreate_user("khan", password="hunter2")
        cls.phone = await Product.objects.acreate(name="Phone", price=499)

    async def asyncSetUp(self):
        # Runs before each test, in the event loop the test runs in.
        self.client.force_authenticate(self.khan)
        self.url = f"/api/products/{self.phone.pk}/"
        # --8<-- [end:shared-data]

    # --8<-- [start:verbs]
    async def test_create_with_json(self):
        response = await self.client.post(
            "/api/products/", {"name": "Tablet", "price": 300}, format="json"
        )
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.data["name"], "Tablet")

    async def test_replace_update_and_delete(self):
        response = await self.client.put(self.url, {"name": "Phone 2", "price": 599})
        self.assertEqual(response.data["price"], 599)

        response = await self.client.patch(self.url, {"price": 549})
        self.assertEqual(response.data["price"], 549)
        self.assertEqual(response.data["name"], "Phone 2")  # PATCH kept the name

        response = await self.client.delete(self.url)
        self.assertEqual(response.status_code, 204)
        self.assertFalse(await Product.objects.filter(pk=self.phone.pk).aexists())

    async def test_options_head_and_query_strings(self):
        response = await self.client.options("/api/products/")
        self.assertEqual(response.data["name"], "Product List")

        response = await self.client.head(self.url)
        self.assertEqual((response.status_code, response.content), (200, b""))

        # On GET and HEAD, data= becomes the query string.
        response = await self.client.get("/api/products/", {"format": "json"})
        self.assertEqual(response["Content-Type"], "application/json")
        # --8<-- [end:verbs]

    # --8<-- [start:raw-body]
    async def test_raw_body_with_content_type(self):
        response = await self.client.post(
            "/api/products/",
            b'{"name": "Pager", "price": 20}',
            content_type="application/json",
        )
        self.assertEqual(response.status_code, 201)
        # --8<-- [end:raw-body]

    # --8<-- [start:multipart]
    async def test_upload_a_photo(self):
        photo = SimpleUploadedFile("phone.jpg", b"\xff\xd8 not really a jpeg")

        response = await self.client.post(
            f"{self.url}photo/", {"photo": photo}, format="multipart"
        )

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.data["size"], 20)
        product = await Product.objects.aget(pk=self.phone.pk)
        self.assertTrue(product.photo.name.startswith("products/phone"))
        # --8<-- [end:multipart]

    # --8<-- [start:gather]
    async def test_requests_can_run_concurrently(self):
        # Each request is a coroutine, so asyncio's tools work on them.
        responses = await asyncio.gather(
            self.client.get(self.url),
            self.client.get("/api/products/"),
            self.client.get("/health/"),
        )
        self.assertEqual([r.status_code for r in responses], [200, 200, 200])
        # --8<-- [end:gather]
