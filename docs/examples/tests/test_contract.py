"""Contract testing: the shop's responses checked against its OpenAPI schema.

pytest.ini turns restflow_validate_schema on, so every response of every
test in this suite is checked; these tests show what that looks like.
docs/contract-testing.md shows this file.
"""

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from restflow.test import AsyncAPITestCase
from restflow.test.schema import SchemaMismatchError, assert_matches_schema
from shop.models import Product
from shop.views import ProductSerializer


# --8<-- [start:checked]
class CheckedResponsesTests(AsyncAPITestCase):
    async def test_every_response_is_checked(self):
        await Product.objects.acreate(name="Phone", price=499)

        response = await self.client.get("/api/products/")

        # What was checked, and against which documented operation.
        check = response.schema_check
        self.assertEqual(check.operation, "products_list (GET /api/products/)")
        self.assertIsNone(check.skipped)  # status, content type and body
        # --8<-- [end:checked]

    # --8<-- [start:skipped]
    async def test_what_is_not_checked_says_why(self):
        response = await self.client.get("/api/exports/products.csv")

        self.assertEqual(
            response.schema_check.skipped,
            "shop.views.export_products is not a DRF view; "
            "drf-spectacular documents DRF views only",
        )
        # --8<-- [end:skipped]


# --8<-- [start:wrong-serializer]
class ProductCardSerializer(serializers.ModelSerializer):
    """A product for the front page: its name as a label, its price as text."""

    label = serializers.CharField(source="name")
    price = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "label", "price"]

    def get_price(self, product):
        return f"{product.price} EUR"


class FeaturedProduct(APIView):
    @extend_schema(responses=ProductSerializer)  # what the API promises...
    def get(self, request):
        product = Product.objects.first()
        return Response(ProductCardSerializer(product).data)  # ...and what it sends


class WrongSerializerTests(AsyncAPITestCase):
    urlpatterns = [path("api/featured/", FeaturedProduct.as_view())]

    async def test_the_message_a_wrong_serializer_produces(self):
        await Product.objects.acreate(name="Phone", price=499)

        with self.assertRaises(SchemaMismatchError) as caught:
            await self.client.get("/api/featured/")

        self.assertEqual(
            str(caught.exception),
            """\
GET /api/featured/ answered 200, which does not match the OpenAPI schema: 2 mismatches.
  operation: api_featured_retrieve (GET /api/featured/)

  response body at /name
    expected: the required property 'name'
    got:      nothing: the property is missing
    rule:     #/components/schemas/Product/required
  response body at /price
    expected: a value of type integer
    got:      "499 EUR"
    rule:     #/components/schemas/Product/properties/price/type

Fix the view or its extend_schema annotations, or pass validate_schema=False \
to skip this request's check.""",
        )
        # --8<-- [end:wrong-serializer]


# --8<-- [start:request-bodies]
@override_settings(RESTFLOW_SCHEMA={"VALIDATE_REQUESTS": True})
class RequestBodyTests(AsyncAPITestCase):
    async def test_json_request_bodies_are_checked_too(self):
        khan = await User.objects.acreate_user("khan")
        self.client.force_authenticate(khan)

        with self.assertRaisesMessage(SchemaMismatchError, "request body at /price"):
            await self.client.post(
                "/api/products/", {"name": "Phone", "price": "cheap"}, format="json"
            )
            # --8<-- [end:request-bodies]


# --8<-- [start:one-off]
class OneOffTests(AsyncAPITestCase):
    validate_schema = False  # this class checks by hand

    async def test_check_one_response(self):
        response = await self.client.get("/api/products/")

        self.assertMatchesSchema(response)
        # --8<-- [end:one-off]


# --8<-- [start:pytest]
@pytest.mark.asyncio
@pytest.mark.django_db
@pytest.mark.validate_schema(False)  # async_api_client does not check...
async def test_check_by_hand(async_api_client):
    response = await async_api_client.get("/api/products/")

    assert not hasattr(response, "schema_check")
    assert_matches_schema(response)  # ...until asked to
    # --8<-- [end:pytest]
