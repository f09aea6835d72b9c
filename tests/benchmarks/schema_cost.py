"""A pytest plugin for bench_schema.py: times the schema machinery in a run.

Loaded with ``-p schema_cost`` into the runs with validation on. After
pytest-django has set Django up, it imports ``restflow.test.schema`` (the
import a validating client would otherwise do at its first construction)
and wraps schema generation and the per-response check with timers. At
the end it writes the totals, in seconds, as JSON to the file named by
``RESTFLOW_SCHEMA_COST``.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest

_totals: dict[str, float] = {
    "import": 0.0,
    "generate": 0.0,
    "generations": 0,
    "check": 0.0,
    "checks": 0,
}


def _timed(function: Any, total: str, count: str) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            _totals[total] += time.perf_counter() - started
            _totals[count] += 1

    return timed


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    started = time.perf_counter()
    from restflow.test.schema import _check, _document

    _totals["import"] = time.perf_counter() - started
    _document._generate = _timed(_document._generate, "generate", "generations")
    _check.check_exchange = _timed(_check.check_exchange, "check", "checks")


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("RESTFLOW_SCHEMA_COST")
    if target:
        with open(target, "w") as out:
            json.dump(_totals, out)
