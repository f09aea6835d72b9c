"""The pytest plugin, exercised by running small test files in a subprocess.

Each scenario is a test file written into pytester's temporary directory and
run by a fresh pytest process with the test project's settings, on whatever
database ``RESTFLOW_TEST_DATABASE_URL`` names. The assertions are about the
outcomes of the inner tests, several of which only pass if the database is
clean when they start.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import textwrap
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent

Run = Callable[..., pytest.RunResult]


def _private_database_url() -> str | None:
    """The configured database URL, renamed so that each run gets its own
    test database: concurrent runs must not create and drop the same one."""
    url = os.environ.get("RESTFLOW_TEST_DATABASE_URL")
    if not url or url.startswith("sqlite"):
        return url
    name = f"restflow_{uuid.uuid4().hex[:12]}"
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run test files in a new pytest process and return the result.

    ``source`` is one test file's source, or a mapping of relative paths to
    sources. ``mode`` is pytest-asyncio's mode. ``settings`` is the Django
    settings module, given in the environment, or in the ini file with
    ``settings_in_ini``; ``pythonpath`` adds directories to import from.
    """
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    if (url := _private_database_url()) is not None:
        monkeypatch.setenv("RESTFLOW_TEST_DATABASE_URL", url)

    def run(
        source: str | dict[str, str],
        *args: str,
        mode: str = "strict",
        settings: str | None = "tests.project.settings",
        settings_in_ini: bool = False,
        pythonpath: Sequence[Path] = (),
    ) -> pytest.RunResult:
        inherited = os.environ.get("PYTHONPATH", "").split(os.pathsep)
        paths = [str(ROOT), *map(str, pythonpath), *inherited]
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, paths)))
        ini = [
            "[pytest]",
            "addopts = -p no:cacheprovider",
            f"asyncio_mode = {mode}",
            "asyncio_default_fixture_loop_scope = function",
        ]
        if settings and settings_in_ini:
            ini.append(f"DJANGO_SETTINGS_MODULE = {settings}")
        elif settings:
            monkeypatch.setenv("DJANGO_SETTINGS_MODULE", settings)
        pytester.makeini("\n".join(ini))
        files = {"test_scenario.py": source} if isinstance(source, str) else source
        for name, text in files.items():
            path = pytester.path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        return pytester.runpytest_subprocess(*args, timeout=120)

    return run


# -- the scenario of the issue ---------------------------------------------------

LEAK_SCENARIO = """
    import pytest
    from asgiref.sync import sync_to_async
    from django.db import connections

    from tests.testapp.models import Product


    @pytest.mark.asyncio
    @pytest.mark.django_db
    async def test_1_async_test_writes():
        await Product.objects.acreate(name="written by an async test")
        assert await Product.objects.acount() == 1


    @pytest.mark.asyncio
    @pytest.mark.django_db
    async def test_2_next_async_test_sees_nothing():
        assert await Product.objects.acount() == 0


    @pytest.mark.django_db
    def test_3_next_sync_test_sees_nothing():
        assert Product.objects.count() == 0


    @pytest.mark.asyncio
    async def test_4_close_worker_connection():
        # Without restflow, asgiref's worker thread keeps a connection to the
        # test database open, and PostgreSQL then refuses to drop it.
        await sync_to_async(connections.close_all)()
"""


def test_without_restflow_async_writes_leak_into_later_tests(run: Run) -> None:
    """The upstream bug (pytest-django #580, pytest-asyncio #226), shown.

    With pytest-django and pytest-asyncio alone, the async test's write goes
    through asgiref's worker thread and its own connection, outside the
    rolled-back transaction, so both later tests find the row.
    """
    result = run(LEAK_SCENARIO, "-p", "no:restflow")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "FAILED *::test_2_next_async_test_sees_nothing - assert 1 == 0",
            "FAILED *::test_3_next_sync_test_sees_nothing - assert 1 == 0",
        ]
    )


def test_with_restflow_async_writes_are_rolled_back(run: Run) -> None:
    result = run(LEAK_SCENARIO)
    result.assert_outcomes(passed=4)


# -- fixtures, clients and views, in both pytest-asyncio modes -------------------

FIXTURE_SCENARIO = """
    import asyncio
    import contextvars
    import threading

    import pytest
    import pytest_asyncio
    from asgiref.sync import sync_to_async
    from django.db import connection
    from django.test import AsyncClient

    from restflow.test import AsyncAPIClient, AsyncAPIRequestFactory
    from tests.project.views import AsyncProductViewSet
    from tests.testapp.models import Product

    # Strict mode runs only marked tests and pytest_asyncio fixtures; auto
    # mode runs every async test and fixture, marked or not.
    STRICT = {strict}
    asyncio_mark = pytest.mark.asyncio if STRICT else (lambda f: f)
    async_fixture = pytest_asyncio.fixture if STRICT else pytest.fixture

    request_id = contextvars.ContextVar("request_id", default="unset")
    seen = {{}}


    @pytest.fixture
    def sync_product(db):
        return Product.objects.create(name="sync fixture")


    @pytest.fixture
    def tenant():
        token = request_id.set("set by a sync fixture")
        yield
        request_id.reset(token)


    @async_fixture
    async def async_product(db):
        seen["before async fixture"] = request_id.get()
        request_id.set("set by an async fixture")
        return await Product.objects.acreate(name="async fixture")


    @async_fixture
    async def product_writer(db):
        await Product.objects.acreate(name="async generator fixture")
        names = asyncio.Queue()

        async def write():
            while True:
                name = await names.get()
                await Product.objects.acreate(name=name)
                names.task_done()

        # A task started by the fixture keeps working while the test runs.
        writer = asyncio.create_task(write())
        yield names
        # The teardown runs on the test's loop, still inside its transaction.
        seen["teardown"] = await Product.objects.acount()
        writer.cancel()


    @asyncio_mark
    @pytest.mark.django_db
    async def test_1_everything_shares_the_transaction(
        tenant, sync_product, async_product, product_writer, async_api_client
    ):
        # Context variables flow from fixture to fixture to test.
        assert seen["before async fixture"] == "set by a sync fixture"
        assert request_id.get() == "set by an async fixture"
        # The test runs on pytest-asyncio's loop, in the main thread; its sync
        # work runs on the test's database thread, on the main thread's
        # connection.
        assert threading.current_thread() is threading.main_thread()
        sync_code_thread = await sync_to_async(threading.current_thread)()
        assert sync_code_thread.name == "restflow-test-database"
        assert await sync_to_async(lambda: connection.in_atomic_block)()
        assert await Product.objects.acount() == 3
        await product_writer.put("background task")
        await asyncio.wait_for(product_writer.join(), timeout=10)

        created = await async_api_client.post(
            "/api/products/", {{"name": "sync DRF view"}}, format="json"
        )
        assert created.status_code == 201, created.content
        created = await async_api_client.post(
            "/async/products/", {{"name": "adrf view"}}, format="json"
        )
        assert created.status_code == 201, created.content
        listed = await AsyncClient().get("/api/products/")
        assert [p["name"] for p in listed.json()] == [
            "sync fixture",
            "async fixture",
            "async generator fixture",
            "background task",
            "sync DRF view",
            "adrf view",
        ]


    @pytest.mark.django_db
    def test_2_sync_test_sees_nothing():
        assert seen["teardown"] == 6
        assert Product.objects.count() == 0


    @asyncio_mark
    @pytest.mark.django_db
    async def test_3_async_test_sees_nothing():
        assert request_id.get() == "unset"
        assert await Product.objects.acount() == 0


    @asyncio_mark
    @pytest.mark.django_db
    async def test_4_clients_are_fresh_and_typed(async_api_client, async_api_rf):
        assert type(async_api_client) is AsyncAPIClient
        assert type(async_api_rf) is AsyncAPIRequestFactory
        view = AsyncProductViewSet.as_view({{"post": "create"}})
        request = async_api_rf.post("/", {{"name": "via the factory"}}, format="json")
        response = await view(request)
        assert response.status_code == 201
        assert await Product.objects.acount() == 1


    @asyncio_mark
    @pytest.mark.django_db
    async def test_5_db_fixture_works_like_the_marker(db):
        assert await Product.objects.acount() == 0


    class TestFixturesOnAClass:
        @async_fixture
        async def product(self, db):
            self.note = "set on the test's instance"
            return await Product.objects.acreate(name="from a method")

        @asyncio_mark
        @pytest.mark.django_db
        async def test_6_method_fixture(self, product):
            assert self.note == "set on the test's instance"
            assert [p.name async for p in Product.objects.all()] == ["from a method"]


    @pytest.mark.django_db
    def test_7_backend_is_the_configured_one():
        import os

        expected = os.environ.get("RESTFLOW_TEST_DATABASE_URL", "sqlite:")
        assert expected.startswith(connection.vendor[:6])
        assert Product.objects.count() == 0
"""


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_fixtures_tests_and_views_share_one_rolled_back_transaction(
    run: Run, mode: str
) -> None:
    source = FIXTURE_SCENARIO.format(strict=mode == "strict")
    result = run(source, mode=mode)
    result.assert_outcomes(passed=7)


# -- transaction=True ----------------------------------------------------------

TRANSACTION_SCENARIO = """
    import pytest
    from asgiref.sync import sync_to_async
    from django.db import connection, transaction

    from tests.testapp.models import Product

    fired = []


    def create_and_register():
        with transaction.atomic():
            Product.objects.create(name="committed")
            transaction.on_commit(lambda: fired.append("on_commit"))


    def in_autocommit():
        return connection.get_autocommit()


    @pytest.mark.asyncio
    @pytest.mark.django_db
    async def test_rollback_test_holds_on_commit_back(
        django_capture_on_commit_callbacks,
    ):
        # In the async body, `connection` is the test's connection as well.
        assert connection.in_atomic_block
        with django_capture_on_commit_callbacks() as callbacks:
            await sync_to_async(create_and_register)()
        assert len(callbacks) == 1
        assert fired == []


    @pytest.mark.asyncio
    @pytest.mark.django_db(transaction=True)
    async def test_transaction_true_commits_and_fires_on_commit(async_api_client):
        await sync_to_async(create_and_register)()
        assert fired == ["on_commit"]
        assert await sync_to_async(in_autocommit)()
        response = await async_api_client.get("/api/products/")
        assert [p["name"] for p in response.json()] == ["committed"]


    @pytest.mark.django_db(transaction=True)
    def test_tables_are_flushed_after_it():
        assert Product.objects.count() == 0
"""


def test_transaction_true_keeps_real_commits_and_flushes(run: Run) -> None:
    result = run(TRANSACTION_SCENARIO)
    result.assert_outcomes(passed=3)


# -- tests nothing would run ---------------------------------------------------

UNRUNNABLE_SCENARIO = """
    import pytest

    from tests.testapp.models import Product


    @pytest.mark.django_db
    async def test_database_test_without_asyncio_mark():
        await Product.objects.acreate(name="never")


    async def test_async_test_without_database():
        pass
"""


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ((), "pytest-asyncio is in strict mode and the test is not marked"),
        (("-p", "no:asyncio"), "pytest-asyncio is not installed, or was disabled*"),
    ],
    ids=["strict-unmarked", "no-pytest-asyncio"],
)
def test_unrunnable_async_database_test_gets_a_clear_message(
    run: Run, args: tuple[str, ...], reason: str
) -> None:
    result = run(UNRUNNABLE_SCENARIO, *args)
    # The database test stops at setup with restflow's advice; the other
    # async test gets pytest's own message, untouched.
    result.assert_outcomes(errors=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_database_test_without_asyncio_mark is an async test that uses "
            f"the Django database, but nothing would run it: {reason}*",
            "*async def functions are not natively supported*",
        ]
    )


# -- parallel runs and configuration -------------------------------------------

XDIST_SCENARIO = """
    import pytest

    from tests.testapp.models import Product


    @pytest.mark.asyncio
    @pytest.mark.django_db
    @pytest.mark.parametrize("n", range(6))
    async def test_async_starts_clean_and_writes(n):
        assert await Product.objects.acount() == 0
        await Product.objects.acreate(name=f"async {n}")


    @pytest.mark.django_db
    @pytest.mark.parametrize("n", range(4))
    def test_sync_starts_clean_and_writes(n):
        assert Product.objects.count() == 0
        Product.objects.create(name=f"sync {n}")
"""


def test_isolation_holds_under_xdist(run: Run) -> None:
    if importlib.util.find_spec("xdist") is None:
        pytest.skip("pytest-xdist is not installed")
    result = run(XDIST_SCENARIO, "-n", "2")
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(["created: 2/2 workers"])


def test_plugin_is_registered_through_the_pytest11_entry_point() -> None:
    entry_points = importlib.metadata.entry_points(group="pytest11")
    assert [ep.value for ep in entry_points if ep.name == "restflow"] == [
        "restflow.test.plugin"
    ]


def test_plugin_loads_before_django_settings_are_configured(run: Run) -> None:
    # pytest imports plugins before pytest-django reads DJANGO_SETTINGS_MODULE
    # from the ini file, so importing the plugin must not touch settings.
    result = run(LEAK_SCENARIO, settings_in_ini=True)
    result.assert_outcomes(passed=4)


NO_DJANGO_SCENARIO = """
    import threading

    import pytest


    @pytest.mark.asyncio
    @pytest.mark.django_db
    async def test_pytest_asyncio_runs_it_as_usual():
        assert threading.current_thread() is threading.main_thread()


    def test_client_fixture_skips(async_api_client):
        pass
"""


def test_plugin_stands_aside_without_pytest_django(run: Run) -> None:
    result = run(NO_DJANGO_SCENARIO, "-p", "no:django", settings=None)
    result.assert_outcomes(passed=1, skipped=1)


# -- the documentation -----------------------------------------------------------

DOCS_PAGE = ROOT / "docs" / "pytest.md"
SAMPLE_PROJECT = ROOT / "docs" / "examples"
SAMPLE_TESTS = SAMPLE_PROJECT / "tests"


def test_the_examples_on_the_docs_page_pass(run: Run) -> None:
    """docs/pytest.md writes no test code inline: each of its Python blocks
    includes sections of a test file of the sample shop's suite. Those files
    are run here, with the sample suite's conftest.py, and must all pass."""
    blocks = re.findall(r"```python[^\n]*\n(.*?)```", DOCS_PAGE.read_text(), re.DOTALL)
    assert len(blocks) >= 4
    included: set[str] = set()
    for block in blocks:
        lines = block.strip().splitlines()
        includes = [
            re.fullmatch(r'--8<-- "docs/examples/tests/([^":]+):[\w-]+"', line)
            for line in lines
        ]
        assert all(includes), f"inline code on docs/pytest.md:\n{block}"
        included.update(match.group(1) for match in includes if match)
    files = {name: (SAMPLE_TESTS / name).read_text() for name in sorted(included)}
    tests = sum(
        len(re.findall(r"^\s*(?:async )?def test_", f, re.M)) for f in files.values()
    )
    files["conftest.py"] = (SAMPLE_TESTS / "conftest.py").read_text()
    result = run(files, settings="shop.settings", pythonpath=[SAMPLE_PROJECT])
    result.assert_outcomes(passed=tests)
