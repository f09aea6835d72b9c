"""Order views called directly: AsyncAPIRequestFactory and force_authenticate."""

from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from restflow.test import AsyncAPIRequestFactory, AsyncAPITestCase, force_authenticate
from shop.models import Order, Product
from shop.views import OrderList, ProductViewSet


class OrderViewTests(AsyncAPITestCase):
    @classmethod
    async def asetUpTestData(cls):
        cls.khan = await User.objects.acreate_user("khan", "khan@example.com")
        cls.phone = await Product.objects.acreate(name="Phone", price=499)

    def setUp(self):
        self.factory = AsyncAPIRequestFactory()

    # --8<-- [start:factory]
    async def test_list_orders(self):
        await Order.objects.acreate(customer=self.khan, product=self.phone, quantity=2)
        request = self.factory.get("/api/orders/")
        force_authenticate(request, user=self.khan)

        response = await OrderList.as_view()(request)

        self.assertEqual(response.data, [{"product": "Phone", "quantity": 2}])
        # --8<-- [end:factory]

    # --8<-- [start:factory-post]
    async def test_place_an_order(self):
        request = self.factory.post(
            "/api/orders/", {"product": self.phone.pk, "quantity": 3}, format="json"
        )
        force_authenticate(request, user=self.khan)

        response = await OrderList.as_view()(request)

        self.assertEqual(response.status_code, 201)
        order = await Order.objects.aget(pk=response.data["id"])
        self.assertEqual(order.quantity, 3)
        # --8<-- [end:factory-post]

    # --8<-- [start:factory-anonymous]
    async def test_anonymous_requests_are_refused(self):
        # No force_authenticate, and no middleware to log anyone in.
        response = await OrderList.as_view()(self.factory.get("/api/orders/"))
        self.assertEqual(response.status_code, 403)
        # --8<-- [end:factory-anonymous]

    # --8<-- [start:factory-sync-view]
    async def test_a_sync_view_set(self):
        retrieve = ProductViewSet.as_view({"get": "retrieve"})
        request = self.factory.get(f"/api/products/{self.phone.pk}/")

        # A sync view queries the database, which an async test may only do
        # through sync_to_async.
        response = await sync_to_async(retrieve)(request, pk=self.phone.pk)

        self.assertEqual(response.data["name"], "Phone")
        # --8<-- [end:factory-sync-view]
