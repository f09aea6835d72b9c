"""Views whose responses the schema tests check: every shape the issue names.

Sync and adrf async views, view sets behind routers, a paginated list,
nested and nullable serializers, a polymorphic (oneOf) response, 204, a CSV
renderer, a plain Django view, an endpoint left out of the schema, and
views that break their own documented contract on purpose.
"""

from __future__ import annotations

from typing import Any

from adrf.views import APIView as AsyncAPIView
from adrf.viewsets import ModelViewSet as AsyncModelViewSet
from asgiref.sync import sync_to_async
from django.http import HttpRequest, JsonResponse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers, status, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tests.testapp.models import Product


class ProductSerializer(serializers.ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "name", "price", "is_active"]


class Pages(PageNumberPagination):
    page_size = 2


class ProductViewSet(viewsets.ModelViewSet[Product]):
    """A sync model view set with a paginated list.

    Its schema inspector is set on the class, so all its views share one
    instance (the adrf view set below gets DRF's per-view default).
    """

    schema = AutoSchema()
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    pagination_class = Pages
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []


class AsyncProductViewSet(AsyncModelViewSet):  # type: ignore[misc]
    """The same, as an adrf async model view set.

    It keeps DRF's serializer (adrf's own need DRF 3.17), saved through
    sync_to_async.
    """

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    pagination_class = Pages
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    async def perform_acreate(self, serializer: ProductSerializer) -> None:
        await sync_to_async(serializer.save)()

    async def perform_aupdate(self, serializer: ProductSerializer) -> None:
        await sync_to_async(serializer.save)()


# -- nested and nullable ---------------------------------------------------------


class WrappingSerializer(serializers.Serializer[Any]):
    paper = serializers.CharField()
    message = serializers.CharField(allow_null=True)


class LineSerializer(serializers.Serializer[Any]):
    product = ProductSerializer()
    quantity = serializers.IntegerField(min_value=1)


class OrderSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    lines = LineSerializer(many=True)
    wrapping = WrappingSerializer(allow_null=True)
    note = serializers.CharField(write_only=True, required=False)


class OrderView(AsyncAPIView):
    """An adrf view answering with nested, listed and nullable serializers.

    The query string picks the answer: ``?wrapped=1`` wraps the order,
    ``?broken=1`` sends a line whose product lacks its name and whose
    quantity is a string.
    """

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(responses=OrderSerializer)
    async def get(self, request: Request) -> Response:
        product: dict[str, Any] = {
            "id": 1,
            "name": "Phone",
            "price": 499,
            "is_active": True,
        }
        quantity: Any = 2
        if request.query_params.get("broken"):
            del product["name"]
            quantity = "2"
        wrapping = (
            {"paper": "gold", "message": None}
            if request.query_params.get("wrapped")
            else None
        )
        return Response(
            {
                "id": 7,
                "lines": [{"product": product, "quantity": quantity}],
                "wrapping": wrapping,
            }
        )

    @extend_schema(request=OrderSerializer, responses={201: OrderSerializer})
    async def post(self, request: Request) -> Response:
        return Response({"id": 8, **request.data}, status=status.HTTP_201_CREATED)


# -- polymorphic -------------------------------------------------------------------


class CatSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=["cat"])
    lives = serializers.IntegerField()
    adopted = serializers.DateTimeField()


class DogSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=["dog"])
    good = serializers.BooleanField()


PET = PolymorphicProxySerializer(
    component_name="Pet",
    serializers={"cat": CatSerializer, "dog": DogSerializer},
    resource_type_field_name="kind",
)


class PetView(APIView):
    """A sync view with a oneOf (polymorphic) response; ``?pet=`` picks it."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    PETS = {
        "cat": {"kind": "cat", "lives": 9, "adopted": "2024-05-01T10:00:00Z"},
        "stray-cat": {"kind": "cat", "lives": 9, "adopted": "last spring"},
        "dog": {"kind": "dog", "good": True},
        "bad-dog": {"kind": "dog", "good": "very"},
        "fish": {"kind": "fish", "fins": 4},
    }

    @extend_schema(responses=PET)
    def get(self, request: Request) -> Response:
        return Response(self.PETS[request.query_params.get("pet", "cat")])


# -- statuses, content types, undocumented things ------------------------------------


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Any = None,
    ) -> bytes:
        return "".join(f"{row['name']},{row['price']}\n" for row in data).encode()


class ExportView(APIView):
    """Answers with CSV, documented as such; ``?format=json`` answers with
    JSON, which the schema does not list."""

    renderer_classes = [CSVRenderer, JSONRenderer]
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR, description="name,price rows"
            )
        }
    )
    def get(self, request: Request) -> Response:
        return Response([{"name": "Phone", "price": 499}])


class TeapotView(APIView):
    """Documents 200 only, but answers 418, or 200 with a body where
    ``?empty-documented=1`` asks for a documented-empty 202."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(responses={200: ProductSerializer, 202: None})
    def get(self, request: Request) -> Response:
        if request.query_params.get("empty-documented"):
            return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)
        return Response({"detail": "I'm a teapot"}, status=418)

    @extend_schema(
        request=ProductSerializer,
        responses={"2XX": ProductSerializer, "default": None},
    )
    def put(self, request: Request) -> Response:
        return Response(
            {"id": 1, "name": "Pot", "price": 5, "is_active": True}, status=203
        )


class HiddenView(APIView):
    """A DRF view left out of the schema."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response({"secret": True})


def schema_urls_middleware(get_response: Any) -> Any:
    """Routes every request with the schema app's URL conf, as per-tenant
    or per-host middleware does by setting ``request.urlconf``."""

    def middleware(request: HttpRequest) -> Any:
        request.urlconf = "tests.schema_app.urls"
        return get_response(request)

    return middleware


async def plain_django(request: HttpRequest) -> JsonResponse:
    """Not a DRF view: drf-spectacular cannot document it."""
    return JsonResponse({"plain": True})
