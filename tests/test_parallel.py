"""The bases under Django's parallel test runner and under pytest-xdist.

Each run happens in a subprocess on the database the suite itself uses
(``RESTFLOW_TEST_DATABASE_URL``), so on PostgreSQL a stray connection would
show up as a failure to drop the test databases.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.project.settings",
        "RESTFLOW_TEST_DATABASE_SUFFIX": "_parallel",
    }
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_django_test_runner_with_parallel_workers() -> None:
    result = _run(
        "-m", "django", "test", "tests.parallel_cases", "--parallel", "2", "-v", "2"
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Ran 5 tests" in output
    assert "OK" in output
    assert "being accessed by other users" not in output


def test_pytest_xdist_with_two_workers() -> None:
    pytest.importorskip("xdist", reason="pytest-xdist is part of the test extra")
    result = _run(
        "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "-q",
        "tests/parallel_cases.py::SimpleCase",
        "tests/parallel_cases.py::RollbackCase",
        "tests/parallel_cases.py::CommitCase",
        "tests/test_testcases.py",
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "passed" in output and "failed" not in output
