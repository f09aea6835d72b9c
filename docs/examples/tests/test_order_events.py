"""An order's status as server-sent events: in process, and over a socket."""

import httpx
from django.contrib.auth.models import User
from httpx_sse import aconnect_sse
from rest_framework.authtoken.models import Token

from restflow.test import (
    AsyncAPILiveServerTestCase,
    AsyncAPITestCase,
    ClientDisconnected,
)
from shop.models import Order, Product


class OrderEventTests(AsyncAPITestCase):
    @classmethod
    async def asetUpTestData(cls):
        cls.khan = await User.objects.acreate_user("khan")
        cls.phone = await Product.objects.acreate(name="Phone", price=499)

    async def asyncSetUp(self):
        self.order = await Order.objects.acreate(customer=self.khan, product=self.phone)
        self.client.force_authenticate(self.khan)

    # --8<-- [start:events]
    async def test_each_change_of_status_is_an_event(self):
        path = f"/api/orders/{self.order.pk}/events/"
        async with self.client.stream("GET", path, timeout=5) as response:
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.headers["Cache-Control"], "no-cache")
            events = response.aiter_sse()

            first = await anext(events)
            self.assertEqual(
                (first.event, first.json()), ("status", {"status": "placed"})
            )

            await Order.objects.filter(pk=self.order.pk).aupdate(status="paid")
            self.assertEqual((await anext(events)).json(), {"status": "paid"})

            await Order.objects.filter(pk=self.order.pk).aupdate(status="shipped")
            last = await anext(events)
            self.assertEqual((last.id, last.json()), ("3", {"status": "shipped"}))

            # Shipped is final: the view ends the stream.
            self.assertEqual([event async for event in events], [])
            # --8<-- [end:events]

    # --8<-- [start:hang-up]
    async def test_a_customer_who_leaves_stops_the_stream(self):
        path = f"/api/orders/{self.order.pk}/events/"
        async with self.client.stream("GET", path, timeout=5) as response:
            first = await anext(response.aiter_sse())
            self.assertEqual(first.json(), {"status": "placed"})
        # Leaving the block hung up; Django cancelled the view, which was
        # waiting for the next change.
        self.assertTrue(response.is_closed)
        # --8<-- [end:hang-up]

    # --8<-- [start:disconnect-after]
    async def test_a_reader_who_gives_up_stops_the_view(self):
        path = f"/api/orders/{self.order.pk}/events/"
        # Read as one response, the stream never ends before the order ships:
        # the client hangs up after 0.2 s, and Django cancels the view.
        with self.assertRaises(ClientDisconnected):
            await self.client.get(path, disconnect_after=0.2)
        # --8<-- [end:disconnect-after]

    async def test_only_the_customer_may_listen(self):
        bob = await User.objects.acreate_user("bob")
        self.client.force_authenticate(bob)
        path = f"/api/orders/{self.order.pk}/events/"
        async with self.client.stream("GET", path) as response:
            self.assertEqual(response.status_code, 404)


# --8<-- [start:live-events]
class LiveOrderEventTests(AsyncAPILiveServerTestCase):
    async def test_httpx_sse_reads_the_same_events(self):
        khan = await User.objects.acreate_user("khan")
        token = await Token.objects.acreate(user=khan)
        phone = await Product.objects.acreate(name="Phone", price=499)
        order = await Order.objects.acreate(
            customer=khan, product=phone, status="shipped"
        )
        headers = {"Authorization": f"Token {token.key}"}

        async with (
            httpx.AsyncClient(base_url=self.live_server_url, headers=headers) as http,
            aconnect_sse(http, "GET", f"/api/orders/{order.pk}/events/") as source,
        ):
            over_the_wire = [event.json() async for event in source.aiter_sse()]

        self.client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        async with self.client.stream("GET", f"/api/orders/{order.pk}/events/") as r:
            in_process = [event.json() async for event in r.aiter_sse()]

        self.assertEqual(over_the_wire, in_process)
        self.assertEqual(in_process, [{"status": "shipped"}])
        # --8<-- [end:live-events]
