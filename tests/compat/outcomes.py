"""Per-test outcomes, as the compat harness records and compares them.

Both runners (pytest for DRF's suite, Django's ``runtests.py`` for Django's)
write the same small JSON file: ``{test id: {"outcome": ..., "message": ...}}``.
A test can report more than once (a failing teardown after a passing call,
a failing subtest); the worst report wins.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypedDict

__all__ = ["OUTCOMES", "Outcome", "Recorder", "first_line", "load"]

#: From best to worst; the worst report of a test is its outcome.
OUTCOMES = ("passed", "xfailed", "skipped", "failed", "error")


class Outcome(TypedDict):
    """What happened to one test, and the first line of why."""

    outcome: str
    message: str


def first_line(text: str) -> str:
    """The first non-empty line of ``text``, shortened for a one-line summary."""
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= 300 else line[:297] + "..."
    return ""


class Recorder:
    """Collects the outcome of every test and writes them to ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.results: dict[str, Outcome] = {}

    def add(self, test_id: str, outcome: str, message: str = "") -> None:
        """Record one report for ``test_id``; a worse earlier one is kept."""
        assert outcome in OUTCOMES, outcome
        previous = self.results.get(test_id)
        if previous is None or OUTCOMES.index(outcome) > OUTCOMES.index(
            previous["outcome"]
        ):
            self.results[test_id] = {
                "outcome": outcome,
                "message": first_line(message),
            }

    def write(self) -> None:
        """Write the outcomes as JSON."""
        self.path.write_text(json.dumps(self.results, indent=1, sort_keys=True))


def load(path: Path) -> dict[str, Outcome]:
    """Read a file written by :meth:`Recorder.write`."""
    results: dict[str, Outcome] = json.loads(path.read_text())
    return results
