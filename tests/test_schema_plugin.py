"""Schema validation switched on from pytest: the ini option and the marker.

Each scenario runs a small test file in a new pytest process, configured
by its own ini file, and reads the outcomes of the inner tests.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent

Run = Callable[..., pytest.RunResult]

SCENARIO = """
    import pytest
    from restflow.test import AsyncAPISimpleTestCase
    from restflow.test.schema import UndocumentedOperationError
    from tests.schema_app import urls


    @pytest.fixture(autouse=True)
    def schema_urls(settings):
        settings.ROOT_URLCONF = "tests.schema_app.urls"


    @pytest.mark.asyncio
    async def test_default(async_api_client):
        print("fixture", async_api_client.validate_schema)
        if async_api_client.validate_schema:
            with pytest.raises(UndocumentedOperationError):
                await async_api_client.get("/api/hidden/")


    @pytest.mark.asyncio
    @pytest.mark.validate_schema
    async def test_marked_on(async_api_client):
        with pytest.raises(UndocumentedOperationError):
            await async_api_client.get("/api/hidden/")


    @pytest.mark.asyncio
    @pytest.mark.validate_schema(False)
    async def test_marked_off(async_api_client):
        response = await async_api_client.get("/api/hidden/")
        assert response.status_code == 200


    class TestCaseClass(AsyncAPISimpleTestCase):
        urlpatterns = urls.urlpatterns

        async def test_the_ini_reaches_test_case_clients(self):
            print("test case", self.client.validate_schema)
"""


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run one test file in a new pytest process with extra ini lines."""
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "tests.project.settings")
    monkeypatch.setenv(
        "PYTHONPATH",
        os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )

    def run(source: str, *ini: str) -> pytest.RunResult:
        pytester.makeini(
            "\n".join(
                [
                    "[pytest]",
                    "addopts = -p no:cacheprovider",
                    "asyncio_mode = strict",
                    "asyncio_default_fixture_loop_scope = function",
                    *ini,
                ]
            )
        )
        pytester.makepyfile(test_scenario=textwrap.dedent(source))
        return pytester.runpytest_subprocess("-s", timeout=120)

    return run


def test_the_ini_option_turns_validation_on(run: Run) -> None:
    result = run(SCENARIO, "restflow_validate_schema = true")

    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*fixture True*", "*test case True*"])


def test_off_unless_asked_for(run: Run) -> None:
    result = run(SCENARIO)

    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*fixture False*", "*test case False*"])


def test_a_marker_with_a_wrong_argument(run: Run) -> None:
    result = run(
        """
        import pytest

        @pytest.mark.validate_schema("yes")
        def test_it(async_api_client):
            pass
        """
    )

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*@pytest.mark.validate_schema takes one True or False*"]
    )
