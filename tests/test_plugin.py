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
    ``settings_in_ini``; ``pythonpath`` adds directories to import from;
    ``ini`` adds lines to the ini file.
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
        ini: Sequence[str] = (),
    ) -> pytest.RunResult:
        inherited = os.environ.get("PYTHONPATH", "").split(os.pathsep)
        paths = [str(ROOT), *map(str, pythonpath), *inherited]
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, paths)))
        ini = [
            "[pytest]",
            "addopts = -p no:cacheprovider",
            f"asyncio_mode = {mode}",
            "asyncio_default_fixture_loop_scope = function",
            *ini,
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


OLD_PYTEST_ASYNCIO_SCENARIO = {
    "conftest.py": """
        import importlib.metadata

        import restflow.test.plugin

        # What an environment with pytest-asyncio 0.24 reports.
        real_version = importlib.metadata.version
        importlib.metadata.version = lambda name: (
            "0.24.0" if name == "pytest-asyncio" else real_version(name)
        )
        restflow.test.plugin._old_pytest_asyncio.cache_clear()
    """,
    "test_old.py": """
        import pytest

        from tests.testapp.models import Product


        @pytest.mark.asyncio
        @pytest.mark.django_db
        async def test_isolated():
            await Product.objects.acreate(name="never")


        @pytest.mark.asyncio
        @pytest.mark.django_db
        @pytest.mark.restflow_isolation(False)
        async def test_not_isolated():
            pass
    """,
}


def test_an_old_pytest_asyncio_is_named_with_the_fix(run: Run) -> None:
    result = run(OLD_PYTEST_ASYNCIO_SCENARIO)
    result.assert_outcomes(errors=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_isolated is an async test that uses the Django database, and "
            "restflow runs such tests inside the test's transaction with "
            "pytest-asyncio 1.0 or newer; pytest-asyncio 0.24.0 is installed. "
            'Upgrade it (pip install "pytest-asyncio>=1.0"), or turn the '
            "isolation off with restflow_isolation = false.*",
        ]
    )


def test_pytest_asyncio_without_metadata_is_taken_as_new_enough(run: Run) -> None:
    # Importable but not installed as a distribution (a source checkout on
    # the path): its version cannot be read, and the isolation stays on.
    conftest = OLD_PYTEST_ASYNCIO_SCENARIO["conftest.py"].replace(
        """importlib.metadata.version = lambda name: (
            "0.24.0" if name == "pytest-asyncio" else real_version(name)
        )""",
        """def version(name):
            if name == "pytest-asyncio":
                raise importlib.metadata.PackageNotFoundError(name)
            return real_version(name)

        importlib.metadata.version = version""",
    )
    assert "PackageNotFoundError" in conftest
    result = run({"conftest.py": conftest, "test_scenario.py": LEAK_SCENARIO})
    result.assert_outcomes(passed=4)


TASKS_LET_GO_SCENARIO = {
    "conftest.py": """
        import asyncio
        import gc


        def pytest_sessionfinish(session):
            gc.collect()
            alive = [o for o in gc.get_objects() if isinstance(o, asyncio.Task)]
            print(f"tasks still alive: {len(alive)}")
    """,
    "test_many.py": "import pytest\n\nfrom tests.testapp.models import Product\n"
    + "".join(
        "\n\n@pytest.mark.asyncio\n@pytest.mark.django_db\n"
        f"async def test_{n}():\n"
        f"    await Product.objects.acreate(name='row {n}')\n"
        for n in range(20)
    ),
}


def test_the_tests_tasks_are_let_go_of(run: Run) -> None:
    # pytest keeps its items to the end of the session: what restflow left in
    # them would keep every test's task alive, and asyncio.all_tasks() would
    # get slower with each test.
    result = run(TASKS_LET_GO_SCENARIO, "-s")
    result.assert_outcomes(passed=20)
    result.stdout.fnmatch_lines(["*tasks still alive: 0*"])


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


SETTINGS_IN_CONFTEST_SCENARIO = {
    "conftest.py": """
        from django.conf import settings


        def pytest_configure():
            # No DJANGO_SETTINGS_MODULE: the settings are configured here, as
            # pytest-django allows.
            from tests.project import settings as project

            names = [name for name in dir(project) if name.isupper()]
            settings.configure(**{name: getattr(project, name) for name in names})
    """,
    "test_scenario.py": LEAK_SCENARIO,
    "test_fixture.py": """
        import pytest


        @pytest.mark.asyncio
        async def test_the_client_fixture_is_offered(async_api_client):
            assert async_api_client is not None
    """,
}


def test_settings_configured_in_a_conftest_are_enough(run: Run) -> None:
    result = run(SETTINGS_IN_CONFTEST_SCENARIO, settings=None)
    result.assert_outcomes(passed=5)


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


# -- the loop is pytest-asyncio's (issue 12) ------------------------------------

PATTERNS_SCENARIO = """
    import asyncio
    import signal
    import threading

    import pytest
    import pytest_asyncio

    from tests.testapp.models import Product

    STRICT = {strict}
    asyncio_mark = pytest.mark.asyncio if STRICT else (lambda **kw: lambda f: f)
    async_fixture = pytest_asyncio.fixture if STRICT else pytest_asyncio.fixture


    @asyncio_mark()
    @pytest.mark.django_db
    async def test_1_signal_handlers_work():
        assert threading.current_thread() is threading.main_thread()
        loop = asyncio.get_running_loop()
        got = asyncio.Event()
        loop.add_signal_handler(signal.SIGUSR1, got.set)
        try:
            signal.raise_signal(signal.SIGUSR1)
            await asyncio.wait_for(got.wait(), 10)
        finally:
            loop.remove_signal_handler(signal.SIGUSR1)
        await Product.objects.acreate(name="written next to a signal handler")


    @async_fixture(scope="module", loop_scope="module")
    async def module_loop():
        return asyncio.get_running_loop()


    @pytest.mark.asyncio(loop_scope="module")
    @pytest.mark.django_db
    async def test_2_runs_on_the_module_fixture_loop(module_loop):
        assert asyncio.get_running_loop() is module_loop
        assert await Product.objects.acount() == 0
        await Product.objects.acreate(name="written on the module loop")


    @pytest.mark.asyncio(loop_scope="module")
    @pytest.mark.django_db
    async def test_3_same_loop_clean_database(module_loop):
        assert asyncio.get_running_loop() is module_loop
        assert await Product.objects.acount() == 0


    @pytest.mark.django_db
    def test_4_sync_test_sees_nothing():
        assert Product.objects.count() == 0
"""


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_signal_handlers_and_module_scoped_loops_work(run: Run, mode: str) -> None:
    result = run(PATTERNS_SCENARIO.format(strict=mode == "strict"), mode=mode)
    result.assert_outcomes(passed=4)


def test_without_restflow_the_module_loop_test_leaks(run: Run) -> None:
    # The control: the same file, plugin off. The patterns run, but the rows
    # of the async tests reach the later tests.
    result = run(PATTERNS_SCENARIO.format(strict=True), "-p", "no:restflow")
    result.assert_outcomes(passed=1, failed=3)


# -- fixtures restflow leaves to pytest ------------------------------------------

SETUP_FAILURE_SCENARIO = """
    import pytest
    import pytest_asyncio

    from tests.testapp.models import Product


    @pytest_asyncio.fixture
    async def fails_before_the_database():
        raise RuntimeError("failed before the database was opened")


    @pytest.fixture
    def fails_after_the_database(db):
        raise RuntimeError("failed after the database was opened")


    @pytest.mark.asyncio
    async def test_1_setup_fails_early(fails_before_the_database, db):
        pass


    @pytest.mark.asyncio
    async def test_2_setup_fails_late(db, fails_after_the_database):
        pass


    @pytest.mark.asyncio
    @pytest.mark.django_db
    async def test_3_next_test_runs_as_usual():
        await Product.objects.acreate(name="one")
        assert await Product.objects.acount() == 1
"""


def test_a_setup_that_fails_is_reported_alone(run: Run) -> None:
    # Each failure is the test's only error: restflow's own teardown has
    # nothing to finish for a test that never ran.
    result = run(SETUP_FAILURE_SCENARIO)
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_1_setup_fails_early*",
            "E * RuntimeError: failed before the database was opened",
            "*ERROR at setup of test_2_setup_fails_late*",
            "E * RuntimeError: failed after the database was opened",
        ],
        consecutive=False,
    )
    assert "ERROR at teardown" not in result.stdout.str()


OTHER_ITEMS_SCENARIO = {
    "test_scenario.py": """
        from unittest import mock

        import pytest

        from tests.testapp.models import Product


        def total(prices):
            \"\"\"The sum of the prices.

            >>> total([1, 2])
            3
            \"\"\"
            return sum(prices)


        @pytest.fixture
        def mailer():
            # A mock has every attribute, get_loop() and run() among them.
            return mock.MagicMock()


        @pytest.mark.asyncio
        @pytest.mark.django_db
        async def test_with_a_mock_fixture(mailer):
            await Product.objects.acreate(name="one")
            mailer.send("done")
            mailer.send.assert_called_once_with("done")
    """,
}


def test_doctests_and_mock_fixtures_are_left_alone(run: Run) -> None:
    result = run(OTHER_ITEMS_SCENARIO, "--doctest-modules")
    result.assert_outcomes(passed=2)


OWN_DB_FIXTURE_SCENARIO = {
    "conftest.py": """
        import pytest
        from django.db import transaction


        @pytest.fixture
        def db(django_db_setup, django_db_blocker):
            # A project's own db fixture, in place of pytest-django's: it
            # opens the database and a transaction of its own.
            with django_db_blocker.unblock(), transaction.atomic():
                yield
                transaction.set_rollback(True)
    """,
    "test_scenario.py": """
        import threading

        import pytest
        from asgiref.sync import sync_to_async

        from tests.testapp.models import Product


        @pytest.mark.asyncio
        async def test_1_writes(db):
            thread = await sync_to_async(threading.current_thread)()
            assert thread.name == "restflow-test-database"
            await Product.objects.acreate(name="rolled back with the transaction")


        def test_2_sees_nothing(db):
            assert Product.objects.count() == 0
    """,
}


def test_a_projects_own_db_fixture_gets_the_isolation_too(run: Run) -> None:
    result = run(OWN_DB_FIXTURE_SCENARIO)
    result.assert_outcomes(passed=2)


# -- switching the isolation off -------------------------------------------------

ISOLATION_OFF_SCENARIO = """
    import pytest

    from tests.testapp.models import Product


    @pytest.mark.asyncio
    @pytest.mark.django_db
    async def test_1_writes(async_api_client):
        await Product.objects.acreate(name="committed by asgiref's thread")
        response = await async_api_client.get("/api/products/")
        assert response.status_code == 200


    @pytest.mark.django_db
    def test_2_sees_the_row():
        assert Product.objects.count() == 1
        Product.objects.all().delete()
"""


def test_the_ini_option_switches_isolation_off_and_keeps_the_fixtures(run: Run) -> None:
    result = run(
        ISOLATION_OFF_SCENARIO, "-p", "no:xdist", ini=["restflow_isolation = false"]
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["restflow: isolation of async django_db tests is off*fixtures only"]
    )


def test_the_marker_switches_isolation_off_for_one_test(run: Run) -> None:
    source = ISOLATION_OFF_SCENARIO.replace(
        "    @pytest.mark.asyncio\n",
        "    @pytest.mark.asyncio\n    @pytest.mark.restflow_isolation(False)\n",
    )
    result = run(source)
    result.assert_outcomes(passed=2)


def test_the_marker_can_switch_isolation_back_on(run: Run) -> None:
    source = LEAK_SCENARIO.replace(
        "    @pytest.mark.asyncio\n",
        "    @pytest.mark.asyncio\n    @pytest.mark.restflow_isolation(True)\n",
    )
    result = run(source, ini=["restflow_isolation = false"])
    result.assert_outcomes(passed=4)


def test_a_bad_marker_argument_is_refused(run: Run) -> None:
    source = LEAK_SCENARIO.replace(
        "    @pytest.mark.asyncio\n",
        "    @pytest.mark.asyncio\n    @pytest.mark.restflow_isolation('no')\n",
        1,
    )
    result = run(source)
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "test_scenario.py::test_1_async_test_writes: "
            "@pytest.mark.restflow_isolation('no') needs True or False."
        ]
    )


BAD_MARKERS_SCENARIO = """
    import pytest

    pytestmark = [pytest.mark.asyncio, pytest.mark.django_db]


    @pytest.mark.restflow_isolation(True, False)
    async def test_isolation_with_two_arguments():
        pass


    @pytest.mark.restflow_isolation(on=False)
    async def test_isolation_with_an_unknown_keyword():
        pass


    @pytest.mark.async_timeout()
    async def test_timeout_without_seconds():
        pass


    @pytest.mark.async_timeout(seconds=5)
    async def test_timeout_with_a_keyword():
        pass


    @pytest.mark.async_timeout(0)
    async def test_timeout_of_zero():
        pass


    @pytest.mark.async_timeout("5")
    async def test_timeout_as_text():
        pass


    @pytest.mark.async_timeout(None)
    async def test_no_limit():
        pass
"""


def test_markers_with_bad_arguments_fail_their_test_only(run: Run) -> None:
    result = run(BAD_MARKERS_SCENARIO)
    result.assert_outcomes(passed=1, errors=6)
    isolation = (
        "@pytest.mark.restflow_isolation takes one argument, True or False, e.g. "
        "@pytest.mark.restflow_isolation(False)."
    )
    timeout = (
        "@pytest.mark.async_timeout takes the seconds, e.g. "
        "@pytest.mark.async_timeout(5), or None for no limit."
    )
    result.stdout.fnmatch_lines(
        [
            f"test_scenario.py::test_isolation_with_two_arguments: {isolation}",
            f"test_scenario.py::test_isolation_with_an_unknown_keyword: {isolation}",
            f"test_scenario.py::test_timeout_without_seconds: {timeout}",
            f"test_scenario.py::test_timeout_with_a_keyword: {timeout}",
            "test_scenario.py::test_timeout_of_zero: @pytest.mark.async_timeout must "
            "be a number of seconds above zero, or None for no limit; got 0.",
            "test_scenario.py::test_timeout_as_text: @pytest.mark.async_timeout must "
            "be a number of seconds above zero, or None for no limit; got '5'.",
        ],
        consecutive=False,
    )


def test_the_report_header_says_what_the_plugin_does(run: Run) -> None:
    result = run(LEAK_SCENARIO, ini=["restflow_async_timeout = 30"])
    result.stdout.fnmatch_lines(
        [
            "restflow: async django_db tests share the test's transaction (rolled "
            "back with it); off: restflow_isolation = false, "
            "@pytest.mark.restflow_isolation(False), or -p no:restflow; "
            "async_timeout 30 s"
        ]
    )


# -- leftover tasks --------------------------------------------------------------

LEFTOVER_SCENARIO = """
    import asyncio

    import pytest

    from tests.testapp.models import Product

    LOOP_SCOPE = "{loop_scope}"


    async def write_forever():
        while True:
            await Product.objects.acreate(name="leftover")
            await asyncio.sleep(0.005)


    @pytest.mark.asyncio(loop_scope=LOOP_SCOPE)
    @pytest.mark.django_db(transaction={transaction})
    async def test_1_leaves_a_writer():
        asyncio.create_task(write_forever(), name="background-writer")
        while await Product.objects.acount() < 3:
            await asyncio.sleep(0.005)


    @pytest.mark.asyncio(loop_scope=LOOP_SCOPE)
    @pytest.mark.django_db(transaction={transaction})
    async def test_2_sees_nothing_of_it():
        await asyncio.sleep(0.05)
        assert await Product.objects.acount() == 0


    @pytest.mark.django_db
    def test_3_sync_sees_nothing():
        assert Product.objects.count() == 0
"""


@pytest.mark.parametrize("loop_scope", ["function", "module"])
@pytest.mark.parametrize("transaction", [False, True], ids=["rollback", "flush"])
def test_a_leftover_writer_is_cancelled_before_the_rollback(
    run: Run, loop_scope: str, transaction: bool
) -> None:
    source = LEFTOVER_SCENARIO.format(loop_scope=loop_scope, transaction=transaction)
    result = run(source, "-W", "always::restflow.test.LeftoverTaskWarning")
    result.assert_outcomes(passed=3, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*LeftoverTaskWarning: test_scenario.py::test_1_leaves_a_writer left 1 "
            "task running when it ended; restflow cancelled them before resetting "
            "the database:",
            "*Task 'background-writer' running write_forever(), suspended at:",
        ]
    )


SHARED_LOOP_SCENARIO = """
    import asyncio

    import pytest
    import pytest_asyncio

    from tests.testapp.models import Product

    made_by_the_factory = []


    @pytest_asyncio.fixture(scope="module", loop_scope="module")
    async def task_factory():
        # A task factory of the project's own (tracing, say) on the shared loop.
        loop = asyncio.get_running_loop()

        def factory(loop, coro, **kwargs):
            made_by_the_factory.append(coro.__qualname__)
            return asyncio.Task(coro, loop=loop, **kwargs)

        loop.set_task_factory(factory)
        yield
        loop.set_task_factory(None)


    async def serve_forever():
        await asyncio.sleep(3600)


    @pytest_asyncio.fixture(scope="module", loop_scope="module")
    async def service(task_factory):
        # A module-wide service that starts a task for each request it gets,
        # also while a test runs: those tasks are not the test's.
        served = []

        async def accept():
            while True:
                served.append(asyncio.create_task(serve_forever(), name="served"))
                await asyncio.sleep(0.005)

        acceptor = asyncio.create_task(accept())
        yield served
        acceptor.cancel()
        for task in served:
            task.cancel()


    async def left_by_the_test():
        await asyncio.sleep(3600)


    @pytest.mark.asyncio(loop_scope="module")
    @pytest.mark.django_db
    async def test_1_leaves_a_task_while_the_service_starts_some(service):
        asyncio.create_task(left_by_the_test(), name="left-by-the-test")
        before = len(service)
        while len(service) < before + 3:
            await asyncio.sleep(0.005)


    @pytest.mark.asyncio(loop_scope="module")
    @pytest.mark.django_db
    @pytest.mark.async_timeout(30)
    async def test_2_fails_with_a_cancellation_of_its_own(service):
        task = asyncio.create_task(left_by_the_test())
        await asyncio.sleep(0)
        task.cancel()
        await task


    @pytest.mark.asyncio(loop_scope="module")
    @pytest.mark.django_db
    async def test_3_only_the_tests_task_was_cancelled(service):
        assert "left_by_the_test" in made_by_the_factory
        assert [task for task in service if task.done()] == []
        assert await Product.objects.acount() == 0
"""


def test_on_a_shared_loop_only_the_tests_own_tasks_are_its_leftovers(
    run: Run,
) -> None:
    result = run(
        SHARED_LOOP_SCENARIO, "-W", "always::restflow.test.LeftoverTaskWarning"
    )
    result.assert_outcomes(passed=2, failed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*LeftoverTaskWarning: test_scenario.py::test_1_leaves_a_task_while_the_"
            "service_starts_some left 1 task running when it ended*",
            "*Task 'left-by-the-test' running left_by_the_test(), suspended at:",
        ]
    )
    # A cancellation the test raised itself is not taken for its time limit.
    result.stdout.fnmatch_lines(["*CancelledError*"])
    assert "AsyncTimeoutError" not in result.stdout.str()


def test_leftover_tasks_can_be_made_an_error(run: Run) -> None:
    source = LEFTOVER_SCENARIO.format(loop_scope="function", transaction=False)
    result = run(source, ini=["restflow_fail_on_leftover_tasks = true"])
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "E * restflow.test.LeftoverTaskError: test_scenario.py::"
            "test_1_leaves_a_writer left 1 task running when it ended*"
        ]
    )


BASES_LEAVING_TASKS_SCENARIO = """
    import asyncio

    from restflow.test import AsyncAPISimpleTestCase


    async def forever():
        await asyncio.sleep(3600)


    class FollowsTheIni(AsyncAPISimpleTestCase):
        async def test_leaves_a_task(self):
            asyncio.create_task(forever(), name="left-behind")


    class OwnChoice(AsyncAPISimpleTestCase):
        fail_on_leftover_tasks = False  # the class's own choice wins

        async def test_leaves_a_task(self):
            asyncio.create_task(forever(), name="left-behind-too")
"""


def test_the_leftover_ini_option_reaches_the_bases(run: Run) -> None:
    result = run(
        BASES_LEAVING_TASKS_SCENARIO, ini=["restflow_fail_on_leftover_tasks = true"]
    )
    result.assert_outcomes(failed=1, passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "E * restflow.test.LeftoverTaskError: test_scenario.FollowsTheIni."
            "test_leaves_a_task left 1 task running when it ended*",
            "*LeftoverTaskWarning: test_scenario.OwnChoice.test_leaves_a_task left "
            "1 task running when it ended*",
        ],
        consecutive=False,
    )


# -- timeouts ---------------------------------------------------------------------

TIMEOUT_SCENARIO = """
    import asyncio
    import threading

    import pytest
    from asgiref.sync import sync_to_async
    from django.http import JsonResponse
    from django.urls import path

    from tests.testapp.models import Product

    LOCK = threading.Lock()
    LOCK.acquire()  # never released: the sync call below hangs for good


    async def awaits_forever(request):
        await asyncio.Event().wait()


    async def answers(request):
        return JsonResponse({{"count": await Product.objects.acount()}})


    urlpatterns = [path("forever/", awaits_forever), path("answers/", answers)]


    def wait_for_the_lock():
        with LOCK:
            pass


    @pytest.mark.asyncio
    @pytest.mark.django_db
    @pytest.mark.urls(__name__)
    {marker}
    async def test_1_view_hangs(async_api_client):
        await Product.objects.acreate(name="before")
        await async_api_client.get("/forever/")


    @pytest.mark.asyncio
    @pytest.mark.django_db
    {marker}
    async def test_2_sync_call_hangs():
        await sync_to_async(wait_for_the_lock)()


    @pytest.mark.asyncio
    @pytest.mark.django_db
    @pytest.mark.urls(__name__)
    async def test_3_database_and_client_still_work(async_api_client):
        await Product.objects.acreate(name="after")
        response = await async_api_client.get("/answers/")
        assert response.json() == {{"count": 1}}
"""


@pytest.mark.parametrize("how", ["marker", "ini"])
def test_a_hung_test_fails_alone_with_a_report(run: Run, how: str) -> None:
    if how == "marker":
        source = TIMEOUT_SCENARIO.format(marker="@pytest.mark.async_timeout(0.5)")
        result = run(source)
        source_text = "@pytest.mark.async_timeout"
    else:
        source = TIMEOUT_SCENARIO.format(marker="")
        result = run(source, ini=["restflow_async_timeout = 0.5"])
        source_text = "the restflow_async_timeout ini option"
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*AsyncTimeoutError: test_scenario.py::test_1_view_hangs did not finish "
            f"within its async_timeout of 0.5 s (set by {source_text}).",
            "*Task * running test_1_view_hangs() - the test, suspended at:",
            '*await async_api_client.get("/forever/")',
            "*in awaits_forever",
            "*await asyncio.Event().wait()",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*AsyncTimeoutError: test_scenario.py::test_2_sync_call_hangs did not "
            "finish within its async_timeout of 0.5 s*",
            "*Thread 'restflow-test-database' (the test's database thread: "
            "thread-sensitive work), in:",
            "*in wait_for_the_lock",
            "*with LOCK:",
            "*abandoned (it may not query any more)*",
        ]
    )


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (
            "soon",
            "restflow_async_timeout = 'soon' in the pytest configuration is not "
            "a number; give the seconds a test may take, e.g. 30, or none.",
        ),
        (
            "0",
            "restflow_async_timeout = '0' in the pytest configuration must be "
            "above zero; use none for no limit.",
        ),
    ],
)
def test_a_bad_timeout_is_refused(run: Run, value: str, error: str) -> None:
    result = run(LEAK_SCENARIO, ini=[f"restflow_async_timeout = {value}"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{error}"])


BASES_UNDER_PYTEST_SCENARIO = """
    import asyncio

    import pytest

    from restflow.test import AsyncAPISimpleTestCase


    class Hangs(AsyncAPISimpleTestCase):
        @pytest.mark.async_timeout(0.3)
        async def test_marked(self):
            await asyncio.Event().wait()

        async def test_from_the_ini(self):
            await asyncio.Event().wait()


    class OwnLimit(AsyncAPISimpleTestCase):
        async_timeout = None  # the class's own choice wins over the ini

        async def test_finishes(self):
            await asyncio.sleep(0.4)
"""


def test_the_marker_and_ini_option_reach_the_bases(run: Run) -> None:
    result = run(BASES_UNDER_PYTEST_SCENARIO, ini=["restflow_async_timeout = 0.3"])
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*test_marked did not finish within its async_timeout of 0.3 s (set by "
            "@pytest.mark.async_timeout)*"
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*test_from_the_ini did not finish within its async_timeout of 0.3 s (set "
            "by the restflow_async_timeout ini option)*"
        ]
    )


# -- counting queries and on_commit callbacks -------------------------------------

QUERIES_SCENARIO = """
    import pytest
    from asgiref.sync import sync_to_async
    from django.db import connection, connections, transaction
    from django.test.utils import CaptureQueriesContext
    from rest_framework.response import Response
    from rest_framework.views import APIView
    from django.urls import include, path

    from tests.testapp.models import Product


    class AuditedCreate(APIView):
        authentication_classes = []
        permission_classes = []

        def post(self, request):
            product = Product.objects.create(name=request.data["name"])
            transaction.on_commit(
                lambda: Product.objects.create(name=f"audit of {{product.name}}")
            )
            return Response(status=201)


    urlpatterns = [
        path("audited/", AuditedCreate.as_view()),
        path("", include("tests.project.urls")),
    ]
    pytestmark = [pytest.mark.asyncio, pytest.mark.urls(__name__)]


    @pytest.mark.django_db
    async def test_django_assert_num_queries(
        django_assert_num_queries, async_api_client
    ):
        await Product.objects.acreate(name="a")
        with django_assert_num_queries(1):
            response = await async_api_client.get("/api/products/")
        assert len(response.json()) == 1


    @pytest.mark.django_db
    async def test_django_assert_max_num_queries(django_assert_max_num_queries):
        with django_assert_max_num_queries(2):
            await Product.objects.acreate(name="a")
            await Product.objects.acount()
        with pytest.raises(pytest.fail.Exception, match="Expected to perform 0"):
            with django_assert_max_num_queries(0):
                await Product.objects.acount()


    @pytest.mark.django_db
    async def test_capture_queries_context(async_api_client):
        with CaptureQueriesContext(connection) as queries:
            await async_api_client.post(
                "/api/products/", {{"name": "x"}}, format="json"
            )
        assert any("INSERT" in q["sql"] for q in queries.captured_queries)


    @pytest.mark.django_db
    async def test_on_commit_callbacks_may_use_the_orm(
        django_capture_on_commit_callbacks, async_api_client
    ):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = await async_api_client.post(
                "/audited/", {{"name": "a"}}, format="json"
            )
        assert response.status_code == 201
        assert len(callbacks) == 1
        assert [p.name async for p in Product.objects.all()] == ["a", "audit of a"]


    def _select_one_and_close(alias):
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
        finally:
            connections[alias].close()


    @pytest.mark.django_db(databases=["default", "other"])
    async def test_everywhere_counts_threads_and_aliases(
        assert_num_queries_everywhere, assert_max_queries_everywhere
    ):
        with assert_num_queries_everywhere(3) as queries:
            await Product.objects.acount()
            await Product.objects.using("other").acount()
            outside = sync_to_async(_select_one_and_close, thread_sensitive=False)
            await outside("default")
        assert [q["alias"] for q in queries] == ["default", "other", "default"]
        assert queries[0]["thread"] == "restflow-test-database"
        assert queries[2]["thread"] != "restflow-test-database"
        assert await assert_max_queries_everywhere(1, Product.objects.acount) == 0
        with pytest.raises(pytest.fail.Exception) as failure:
            with assert_num_queries_everywhere(0):
                await Product.objects.using("other").acount()
        listing = str(failure.value)
        assert "1. [other | restflow-test-database] SELECT COUNT(*)" in listing
"""


def test_queries_can_be_counted_and_on_commit_callbacks_query(run: Run) -> None:
    result = run(
        QUERIES_SCENARIO.format(), settings="tests.project.settings_two_databases"
    )
    result.assert_outcomes(passed=5)
