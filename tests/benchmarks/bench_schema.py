"""What checking every response against the OpenAPI schema costs the sample shop.

Run from the repository root::

    python tests/benchmarks/bench_schema.py [--rounds 7]

Each round runs the sample shop's suite (``docs/examples``) twice, in new
pytest processes: once with ``restflow_validate_schema`` on, once with it
off (``-o restflow_validate_schema=...``); which one goes first alternates
between rounds, so drift in machine speed hits both alike.
``tests/test_contract.py`` is left out of both runs, since its tests are
about validation being on. Two times are taken per run: the wall time of
the whole command (interpreter start, Django set-up, tests), and the
session time pytest reports. The table gives each median, and the median
over rounds of the on/off ratio within a round.

This is a measurement, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(r"(\d+) passed.* in ([\d.]+)s")


def run_suite(validate: bool) -> tuple[float, float, int]:
    """Run the shop's suite once; return wall time, pytest's time, tests passed."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "docs/examples",
        "-q",
        "-p",
        "no:randomly",
        "--ignore=docs/examples/tests/test_contract.py",
        "-o",
        f"restflow_validate_schema={'true' if validate else 'false'}",
    ]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    found = SUMMARY.search(result.stdout.strip().splitlines()[-1])
    if result.returncode != 0 or found is None:
        sys.exit(f"the suite failed (validation {validate}):\n{result.stdout}")
    return wall, float(found.group(2)), int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds

    run_suite(True)  # warm-up: bytecode caches, the filesystem
    times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    ratios: dict[str, list[float]] = {"wall": [], "pytest": []}
    passed = set()
    for number in range(rounds):
        order = (True, False) if number % 2 == 0 else (False, True)
        this_round = {}
        for validate in order:
            wall, session, count = run_suite(validate)
            times[validate].append((wall, session))
            this_round[validate] = (wall, session)
            passed.add(count)
        ratios["wall"].append(this_round[True][0] / this_round[False][0])
        ratios["pytest"].append(this_round[True][1] / this_round[False][1])

    print(f"sample shop suite, {passed.pop()} tests, {rounds} rounds (median)")
    print(f"{'':22}{'wall s':>8}{'pytest s':>10}")
    for validate, label in ((False, "validation off"), (True, "validation on")):
        wall = statistics.median(t[0] for t in times[validate])
        session = statistics.median(t[1] for t in times[validate])
        print(f"{label:22}{wall:8.2f}{session:10.2f}")
    print(
        f"{'on / off (per round)':22}{statistics.median(ratios['wall']):8.3f}"
        f"{statistics.median(ratios['pytest']):10.3f}"
    )


if __name__ == "__main__":
    main()
