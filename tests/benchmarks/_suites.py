"""Shared by the suite benchmarks: write a generated suite, time pytest runs,
write the figures the docs show."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / "docs" / "_figures"


def write_suite(directory: Path, files: dict[str, str]) -> None:
    """Write the test files and an ini file that uses the test project."""
    (directory / "pytest.ini").write_text(
        "[pytest]\n"
        "DJANGO_SETTINGS_MODULE = tests.project.settings\n"
        "addopts = -p no:cacheprovider -q\n"
        "asyncio_mode = strict\n"
        "asyncio_default_fixture_loop_scope = function\n"
    )
    for name, source in files.items():
        (directory / name).write_text(source)


def time_pytest(directory: Path, *args: str) -> float:
    """Seconds one whole pytest process takes; fails loudly if a test failed."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(
            f"pytest {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return elapsed


def in_turns(
    runs: dict[str, tuple[Path, tuple[str, ...]]], rounds: int
) -> dict[str, list[float]]:
    """Time each run once per round, in turns, after one warm-up round."""
    times: dict[str, list[float]] = {label: [] for label in runs}
    for round_number in range(rounds + 1):
        for label, (directory, args) in runs.items():
            elapsed = time_pytest(directory, *args)
            if round_number:  # the first round only warms caches up
                times[label].append(elapsed)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def environment() -> str:
    """What the figures were measured with, in one sentence."""
    import django
    import rest_framework

    return (
        f"Measured with Python {platform.python_version()}, Django "
        f"{django.__version__}, DRF {rest_framework.VERSION}, on "
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the start)"
    )


def write_figure(name: str, script: str, markdown: str) -> None:
    """Write ``markdown`` where the docs include it, ``docs/_figures/<name>.md``,
    under a line naming the script that wrote it."""
    FIGURES.mkdir(exist_ok=True)
    (FIGURES / f"{name}.md").write_text(
        f"<!-- Written by tests/benchmarks/{script} --docs; do not edit. -->\n\n"
        + markdown
    )
    print(f"wrote docs/_figures/{name}.md")


def write_figures(name: str, script: str, measured_with: str, report: str) -> None:
    """Write ``report`` (what the script printed) as a text block under what
    it was measured with (see :func:`write_figure`)."""
    write_figure(name, script, f"{measured_with}:\n\n```text\n{report.rstrip()}\n```\n")
