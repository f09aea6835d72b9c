"""The cached product list, and the three ways to test its invalidation.

restflow.caching invalidates only when a write commits, so whether a test
sees the list change depends on the test case it runs in. The cache is
emptied around each test: by tests/conftest.py under pytest, and by
shop/testrunner.py under Django's test runner.
"""

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from restflow.caching import ainvalidate_model, invalidate_model
from restflow.test import AsyncAPITestCase, AsyncAPITransactionTestCase
from shop.models import Product


# --8<-- [start:rolled-back]
class ProductCacheTests(AsyncAPITestCase):
    async def test_the_list_stays_cached_when_nothing_commits(self):
        first = await self.client.get("/api/products/")
        await Product.objects.acreate(name="Phone", price=499)

        second = await self.client.get("/api/products/")

        # The create is rolled back at the end of the test and never
        # commits, so its on_commit invalidation never runs: the cached,
        # empty list is still served.
        self.assertEqual(first.json(), second.json())
        self.assertEqual(second.json(), [])
        # --8<-- [end:rolled-back]

    # --8<-- [start:capture]
    async def test_captured_callbacks_invalidate_the_list(self):
        first = await self.client.get("/api/products/")
        with self.captureOnCommitCallbacks(execute=True):
            await Product.objects.acreate(name="Phone", price=499)

        second = await self.client.get("/api/products/")

        self.assertNotEqual(first.json(), second.json())
        self.assertEqual([p["name"] for p in second.json()], ["Phone"])
        # --8<-- [end:capture]


# --8<-- [start:transaction]
class ProductCacheInvalidationTests(AsyncAPITransactionTestCase):
    async def test_a_committed_create_invalidates_the_list(self):
        first = await self.client.get("/api/products/")
        await Product.objects.acreate(name="Phone", price=499)

        second = await self.client.get("/api/products/")

        self.assertNotEqual(first.json(), second.json())
        self.assertEqual([p["name"] for p in second.json()], ["Phone"])
        # --8<-- [end:transaction]

    # --8<-- [start:no-signal]
    async def test_an_update_needs_an_explicit_invalidation(self):
        phone = await Product.objects.acreate(name="Phone", price=499)
        await self.client.get("/api/products/")

        # QuerySet.update() sends no post_save, so nothing is invalidated...
        await Product.objects.filter(pk=phone.pk).aupdate(price=449)
        stale = await self.client.get("/api/products/")
        self.assertEqual(stale.data[0]["price"], 499)

        # ...until the test (or the code that did the update) asks for it.
        await ainvalidate_model(Product)
        fresh = await self.client.get("/api/products/")
        self.assertEqual(fresh.data[0]["price"], 449)
        # --8<-- [end:no-signal]

    async def test_an_update_and_its_invalidation_in_one_transaction(self):
        await Product.objects.acreate(name="Phone", price=0)
        await self.client.get("/api/products/")

        await sync_to_async(retire_free_products)()

        response = await self.client.get("/api/products/")
        self.assertEqual(response.data, [])


# --8<-- [start:invalidate-sync]
def retire_free_products():
    with transaction.atomic():
        Product.objects.filter(price=0).update(is_active=False)
        invalidate_model(Product)  # or "shop.Product"
        # --8<-- [end:invalidate-sync]


# --8<-- [start:pytest]
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_committed_create_invalidates_the_list(async_api_client):
    first = await async_api_client.get("/api/products/")
    await Product.objects.acreate(name="Phone", price=499)

    second = await async_api_client.get("/api/products/")

    assert first.json() != second.json()
    assert [p["name"] for p in second.json()] == ["Phone"]
    # --8<-- [end:pytest]
