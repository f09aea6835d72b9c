"""Run DRF's and Django's own test suites through restflow, against a baseline.

restflow promises to be a drop-in for ``rest_framework.test`` and for
Django's ``AsyncClient``. This script holds it to that with test suites
nobody here wrote: the ``tests/`` folders that ship in the
djangorestframework and Django sdists, of exactly the versions installed in
the running interpreter.

Usage::

    python tests/compat/run.py                    # all three suites
    python tests/compat/run.py --suite drf-client # one suite (repeatable)
    python tests/compat/run.py --keep             # keep the work dir

Suites, each compared with an unchanged run of the same tests:

``drf-factory``
    DRF's suite (pytest, with the sdist's ``conftest.py`` and pytest
    settings) with ``rest_framework.test.APIRequestFactory`` replaced by
    ``restflow.test.AsyncAPIRequestFactory``.
``drf-client``
    DRF's suite with ``rest_framework.test.APIClient``, and the
    ``client_class`` of DRF's four test cases, replaced by
    ``sync_client.SyncAPIClient``: a thin blocking adapter over
    ``restflow.test.AsyncAPIClient``.
``django``
    Django's ``tests/runtests.py --parallel 1`` on ``test_client``,
    ``test_client_regress``, ``handlers``, ``auth_tests.test_remote_user``,
    ``middleware_exceptions`` and ``logging_tests``, with Django's
    ``AsyncClient`` (``django.test.AsyncClient``,
    ``django.test.client.AsyncClient``, ``SimpleTestCase.async_client_class``)
    replaced by ``restflow.test.AsyncAPIClient``.

The restflow runs also have restflow's pytest plugin active, as it is for
anyone who installs restflow; DRF's baseline runs with ``-p no:restflow``.

The script exits non-zero when a test that passes in the baseline does not
pass with restflow (it fails, errors, is skipped or no longer runs), unless
the test is in :data:`ALLOWED`: differences that every ASGI request
necessarily has next to a WSGI one, each with its reason. A restflow bug
never goes there. It also fails when a run crashes or its baseline passes
nothing.

The sdists are fetched once with ``pip download --no-deps --no-binary
:all:`` into a cache (``--cache``, default ``$XDG_CACHE_HOME/restflow-compat``
or ``~/.cache/restflow-compat``); only their ``tests/`` folders (and DRF's
pytest settings) are unpacked, into a temporary work dir, so the Django and
DRF under test are the installed ones. The work dir holds the logs and the
per-test outcomes (``results/*.json``); ``--keep`` or ``--workdir`` keeps
it. All suites run on in-memory SQLite.

DRF's suite needs its test requirements installed (``pytest-django``,
``dj-database-url``); its optional packages (``django-filter``,
``django-guardian``, ``markdown``, ...) only enable more tests, and the
script names those that are missing. ``tox run -e compat`` installs them
all.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from outcomes import Outcome, load

HERE = Path(__file__).resolve().parent

SUITES = ("drf-factory", "drf-client", "django")

DJANGO_LABELS = (
    "test_client",
    "test_client_regress",
    "handlers",
    "auth_tests.test_remote_user",
    "middleware_exceptions",
    "logging_tests",
)

#: Tests allowed to pass in a baseline and not with restflow, per suite:
#: test id -> reason. Only differences that any ASGI request necessarily has
#: next to a WSGI one belong here (a test reading ``request.environ`` or
#: ``wsgi.input`` of the WSGI request class, or needing behaviour of the sync
#: ``Client`` that a blocking adapter over an async client cannot express).
#: A test that fails because restflow does something differently from the
#: tool it replaces is a restflow bug: fix restflow, do not list it here.
#: An entry looks like
#: ``"tests/test_x.py::XTests::test_y": "reads request.environ['wsgi.input'],
#: which an ASGI request does not have"``.
ALLOWED: dict[str, dict[str, str]] = {
    "drf-factory": {},
    "drf-client": {},
    "django": {},
}

#: One more kind of entry: where DRF's client and Django's ``AsyncClient``
#: give one keyword different meanings, restflow keeps DRF's for ``HTTP_*``
#: keys (``HTTP_AUTHUSER="x"`` sends the header ``Authuser``), as its keyword
#: table documents. Django 5.2's own remote-user tests pass ``HTTP_AUTHUSER``
#: to ``AsyncClient`` meaning a header literally named ``Http-Authuser``
#: (its middleware then reads ``HTTP_HTTP_AUTHUSER``); Django 6.0 rewrote
#: those tests to pass ``headers=``, which means the same to both.
_HTTP_PREFIX_AS_A_HEADER_NAME = (
    "passes HTTP_AUTHUSER= to AsyncClient meaning the header Http-Authuser; "
    "restflow gives HTTP_ keys DRF's meaning (the header Authuser). Django "
    "6.0 and newer pass headers= here."
)
if int(importlib.metadata.version("django").split(".")[0]) < 6:
    ALLOWED["django"].update(
        {
            f"auth_tests.test_remote_user.CustomHeaderRemoteUserTest.{name}": (
                _HTTP_PREFIX_AS_A_HEADER_NAME
            )
            for name in (
                "test_header_disappears_async",
                "test_known_user_async",
                "test_last_login_async",
                "test_unknown_user_async",
                "test_user_switch_forces_new_login_async",
            )
        }
    )

#: The most test ids printed for one cause of regressions.
MAX_LISTED = 40

#: Packages DRF's suite cannot run without (import name, distribution).
DRF_TEST_REQUIREMENTS = (
    ("pytest_django", "pytest-django"),
    ("dj_database_url", "dj-database-url"),
)


# -- fetching and unpacking the sdists ---------------------------------------


def default_cache() -> Path:
    """``$XDG_CACHE_HOME/restflow-compat``, or ``~/.cache/restflow-compat``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "restflow-compat"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def fetch_sdist(distribution: str, version: str, cache: Path) -> Path:
    """Return the sdist of ``distribution==version``, downloading it once."""
    cache.mkdir(parents=True, exist_ok=True)
    wanted = f"{_normalize(distribution)}-{version}.tar.gz"

    def cached() -> Path | None:
        for path in cache.glob("*.tar.gz"):
            name, _, found = path.name.removesuffix(".tar.gz").rpartition("-")
            if _normalize(name) == _normalize(distribution) and found == version:
                return path
        return None

    found = cached()
    if found is None:
        print(f"downloading the {distribution} {version} sdist into {cache}")
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--quiet"),
                *("--no-deps", "--no-binary", ":all:", "--dest", str(cache)),
                f"{distribution}=={version}",
            ],
            check=True,
        )
        found = cached()
        if found is None:
            raise SystemExit(
                f"pip download left no {wanted} in {cache}; look at pip's output above."
            )
    return found


def unpack(archive: Path, dest: Path, wanted: Callable[[str], bool]) -> Path:
    """Unpack the members of an sdist whose path inside it ``wanted`` accepts.

    Returns the folder of the sdist's contents (its one top-level folder).
    """
    with tarfile.open(archive) as tar:
        members = []
        top = ""
        for member in tar.getmembers():
            top, _, inner = member.name.partition("/")
            if inner and wanted(inner):
                members.append(member)
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, members=members, filter="data")
        else:  # Python 3.10 before 3.10.12: the sdist comes from PyPI via pip
            tar.extractall(dest, members=members)
    return dest / top


def _drf_files(inner: str) -> bool:
    # The test folder and the files that may hold DRF's pytest settings;
    # not the rest_framework package: the installed one is under test.
    return inner.startswith("tests/") or inner in (
        "pyproject.toml",
        "setup.cfg",
        "tox.ini",
        "pytest.ini",
    )


def _django_files(inner: str) -> bool:
    return inner.startswith("tests/")


# -- running the suites ------------------------------------------------------


@dataclass
class Run:
    """One run of a suite: its outcomes, or why it has none."""

    name: str
    log: Path
    seconds: float
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    crash: str | None = None

    def counts(self) -> Counter[str]:
        """How many tests ended in each outcome."""
        return Counter(result["outcome"] for result in self.outcomes.values())


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # The suites bring their own settings and database (in-memory SQLite):
    # nothing from the caller's environment may point them elsewhere.
    for key in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "PYTEST_ADDOPTS"):
        env.pop(key, None)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(HERE), *filter(None, [env.get("PYTHONPATH")])]
    )
    return env


def _run(name: str, command: Sequence[str], cwd: Path, work: Path) -> Run:
    results = work / "results"
    logs = work / "logs"
    results.mkdir(exist_ok=True)
    logs.mkdir(exist_ok=True)
    outcomes = results / f"{name}.json"
    log = logs / f"{name}.log"
    command = [arg.replace("{outcomes}", str(outcomes)) for arg in command]
    print(f"  {name} ...", end="", flush=True)
    started = time.monotonic()
    with log.open("w") as out:
        # The command that re-runs this by hand, once the work dir is kept.
        rerun = f"cd {shlex.quote(str(cwd))} && PYTHONPATH={shlex.quote(str(HERE))} "
        out.write(f"$ {rerun}{shlex.join(command)}\n\n")
        out.flush()
        code = subprocess.run(
            command, cwd=cwd, env=_child_env(), stdout=out, stderr=subprocess.STDOUT
        ).returncode
    run = Run(name, log, time.monotonic() - started)
    print(f" {run.seconds:.1f} s")
    # Both runners exit with 1 when a test failed; anything else, or no
    # outcomes at all, means the run itself broke.
    if code not in (0, 1):
        run.crash = f"exit code {code}"
    elif not outcomes.exists():
        run.crash = f"exit code {code} and no outcomes were written"
    else:
        run.outcomes = load(outcomes)
    return run


def run_drf(drf: Path, work: Path, swap: str) -> Run:
    """Run DRF's suite, with ``swap`` = ``none``, ``factory`` or ``client``."""
    command = [
        *(sys.executable, "-m", "pytest", "-p", "drf_plugin"),
        *("-p", "no:cacheprovider", "--restflow-outcomes={outcomes}"),
        f"--restflow-swap={swap}",
    ]
    if swap == "none":
        command += ["-p", "no:restflow"]
    name = "drf-baseline" if swap == "none" else f"drf-{swap}"
    return _run(name, command, drf, work)


def run_django(django_tests: Path, work: Path, swap: bool) -> Run:
    """Run Django's suite on :data:`DJANGO_LABELS`, with restflow's client if
    ``swap``."""
    command = [
        *(sys.executable, str(HERE / "django_runner.py"), str(django_tests)),
        *("--outcomes", "{outcomes}", *(["--swap"] if swap else [])),
        *("--parallel", "1", "--noinput", "-v", "2", *DJANGO_LABELS),
    ]
    name = "django-restflow" if swap else "django-baseline"
    return _run(name, command, django_tests, work)


# -- comparing and reporting -------------------------------------------------


@dataclass
class Comparison:
    """A restflow run set against its baseline."""

    regressions: dict[str, str]
    allowed: dict[str, str]
    unused_allowances: list[str]


def compare(baseline: Run, restflow: Run, allowed: dict[str, str]) -> Comparison:
    """Find the tests that pass in ``baseline`` and not in ``restflow``."""
    regressions: dict[str, str] = {}
    occurred: dict[str, str] = {}
    for test_id, result in baseline.outcomes.items():
        if result["outcome"] != "passed":
            continue
        after = restflow.outcomes.get(test_id)
        if after is None:
            message = "did not run: " + _why_missing(test_id, restflow.outcomes)
        elif after["outcome"] == "passed":
            continue
        else:
            message = f"{after['outcome']}: {after['message']}"
        if test_id in allowed:
            occurred[test_id] = allowed[test_id]
        else:
            regressions[test_id] = message
    unused = [test_id for test_id in allowed if test_id not in occurred]
    return Comparison(regressions, occurred, unused)


def _why_missing(test_id: str, outcomes: dict[str, Outcome]) -> str:
    # A test that did not run was usually taken down by an error around it:
    # a pytest collection error ("tests/test_x.py"), a unittest class or
    # module fixture ("setUpClass (module.Class)"), or a module that failed
    # to import ("unittest.loader._FailedTest.module").
    for other, result in outcomes.items():
        if result["outcome"] != "error":
            continue
        scopes = (
            other.partition(" (")[2].rstrip(")"),
            other.partition("_FailedTest.")[2],
            other,
        )
        if any(scope and test_id.startswith(scope) for scope in scopes):
            return f"{other}: {result['message']}"
    return "not collected"


def _counts(run: Run) -> str:
    counts = run.counts()
    shown = [
        f"{counts['passed']} passed",
        f"{counts['failed']} failed",
        f"{counts['error']} errors",
        f"{counts['skipped']} skipped",
    ]
    if counts["xfailed"]:
        shown.append(f"{counts['xfailed']} xfailed")
    return ", ".join(shown) + f" ({run.seconds:.0f} s)"


def report(suite: str, title: str, baseline: Run, restflow: Run) -> bool:
    """Print one suite's summary; return whether it holds no regression."""
    print(f"\n== {suite}: {title}")
    for run in (baseline, restflow):
        label = "baseline" if run is baseline else "restflow"
        if run.crash:
            print(f"  {label}: CRASHED ({run.crash}); the end of {run.log}:")
            _print_tail(run.log)
        else:
            print(f"  {label}: {_counts(run)}")
    if baseline.crash or restflow.crash:
        return False
    if not baseline.counts()["passed"]:
        print("  the baseline passed no test: the harness is broken; its log ends:")
        _print_tail(baseline.log)
        return False
    comparison = compare(baseline, restflow, ALLOWED[suite])
    if comparison.regressions:
        print(f"  REGRESSIONS ({len(comparison.regressions)}), by cause:")
        for message, test_ids in _by_message(comparison.regressions.items()):
            print(f"    {len(test_ids)} x {message}")
            for test_id in test_ids[:MAX_LISTED]:
                print(f"        {test_id}")
            if len(test_ids) > MAX_LISTED:
                print(f"        ... and {len(test_ids) - MAX_LISTED} more")
        print(f"  logs (kept with --keep): {baseline.log}, {restflow.log}")
    else:
        print("  no regressions")
    if comparison.allowed:
        print(f"  allowed differences that occurred ({len(comparison.allowed)}):")
        for test_id, reason in comparison.allowed.items():
            print(f"    {test_id}: {reason}")
    for test_id in comparison.unused_allowances:
        print(f"  note: allowed difference did not occur: {test_id}")
    return not comparison.regressions


def _print_tail(log: Path, lines: int = 30) -> None:
    for line in log.read_text(errors="replace").splitlines()[-lines:]:
        print(f"    | {line}")


def _by_message(items: Iterable[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    groups: dict[str, list[str]] = {}
    for test_id, message in sorted(items):
        groups.setdefault(message, []).append(test_id)
    return sorted(groups.items(), key=lambda group: (-len(group[1]), group[0]))


def _missing_drf_packages(drf: Path) -> tuple[list[str], list[str]]:
    """DRF's required and optional test packages that are not installed."""
    required = [
        dist for module, dist in DRF_TEST_REQUIREMENTS if not _importable(module)
    ]
    optional: list[str] = []
    try:
        import tomllib
    except ImportError:  # Python 3.10: no report on optional packages
        return required, optional
    pyproject = drf / "pyproject.toml"
    if pyproject.exists():
        groups = tomllib.loads(pyproject.read_text()).get("dependency-groups", {})
        for requirement in groups.get("optional", []):
            if not isinstance(requirement, str):
                continue
            name = re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]
            if ";" in requirement and not _marker_applies(requirement):
                continue
            try:
                importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                optional.append(name)
    return required, optional


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _marker_applies(requirement: str) -> bool:
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return True
    marker = Requirement(requirement).marker
    return marker is None or marker.evaluate()


# -- main ----------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen suites and their baselines; return the exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--suite",
        action="append",
        choices=SUITES,
        help="run only this suite (repeatable; default: all)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=default_cache(),
        help="where the sdists are kept (default: %(default)s)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="unpack and run here, and keep it (default: a temporary dir)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary work dir"
    )
    args = parser.parse_args(argv)
    suites = args.suite or list(SUITES)

    if args.workdir:
        work = args.workdir.resolve()
        if work.exists() and any(work.iterdir()):
            parser.error(f"--workdir {work} is not empty")
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="restflow-compat-"))
    try:
        ok = _run_suites(suites, args.cache, work)
    finally:
        if args.workdir or args.keep:
            print(f"\nwork dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


def _run_suites(suites: list[str], cache: Path, work: Path) -> bool:
    python = ".".join(map(str, sys.version_info[:3]))
    versions = {
        dist: importlib.metadata.version(dist)
        for dist in ("Django", "djangorestframework", "restflow-testing")
    }
    print(
        f"Python {python}, Django {versions['Django']}, "
        f"djangorestframework {versions['djangorestframework']}, "
        f"restflow-testing {versions['restflow-testing']}"
    )
    ok = True
    if "drf-factory" in suites or "drf-client" in suites:
        archive = fetch_sdist(
            "djangorestframework", versions["djangorestframework"], cache
        )
        drf = unpack(archive, work, _drf_files)
        required, optional = _missing_drf_packages(drf)
        if required:
            print(
                "DRF's test suite needs packages that are not installed: "
                f"pip install {' '.join(required)}"
            )
            return False
        if optional:
            print(
                "DRF's optional test packages not installed (DRF skips the "
                f"tests that need them): {', '.join(optional)}"
            )
        print("DRF's suite:")
        baseline = run_drf(drf, work, "none")
        runs = {
            s: run_drf(drf, work, s.removeprefix("drf-"))
            for s in suites
            if s.startswith("drf-")
        }
        titles = {
            "drf-factory": "APIRequestFactory -> AsyncAPIRequestFactory",
            "drf-client": "APIClient -> SyncAPIClient over AsyncAPIClient",
        }
        for suite, run in runs.items():
            ok &= report(suite, titles[suite], baseline, run)
    if "django" in suites:
        archive = fetch_sdist("Django", versions["Django"], cache)
        django_tests = unpack(archive, work, _django_files) / "tests"
        print("Django's suite:")
        baseline = run_django(django_tests, work, swap=False)
        restflow = run_django(django_tests, work, swap=True)
        ok &= report("django", "AsyncClient -> AsyncAPIClient", baseline, restflow)
    print("\nOK: no regressions" if ok else "\nFAILED: see the regressions above")
    return ok


if __name__ == "__main__":
    sys.exit(main())
