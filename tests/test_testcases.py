"""The test-case bases: async client, one loop per test, async hooks, urlpatterns."""

from __future__ import annotations

import asyncio
import threading
import unittest
from typing import Any, ClassVar

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.test.testcases import DatabaseOperationForbidden
from django.urls import path

from restflow.test import (
    AsyncAPIClient,
    AsyncAPISimpleTestCase,
    AsyncAPITestCase,
    AsyncAPITransactionTestCase,
)
from tests.project import views
from tests.testapp.models import Product


def _run(case: type[unittest.TestCase]) -> unittest.TestResult:
    """Run a test class the way a runner does and return its result."""
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    return result


def connection_identity(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"connection": id(connection.connection), "thread": threading.get_ident()}
    )


# -- the client ------------------------------------------------------------------


class ClientTests(AsyncAPISimpleTestCase):
    def test_client_and_async_client_are_async_api_clients(self) -> None:
        assert type(self.client) is AsyncAPIClient
        assert type(self.async_client) is AsyncAPIClient
        assert self.client is not self.async_client

    async def test_1_leaves_state_on_its_client(self) -> None:
        self.client.credentials(HTTP_AUTHORIZATION="Token leaked")
        self.client.force_authenticate(User(username="leaked"))
        self.client.cookies["crumb"] = "leaked"
        type(self).first_client = self.client  # type: ignore[attr-defined]

    async def test_2_gets_a_fresh_client(self) -> None:
        assert self.client is not getattr(type(self), "first_client", None)
        response = await self.client.get("/echo/")
        assert response.data["user"] is None
        assert "HTTP_AUTHORIZATION" not in response.data["headers"]
        assert response.data["headers"]["HTTP_COOKIE"] == ""


class SimpleTestCaseTests(AsyncAPISimpleTestCase):
    async def test_database_queries_are_forbidden(self) -> None:
        with pytest.raises(DatabaseOperationForbidden):
            await Product.objects.acount()

    async def test_views_that_query_are_forbidden_too(self) -> None:
        with pytest.raises(DatabaseOperationForbidden):
            await self.client.get("/api/products/")


# -- rollback and commits ----------------------------------------------------------


class RollbackTests(AsyncAPITestCase):
    async def test_1_writes_through_orm_and_view(self) -> None:
        views.COMMITTED.clear()
        await Product.objects.acreate(name="from-test")
        response = await self.client.post(
            "/commit-aware/", {"name": "from-view"}, format="json"
        )
        assert response.status_code == 201
        assert await Product.objects.acount() == 2
        assert views.COMMITTED == []  # nothing commits, so on_commit never runs

    async def test_2_sees_a_clean_database(self) -> None:
        assert await Product.objects.acount() == 0

    def test_3_sync_test_sees_a_clean_database(self) -> None:
        assert Product.objects.count() == 0

    async def test_capture_on_commit_callbacks_in_async_test(self) -> None:
        views.COMMITTED.clear()
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            await self.client.post(
                "/commit-aware/", {"name": "captured"}, format="json"
            )
        assert len(callbacks) == 1
        assert views.COMMITTED == ["captured"]

    async def test_capture_without_execute_only_collects(self) -> None:
        views.COMMITTED.clear()
        with self.captureOnCommitCallbacks() as callbacks:
            await self.client.post("/commit-aware/", {"name": "held"}, format="json")
        assert len(callbacks) == 1
        assert views.COMMITTED == []

    def test_capture_on_commit_callbacks_in_sync_test(self) -> None:
        views.COMMITTED.clear()
        with self.captureOnCommitCallbacks(execute=True):
            transaction.on_commit(lambda: views.COMMITTED.append("sync"))
        assert views.COMMITTED == ["sync"]


class SharedConnectionTests(AsyncAPITestCase):
    urlpatterns: ClassVar[list[Any]] = [path("connection/", connection_identity)]

    async def asyncSetUp(self) -> None:
        self.seen = [await sync_to_async(_connection_identity)()]

    async def test_hooks_body_and_views_use_one_connection(self) -> None:
        self.seen.append(await sync_to_async(_connection_identity)())
        response = await self.client.get("/connection/")
        self.seen.append((response.json()["connection"], response.json()["thread"]))
        assert len(set(self.seen)) == 1, self.seen


def _connection_identity() -> tuple[int, int]:
    connection.ensure_connection()
    return id(connection.connection), threading.get_ident()


class TransactionTests(AsyncAPITransactionTestCase):
    async def test_1_on_commit_fires_for_views_and_test_code(self) -> None:
        views.COMMITTED.clear()
        response = await self.client.post(
            "/commit-aware/", {"name": "committed"}, format="json"
        )
        assert response.status_code == 201
        assert views.COMMITTED == ["committed"]

        def write_in_a_transaction() -> None:
            with transaction.atomic():
                Product.objects.create(name="atomic")
                transaction.on_commit(lambda: views.COMMITTED.append("atomic"))

        await sync_to_async(write_in_a_transaction)()
        assert views.COMMITTED == ["committed", "atomic"]

    async def test_2_tables_were_flushed(self) -> None:
        assert await Product.objects.acount() == 0


# -- async hooks -----------------------------------------------------------------

CALLS: list[str] = []


class HookOrder(AsyncAPISimpleTestCase):
    __test__ = False  # run by the test below, which checks the outcome

    def setUp(self) -> None:
        CALLS.append("setUp")

    async def asyncSetUp(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        CALLS.append("asyncSetUp")
        self.addAsyncCleanup(self.cleanup, "cleanup")

    async def cleanup(self, label: str) -> None:
        assert asyncio.get_running_loop() is self.loop
        CALLS.append(label)

    async def test_async(self) -> None:
        assert asyncio.get_running_loop() is self.loop
        await self.queue.put("loop-bound objects work")
        CALLS.append(await self.queue.get())

    def test_sync(self) -> None:
        CALLS.append("sync body")

    async def asyncTearDown(self) -> None:
        assert asyncio.get_running_loop() is self.loop
        CALLS.append("asyncTearDown")

    def tearDown(self) -> None:
        CALLS.append("tearDown")


def test_hooks_run_in_order_in_the_test_loop() -> None:
    CALLS.clear()
    result = _run(HookOrder)
    assert result.wasSuccessful(), result.errors + result.failures
    per_test = ["setUp", "asyncSetUp"], ["asyncTearDown", "tearDown", "cleanup"]
    assert [
        *per_test[0],
        "loop-bound objects work",
        *per_test[1],
        *per_test[0],
        "sync body",
        *per_test[1],
    ] == CALLS


class FailingBody(AsyncAPISimpleTestCase):
    __test__ = False  # run by the test below, which checks the outcome

    async def test_fails(self) -> None:
        CALLS.append("body")
        raise AssertionError("the body failed")

    async def asyncTearDown(self) -> None:
        CALLS.append("asyncTearDown")


def test_async_tear_down_runs_when_the_test_fails() -> None:
    CALLS.clear()
    result = _run(FailingBody)
    assert len(result.failures) == 1
    assert CALLS == ["body", "asyncTearDown"]


class FailingSetUp(AsyncAPISimpleTestCase):
    __test__ = False  # run by the test below, which checks the outcome

    async def asyncSetUp(self) -> None:
        raise RuntimeError("set-up failed")

    async def test_never_runs(self) -> None:
        CALLS.append("body")


def test_a_failing_async_set_up_fails_the_test_and_skips_the_body() -> None:
    CALLS.clear()
    result = _run(FailingSetUp)
    assert len(result.errors) == 1
    assert "set-up failed" in result.errors[0][1]
    assert CALLS == []


class LoggedInSetUp(AsyncAPITestCase):
    """The forum wish: log the client in during set-up, asynchronously."""

    async def asyncSetUp(self) -> None:
        self.user = await User.objects.acreate_user("dora", password="explorer")
        assert await self.client.alogin(username="dora", password="explorer")

    async def test_the_client_is_logged_in(self) -> None:
        response = await self.client.get("/whoami/")
        assert response.data["user"] == "dora"

    async def asyncTearDown(self) -> None:
        await self.client.alogout()


class SharedData(AsyncAPITestCase):
    __test__ = False  # run by the test below, which checks the outcome

    @classmethod
    async def asetUpTestData(cls) -> None:
        cls.product = await Product.objects.acreate(name="shared", price=1)

    async def test_1_rows_exist_and_can_change(self) -> None:
        assert await Product.objects.filter(name="shared").aexists()
        self.product.price = 99
        await self.product.asave()

    async def test_2_changes_were_rolled_back(self) -> None:
        assert (await Product.objects.aget(name="shared")).price == 1
        assert self.product.price == 1  # the class attribute is copied per test


@pytest.mark.django_db(transaction=True)
def test_shared_data_is_gone_after_the_class() -> None:
    result = _run(SharedData)
    assert result.wasSuccessful(), result.errors + result.failures
    assert result.testsRun == 2
    assert Product.objects.count() == 0


# -- urlpatterns -------------------------------------------------------------------


def only_here(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"only": "here"})


class UrlPatternsTests(AsyncAPISimpleTestCase):
    urlpatterns: ClassVar[list[Any]] = [path("only-here/", only_here)]

    async def test_class_urlpatterns_replace_the_url_conf(self) -> None:
        assert (await self.client.get("/only-here/")).json() == {"only": "here"}
        assert (await self.client.get("/echo/")).status_code == 404


class AfterUrlPatternsTests(AsyncAPISimpleTestCase):
    async def test_the_project_url_conf_is_back(self) -> None:
        assert (await self.client.get("/only-here/")).status_code == 404
        assert (await self.client.get("/echo/")).status_code == 200


def test_urlpatterns_of_the_wrong_type_are_refused() -> None:
    class Wrong(AsyncAPISimpleTestCase):
        urlpatterns = "tests.project.urls"  # type: ignore[assignment]

        def test_nothing(self) -> None:
            pass

    result = _run(Wrong)
    assert len(result.errors) == 1
    assert "urlpatterns must be a list of path()" in result.errors[0][1]
