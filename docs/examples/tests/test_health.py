"""Endpoints that need no database, tested with AsyncAPISimpleTestCase."""

from django.urls import path

from restflow.test import AsyncAPISimpleTestCase
from shop import views


# --8<-- [start:simple]
class APIRootTests(AsyncAPISimpleTestCase):
    async def test_the_api_root_lists_the_endpoints(self):
        # DRF's router keeps its API root out of the OpenAPI schema, so this
        # response is not checked against it (see contract-testing.md).
        response = await self.client.get("/api/", validate_schema=False)
        self.assertEqual(response.status_code, 200)
        self.assertIn("products", response.data)
        # --8<-- [end:simple]


# --8<-- [start:urlpatterns]
class HealthCheckTests(AsyncAPISimpleTestCase):
    # Only these URLs exist while this class's tests run.
    urlpatterns = [path("healthz/", views.health)]

    async def test_health_check_answers(self):
        response = await self.client.get("/healthz/")
        self.assertEqual(response.json(), {"status": "ok"})

    async def test_the_project_urls_are_not_routed(self):
        response = await self.client.get("/api/")
        self.assertEqual(response.status_code, 404)
        # --8<-- [end:urlpatterns]
