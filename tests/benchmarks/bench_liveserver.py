"""What a live-server class costs to start and stop, per server.

Run from the repository root::

    python tests/benchmarks/bench_liveserver.py [--rounds 15]

Each round starts and stops one class per server - restflow's
``AsyncAPILiveServerTestCase`` on Daphne and on uvicorn, and Django's own
(WSGI) ``LiveServerTestCase`` - the way a test runner does: ``setUpClass``,
then ``tearDownClass`` and the class clean-ups. Between the two, untimed,
one request checks that the server answers. The servers take turns within
each round, so drift in machine speed hits them all alike; the table gives
the median over the rounds. The first start of each server (imports, and
for Daphne starting Twisted's reactor) is reported separately, since it
happens once per process.

The test project's settings and database are used (in-memory SQLite unless
``RESTFLOW_TEST_DATABASE_URL`` says otherwise).

This is a measurement, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.project.settings")
django.setup()

from django.test import LiveServerTestCase  # noqa: E402
from django.test.runner import DiscoverRunner  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

from restflow.test import AsyncAPILiveServerTestCase  # noqa: E402


class DaphneServer(AsyncAPILiveServerTestCase):
    asgi_server = "daphne"


class UvicornServer(AsyncAPILiveServerTestCase):
    asgi_server = "uvicorn"


class DjangoWSGIServer(LiveServerTestCase):
    pass


CASES: dict[str, type[LiveServerTestCase]] = {
    "restflow + Daphne": DaphneServer,
    "restflow + uvicorn": UvicornServer,
    "Django LiveServerTestCase (WSGI)": DjangoWSGIServer,
}


def start_and_stop(case: type[LiveServerTestCase]) -> tuple[float, float]:
    """Start the class's server, check it answers, stop it; return the
    seconds spent starting and stopping."""
    began = time.perf_counter()
    case.setUpClass()
    started = time.perf_counter()
    try:
        url = f"{case.live_server_url}/echo/"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
    finally:
        stopping = time.perf_counter()
        case.tearDownClass()
        case.doClassCleanups()
        stopped = time.perf_counter()
    return started - began, stopped - stopping


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    options = parser.parse_args()

    setup_test_environment()
    runner = DiscoverRunner(verbosity=0, interactive=False)
    databases = runner.setup_databases()
    try:
        first = {name: sum(start_and_stop(case)) for name, case in CASES.items()}
        timings: dict[str, list[tuple[float, float]]] = {name: [] for name in CASES}
        for _ in range(options.rounds):
            for name, case in CASES.items():
                timings[name].append(start_and_stop(case))
    finally:
        runner.teardown_databases(databases)
        teardown_test_environment()

    width = max(map(len, CASES))
    print(
        f"Start + stop of one live-server class: median of {options.rounds} rounds "
        f"(Python {sys.version.split()[0]}, Django {django.__version__})\n"
    )
    print(
        f"{'server':<{width}}  {'start':>11}  {'stop':>11}  {'start+stop':>11}"
        f"  {'first class':>11}"
    )
    for name, rounds in timings.items():
        starts = [start for start, _ in rounds]
        stops = [stop for _, stop in rounds]
        totals = [start + stop for start, stop in rounds]
        print(
            f"{name:<{width}}  {milliseconds(statistics.median(starts))}"
            f"  {milliseconds(statistics.median(stops))}"
            f"  {milliseconds(statistics.median(totals))}"
            f"  {milliseconds(first[name])}"
        )


if __name__ == "__main__":
    main()
