"""Contract testing: responses checked against the OpenAPI schema.

The views live in ``tests/schema_app``; every class mounts their URL
patterns with ``urlpatterns``, so each class also exercises a schema
generated for a URL conf of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import types
import unittest
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import ResolverMatch, path, resolve
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.settings import patched_settings, spectacular_settings

from restflow.test import AsyncAPIClient, AsyncAPISimpleTestCase, AsyncAPITestCase
from restflow.test.schema import (
    Mismatch,
    SchemaCheck,
    SchemaMismatchError,
    UndocumentedOperationError,
    _document,
    assert_matches_schema,
    clear_schema_cache,
)
from restflow.test.schema._document import document_for
from restflow.test.schema._report import MAX_VALUE_LENGTH
from tests.schema_app import hooks, urls, views
from tests.testapp.models import Product


def _run(case: type[unittest.TestCase]) -> unittest.TestResult:
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    return result


def _spectacular_settings(case: unittest.TestCase, **patches: Any) -> None:
    """Patch drf-spectacular's settings for one test, with the schema
    generated afresh under them and again after them."""
    patch = patched_settings(patches)
    patch.__enter__()
    case.addCleanup(patch.__exit__, None, None, None)
    clear_schema_cache()
    case.addCleanup(clear_schema_cache)


class ValidatedTestCase(AsyncAPITestCase):
    urlpatterns = urls.urlpatterns
    validate_schema = True


# -- what is checked, and passes -----------------------------------------------


class ViewSetTests(ValidatedTestCase):
    @classmethod
    async def asetUpTestData(cls) -> None:
        for name in ("Phone", "Fax", "Pager"):
            await Product.objects.acreate(name=name, price=10)

    async def test_a_paginated_list_of_a_sync_view_set(self) -> None:
        response = await self.client.get("/api/products/", {"page": 2})

        assert response.status_code == 200
        assert [p["name"] for p in response.data["results"]] == ["Pager"]
        assert response.schema_check == SchemaCheck(
            "products_list (GET /api/products/)"
        )

    async def test_a_paginated_list_of_an_adrf_view_set(self) -> None:
        response = await self.client.get("/api/async-products/")

        assert response.data["count"] == 3
        assert response.schema_check.operation == (
            "async_products_list (GET /api/async-products/)"
        )

    async def test_create_update_and_delete(self) -> None:
        for prefix in ("/api/products/", "/api/async-products/"):
            created = await self.client.post(
                prefix, {"name": "Tablet", "price": 300}, format="json"
            )
            assert created.status_code == 201
            detail = f"{prefix}{created.data['id']}/"

            patched = await self.client.patch(detail, {"price": 1}, format="json")
            assert patched.schema_check.operation.endswith(f"(PATCH {prefix}{{id}}/)")

            deleted = await self.client.delete(detail)
            assert deleted.status_code == 204
            assert deleted.content == b""
            assert deleted.schema_check.skipped is None

    async def test_a_format_suffix_route_is_its_plain_route(self) -> None:
        product = await Product.objects.afirst()
        assert product is not None
        response = await self.client.get(f"/api/products/{product.pk}.json")

        assert response.schema_check.operation == (
            "products_retrieve (GET /api/products/{id}/)"
        )

    async def test_head_is_checked_as_get_without_a_body(self) -> None:
        response = await self.client.head("/api/products/")

        assert response.schema_check.operation == "products_list (GET /api/products/)"
        assert response.schema_check.skipped == "a HEAD response has no body"

    async def test_a_content_type_the_schema_does_not_list(self) -> None:
        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.get("/api/export/", {"format": "json"})

        [mismatch] = raised.value.mismatches
        assert (mismatch.part, mismatch.got) == ("content type", "application/json")
        assert mismatch.expected == "one of text/csv"
        assert mismatch.rule == "#/paths/~1api~1export~1/get/responses/200/content"


class ShapeTests(ValidatedTestCase):
    async def test_nested_and_nullable_serializers(self) -> None:
        plain = await self.client.get("/api/orders/")
        wrapped = await self.client.get("/api/orders/", {"wrapped": 1})

        # writeOnly "note" is required in the schema, but not in a response.
        assert plain.data["wrapping"] is None
        assert wrapped.data["wrapping"] == {"paper": "gold", "message": None}
        assert plain.schema_check.skipped is wrapped.schema_check.skipped is None

    async def test_every_mismatch_of_a_nested_body_is_listed(self) -> None:
        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.get("/api/orders/", {"broken": 1})

        error = raised.value
        assert (error.method, error.path, error.status) == ("GET", "/api/orders/", 200)
        assert [(m.pointer, m.expected, m.got, m.rule) for m in error.mismatches] == [
            (
                "/lines/0/product/name",
                "the required property 'name'",
                "nothing: the property is missing",
                "#/components/schemas/Product/required",
            ),
            (
                "/lines/0/quantity",
                "a value of type integer",
                '"2"',
                "#/components/schemas/Line/properties/quantity/type",
            ),
        ]

    async def test_the_failure_message(self) -> None:
        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.get("/api/orders/", {"broken": 1})

        assert str(raised.value).splitlines() == [
            "GET /api/orders/ answered 200, which does not match the OpenAPI "
            "schema: 2 mismatches.",
            "  operation: orders_retrieve (GET /api/orders/)",
            "",
            "  response body at /lines/0/product/name",
            "    expected: the required property 'name'",
            "    got:      nothing: the property is missing",
            "    rule:     #/components/schemas/Product/required",
            "  response body at /lines/0/quantity",
            "    expected: a value of type integer",
            '    got:      "2"',
            "    rule:     #/components/schemas/Line/properties/quantity/type",
            "",
            "Fix the view or its extend_schema annotations, or pass "
            "validate_schema=False to skip this request's check.",
        ]
        assert isinstance(raised.value, AssertionError)

    async def test_polymorphic_responses_follow_the_discriminator(self) -> None:
        for pet in ("cat", "dog"):
            response = await self.client.get("/api/pets/", {"pet": pet})
            assert response.data["kind"] == pet

        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.get("/api/pets/", {"pet": "bad-dog"})
        [mismatch] = raised.value.mismatches
        # Reported inside Dog, the alternative the discriminator chose.
        assert (mismatch.pointer, mismatch.rule) == (
            "/good",
            "#/components/schemas/Dog/properties/good/type",
        )

    async def test_formats_are_checked(self) -> None:
        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.get("/api/pets/", {"pet": "stray-cat"})

        [mismatch] = raised.value.mismatches
        assert (mismatch.pointer, mismatch.expected, mismatch.rule) == (
            "/adopted",
            "a string in the format 'date-time'",
            "#/components/schemas/Cat/properties/adopted/format",
        )

    async def test_an_unknown_discriminator_value(self) -> None:
        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.get("/api/pets/", {"pet": "fish"})

        [mismatch] = raised.value.mismatches
        assert (mismatch.pointer, mismatch.got, mismatch.rule) == (
            "/kind",
            '"fish"',
            "#/components/schemas/Pet/discriminator",
        )
        assert mismatch.expected == 'one of the discriminator values "cat", "dog"'

    async def test_a_non_json_body_is_checked_by_content_type(self) -> None:
        response = await self.client.get("/api/export/")

        assert response.content == b"Phone,499\n"
        assert response.schema_check.skipped == (
            "text/csv bodies are checked by content type only"
        )


class MediaTypeTests(ValidatedTestCase):
    async def test_media_type_ranges_match(self) -> None:
        csv = await self.client.get("/api/attachments/", {"as": "csv"})
        pdf = await self.client.get("/api/attachments/", {"as": "pdf"})

        # text/csv falls in text/* first; application/pdf only in */*.
        assert csv.schema_check.skipped == (
            "text/* bodies are checked by content type only"
        )
        assert pdf.schema_check.skipped == "*/* bodies are checked by content type only"

    async def test_a_stream_is_checked_without_reading_it(self) -> None:
        response = await self.client.get("/api/events/")

        assert response.schema_check == SchemaCheck(
            "events_retrieve (GET /api/events/)",
            skipped="the body of a streaming response is not read, so only its "
            "status and content type are checked",
        )
        chunks = [chunk async for chunk in response.streaming_content]
        assert b"".join(chunks) == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"

    async def test_json_documented_without_a_schema_takes_any_body(self) -> None:
        response = await self.client.get("/api/ping/")

        assert response.data == {"pong": True}
        assert response.schema_check == SchemaCheck("ping_retrieve (GET /api/ping/)")

    async def test_a_json_body_that_is_not_json(self) -> None:
        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.get("/api/hand-written/")

        assert raised.value.mismatches == [
            Mismatch(
                "response body",
                "",
                "a JSON document",
                "\"{'id': 1, 'name': 'Phone', 'price': 499, 'is_active': True}\" "
                "(Expecting property name enclosed in double quotes: line 1 column 2 "
                "(char 1))",
                "#/paths/~1api~1hand-written~1/get/responses/200/content/"
                "application~1json/schema",
            )
        ]


class RuleMessageTests(ValidatedTestCase):
    """What a mismatch says for each kind of rule that was broken."""

    async def mismatch(self, url: str, **query: str) -> Mismatch:
        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.get(url, query)
        [mismatch] = raised.value.mismatches
        return mismatch

    async def test_a_value_outside_the_choices(self) -> None:
        mismatch = await self.mismatch("/api/shipments/", broken="status")

        assert mismatch == Mismatch(
            "response body",
            "/status",
            'one of "packed", "shipped"',
            '"lost"',
            "#/components/schemas/StatusEnum/enum",
        )

    async def test_a_wrong_type_where_null_is_allowed_too(self) -> None:
        mismatch = await self.mismatch("/api/shipments/", broken="note")

        assert (mismatch.pointer, mismatch.expected, mismatch.got) == (
            "/note",
            "a value of type string or null",
            "5",
        )
        assert mismatch.rule == "#/components/schemas/Shipment/properties/note/type"

    async def test_other_rules_quote_the_rule_and_jsonschema_s_message(self) -> None:
        mismatch = await self.mismatch("/api/shipments/", broken="weight")

        assert (mismatch.pointer, mismatch.expected, mismatch.got) == (
            "/weight",
            "minimum 1 (0 is less than the minimum of 1)",
            "0",
        )
        assert mismatch.rule == (
            "#/components/schemas/Shipment/properties/weight/minimum"
        )

    async def test_long_values_are_cut_short(self) -> None:
        mismatch = await self.mismatch("/api/shipments/", broken="long-note")

        assert mismatch.got.startswith("[0, 1, 2, 3, 4, 5,")
        assert len(mismatch.got) == MAX_VALUE_LENGTH
        assert mismatch.got.endswith("…")

    async def test_oneof_without_an_object_to_discriminate(self) -> None:
        # A list where one pet is documented: the discriminator cannot
        # apply, so the plain oneOf rule speaks.
        mismatch = await self.mismatch("/api/pets/", pet="litter")

        assert (mismatch.pointer, mismatch.expected, mismatch.rule) == (
            "",
            "a value matching exactly one of the 2 oneOf alternatives",
            "#/components/schemas/Pet/oneOf",
        )
        assert mismatch.describe().splitlines()[0] == "  response body (as a whole)"

    async def test_anyof_in_a_hand_written_schema(self) -> None:
        mismatch = await self.mismatch("/api/labels/", label="fractional-code")

        assert (mismatch.pointer, mismatch.expected, mismatch.got) == (
            "/code",
            "a value matching at least one of the 2 anyOf alternatives",
            "4.5",
        )
        assert mismatch.rule == (
            "#/paths/~1api~1labels~1/get/responses/200/content/application~1json/"
            "schema/properties/code/anyOf"
        )

    async def test_a_property_the_schema_does_not_allow(self) -> None:
        mismatch = await self.mismatch("/api/labels/", label="extra-color")

        assert (mismatch.pointer, mismatch.expected, mismatch.got) == (
            "",
            "no properties besides the documented ones (code, version)",
            '{"code": 7, "version": 2, "color": "red"}',
        )
        assert mismatch.rule.endswith("/schema/additionalProperties")

    async def test_const_is_no_rule_of_openapi_3_0(self) -> None:
        response = await self.client.get("/api/labels/", {"label": "version-3"})

        assert response.data["version"] == 3
        assert response.schema_check.skipped is None


class StatusTests(ValidatedTestCase):
    async def test_an_undocumented_status(self) -> None:
        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.get("/api/teapot/")

        [mismatch] = raised.value.mismatches
        assert (mismatch.part, mismatch.expected, mismatch.got) == (
            "status",
            "one of the documented statuses 200, 202",
            "418",
        )

    async def test_a_body_where_the_schema_documents_none(self) -> None:
        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.get("/api/teapot/", {"empty-documented": 1})

        [mismatch] = raised.value.mismatches
        assert mismatch.expected == "no body (status 202 is documented without content)"
        assert mismatch.got == "15 bytes of application/json"

    async def test_status_ranges_match(self) -> None:
        response = await self.client.put(
            "/api/teapot/",
            {"name": "Pot", "price": 5},
            format="json",
        )

        assert response.status_code == 203
        assert response.schema_check.operation == "teapot_update (PUT /api/teapot/)"


class UncheckedTests(ValidatedTestCase):
    async def test_an_endpoint_missing_from_the_schema(self) -> None:
        with pytest.raises(UndocumentedOperationError) as raised:
            await self.client.get("/api/hidden/")

        assert str(raised.value) == (
            "GET /api/hidden/ (answered 200): the OpenAPI schema has no operation "
            "GET /api/hidden/ (URL pattern 'api/hidden/', view "
            "tests.schema_app.views.HiddenView).\n"
            "Send this request with validate_schema=False to skip the check, or "
            "document the endpoint."
        )

    async def test_validate_schema_false_skips_one_request(self) -> None:
        response = await self.client.get("/api/hidden/", validate_schema=False)

        assert response.data == {"secret": True}
        assert not hasattr(response, "schema_check")
        with pytest.raises(UndocumentedOperationError):
            await self.client.get("/api/hidden/")  # the client is still checking

    async def test_views_outside_drf_are_skipped_with_a_reason(self) -> None:
        response = await self.client.get("/plain/")

        assert response.schema_check == SchemaCheck(
            None,
            skipped="tests.schema_app.views.plain_django is not a DRF view; "
            "drf-spectacular documents DRF views only",
        )

    async def test_unrouted_urls_and_options_are_skipped_with_a_reason(self) -> None:
        missing = await self.client.get("/nowhere/")
        options = await self.client.options("/api/products/")

        assert missing.status_code == 404
        assert missing.schema_check.skipped == (
            "the URL matched no URL pattern, so no view and no operation"
        )
        assert options.schema_check.skipped == (
            "OPTIONS answers with DRF's metadata, which OpenAPI does not describe"
        )

    async def test_follow_checks_every_hop(self) -> None:
        # The redirect is a plain Django view (skipped); its target is not
        # in the schema.
        with pytest.raises(UndocumentedOperationError, match="GET /api/hidden/"):
            await self.client.get("/to-hidden/", follow=True)

        response = await self.client.get(
            "/to-hidden/", follow=True, validate_schema=False
        )
        assert response.redirect_chain == [("/api/hidden/", 302)]


@override_settings(
    MIDDLEWARE=["tests.schema_app.views.schema_urls_middleware"],
    ROOT_URLCONF="tests.project.urls",
)
class RequestURLConfTests(AsyncAPISimpleTestCase):
    validate_schema = True

    async def test_the_url_conf_middleware_chose_is_the_one_checked(self) -> None:
        response = await self.client.get("/api/pets/")

        assert response.schema_check.operation == "pets_retrieve (GET /api/pets/)"


# -- request bodies ------------------------------------------------------------


@override_settings(RESTFLOW_SCHEMA={"VALIDATE_REQUESTS": True})
class RequestBodyTests(ValidatedTestCase):
    async def test_a_valid_json_body_is_checked_too(self) -> None:
        # No "id": it is readOnly, so not required in a request.
        response = await self.client.post(
            "/api/orders/", {"lines": [], "wrapping": None, "note": "hi"}, format="json"
        )

        assert response.status_code == 201
        assert response.schema_check.request_checked is True

    async def test_request_and_response_mismatches_are_listed_together(self) -> None:
        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.post(
                "/api/orders/", {"lines": "none", "wrapping": None}, format="json"
            )

        assert [(m.part, m.pointer) for m in raised.value.mismatches] == [
            ("response body", "/lines"),
            ("request body", "/lines"),
        ]

    async def test_other_bodies_are_not_checked(self) -> None:
        response = await self.client.post(
            "/api/orders/",
            {"lines": "none", "wrapping": ""},
            format="multipart",
            validate_schema=False,
        )
        assert response.status_code == 201

        response = await self.client.post(
            "/api/products/", {"name": "Fax"}, format="multipart"
        )
        assert response.schema_check.request_checked is False

    async def test_a_body_that_is_not_json(self) -> None:
        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.post(
                "/api/orders/", data="{oops", content_type="application/json"
            )

        # DRF answers 400, which the operation does not document either.
        assert [(m.part, m.expected, m.got) for m in raised.value.mismatches] == [
            ("status", "one of the documented statuses 201", "400"),
            (
                "request body",
                "a JSON document",
                '"{oops" (Expecting property name enclosed in double quotes: '
                "line 1 column 2 (char 1))",
            ),
        ]
        assert raised.value.mismatches[1].rule == (
            "#/paths/~1api~1orders~1/post/requestBody/content/application~1json/schema"
        )

    async def test_a_body_where_none_is_documented(self) -> None:
        product = await Product.objects.acreate(name="Fax", price=1)

        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.delete(
                f"/api/products/{product.pk}/",
                data='{"reason": "sold"}',  # 18 bytes
                content_type="application/json",
            )

        [mismatch] = raised.value.mismatches
        assert mismatch == Mismatch(
            "request body",
            None,
            "no request body (none is documented)",
            "18 bytes of application/json",
            "#/paths/~1api~1products~1{id}~1/delete/requestBody",
        )

    async def test_a_body_of_a_type_the_schema_does_not_list(self) -> None:
        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.post(
                "/api/subscriptions/",
                data='{"paper": "gold"}',  # 17 bytes
                content_type="application/json",
            )

        [mismatch] = raised.value.mismatches
        assert (mismatch.part, mismatch.expected, mismatch.got) == (
            "request body",
            "a body of type application/x-www-form-urlencoded",
            "17 bytes of application/json",
        )
        assert mismatch.rule == "#/paths/~1api~1subscriptions~1/post/requestBody"

    async def test_without_the_setting_requests_are_not_checked(self) -> None:
        with override_settings(RESTFLOW_SCHEMA={}):
            response = await self.client.post(
                "/api/products/", {"name": "Fax"}, format="json"
            )
        assert response.schema_check.request_checked is False


class RequestSettingTests(AsyncAPISimpleTestCase):
    urlpatterns = urls.urlpatterns
    validate_schema = True

    async def test_a_misspelt_setting_is_refused(self) -> None:
        for value in ({"VALIDATE_REQUEST": True}, ["VALIDATE_REQUESTS"]):
            with (
                override_settings(RESTFLOW_SCHEMA=value),
                pytest.raises(ImproperlyConfigured, match="VALIDATE_REQUESTS"),
            ):
                await self.client.post("/api/orders/", {}, format="json")

    async def test_a_value_that_is_not_a_bool_is_refused(self) -> None:
        with (
            override_settings(RESTFLOW_SCHEMA={"VALIDATE_REQUESTS": "yes"}),
            pytest.raises(ImproperlyConfigured, match="True or False, not 'yes'"),
        ):
            await self.client.post("/api/orders/", {}, format="json")


# -- switching it on and off ---------------------------------------------------


class SwitchTests(AsyncAPISimpleTestCase):
    urlpatterns = urls.urlpatterns

    async def test_off_by_default(self) -> None:
        assert AsyncAPIClient().validate_schema is False
        response = await self.client.get("/api/hidden/")
        assert not hasattr(response, "schema_check")

    async def test_on_for_one_request(self) -> None:
        with pytest.raises(UndocumentedOperationError):
            await self.client.get("/api/hidden/", validate_schema=True)

    async def test_the_attribute_can_be_changed(self) -> None:
        self.client.validate_schema = True
        with pytest.raises(UndocumentedOperationError):
            await self.client.get("/api/hidden/")

    async def test_bad_values_are_refused(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"AsyncAPIClient\(\): validate_schema takes .*, not 'yes'\.",
        ):
            AsyncAPIClient(validate_schema="yes")  # type: ignore[arg-type]
        with pytest.raises(
            TypeError,
            match=r"AsyncAPIClient.get\(\): validate_schema takes .*, not 1\.",
        ):
            self.client.get("/api/pets/", validate_schema=1)
        with pytest.raises(TypeError, match=r"client.validate_schema: .*, not 'on'\."):
            self.client.validate_schema = "on"  # type: ignore[assignment]
        self.client.validate_schema = None  # the run's default
        assert self.client.validate_schema is False


# Test classes run inside a test: from module-level tests, since a test
# case's own test thread is not the place to run another test case.


def test_a_class_attribute_that_is_not_a_bool() -> None:
    class Wrong(AsyncAPISimpleTestCase):
        validate_schema = "yes"  # type: ignore[assignment]

        def test_it(self) -> None:
            pass

    [(_, trace)] = _run(Wrong).errors
    assert "client.validate_schema: validate_schema takes True" in trace


def test_the_class_attribute_reaches_both_clients() -> None:
    class On(AsyncAPISimpleTestCase):
        validate_schema = True
        seen: ClassVar[list[bool]] = []

        def test_it(self) -> None:
            self.seen.extend(
                [self.client.validate_schema, self.async_client.validate_schema]
            )

    class Off(On):
        validate_schema = False
        seen: ClassVar[list[bool]] = []

    assert _run(On).wasSuccessful() and _run(Off).wasSuccessful()
    assert (On.seen, Off.seen) == ([True, True], [False, False])


class AssertMatchesSchemaTests(AsyncAPISimpleTestCase):
    urlpatterns = urls.urlpatterns

    async def test_a_one_off_check(self) -> None:
        response = await self.client.get("/api/pets/", {"pet": "dog"})

        check = self.assertMatchesSchema(response)

        assert check == SchemaCheck("pets_retrieve (GET /api/pets/)")

    async def test_a_one_off_failure(self) -> None:
        response = await self.client.get("/api/pets/", {"pet": "bad-dog"})

        with pytest.raises(SchemaMismatchError, match="/good"):
            self.assertMatchesSchema(response)
        with pytest.raises(SchemaMismatchError, match="/good"):
            assert_matches_schema(response)

    async def test_what_cannot_be_checked_fails_when_asked_for(self) -> None:
        response = await self.client.get("/plain/")

        with pytest.raises(UndocumentedOperationError) as raised:
            assert_matches_schema(response)
        assert str(raised.value) == (
            "GET /plain/ (answered 200): cannot be checked: "
            "tests.schema_app.views.plain_django is not a DRF view; "
            "drf-spectacular documents DRF views only.\n"
        )

    def test_a_response_no_client_made(self) -> None:
        from django.http import JsonResponse

        with pytest.raises(TypeError, match="got a JsonResponse that no test client"):
            assert_matches_schema(JsonResponse({}))


# -- the schema document -------------------------------------------------------


class DocumentTests(AsyncAPISimpleTestCase):
    urlpatterns = urls.urlpatterns

    def test_generated_once_per_url_conf(self) -> None:
        assert document_for("tests.schema_app.urls") is document_for(
            "tests.schema_app.urls"
        )

    def test_settings_changes_clear_the_cache(self) -> None:
        first = document_for("tests.schema_app.urls")
        with override_settings(SPECTACULAR_SETTINGS={}):
            assert document_for("tests.schema_app.urls") is not first

    def test_compiled_validators_are_reused(self) -> None:
        document = document_for("tests.schema_app.urls")
        pointer = "/components/schemas/Product"
        assert document.validator(pointer, "response") is document.validator(
            pointer, "response"
        )
        assert document.validator(pointer, "response") is not document.validator(
            pointer, "request"
        )

    def test_each_operation_maps_to_its_route(self) -> None:
        document = document_for("tests.schema_app.urls")
        for url, method, expected in [
            ("/api/products/", "GET", "/api/products/"),
            ("/api/products/5/", "DELETE", "/api/products/{id}/"),
            ("/api/async-products/5/", "PATCH", "/api/async-products/{id}/"),
            ("/api/pets/", "GET", "/api/pets/"),
        ]:
            operation = document.operation_for(
                resolve(url, "tests.schema_app.urls"), method
            )
            assert operation is not None and operation.path == expected
        assert document.operation_for(resolve("/api/pets/", urls), "POST") is None

    def test_a_project_without_drf_spectacular_s_auto_schema(self) -> None:
        clear_schema_cache()
        with (
            override_settings(
                REST_FRAMEWORK={
                    "DEFAULT_SCHEMA_CLASS": "rest_framework.schemas.openapi.AutoSchema"
                }
            ),
            pytest.raises(
                RuntimeError, match=r"'drf_spectacular\.openapi\.AutoSchema'"
            ),
        ):
            document_for("tests.schema_app.urls")

    def test_what_drf_spectacular_and_django_must_keep(self) -> None:
        # The route recording relies on these; if one changes, adapt _document.py.
        import inspect

        params = list(inspect.signature(AutoSchema.get_operation).parameters)
        assert params == [
            "self",
            "path",
            "path_regex",
            "path_prefix",
            "method",
            "registry",
        ], "drf-spectacular changed AutoSchema.get_operation's signature"
        match = resolve("/api/products/5/", "tests.schema_app.urls")
        assert isinstance(match, ResolverMatch) and match.route == (
            "api/products/(?P<pk>[^/.]+)/$"
        ), "Django changed how ResolverMatch.route joins included patterns"


class OpenAPI31Tests(ValidatedTestCase):
    """The same checks against drf-spectacular's OpenAPI 3.1 output."""

    def setUp(self) -> None:
        _spectacular_settings(self, OAS_VERSION="3.1.0")

    async def test_nullable_nested_and_polymorphic(self) -> None:
        document = document_for(self.urlpatterns_module())
        assert document.openapi_version == "3.1.0"
        await self.client.get("/api/orders/")
        await self.client.get("/api/orders/", {"wrapped": 1})
        await self.client.get("/api/pets/", {"pet": "dog"})

    async def test_mismatches(self) -> None:
        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.get("/api/orders/", {"broken": 1})
        assert [m.pointer for m in raised.value.mismatches] == [
            "/lines/0/product/name",
            "/lines/0/quantity",
        ]
        with pytest.raises(SchemaMismatchError, match="Dog/properties/good/type"):
            await self.client.get("/api/pets/", {"pet": "bad-dog"})

    async def test_const_is_checked(self) -> None:
        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.get("/api/labels/", {"label": "version-3"})

        [mismatch] = raised.value.mismatches
        assert (mismatch.pointer, mismatch.expected, mismatch.got) == (
            "/version",
            "exactly 2",
            "3",
        )

    def urlpatterns_module(self) -> Any:
        return settings.ROOT_URLCONF


# -- projects that customise drf-spectacular ---------------------------------------


class SharedComponentsTests(ValidatedTestCase):
    """A postprocessing hook moved response and request bodies to
    ``components``; the check follows the ``$ref`` to them."""

    def setUp(self) -> None:
        _spectacular_settings(
            self, POSTPROCESSING_HOOKS=["tests.schema_app.hooks.share_bodies"]
        )

    async def test_a_shared_response_is_checked(self) -> None:
        response = await self.client.get("/api/orders/")
        assert response.schema_check == SchemaCheck(
            "orders_retrieve (GET /api/orders/)"
        )

        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.get("/api/orders/", {"broken": 1})
        assert [(m.pointer, m.rule) for m in raised.value.mismatches] == [
            ("/lines/0/product/name", "#/components/schemas/Product/required"),
            ("/lines/0/quantity", "#/components/schemas/Line/properties/quantity/type"),
        ]

    async def test_the_rule_names_where_the_shared_response_is(self) -> None:
        with pytest.raises(SchemaMismatchError) as raised:
            await self.client.get("/api/export/", {"format": "json"})

        [mismatch] = raised.value.mismatches
        assert (mismatch.part, mismatch.rule) == (
            "content type",
            "#/components/responses/Export/content",
        )

    async def test_a_shared_request_body_is_checked(self) -> None:
        with (
            override_settings(RESTFLOW_SCHEMA={"VALIDATE_REQUESTS": True}),
            pytest.raises(SchemaMismatchError) as raised,
        ):
            await self.client.post(
                "/api/orders/", {"lines": "none", "wrapping": None}, format="json"
            )

        assert [(m.part, m.pointer) for m in raised.value.mismatches] == [
            ("response body", "/lines"),
            ("request body", "/lines"),
        ]


class BrokenReferenceTests(ValidatedTestCase):
    async def test_a_reference_outside_the_document(self) -> None:
        _spectacular_settings(
            self, POSTPROCESSING_HOOKS=["tests.schema_app.hooks.refer_outside"]
        )

        with pytest.raises(RuntimeError) as raised:
            await self.client.get("/api/orders/")

        assert str(raised.value) == (
            "The OpenAPI schema refers from #/paths/~1api~1orders~1/get/responses/200 "
            "to 'shared.yaml#/components/schemas/Order', which is not part of the "
            "document. Schema validation follows references within the generated "
            "document only: check the postprocessing hooks in SPECTACULAR_SETTINGS."
        )

    async def test_a_reference_to_nothing(self) -> None:
        _spectacular_settings(
            self, POSTPROCESSING_HOOKS=["tests.schema_app.hooks.refer_to_nothing"]
        )

        with pytest.raises(
            RuntimeError,
            match=r"to '#/components/responses/Missing', which is not part of",
        ):
            await self.client.get("/api/orders/")

    async def test_references_in_a_circle(self) -> None:
        _spectacular_settings(
            self, POSTPROCESSING_HOOKS=["tests.schema_app.hooks.refer_in_a_circle"]
        )

        with pytest.raises(RuntimeError, match=r"go round in a circle"):
            await self.client.get("/api/orders/")


class CustomisedGenerationTests(ValidatedTestCase):
    async def test_an_operation_a_hook_removed_is_undocumented(self) -> None:
        _spectacular_settings(
            self, POSTPROCESSING_HOOKS=["tests.schema_app.hooks.drop_pets"]
        )

        with pytest.raises(UndocumentedOperationError) as raised:
            await self.client.get("/api/pets/")

        assert str(raised.value).splitlines()[0] == (
            "GET /api/pets/ (answered 200): the OpenAPI schema has no operation "
            "GET /api/pets/ (URL pattern 'api/pets/', view "
            "tests.schema_app.views.PetView)."
        )

    async def test_a_generator_that_adds_operations_of_its_own(self) -> None:
        clear_schema_cache()
        self.addCleanup(clear_schema_cache)
        with mock.patch.object(
            spectacular_settings, "DEFAULT_GENERATOR_CLASS", hooks.HealthCheckGenerator
        ):
            response = await self.client.get("/api/pets/")
            document = document_for(settings.ROOT_URLCONF).document

        assert response.schema_check.operation == "pets_retrieve (GET /api/pets/)"
        assert document["paths"]["/health/"]["get"]["operationId"] == "health"


class ForeignInspectorTests(AsyncAPISimpleTestCase):
    urlpatterns = [path("api/legacy/", views.LegacySchemaView.as_view())]
    validate_schema = True

    async def test_drf_spectacular_names_the_view_it_cannot_document(self) -> None:
        with pytest.raises(AssertionError) as raised:
            await self.client.get("/api/legacy/")

        # drf-spectacular's own message, not a mismatch or an AttributeError.
        assert type(raised.value) is AssertionError
        assert str(raised.value).startswith(
            "Incompatible AutoSchema used on View "
            "<class 'tests.schema_app.views.LegacySchemaView'>."
        )


def test_callers_at_once_wait_for_one_generation(monkeypatch: Any) -> None:
    """A thread that finds no document waits while another generates it,
    then takes that one rather than generating its own."""
    held = threading.Lock()
    waiting = threading.Semaphore(0)

    class AnnouncedLock:
        """The generation lock, announcing each thread about to wait for it."""

        def __enter__(self) -> None:
            waiting.release()
            held.acquire()

        def __exit__(self, *exc_info: object) -> None:
            held.release()

    monkeypatch.setattr(_document, "_GENERATING", AnnouncedLock())
    urlconf = types.ModuleType("tests.test_schema.concurrent_urls")
    urlconf.urlpatterns = urls.urlpatterns  # type: ignore[attr-defined]
    found: list[Any] = []
    threads = [
        threading.Thread(target=lambda: found.append(document_for(urlconf)))
        for _ in range(2)
    ]
    held.acquire()
    try:
        for thread in threads:
            thread.start()
        # Both found the cache empty and now wait for the lock.
        assert all(waiting.acquire(timeout=30) for _ in threads)
    finally:
        held.release()
        for thread in threads:
            thread.join(timeout=60)
        clear_schema_cache()

    assert len(found) == 2 and found[0] is found[1]


# -- the extra -----------------------------------------------------------------


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter with a project that lacks drf-spectacular."""
    setup = """
        import django
        from django.conf import settings
        settings.configure(
            INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                            "rest_framework"],
            ROOT_URLCONF="tests.project.urls",
        )
    """
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(setup) + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )


def test_restflow_test_does_not_import_the_schema_machinery() -> None:
    result = _python(
        """
        import sys
        django.setup()
        import restflow.test
        from restflow.test import AsyncAPIClient, AsyncAPITestCase
        from restflow.test import client, plugin, testcases
        AsyncAPIClient()
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in
                        ("drf_spectacular", "jsonschema", "referencing")
                        or m.startswith("restflow.test.schema"))
        print(loaded)
        """
    )
    assert result.stdout.strip() == "[]", result.stderr


@pytest.mark.parametrize(
    ("missing", "package"),
    [("drf_spectacular", "drf-spectacular"), ("jsonschema", "jsonschema")],
)
def test_without_the_extra_the_import_error_names_it(
    missing: str, package: str
) -> None:
    result = _python(
        f"""
        import sys
        sys.modules[{missing!r}] = None  # as if it were not installed
        django.setup()
        from restflow.test import AsyncAPIClient
        try:
            AsyncAPIClient(validate_schema=True)
        except ImportError as error:
            print(error)
        """
    )
    assert result.stdout.strip() == (
        f"restflow.test.schema needs {package}, which is part of the schema "
        'extra: pip install "restflow-testing[schema]"'
    ), result.stderr


def test_the_document_is_rendered_json() -> None:
    document = document_for("tests.schema_app.urls").document
    assert json.loads(json.dumps(document)) == document
