"""The shop's API.

Products are served by an ordinary sync DRF view set, whose reads are cached
by restflow.caching; orders and users by async adrf views, with a stream of
server-sent events for an order's status. There is also a streamed CSV
export, two redirects and a health check, so that the tests can show every
part of restflow.test.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from adrf.views import APIView as AsyncAPIView
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.http import (
    HttpRequest,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import aget_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, serializers, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from restflow.caching import CachedResponseMixin
from shop.models import Order, Product

# -- what the API documents, beyond its model serializers -------------------------
# drf-spectacular reads the model view set's serializer by itself; the
# hand-built answers of the other views are documented with these
# serializers and extend_schema, so that the schema says what they send.


class ErrorSerializer(serializers.Serializer):
    """DRF's error answer, as in {"detail": "Authentication credentials ..."}."""

    detail = serializers.CharField()


class PhotoUploadSerializer(serializers.Serializer):
    photo = serializers.CharField()
    size = serializers.IntegerField()


class OrderLineSerializer(serializers.Serializer):
    product = serializers.CharField()
    quantity = serializers.IntegerField()


class NewOrderSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    quantity = serializers.IntegerField(required=False, min_value=1)


class OrderCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()


class SignUpSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(write_only=True)
    email = serializers.EmailField(required=False)


class SignedUpSerializer(serializers.Serializer):
    username = serializers.CharField()
    token = serializers.CharField()


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    authenticated_by = serializers.CharField(allow_null=True)
    orders = serializers.IntegerField()


#: Anonymous writes and unauthenticated requests are answered 403.
REFUSED = {403: ErrorSerializer}


# -- products: a sync ModelViewSet ---------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "price", "is_active"]


class PhotoSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["photo"]
        extra_kwargs = {"photo": {"allow_empty_file": False, "required": True}}


@extend_schema_view(
    create=extend_schema(responses={201: ProductSerializer, **REFUSED}),
)
# --8<-- [start:cached-viewset]
class ProductViewSet(CachedResponseMixin, viewsets.ModelViewSet):
    """Active products. Anyone may read; signed-in users may write.

    The mixin caches list() and retrieve(); RESTFLOW_CACHING["RULES"] in the
    settings ties this view set to shop.Product, so a committed change to a
    product invalidates both.
    """

    queryset = Product.objects.filter(is_active=True)
    serializer_class = ProductSerializer
    # --8<-- [end:cached-viewset]

    @extend_schema(request=PhotoSerializer, responses=PhotoUploadSerializer)
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def photo(self, request: Request, pk: str | None = None) -> Response:
        """Attach a photo, sent as a multipart/form-data upload."""
        serializer = PhotoSerializer(self.get_object(), data=request.data)
        serializer.is_valid(raise_exception=True)
        product = serializer.save()
        return Response({"photo": product.photo.name, "size": product.photo.size})


# -- orders: an async adrf view with a side effect after commit -----------------


# --8<-- [start:place-order]
def place_order(customer: User, product: Product, quantity: int) -> Order:
    """Save an order, and e-mail the customer once it is committed.

    If the transaction is rolled back, no e-mail is sent: that is what
    transaction.on_commit is for, and what the tests have to account for.
    """
    with transaction.atomic():
        order = Order.objects.create(
            customer=customer, product=product, quantity=quantity
        )
        transaction.on_commit(lambda: send_confirmation(order))
    return order


def send_confirmation(order: Order) -> None:
    send_mail(
        subject=f"Order {order.pk} confirmed",
        message=f"{order.quantity} x {order.product.name}",
        from_email=None,
        recipient_list=[order.customer.email],
    )
    # --8<-- [end:place-order]


class OrderList(AsyncAPIView):
    """The signed-in customer's orders."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: OrderLineSerializer(many=True), **REFUSED})
    async def get(self, request: Request) -> Response:
        orders = Order.objects.filter(customer=request.user).select_related("product")
        return Response(
            [{"product": o.product.name, "quantity": o.quantity} async for o in orders]
        )

    @extend_schema(
        request=NewOrderSerializer, responses={201: OrderCreatedSerializer, **REFUSED}
    )
    async def post(self, request: Request) -> Response:
        product = await aget_object_or_404(Product, pk=request.data.get("product"))
        quantity = int(request.data.get("quantity", 1))
        order = await sync_to_async(place_order)(request.user, product, quantity)
        return Response({"id": order.pk}, status=201)


# --8<-- [start:order-events]
class EventStreamRenderer(BaseRenderer):
    """Lets DRF's content negotiation accept ``Accept: text/event-stream``;
    the view streams the events itself."""

    media_type = "text/event-stream"
    format = "sse"

    def render(self, data: Any, accepted_media_type: Any = None, context: Any = None):
        return json.dumps(data)


class OrderEvents(AsyncAPIView):
    """The status of one of the customer's orders, as server-sent events:
    the current one at once, then each change, until the order has shipped."""

    permission_classes = [permissions.IsAuthenticated]
    renderer_classes = [EventStreamRenderer]
    #: Seconds between two looks at the order.
    poll_interval = 0.05

    @extend_schema(
        responses={
            (200, "text/event-stream"): OpenApiTypes.STR,
            404: ErrorSerializer,
            **REFUSED,
        }
    )
    async def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        order = await aget_object_or_404(Order, pk=pk, customer=request.user)
        return StreamingHttpResponse(
            self.events(order),
            content_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )

    async def events(self, order: Order) -> AsyncIterator[str]:
        status, number = order.status, 1
        yield f"event: status\nid: {number}\ndata: {json.dumps({'status': status})}\n\n"
        while status != "shipped":
            await asyncio.sleep(self.poll_interval)
            orders = Order.objects.filter(pk=order.pk)
            current = await orders.values_list("status", flat=True).aget()
            if current != status:
                status, number = current, number + 1
                data = json.dumps({"status": status})
                yield f"event: status\nid: {number}\ndata: {data}\n\n"

    # --8<-- [end:order-events]


# -- users: async adrf views ------------------------------------------------------


class SignUp(AsyncAPIView):
    """Create an account; the answer carries an API token for it."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=SignUpSerializer,
        responses={201: SignedUpSerializer, 400: ErrorSerializer},
    )
    async def post(self, request: Request) -> Response:
        username = request.data.get("username", "")
        password = request.data.get("password", "")
        if not username or not password:
            return Response({"detail": "username and password are required"}, 400)
        if await User.objects.filter(username=username).aexists():
            return Response({"detail": "that username is taken"}, 400)
        user = await User.objects.acreate_user(
            username, email=request.data.get("email", ""), password=password
        )
        token = await Token.objects.acreate(user=user)
        return Response({"username": username, "token": token.key}, status=201)


class Me(AsyncAPIView):
    """Who the request is authenticated as, and how they authenticated."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: MeSerializer, **REFUSED})
    async def get(self, request: Request) -> Response:
        return Response(
            {
                "username": request.user.username,
                "authenticated_by": type(request.successful_authenticator).__name__
                if request.successful_authenticator
                else None,
                "orders": await Order.objects.filter(customer=request.user).acount(),
            }
        )


# -- plain Django views -------------------------------------------------------------


async def export_products(request: HttpRequest) -> StreamingHttpResponse:
    """Every active product as CSV, streamed row by row."""

    async def rows() -> AsyncIterator[str]:
        yield "id,name,price\n"
        async for product in Product.objects.filter(is_active=True):
            yield f"{product.pk},{product.name},{product.price}\n"

    return StreamingHttpResponse(rows(), content_type="text/csv")


def old_catalogue(request: HttpRequest) -> HttpResponseRedirect:
    """The catalogue moved; old links get a 302 to the products API."""
    return HttpResponseRedirect("/api/products/")


def old_orders(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """The first version of the orders API; a 308 keeps the method and body."""
    return HttpResponsePermanentRedirect("/api/orders/", preserve_request=True)


async def health(request: HttpRequest) -> JsonResponse:
    """For load balancers: answers without touching the database."""
    return JsonResponse({"status": "ok"})
