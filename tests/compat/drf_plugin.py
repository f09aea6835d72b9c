"""pytest plugin that runs DRF's own test suite against restflow.

Loaded by ``run.py`` with ``-p drf_plugin`` (this folder on ``PYTHONPATH``),
it does two things:

- ``--restflow-outcomes=PATH`` records the outcome of every test in a JSON
  file (see :mod:`outcomes`);
- ``--restflow-swap=factory`` replaces ``rest_framework.test.APIRequestFactory``
  with :class:`restflow.test.AsyncAPIRequestFactory`, and
  ``--restflow-swap=client`` replaces ``rest_framework.test.APIClient`` and
  the ``client_class`` of DRF's four test cases with
  :class:`sync_client.SyncAPIClient`, a blocking adapter over
  :class:`restflow.test.AsyncAPIClient`.

DRF's tests import these names with ``from rest_framework.test import ...``
when their module is imported, so the swap happens at session start: after
DRF's ``conftest.py`` has configured Django (``rest_framework.test`` reads
the settings when it is imported) and before any test module is collected.
After collection, every collected module is checked: one that still holds
DRF's class stops the run instead of passing unnoticed.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from outcomes import Recorder

_recorder: Recorder | None = None
#: (name in a test module, DRF's class it must no longer be) for the swap.
_replaced: list[tuple[str, type]] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("restflow-compat")
    group.addoption(
        "--restflow-swap",
        choices=("none", "factory", "client"),
        default="none",
        help="which of DRF's test tools to replace with restflow's",
    )
    group.addoption(
        "--restflow-outcomes",
        metavar="PATH",
        help="write each test's outcome to this JSON file",
    )


def pytest_configure(config: pytest.Config) -> None:
    global _recorder
    path = config.getoption("--restflow-outcomes")
    if path:
        _recorder = Recorder(Path(path))


def pytest_sessionstart(session: pytest.Session) -> None:
    swap = session.config.getoption("--restflow-swap")
    if swap != "none":
        _keep_drfs_default_format()
    if swap == "factory":
        _swap_factory()
    elif swap == "client":
        _swap_client()


def _keep_drfs_default_format() -> None:
    """Encode bodies given without ``format=`` as multipart, as DRF does.

    restflow's default format is JSON; a DRF suite that relies on DRF's
    implicit multipart sets the setting once, as the migration guide says.
    """
    from django.conf import settings

    settings.REST_FRAMEWORK = {
        **getattr(settings, "REST_FRAMEWORK", {}),
        "TEST_REQUEST_DEFAULT_FORMAT": "multipart",
    }


def _swap_factory() -> None:
    import rest_framework.test as drf_test

    from restflow.test import AsyncAPIRequestFactory

    _replaced.append(("APIRequestFactory", drf_test.APIRequestFactory))
    drf_test.APIRequestFactory = AsyncAPIRequestFactory  # type: ignore[misc]


def _swap_client() -> None:
    import rest_framework.test as drf_test
    from sync_client import SyncAPIClient

    _replaced.append(("APIClient", drf_test.APIClient))
    drf_test.APIClient = SyncAPIClient  # type: ignore[misc,assignment]
    for case in (
        drf_test.APISimpleTestCase,
        drf_test.APITestCase,
        drf_test.APITransactionTestCase,
        drf_test.APILiveServerTestCase,
    ):
        case.client_class = SyncAPIClient  # type: ignore[assignment]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    modules: dict[str, ModuleType] = {}
    for item in items:
        module = getattr(item, "module", None)
        if module is not None:
            modules[module.__name__] = module
    for module in modules.values():
        for name, original in _replaced:
            if vars(module).get(name) is original:
                raise pytest.UsageError(
                    f"{module.__name__} still uses DRF's {name}: it was "
                    "imported before the swap, so its tests would not test "
                    "restflow."
                )


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if _recorder is not None and report.failed:
        _recorder.add(report.nodeid, "error", _message(report))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _recorder is None:
        return
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else report.outcome
        else:
            outcome = report.outcome
        _recorder.add(report.nodeid, outcome, _message(report))
    elif report.failed:  # setup or teardown
        _recorder.add(report.nodeid, "error", _message(report))
    elif report.skipped:  # skipped in setup (skip marks, skipUnless, ...)
        _recorder.add(report.nodeid, "skipped", _message(report))


def pytest_sessionfinish() -> None:
    if _recorder is not None:
        _recorder.write()


def _message(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr: Any = report.longrepr
    if longrepr is None:
        return ""
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    if isinstance(longrepr, tuple):  # a skip: (path, line, reason)
        return str(longrepr[2])
    return str(longrepr)
