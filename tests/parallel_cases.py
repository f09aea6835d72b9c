"""Cases run by tests/test_parallel.py under parallel runners.

Not collected directly (the name does not start with ``test_``): each class
uses one base with the database, rollback and commits it promises, so a
parallel run exercises the bases in worker processes.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.db import transaction

from restflow.test import (
    AsyncAPISimpleTestCase,
    AsyncAPITestCase,
    AsyncAPITransactionTestCase,
)
from tests.project import views
from tests.testapp.models import Product


class SimpleCase(AsyncAPISimpleTestCase):
    async def test_echo(self) -> None:
        assert (await self.client.get("/echo/")).status_code == 200


class RollbackCase(AsyncAPITestCase):
    async def asyncSetUp(self) -> None:
        await Product.objects.acreate(name="set-up")

    async def test_write_through_the_client(self) -> None:
        response = await self.client.post(
            "/api/products/", {"name": "a"}, format="json"
        )
        assert response.status_code == 201
        assert await Product.objects.acount() == 2

    async def test_sees_only_its_own_rows(self) -> None:
        assert await Product.objects.acount() == 1


class CommitCase(AsyncAPITransactionTestCase):
    async def test_on_commit_fires(self) -> None:
        views.COMMITTED.clear()
        await self.client.post("/commit-aware/", {"name": "c"}, format="json")
        assert views.COMMITTED == ["c"]

    async def test_atomic_block_commits(self) -> None:
        def write() -> None:
            with transaction.atomic():
                Product.objects.create(name="t")

        await sync_to_async(write)()
        assert await Product.objects.acount() == 1
