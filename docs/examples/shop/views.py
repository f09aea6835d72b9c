"""The shop's API: a sync view set, async adrf views and a CSV export."""

from __future__ import annotations

from collections.abc import AsyncIterator

from adrf.views import APIView as AsyncAPIView
from django.http import HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from rest_framework import permissions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from shop.models import Order, Product


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "price", "is_active"]


class ProductViewSet(viewsets.ModelViewSet):
    """Products, served by an ordinary sync DRF view set."""

    queryset = Product.objects.filter(is_active=True)
    serializer_class = ProductSerializer


class OrderList(AsyncAPIView):
    """The signed-in customer's orders, from an async adrf view."""

    permission_classes = [permissions.IsAuthenticated]

    async def get(self, request: Request) -> Response:
        orders = Order.objects.filter(customer=request.user).select_related("product")
        return Response(
            [{"product": o.product.name, "quantity": o.quantity} async for o in orders]
        )

    async def post(self, request: Request) -> Response:
        product = await Product.objects.aget(pk=request.data["product"])
        order = await Order.objects.acreate(
            customer=request.user, product=product, quantity=request.data.get("quantity", 1)
        )
        return Response({"id": order.pk}, status=201)


async def export_products(request: HttpRequest) -> StreamingHttpResponse:
    """Every active product as CSV, streamed row by row."""

    async def rows() -> AsyncIterator[str]:
        yield "id,name,price\n"
        async for product in Product.objects.filter(is_active=True):
            yield f"{product.pk},{product.name},{product.price}\n"

    return StreamingHttpResponse(rows(), content_type="text/csv")


def old_catalogue(request: HttpRequest) -> HttpResponseRedirect:
    """The catalogue moved; old links are redirected."""
    return HttpResponseRedirect("/api/products/")
