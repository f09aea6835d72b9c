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
session time pytest reports. The table gives each median and minimum, the
median over rounds of the on/off ratio within a round, and the ratio of
the minimums (the least disturbed run of each: on a shared machine, the
steadiest figure).

``--docs`` writes the output where the contract-testing page includes it
(``docs/_figures/schema.md``).

This is a measurement, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _suites import ROOT, environment, write_figures

SUMMARY = re.compile(r"(\d+) passed.* in ([\d.]+)s")


def run_suite(validate: bool, cost_file: str | None = None) -> tuple[float, float, int]:
    """Run the shop's suite once; return wall time, pytest's time, tests passed.

    With ``cost_file``, the run also loads ``schema_cost.py``, which writes
    the time spent in the schema machinery there.
    """
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
    env = dict(os.environ)
    if cost_file:
        command += ["-p", "schema_cost"]
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(ROOT / "tests" / "benchmarks"), env.get("PYTHONPATH")])
        )
        env["RESTFLOW_SCHEMA_COST"] = cost_file
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    found = SUMMARY.search(result.stdout.strip().splitlines()[-1])
    if result.returncode != 0 or found is None:
        sys.exit(f"the suite failed (validation {validate}):\n{result.stdout}")
    return wall, float(found.group(2)), int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--docs", action="store_true", help="write the docs' figures")
    options = parser.parse_args()
    rounds = options.rounds
    measured_with = environment()
    report: list[str] = []

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

    report.append(f"sample shop suite, {passed.pop()} tests, {rounds} rounds")
    report.append(f"{'':28}{'wall s':>8}{'pytest s':>10}")
    for pick, name in ((statistics.median, "median"), (min, "minimum")):
        for validate, label in ((False, "off"), (True, "on")):
            wall = pick(t[0] for t in times[validate])
            session = pick(t[1] for t in times[validate])
            report.append(
                f"{f'validation {label}, {name}':28}{wall:8.2f}{session:10.2f}"
            )
    report.append(
        f"{'on / off, median per round':28}{statistics.median(ratios['wall']):8.3f}"
        f"{statistics.median(ratios['pytest']):10.3f}"
    )
    fastest = {
        v: (min(t[0] for t in times[v]), min(t[1] for t in times[v])) for v in times
    }
    report.append(
        f"{'on / off, of the minimums':28}{fastest[True][0] / fastest[False][0]:8.3f}"
        f"{fastest[True][1] / fastest[False][1]:10.3f}"
    )
    report += account(rounds)
    text = "\n".join(report)
    print(text)
    if options.docs:
        write_figures("schema", "bench_schema.py", measured_with, text)


def account(rounds: int) -> list[str]:
    """Time the schema machinery inside validated runs, against unvalidated ones."""
    spent: list[float] = []
    parts: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        cost_file = os.path.join(folder, "cost.json")
        for _ in range(rounds):
            _, off_session, _ = run_suite(False)
            run_suite(True, cost_file)
            with open(cost_file) as saved:
                part = json.load(saved)
            parts.append(part)
            spent.append((part["import"] + part["check"]) / off_session)
    middle = parts[sorted(range(rounds), key=spent.__getitem__)[rounds // 2]]
    return [
        "",
        f"inside the validated runs (median of {rounds}): import "
        f"{middle['import'] * 1000:.0f} ms, {middle['generations']:.0f} "
        f"generation(s) {middle['generate'] * 1000:.0f} ms, "
        f"{middle['checks']:.0f} checks {middle['check'] * 1000:.0f} ms "
        "(generation included)",
        "schema machinery / session time of the unvalidated run in the same "
        f"round: {statistics.median(spent):.3f}",
    ]


if __name__ == "__main__":
    main()
