"""What a type checker knows of restflow in user-style test code.

Checked in CI by ``mypy --strict tests/typecheck`` and ``pyright -p
tests/typecheck``; never run. Each ``assert_type`` fails the check if the
type drifts.
"""

from __future__ import annotations

from typing import Any

from django.core.handlers.asgi import ASGIRequest
from django.http.response import ResponseHeaders
from typing_extensions import assert_type

from restflow.test import (
    AsyncAPIClient,
    AsyncAPIRequestFactory,
    AsyncAPITestCase,
    ClientResponse,
    PendingResponse,
    force_authenticate,
)
from restflow.test.factory import FactoryRequest


def status_of(response: ClientResponse) -> int:
    # Under mypy --strict this used to fail with no-any-return.
    return response.status_code


async def a_client_test(client: AsyncAPIClient) -> None:
    pending = client.post("/api/products/", {"name": "Phone"}, format="json")
    assert_type(pending, PendingResponse[ClientResponse])
    response = await pending
    assert_type(response, ClientResponse)
    assert_type(response.status_code, int)
    assert_type(response.content, bytes)
    assert_type(response.headers, ResponseHeaders)
    assert_type(response["Content-Type"], str)
    assert_type(response.asgi_request, ASGIRequest)
    assert_type(response.redirect_chain, list[tuple[str, int]])
    assert_type(response.data, Any)
    assert_type(response.json(), Any)
    assert_type(response.text, str)
    async for chunk in response.streaming_content:
        assert_type(chunk, bytes)
    for verb in (client.get, client.head, client.options, client.delete):
        assert_type(await verb("/api/products/"), ClientResponse)
    assert_type(await client.generic("PURGE", "/cache/"), ClientResponse)
    client.credentials(HTTP_AUTHORIZATION="Token abc")
    client.force_authenticate(None)
    await client.alogout()


def a_factory_test(factory: AsyncAPIRequestFactory) -> None:
    request = factory.post("/api/products/", {"name": "Phone"}, format="json")
    assert_type(request, FactoryRequest)
    force_authenticate(request, user=None, token="t")
    assert_type(factory.get("/api/products/", {"page": 2}), FactoryRequest)


class ProductTests(AsyncAPITestCase):
    async def test_list(self) -> None:
        assert_type(self.client, AsyncAPIClient)
        response = await self.client.get("/api/products/")
        self.assertEqual(response.status_code, 200)
