"""restflow's AsyncAPITestCase next to Django's TestCase, whole suites.

Run from the repository root::

    python tests/benchmarks/bench_testcases.py [--tests 200] [--rounds 3]

Generates the same N tests twice into a temporary directory: once on
``restflow.test.AsyncAPITestCase`` with ``self.client``, once on Django's
``TestCase`` with ``async def`` tests and ``self.async_client``. Each test
creates a row, sends one GET and one POST (JSON) to a DRF view. Both run as
whole pytest processes, in turns; the ratio of each round and of the medians
is printed. restflow's side includes everything it adds per test: the loop
on the test's thread, the database thread, the leftover-task check and the
timeout machinery (an ``async_timeout`` is set).

``--docs`` writes the output where the performance page includes it
(``docs/_figures/testcases.md``).

This is a measurement, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _suites import environment, in_turns, median, write_figures, write_suite

RESTFLOW = """
from restflow.test import AsyncAPITestCase
from tests.testapp.models import Product


class Generated(AsyncAPITestCase):
    async_timeout = 60
{tests}
"""

RESTFLOW_TEST = """
    async def test_{n}(self):
        await Product.objects.acreate(name="row {n}")
        listed = await self.client.get("/api/products/")
        assert listed.status_code == 200
        created = await self.client.post(
            "/api/products/", {{"name": "new"}}, format="json"
        )
        assert created.status_code == 201
"""

DJANGO = """
from django.test import TestCase
from tests.testapp.models import Product


class Generated(TestCase):
{tests}
"""

DJANGO_TEST = """
    async def test_{n}(self):
        await Product.objects.acreate(name="row {n}")
        listed = await self.async_client.get("/api/products/")
        assert listed.status_code == 200
        created = await self.async_client.post(
            "/api/products/", {{"name": "new"}}, content_type="application/json"
        )
        assert created.status_code == 201
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--docs", action="store_true", help="write the docs' figures")
    options = parser.parse_args()
    measured_with = environment()
    numbers = range(options.tests)
    restflow = RESTFLOW.format(
        tests="".join(RESTFLOW_TEST.format(n=n) for n in numbers)
    )
    django = DJANGO.format(tests="".join(DJANGO_TEST.format(n=n) for n in numbers))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory)
        write_suite(path, {"test_restflow.py": restflow, "test_django.py": django})
        times = in_turns(
            {
                "AsyncAPITestCase": (path, ("test_restflow.py",)),
                "Django TestCase": (path, ("test_django.py",)),
            },
            options.rounds,
        )
    ours, theirs = times["AsyncAPITestCase"], times["Django TestCase"]
    lines = [f"{options.tests} tests (a row, a GET, a POST), {options.rounds} rounds"]
    for number, (a, b) in enumerate(zip(ours, theirs, strict=True), start=1):
        lines.append(
            f"  round {number}: AsyncAPITestCase {a:.3f} s, "
            f"Django TestCase {b:.3f} s, ratio {a / b:.3f}"
        )
    ratio = median(ours) / median(theirs)
    lines.append(
        f"  medians: {median(ours):.3f} s vs {median(theirs):.3f} s, ratio {ratio:.3f}"
    )
    report = "\n".join(lines)
    print(report)
    if options.docs:
        write_figures("testcases", "bench_testcases.py", measured_with, report)


if __name__ == "__main__":
    main()
