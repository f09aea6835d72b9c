"""Views whose responses the schema tests check: every shape the issue names.

Sync and adrf async views, view sets behind routers, a paginated list,
nested and nullable serializers, a polymorphic (oneOf) response, 204, a CSV
renderer, media type ranges, a stream, a hand-written schema, a plain
Django view, an endpoint left out of the schema, and views that break their
own documented contract on purpose.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from adrf.views import APIView as AsyncAPIView
from adrf.viewsets import ModelViewSet as AsyncModelViewSet
from asgiref.sync import sync_to_async
from django.http import (
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
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
from rest_framework.schemas.inspectors import ViewInspector
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
        "litter": [{"kind": "dog", "good": True}, {"kind": "dog", "good": True}],
    }

    @extend_schema(responses=PET)
    def get(self, request: Request) -> Response:
        return Response(self.PETS[request.query_params.get("pet", "cat")])


# -- one broken rule at a time ----------------------------------------------------


class ShipmentSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=["packed", "shipped"])
    weight = serializers.IntegerField(min_value=1)
    note = serializers.CharField(allow_null=True)


class ShipmentView(APIView):
    """Answers a valid shipment, or with ``?broken=<field>`` one whose field
    breaks its rule: an unlisted choice, a weight below the minimum, a note
    of the wrong type, or a note far too long to show in a message."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    BROKEN: dict[str, dict[str, Any]] = {
        "status": {"status": "lost"},
        "weight": {"weight": 0},
        "note": {"note": 5},
        "long-note": {"note": list(range(100))},
    }

    @extend_schema(responses=ShipmentSerializer)
    def get(self, request: Request) -> Response:
        shipment = {"status": "packed", "weight": 2, "note": None}
        broken = request.query_params.get("broken", "")
        return Response({**shipment, **self.BROKEN.get(broken, {})})


#: A schema written by hand, as extend_schema accepts one where serializers
#: cannot say it. ``const`` is JSON Schema 2020-12, so only OpenAPI 3.1
#: documents (``OAS_VERSION``) enforce it; 3.0's draft 4 rules ignore it.
LABEL = {
    "type": "object",
    "properties": {
        "code": {
            "anyOf": [
                {"type": "integer"},
                {"type": "string", "pattern": "^[A-Z]{3}$"},
            ]
        },
        "version": {"const": 2},
    },
    "required": ["code"],
    "additionalProperties": False,
}


class LabelView(APIView):
    """Documented with :data:`LABEL`; ``?label=`` picks the answer."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    LABELS: dict[str, dict[str, Any]] = {
        "valid": {"code": "ABC", "version": 2},
        "fractional-code": {"code": 4.5, "version": 2},
        "extra-color": {"code": 7, "version": 2, "color": "red"},
        "version-3": {"code": 7, "version": 3},
    }

    @extend_schema(responses={200: LABEL})
    def get(self, request: Request) -> Response:
        return Response(self.LABELS[request.query_params.get("label", "valid")])


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


class AttachmentView(APIView):
    """Documented with media type ranges: any text, or any file at all.
    ``?as=csv`` answers CSV, ``?as=pdf`` a PDF."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(
        responses={
            (200, "text/*"): OpenApiTypes.STR,
            (200, "*/*"): OpenApiTypes.BINARY,
        }
    )
    def get(self, request: Request) -> HttpResponse:
        if request.query_params.get("as") == "pdf":
            return HttpResponse(b"%PDF-1.7\n", content_type="application/pdf")
        return HttpResponse(b"name,price\n", content_type="text/csv")


class EventsView(APIView):
    """Streams server-sent events, documented as such."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(responses={(200, "text/event-stream"): OpenApiTypes.STR})
    def get(self, request: Request) -> StreamingHttpResponse:
        async def events() -> AsyncIterator[bytes]:
            for number in range(3):
                yield f"data: {number}\n\n".encode()

        return StreamingHttpResponse(events(), content_type="text/event-stream")


class HandWrittenJSONView(APIView):
    """Documented as a product, but writes its JSON by hand with ``str()``
    of a dict: single quotes, so not JSON at all."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(responses=ProductSerializer)
    def get(self, request: Request) -> HttpResponse:
        product = {"id": 1, "name": "Phone", "price": 499, "is_active": True}
        return HttpResponse(str(product), content_type="application/json")


class PingView(APIView):
    """Documents JSON without a schema (``OpenApiTypes.NONE``, for which
    drf-spectacular writes ``"schema": null``): any JSON body will do."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.NONE})
    def get(self, request: Request) -> Response:
        return Response({"pong": True})


class SubscriptionView(APIView):
    """Documented as taking a form, as the HTML page posts it, but DRF's
    default parsers accept JSON as well."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(
        request={"application/x-www-form-urlencoded": WrappingSerializer},
        responses={201: None},
    )
    def post(self, request: Request) -> Response:
        return Response(status=status.HTTP_201_CREATED)


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


class LegacyInspector(ViewInspector):
    """A per-view inspector of DRF's own kind, as projects wrote them for
    DRF's older schema generators; drf-spectacular cannot use it."""


class LegacySchemaView(APIView):
    """A DRF view that keeps a schema inspector drf-spectacular refuses."""

    schema = LegacyInspector()
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: Request) -> Response:
        return Response({})


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
