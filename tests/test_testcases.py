"""The test-case bases: async client, one loop per test, async hooks, urlpatterns."""

from __future__ import annotations

import asyncio
import contextvars
import signal
import threading
import unittest
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.test.testcases import DatabaseOperationForbidden
from django.test.utils import CaptureQueriesContext
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from restflow.test import (
    AsyncAPIClient,
    AsyncAPISimpleTestCase,
    AsyncAPITestCase,
    AsyncAPITransactionTestCase,
    _test_loop,
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


class ClientLeftInAState(AsyncAPISimpleTestCase):
    __test__ = False  # run in order by the test below
    clients: ClassVar[list[AsyncAPIClient]] = []
    seen: ClassVar[dict[str, Any]] = {}

    async def test_1_leaves_state_on_its_client(self) -> None:
        self.client.credentials(HTTP_AUTHORIZATION="Token leaked")
        self.client.force_authenticate(User(username="leaked"))
        self.client.cookies["crumb"] = "leaked"
        self.clients.append(self.client)

    async def test_2_gets_a_fresh_client(self) -> None:
        self.clients.append(self.client)
        response = await self.client.get("/echo/")
        self.seen.update(response.data)


def test_each_test_gets_a_fresh_client() -> None:
    ClientLeftInAState.clients.clear()
    ClientLeftInAState.seen.clear()
    result = _run(ClientLeftInAState)
    assert result.wasSuccessful(), result.errors + result.failures
    first, second = ClientLeftInAState.clients
    assert first is not second
    seen = ClientLeftInAState.seen
    assert seen["user"] is None
    assert "HTTP_AUTHORIZATION" not in seen["headers"]
    assert seen["headers"]["HTTP_COOKIE"] == ""


class SimpleTestCaseTests(AsyncAPISimpleTestCase):
    async def test_database_queries_are_forbidden(self) -> None:
        with pytest.raises(DatabaseOperationForbidden):
            await Product.objects.acount()

    async def test_views_that_query_are_forbidden_too(self) -> None:
        with pytest.raises(DatabaseOperationForbidden):
            await self.client.get("/api/products/")


# -- rollback and commits ----------------------------------------------------------


class WritesThenLooks(AsyncAPITestCase):
    __test__ = False  # run in order by the test below
    counts: ClassVar[list[int]] = []

    async def test_1_writes_through_orm_and_view(self) -> None:
        views.COMMITTED.clear()
        await Product.objects.acreate(name="from-test")
        response = await self.client.post(
            "/commit-aware/", {"name": "from-view"}, format="json"
        )
        assert response.status_code == 201
        assert await Product.objects.acount() == 2
        assert views.COMMITTED == []  # nothing commits, so on_commit never runs

    async def test_2_async_test_looks(self) -> None:
        self.counts.append(await Product.objects.acount())

    def test_3_sync_test_looks(self) -> None:
        self.counts.append(Product.objects.count())


@pytest.mark.django_db(transaction=True)
def test_writes_of_tests_and_views_are_rolled_back() -> None:
    WritesThenLooks.counts.clear()
    result = _run(WritesThenLooks)
    assert result.wasSuccessful(), result.errors + result.failures
    assert WritesThenLooks.counts == [0, 0]


class RollbackTests(AsyncAPITestCase):
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


class CommitsThenLooks(AsyncAPITransactionTestCase):
    __test__ = False  # run in order by the test below
    counts: ClassVar[list[int]] = []

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

    async def test_2_looks(self) -> None:
        self.counts.append(await Product.objects.acount())


@pytest.mark.django_db(transaction=True)
def test_transaction_test_case_commits_then_flushes() -> None:
    CommitsThenLooks.counts.clear()
    result = _run(CommitsThenLooks)
    assert result.wasSuccessful(), result.errors + result.failures
    assert CommitsThenLooks.counts == [0]


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


class AfterUrlPatterns(AsyncAPISimpleTestCase):
    __test__ = False  # run after UrlPatternsTests by the test below
    statuses: ClassVar[list[int]] = []

    async def test_the_project_url_conf_is_back(self) -> None:
        self.statuses.append((await self.client.get("/only-here/")).status_code)
        self.statuses.append((await self.client.get("/echo/")).status_code)


def test_the_project_url_conf_is_back_after_the_class() -> None:
    AfterUrlPatterns.statuses.clear()
    suite = unittest.TestSuite(
        unittest.defaultTestLoader.loadTestsFromTestCase(case)
        for case in (UrlPatternsTests, AfterUrlPatterns)
    )
    result = unittest.TestResult()
    suite.run(result)
    assert result.wasSuccessful(), result.errors + result.failures
    assert AfterUrlPatterns.statuses == [404, 200]


def test_urlpatterns_of_the_wrong_type_are_refused() -> None:
    class Wrong(AsyncAPISimpleTestCase):
        urlpatterns = "tests.project.urls"  # type: ignore[assignment]

        def test_nothing(self) -> None:
            pass

    result = _run(Wrong)
    assert len(result.errors) == 1
    assert "urlpatterns must be a list of path()" in result.errors[0][1]


# -- one loop, whichever way unittest runs the test ------------------------------

LOOPS: list[object] = []


class OneLoop(AsyncAPISimpleTestCase):
    __test__ = False  # run by the tests below

    def setUp(self) -> None:
        REQUEST_ID.set("set in setUp")

    async def asyncSetUp(self) -> None:
        LOOPS.append(asyncio.get_running_loop())
        LOOPS.append(REQUEST_ID.get())
        REQUEST_ID.set("set in asyncSetUp")

    async def test_body(self) -> None:
        LOOPS.append(asyncio.get_running_loop())
        LOOPS.append(REQUEST_ID.get())

    async def asyncTearDown(self) -> None:
        LOOPS.append(asyncio.get_running_loop())


REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")


@pytest.mark.parametrize("how", ["suite", "debug", "run without a result"])
def test_every_way_of_running_a_test_uses_one_loop(how: str) -> None:
    LOOPS.clear()
    case = OneLoop("test_body")
    if how == "suite":
        assert _run(OneLoop).wasSuccessful()
    elif how == "debug":
        case.debug()
    else:
        assert case.run().wasSuccessful()  # type: ignore[union-attr]
    set_up_loop, seen_in_set_up, body_loop, seen_in_body, tear_down_loop = LOOPS
    assert set_up_loop is body_loop is tear_down_loop
    assert seen_in_set_up == "set in setUp"
    assert seen_in_body == "set in asyncSetUp"


def test_without_task_contexts_each_piece_still_sees_the_last_ones_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before Python 3.11 a task cannot be given the test's context, so the
    # loop carries each piece's changes back into it. Forced here, that
    # path runs (and is checked) on every Python.
    monkeypatch.setattr(_test_loop, "_TASKS_TAKE_A_CONTEXT", False)
    LOOPS.clear()
    assert _run(OneLoop).wasSuccessful()
    set_up_loop, seen_in_set_up, body_loop, seen_in_body, tear_down_loop = LOOPS
    assert set_up_loop is body_loop is tear_down_loop
    assert seen_in_set_up == "set in setUp"
    assert seen_in_body == "set in asyncSetUp"


class DebugFailure(AsyncAPISimpleTestCase):
    __test__ = False

    async def test_fails(self) -> None:
        raise ValueError("raised by the body")


def test_debug_raises_the_test_error() -> None:
    with pytest.raises(ValueError, match="raised by the body"):
        DebugFailure("test_fails").debug()


class UnittestFeatures(AsyncAPISimpleTestCase):
    __test__ = False

    async def test_sub_tests(self) -> None:
        for number in range(3):
            with self.subTest(number=number):
                await asyncio.sleep(0)
                assert number != 1

    @unittest.expectedFailure
    async def test_expected_failure(self) -> None:
        raise AssertionError("expected")

    @unittest.expectedFailure
    async def test_unexpected_success(self) -> None:
        await asyncio.sleep(0)

    @unittest.skip("skipped by decorator")
    async def test_skipped(self) -> None:
        raise AssertionError("never runs")  # pragma: no cover


class SkipsInAsyncSetUp(AsyncAPISimpleTestCase):
    __test__ = False

    async def asyncSetUp(self) -> None:
        self.skipTest("skipped in asyncSetUp")

    async def test_never_runs(self) -> None:
        raise AssertionError("never runs")  # pragma: no cover


def test_subtests_expected_failures_and_skips_work_in_async_tests() -> None:
    result = _run(UnittestFeatures)
    assert [test.id() for test, _ in result.failures] == [
        "tests.test_testcases.UnittestFeatures.test_sub_tests (number=1)"
    ]
    assert len(result.expectedFailures) == 1
    assert len(result.unexpectedSuccesses) == 1
    assert [reason for _, reason in result.skipped] == ["skipped by decorator"]
    result = _run(SkipsInAsyncSetUp)
    assert [reason for _, reason in result.skipped] == ["skipped in asyncSetUp"]
    assert result.errors == result.failures == []


class ReturnsAValue(AsyncAPISimpleTestCase):
    __test__ = False

    async def test_returns_a_value(self) -> int:
        return 1


def test_an_async_test_returning_a_value_gets_unittests_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeprecationWarning)
        assert _run(ReturnsAValue).wasSuccessful()
    [message] = [
        str(warning.message)
        for warning in caught
        if "It is deprecated to return a value" in str(warning.message)
    ]
    # Named as unittest names a sync test method that returns a value.
    assert message.startswith(
        "It is deprecated to return a value that is not None from a test case "
        "(<bound method ReturnsAValue.test_returns_a_value of "
    )


# -- overrides of unittest's hooks that skip restflow's ---------------------------


class SetUpWithoutTheBase(AsyncAPISimpleTestCase):
    __test__ = False

    def _callSetUp(self) -> None:
        self.setUp()

    async def test_body(self) -> None:
        CALLS.append("body")


class CallsItsTestMethodItself(AsyncAPISimpleTestCase):
    __test__ = False

    def _callTestMethod(self, method: Callable[[], Any]) -> None:
        method()

    async def test_body(self) -> None:
        CALLS.append("body")


class CallsItsCleanupsItself(AsyncAPISimpleTestCase):
    __test__ = False

    def _callCleanup(
        self, function: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> None:
        function(*args, **kwargs)

    async def asyncSetUp(self) -> None:
        self.addAsyncCleanup(self.close_something)

    async def close_something(self) -> None:
        CALLS.append("cleanup")

    async def test_body(self) -> None:
        CALLS.append("body")


@pytest.mark.parametrize(
    ("case", "calls", "error"),
    [
        (
            SetUpWithoutTheBase,
            [],
            "SetUpWithoutTheBase.test_body: the test's event loop is not running. "
            "restflow's bases start it in _callSetUp(); an override of run() or "
            "_callSetUp() must call the base's version.",
        ),
        (
            CallsItsTestMethodItself,
            [],
            "restflow runs this async test method itself, from _callTestMethod(); "
            "an override of _callTestMethod() must call the base's version.",
        ),
        (
            CallsItsCleanupsItself,
            ["body"],
            "restflow runs the async cleanup "
            "CallsItsCleanupsItself.close_something in the test's event loop, "
            "from _callCleanup(); an override of _callCleanup() must call the "
            "base's version.",
        ),
    ],
    ids=["_callSetUp", "_callTestMethod", "_callCleanup"],
)
def test_an_override_that_skips_the_base_gets_a_clear_error(
    case: type[unittest.TestCase], calls: list[str], error: str
) -> None:
    CALLS.clear()
    result = _run(case)
    assert result.errors
    assert all(error in traceback for _, traceback in result.errors), result.errors
    assert calls == CALLS


class SignalHandlers(AsyncAPISimpleTestCase):
    async def test_the_loop_runs_in_the_test_thread(self) -> None:
        # The loop is driven by the thread running the test, so under a
        # runner on the main thread signal handlers can be installed.
        if threading.current_thread() is not threading.main_thread():
            pytest.skip("the test runner is not on the main thread")
        loop = asyncio.get_running_loop()
        got = asyncio.Event()
        loop.add_signal_handler(signal.SIGUSR1, got.set)
        try:
            signal.raise_signal(signal.SIGUSR1)
            await asyncio.wait_for(got.wait(), 10)
        finally:
            loop.remove_signal_handler(signal.SIGUSR1)


# -- on_commit callbacks that use the ORM -----------------------------------------


class AuditedCreate(APIView):
    """Creates a product and, on commit, an audit row through the ORM."""

    authentication_classes: ClassVar[list[Any]] = []
    permission_classes: ClassVar[list[Any]] = []

    def post(self, request: Any) -> Response:
        product = Product.objects.create(name=request.data["name"])
        transaction.on_commit(
            lambda: Product.objects.create(name=f"audit of {product.name}")
        )
        return Response({"id": product.pk}, status=201)


class CallbacksUseTheOrm(AsyncAPITestCase):
    urlpatterns: ClassVar[list[Any]] = [path("audited/", AuditedCreate.as_view())]

    async def test_callbacks_of_a_view_run_where_they_can_query(self) -> None:
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            response = await self.client.post("/audited/", {"name": "a"}, format="json")
        assert response.status_code == 201
        assert len(callbacks) == 1
        names = [p.name async for p in Product.objects.order_by("id")]
        assert names == ["a", "audit of a"]

    async def test_callbacks_of_test_code(self) -> None:
        def register() -> None:
            transaction.on_commit(lambda: Product.objects.create(name="from test code"))

        with self.captureOnCommitCallbacks(execute=True):
            await sync_to_async(register)()
        assert await Product.objects.filter(name="from test code").aexists()

    async def test_without_execute_nothing_runs(self) -> None:
        with self.captureOnCommitCallbacks() as callbacks:
            await self.client.post("/audited/", {"name": "b"}, format="json")
        assert len(callbacks) == 1
        assert await Product.objects.acount() == 1


# -- counting queries in async tests ----------------------------------------------


class QueryCounting(AsyncAPITestCase):
    async def test_assert_num_queries_around_the_client(self) -> None:
        await Product.objects.acreate(name="one")
        with self.assertNumQueries(1):
            response = await self.client.get("/api/products/")
        assert len(response.data) == 1

    async def test_assert_num_queries_counts_async_orm_calls(self) -> None:
        with self.assertNumQueries(2):
            await Product.objects.acreate(name="one")
            await Product.objects.acount()

    async def test_a_wrong_count_fails_and_lists_the_queries(self) -> None:
        with (
            pytest.raises(AssertionError, match="1 queries executed, 2 expected"),
            self.assertNumQueries(2),
        ):
            await Product.objects.acount()

    async def test_callable_form_with_an_awaitable(self) -> None:
        response = await self.assertNumQueries(1, self.client.get, "/api/products/")
        assert response.status_code == 200
        assert await self.assertNumQueries(1, Product.objects.acount) == 0

    async def test_capture_queries_context_on_the_connection(self) -> None:
        with CaptureQueriesContext(connection) as queries:
            await self.client.post("/api/products/", {"name": "x"}, format="json")
        assert any("INSERT" in q["sql"] for q in queries.captured_queries)

    def test_sync_tests_keep_djangos_behaviour(self) -> None:
        with self.assertNumQueries(1):
            Product.objects.count()

    async def test_everywhere_counts_thread_insensitive_work(self) -> None:
        with self.assertNumQueriesEverywhere(2) as queries:
            await Product.objects.acount()
            await sync_to_async(_select_one_and_close, thread_sensitive=False)()
        threads = [query["thread"] for query in queries]
        assert threads[0] == "restflow-test-database"
        assert threads[1] != "restflow-test-database"

    async def test_everywhere_failure_lists_alias_and_thread(self) -> None:
        with (
            pytest.raises(AssertionError) as failure,
            self.assertMaxQueriesEverywhere(0),
        ):
            await Product.objects.acount()
        message = str(failure.value)
        assert "1 queries executed, at most 0 expected" in message
        assert "1. [default | restflow-test-database] SELECT COUNT(*)" in message

    async def test_everywhere_checks_the_number_it_is_given(self) -> None:
        for wrong in (-1, True, "3"):
            with pytest.raises(
                TypeError, match="number of queries must be an int >= 0, not "
            ):
                self.assertNumQueriesEverywhere(wrong)  # type: ignore[arg-type]

    async def test_an_error_in_the_block_is_raised_instead_of_a_count(self) -> None:
        with (
            pytest.raises(ValueError, match="raised in the block"),
            self.assertNumQueriesEverywhere(0),
        ):
            await Product.objects.acount()
            raise ValueError("raised in the block")

    async def test_an_error_of_the_counted_callable_is_raised(self) -> None:
        async def count_then_fail() -> None:
            await Product.objects.acount()
            raise ValueError("raised by the coroutine")

        def fail_at_once() -> None:
            raise ValueError("raised by the function")

        with pytest.raises(ValueError, match="raised by the coroutine"):
            await self.assertMaxQueriesEverywhere(0, count_then_fail)
        with pytest.raises(ValueError, match="raised by the function"):
            self.assertNumQueriesEverywhere(1, fail_at_once)
        with self.assertNumQueriesEverywhere(0):
            pass  # neither left its count running

    def test_everywhere_callable_form_in_a_sync_test(self) -> None:
        Product.objects.create(name="one")
        assert self.assertNumQueriesEverywhere(1, Product.objects.count) == 1

    async def test_everywhere_callable_form_awaited_in_a_task(self) -> None:
        # gather() awaits it in a task of its own, in a copy of the context.
        counted = self.assertNumQueriesEverywhere(1, Product.objects.acount)
        assert await asyncio.gather(counted) == [0]
        with self.assertNumQueriesEverywhere(2) as queries:
            await Product.objects.acount()
            await Product.objects.acount()
        assert len(queries) == 2

    async def test_everywhere_records_executemany(self) -> None:
        with self.assertNumQueriesEverywhere(1) as queries:
            await sync_to_async(_insert_two_products)()
        assert queries[0]["sql"].endswith(" ... (2 times)")
        assert await Product.objects.acount() == 2

    async def test_everywhere_records_a_failed_query_as_given(self) -> None:
        with (
            self.assertNumQueriesEverywhere(1) as queries,
            pytest.raises(DatabaseError),
        ):
            await sync_to_async(_select_with_one_parameter_too_many)()
        assert queries[0]["sql"] == "SELECT %s"


def _insert_two_products() -> None:
    table = connection.ops.quote_name(Product._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (name, price, is_active) VALUES (%s, %s, %s)",
            [("a", 1, True), ("b", 2, True)],
        )


def _select_with_one_parameter_too_many() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s", [1, 2])


def _select_one_and_close() -> None:
    # Outside the test's transaction: a thread of its own, a connection of
    # its own (closed, so no stray connection outlives the test), and no
    # table the transaction holds (in-memory SQLite would refuse).
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()


class CountingWithoutADatabase(AsyncAPISimpleTestCase):
    def test_assert_num_queries_says_there_is_no_database(self) -> None:
        with pytest.raises(
            TypeError,
            match=r"^CountingWithoutADatabase\.assertNumQueries\(\): "
            r"CountingWithoutADatabase is a test case without a database",
        ):
            self.assertNumQueries(0)
