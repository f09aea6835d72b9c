"""One test written three ways: with DRF's sync tools, with adrf's async
client, and with restflow. All three run, so the migration guide's
before-and-after examples stay true.
"""

from adrf.test import AsyncAPIClient as AdrfAsyncAPIClient
from django.contrib.auth.models import User
from django.test import TestCase
from rest_framework.test import APITestCase

from restflow.test import AsyncAPITestCase
from shop.models import Order, Product


# --8<-- [start:drf]
class OrdersWithDRF(APITestCase):
    def setUp(self):
        self.khan = User.objects.create_user("khan")
        phone = Product.objects.create(name="Phone", price=499)
        Order.objects.create(customer=self.khan, product=phone, quantity=2)

    def test_list_my_orders(self):
        self.client.force_authenticate(self.khan)

        response = self.client.get("/api/orders/")

        self.assertEqual(response.data, [{"product": "Phone", "quantity": 2}])
        # --8<-- [end:drf]


# --8<-- [start:adrf]
class OrdersWithAdrf(TestCase):
    async def test_list_my_orders(self):
        khan = await User.objects.acreate_user("khan")
        phone = await Product.objects.acreate(name="Phone", price=499)
        await Order.objects.acreate(customer=khan, product=phone, quantity=2)
        client = AdrfAsyncAPIClient()
        client.force_authenticate(khan)

        response = await client.get("/api/orders/")

        self.assertEqual(response.data, [{"product": "Phone", "quantity": 2}])
        # --8<-- [end:adrf]


# --8<-- [start:restflow]
class OrdersWithRestflow(AsyncAPITestCase):
    async def asyncSetUp(self):
        self.khan = await User.objects.acreate_user("khan")
        phone = await Product.objects.acreate(name="Phone", price=499)
        await Order.objects.acreate(customer=self.khan, product=phone, quantity=2)

    async def test_list_my_orders(self):
        self.client.force_authenticate(self.khan)

        response = await self.client.get("/api/orders/")

        self.assertEqual(response.data, [{"product": "Phone", "quantity": 2}])
        # --8<-- [end:restflow]
