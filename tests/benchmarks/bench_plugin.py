"""What restflow's pytest plugin costs per async database test.

Run from the repository root::

    python tests/benchmarks/bench_plugin.py [--tests 300] [--rounds 5]

Generates N async ``django_db`` tests (each writes a row and reads it back)
into a temporary directory and runs them with pytest-django and
pytest-asyncio, with restflow's plugin and with ``-p no:restflow``, whole
processes, in turns. The difference of the medians divided by N is the
plugin's cost per test: a database thread per test, the routing of its sync
work, the leftover-task check. The tests are written so that they pass
either way (without the plugin their rows are not rolled back).

``--docs`` writes the output where the performance page includes it
(``docs/_figures/plugin.md``).

This is a measurement, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _suites import environment, in_turns, median, write_figures, write_suite

TEST = """
@pytest.mark.asyncio
@pytest.mark.django_db
async def test_{n}():
    await Product.objects.acreate(name="row {n}")
    assert await Product.objects.filter(name="row {n}").aexists()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--docs", action="store_true", help="write the docs' figures")
    options = parser.parse_args()
    measured_with = environment()
    source = "import pytest\n\nfrom tests.testapp.models import Product\n" + "".join(
        TEST.format(n=n) for n in range(options.tests)
    )
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory)
        write_suite(path, {"test_generated.py": source})
        times = in_turns(
            {
                "with restflow": (path, ()),
                "-p no:restflow": (path, ("-p", "no:restflow")),
            },
            options.rounds,
        )
    with_plugin = median(times["with restflow"])
    without = median(times["-p no:restflow"])
    lines = [f"{options.tests} async django_db tests, {options.rounds} rounds in turns"]
    for label, values in times.items():
        runs = ", ".join(f"{v:.2f}" for v in values)
        lines.append(f"  {label:16} median {median(values):.3f} s  ({runs})")
    per_test = (with_plugin - without) / options.tests * 1000
    lines.append(f"  restflow's cost per test: {per_test:+.3f} ms")
    report = "\n".join(lines)
    print(report)
    if options.docs:
        write_figures("plugin", "bench_plugin.py", measured_with, report)


if __name__ == "__main__":
    main()
