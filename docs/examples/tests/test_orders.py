"""Order views tested directly with the factory, and through the client."""

from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from restflow.test import AsyncAPIRequestFactory, AsyncAPITestCase, force_authenticate
from shop.models import Order, Product
from shop.views import OrderList


class OrderTests(AsyncAPITestCase):
    async def asyncSetUp(self):
        self.khan = await User.objects.acreate_user("khan", password="hunter2")
        self.phone = await Product.objects.acreate(name="Phone", price=499)

    async def test_factory_and_force_authenticate(self):
        await Order.objects.acreate(customer=self.khan, product=self.phone, quantity=2)
        factory = AsyncAPIRequestFactory()
        request = factory.get("/api/orders/")
        force_authenticate(request, user=self.khan)

        response = await OrderList.as_view()(request)

        self.assertEqual(response.data, [{"product": "Phone", "quantity": 2}])

    async def test_token_in_the_authorization_header(self):
        token = await Token.objects.acreate(user=self.khan)
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

        response = await self.client.post("/api/orders/", {"product": self.phone.pk})

        self.assertEqual(response.status_code, 201)
        self.assertEqual(await Order.objects.filter(customer=self.khan).acount(), 1)

    async def test_session_login(self):
        await self.client.alogin(username="khan", password="hunter2")
        response = await self.client.get("/api/orders/")
        self.assertEqual(response.data, [])
        await self.client.alogout()
        self.assertEqual((await self.client.get("/api/orders/")).status_code, 403)
