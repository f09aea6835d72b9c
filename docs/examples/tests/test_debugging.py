"""Time limits, tasks a test starts, and counting queries: docs/debugging.md."""

import asyncio
import contextlib

import pytest
from django.contrib.auth.models import User

from restflow.test import AsyncAPITestCase
from shop.models import Order, Product


# --8<-- [start:timeout]
class OrderQueryTests(AsyncAPITestCase):
    async_timeout = 10  # seconds; None (the default) means no limit
    # --8<-- [end:timeout]

    @classmethod
    async def asetUpTestData(cls):
        cls.khan = await User.objects.acreate_user("khan")
        phone = await Product.objects.acreate(name="Phone", price=499)
        for quantity in (1, 2, 3):
            await Order.objects.acreate(
                customer=cls.khan, product=phone, quantity=quantity
            )

    async def asyncSetUp(self):
        self.client.force_authenticate(self.khan)

    # --8<-- [start:count]
    async def test_the_order_list_is_one_query(self):
        with self.assertNumQueries(1):
            response = await self.client.get("/api/orders/")
        self.assertEqual(len(response.data), 3)

        # The callable form takes a coroutine function or a request method,
        # and then returns something to await:
        await self.assertNumQueries(1, self.client.get, "/api/orders/")
        # --8<-- [end:count]

    # --8<-- [start:everywhere]
    async def test_everything_a_request_causes(self):
        with self.assertNumQueriesEverywhere(1):
            await self.client.get("/api/users/me/")
        with self.assertMaxQueriesEverywhere(2):
            await self.client.get("/api/orders/")
        # --8<-- [end:everywhere]


# --8<-- [start:listener]
class StatusListenerTests(AsyncAPITestCase):
    """A test that starts a task ends it, before the database is reset."""

    async_timeout = 10

    async def asyncSetUp(self):
        khan = await User.objects.acreate_user("khan")
        phone = await Product.objects.acreate(name="Phone", price=499)
        self.order = await Order.objects.acreate(customer=khan, product=phone)
        self.client.force_authenticate(khan)
        self.heard = []
        self.listener = asyncio.create_task(self.listen())
        self.addAsyncCleanup(self.stop_listener)

    async def listen(self):
        path = f"/api/orders/{self.order.pk}/events/"
        async with self.client.stream("GET", path) as response:
            async for event in response.aiter_sse():
                self.heard.append(event.json()["status"])

    async def stop_listener(self):
        self.listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.listener
        # --8<-- [end:listener]

    async def test_the_listener_hears_each_change(self):
        while self.heard != ["placed"]:  # async_timeout bounds the wait
            await asyncio.sleep(0.01)
        await Order.objects.filter(pk=self.order.pk).aupdate(status="paid")
        while self.heard != ["placed", "paid"]:
            await asyncio.sleep(0.01)


# --8<-- [start:pytest]
@pytest.mark.asyncio
@pytest.mark.django_db
@pytest.mark.async_timeout(10)  # for one test; None lifts the limit
async def test_me_is_one_query(async_api_client, assert_num_queries_everywhere):
    khan = await User.objects.acreate_user("khan")
    async_api_client.force_authenticate(khan)

    with assert_num_queries_everywhere(1):
        response = await async_api_client.get("/api/users/me/")

    assert response.data["orders"] == 0
    # --8<-- [end:pytest]
