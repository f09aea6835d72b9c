"""Run Django's own test suite (its ``tests/runtests.py``) for the compat harness.

``python django_runner.py DJANGO_TESTS_DIR --outcomes PATH [--swap] LABEL...``
runs Django's ``runtests.py`` from an unpacked Django sdist, unchanged, with
the settings in :mod:`django_settings`: the same SQLite settings Django
uses by default, plus :class:`CompatRunner` as the test runner. Arguments
the wrapper does not know (test labels, ``--parallel 1``, ``-k``, ...) go to
``runtests.py``.

:class:`CompatRunner` is Django's ``DiscoverRunner`` with two additions:

- every test's outcome is written to the ``--outcomes`` JSON file (see
  :mod:`outcomes`); Django's runner has no machine-readable report;
- with ``--swap``, Django's ``AsyncClient`` is replaced by
  :class:`restflow.test.AsyncAPIClient` where Django's tests get it
  (``django.test.AsyncClient``, ``django.test.client.AsyncClient`` and
  ``SimpleTestCase.async_client_class``, behind ``self.async_client``). The
  swap happens in :meth:`CompatRunner.build_suite`: Django is set up by then
  (importing restflow reads the settings), and no test module has been
  imported yet. A collected test that still sees Django's ``AsyncClient``
  stops the run.

Run it with ``--parallel 1``: the swap is made in this process, and workers
started with ``spawn`` or ``forkserver`` would not see it.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
import traceback
import unittest
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from django.test.runner import DiscoverRunner
from outcomes import Recorder

_OUTCOMES_ENV = "RESTFLOW_COMPAT_OUTCOMES"
_SWAP_ENV = "RESTFLOW_COMPAT_SWAP"

_ExcInfo = (
    tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]
)


def swap_async_client() -> type:
    """Put restflow's ``AsyncAPIClient`` where Django's tests find ``AsyncClient``.

    Returns Django's ``AsyncClient``, which the tests must no longer see.
    """
    import django.test
    import django.test.client
    from django.test import SimpleTestCase

    from restflow.test import AsyncAPIClient

    original = django.test.client.AsyncClient
    django.test.AsyncClient = AsyncAPIClient  # type: ignore[misc,assignment]
    django.test.client.AsyncClient = AsyncAPIClient  # type: ignore[misc,assignment]
    SimpleTestCase.async_client_class = AsyncAPIClient
    return original


def check_swapped(suite: unittest.TestSuite, original: type) -> None:
    """Stop the run if a test module or test case still uses ``original``."""
    for test in _tests(suite):
        module = sys.modules[type(test).__module__]
        if vars(module).get("AsyncClient") is original:
            raise RuntimeError(
                f"{module.__name__} still uses Django's AsyncClient: it was "
                "imported before the swap, so its tests would not test restflow."
            )
        if getattr(test, "async_client_class", None) is original:
            raise RuntimeError(
                f"{test.id()} sets async_client_class to Django's AsyncClient, "
                "so it would not test restflow."
            )


class RecordingResult(unittest.TextTestResult):
    """unittest's text result that also records each test's outcome."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorder = Recorder(Path(os.environ[_OUTCOMES_ENV]))

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self.recorder.add(test.id(), "passed")

    def addFailure(self, test: unittest.TestCase, err: _ExcInfo) -> None:
        super().addFailure(test, err)
        self.recorder.add(test.id(), "failed", _describe(err))

    def addError(self, test: unittest.TestCase, err: _ExcInfo) -> None:
        super().addError(test, err)
        self.recorder.add(test.id(), "error", _describe(err))

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        self.recorder.add(test.id(), "skipped", reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: _ExcInfo) -> None:
        super().addExpectedFailure(test, err)
        self.recorder.add(test.id(), "xfailed", _describe(err))

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        super().addUnexpectedSuccess(test)
        self.recorder.add(test.id(), "failed", "unexpected success")

    def addSubTest(
        self,
        test: unittest.TestCase,
        subtest: unittest.TestCase,
        err: _ExcInfo | None,
    ) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None and err[0] is not None:
            failed = issubclass(err[0], test.failureException)
            self.recorder.add(
                test.id(), "failed" if failed else "error", _describe(err)
            )


class CompatRunner(DiscoverRunner):
    """Django's test runner, recording outcomes and optionally swapping clients."""

    def build_suite(self, *args: Any, **kwargs: Any) -> unittest.TestSuite:
        """Swap the client (when asked), then import and collect the tests."""
        if os.environ.get(_SWAP_ENV) != "1":
            return super().build_suite(*args, **kwargs)
        original = swap_async_client()
        suite = super().build_suite(*args, **kwargs)
        check_swapped(suite, original)
        return suite

    def get_resultclass(self) -> type[unittest.TextTestResult]:
        """The recording result (``--debug-sql`` and ``--pdb`` are not supported)."""
        return RecordingResult

    def run_suite(self, suite: unittest.TestSuite, **kwargs: Any) -> Any:
        """Run the tests, then write the outcomes file."""
        result = super().run_suite(suite, **kwargs)
        assert isinstance(result, RecordingResult)
        result.recorder.write()
        return result


def _tests(suite: unittest.TestSuite) -> Iterator[unittest.TestCase]:
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from _tests(test)
        else:
            yield test


def _describe(err: _ExcInfo) -> str:
    return "".join(traceback.format_exception_only(err[0], err[1])) if err[0] else ""


def main() -> None:
    """Run Django's ``runtests.py`` with the harness's settings and runner."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tests_dir", type=Path, help="the sdist's tests/ folder")
    parser.add_argument("--outcomes", type=Path, required=True)
    parser.add_argument("--swap", action="store_true", help="use AsyncAPIClient")
    args, runtests_args = parser.parse_known_args()
    os.environ[_OUTCOMES_ENV] = str(args.outcomes.resolve())
    os.environ[_SWAP_ENV] = "1" if args.swap else "0"
    runtests = args.tests_dir.resolve() / "runtests.py"
    # runtests.py expects its own folder first on sys.path, as when it is run
    # as a script; this folder (with the settings and runner) comes next.
    sys.path.insert(0, str(runtests.parent))
    sys.argv = [str(runtests), "--settings=django_settings", *runtests_args]
    runpy.run_path(str(runtests), run_name="__main__")


if __name__ == "__main__":
    main()
