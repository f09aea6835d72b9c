"""Mistakes a type checker must flag in user-style test code.

Each mistake carries an ignore comment for the error it must cause. The
checkers are run so that an ignore comment with nothing to silence is an
error itself (mypy's ``warn_unused_ignores``, pyright's
``reportUnnecessaryTypeIgnoreComment``): if a mistake stops being flagged,
the check fails. Never run.
"""

from __future__ import annotations

from restflow.test import AsyncAPIClient, AsyncAPITestCase


async def forgotten_await(client: AsyncAPIClient) -> None:
    response = client.get("/api/products/")
    response.status_code  # type: ignore[attr-defined]  # noqa: B018
    response.data  # type: ignore[attr-defined]  # noqa: B018
    response["Content-Type"]  # type: ignore[index]
    response.json()  # type: ignore[attr-defined]


class ForgottenAwaitInATestCase(AsyncAPITestCase):
    async def test_list(self) -> None:
        response = self.client.get("/api/products/")
        self.assertEqual(response.status_code, 200)  # type: ignore[attr-defined]


async def wrong_types(client: AsyncAPIClient) -> None:
    response = await client.get("/api/products/")
    name: str = response.status_code  # type: ignore[assignment]
    client.get(42)  # type: ignore[arg-type]
    print(name)
