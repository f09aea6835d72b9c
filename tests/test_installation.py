"""restflow._installation: the distributions that also install ``restflow``.

Each test builds a throwaway virtual environment, installs real wheels into
it with pip in a given order - restflow-testing built from this checkout,
drf-restflow and the 2014 ``restflow`` as published on PyPI. It runs the
check on those files in this process, and imports from the environment in a
subprocess to see what a user would. The environments get no dependencies:
the checks run before anything imports Django, and where a module of another
distribution would be imported instead, the test looks at the files on disk.

The published wheels are downloaded once per run (pip's cache makes later
runs quick). Without PyPI the tests are skipped, unless
``RESTFLOW_REQUIRE_PYPI=1`` (set by CI) makes that a failure.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from base64 import urlsafe_b64encode
from pathlib import Path

import pytest

from restflow._installation import installation_problem

ROOT = Path(__file__).resolve().parent.parent

#: Pinned: the tests describe what these releases install.
DRF_RESTFLOW = "drf-restflow==2.0.1"
OLD_RESTFLOW = "restflow==0.8b0"

FIX_DRF_RESTFLOW = (
    "    pip uninstall -y drf-restflow restflow-testing\n"
    "    pip install restflow-testing\n"
)


def pip(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _fetch(what: str, *args: str | Path) -> None:
    result = pip(*args)
    if result.returncode == 0:
        return
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    reason = f"could not get {what} from PyPI: {' '.join(errors) or result.stderr}"
    if os.environ.get("RESTFLOW_REQUIRE_PYPI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three wheels: ours built from the checkout, the others from PyPI."""
    directory = tmp_path_factory.mktemp("wheels")
    built = pip("wheel", "--no-deps", "--quiet", "--wheel-dir", directory, ROOT)
    assert built.returncode == 0, built.stderr
    # drf-restflow requires Python 3.11; its files are what matters here,
    # so on Python 3.10 the wheel is fetched and installed all the same.
    _fetch(
        DRF_RESTFLOW,
        *("download", "--no-deps", "--quiet", "-d", directory),
        *("--only-binary=:all:", "--python-version", "3.11", DRF_RESTFLOW),
    )
    # Published as an sdist only, with a setup.py; pip builds the wheel it
    # would install, in an isolated environment whatever pip's version.
    _fetch(
        OLD_RESTFLOW,
        *("wheel", "--no-deps", "--quiet", "--use-pep517", "-w", directory),
        OLD_RESTFLOW,
    )

    def one(pattern: str) -> Path:
        (path,) = directory.glob(pattern)
        return path

    return {
        "restflow-testing": one("restflow_testing-*.whl"),
        "drf-restflow": one("drf_restflow-*.whl"),
        "restflow": one("restflow-0.8*.whl"),
    }


class Environment:
    """A virtual environment without pip, installed into by the outer pip."""

    def __init__(self, path: Path, wheels: dict[str, Path]) -> None:
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", path], check=True
        )
        self.python = path / "bin" / "python"
        self.wheels = wheels
        purelib = self.run("import sysconfig; print(sysconfig.get_path('purelib'))")
        #: Where pip installs: the directory holding the ``restflow`` package.
        self.site = Path(purelib.stdout.strip()).resolve()
        self.package = self.site / "restflow"

    def install(self, *names: str) -> None:
        for name in names:
            result = pip(
                "--python", self.python, "install",
                "--no-deps", "--no-index", "--no-compile",
                "--ignore-requires-python",
                self.wheels[name],
            )  # fmt: skip
            assert result.returncode == 0, result.stderr

    def uninstall(self, *names: str) -> None:
        result = pip("--python", self.python, "uninstall", "--yes", *names)
        assert result.returncode == 0, result.stderr

    def run(self, code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.python, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=60,
            # No user site, no PYTHONPATH: only what is installed here.
            env={"PATH": os.environ["PATH"], "PYTHONNOUSERSITE": "1"},
        )

    def problem(self) -> str | None:
        """What the check finds in this environment, run in this process."""
        return installation_problem(self.package, [str(self.site)])

    def import_error(self, statement: str) -> str:
        """The message of the ImportError that ``statement`` raises, or
        ``"imported"``; a bare module name means ``import <name>``."""
        if not statement.startswith(("import ", "from ")):
            statement = f"import {statement}"
        result = self.run(
            f"""
            try:
                {statement}
            except ImportError as exc:
                print(exc)
            else:
                print("imported")
            """
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def owner_of(self, relative: str) -> str:
        """Which installed distribution wrote ``restflow/<relative>``, judged
        by comparing the file's hash with each wheel's ``RECORD``."""
        data = (self.package / relative).read_bytes()
        digest = urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        entry = f"restflow/{relative},sha256={digest.decode()},"
        result = self.run(
            f"""
            import importlib.metadata as metadata
            for dist in metadata.distributions():
                if {entry!r} in (dist.read_text("RECORD") or ""):
                    print(dist.metadata["Name"])
            """
        )
        return result.stdout.strip()


def modules_in(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {name for name in archive.namelist() if name.endswith(".py")}


@pytest.fixture
def environment(tmp_path: Path, wheels: dict[str, Path]) -> Environment:
    return Environment(tmp_path / "venv", wheels)


def test_alone_it_imports(environment: Environment) -> None:
    environment.install("restflow-testing")
    assert environment.problem() is None
    for module in ("restflow", "restflow.test", "restflow._installation"):
        assert environment.import_error(module) == "imported"


def test_drf_restflow_installed_first_is_refused(environment: Environment) -> None:
    environment.install("drf-restflow", "restflow-testing")
    problem = environment.problem()
    assert problem is not None
    assert problem.startswith(
        "drf-restflow 2.0.1 (a declarative toolkit for Django REST framework) "
        "is installed in the same place as restflow-testing. Both install a "
        "top-level package named 'restflow', so they cannot share an "
        "environment"
    )
    # Names a file that is drf-restflow's alone.
    example = re.search(r"(restflow/\S+) for example\)", problem)
    assert example is not None, problem
    assert example[1] in modules_in(environment.wheels["drf-restflow"])
    assert example[1] not in modules_in(environment.wheels["restflow-testing"])
    assert FIX_DRF_RESTFLOW in problem
    # restflow/__init__.py is ours and raises first, whatever is imported.
    for module in ("restflow.test", "restflow.caching", "restflow"):
        assert environment.import_error(module) == (
            f"restflow cannot be imported: {problem}"
        )


def test_the_advice_works(environment: Environment) -> None:
    environment.install("drf-restflow", "restflow-testing")
    environment.uninstall("drf-restflow", "restflow-testing")
    environment.install("restflow-testing")
    assert environment.problem() is None
    assert environment.import_error("restflow.test") == "imported"


def test_drf_restflow_installed_last_replaces_our_entry_points(
    environment: Environment,
) -> None:
    # None of our code runs on "import restflow.test": drf-restflow wrote
    # the package's __init__ modules. A module of ours that survives - the
    # pytest plugin, say - can still run the check.
    environment.install("restflow-testing", "drf-restflow")
    for relative in ("__init__.py", "test/__init__.py", "caching/__init__.py"):
        assert environment.owner_of(relative) == "drf-restflow"
    assert environment.owner_of("test/plugin.py") == "restflow-testing"
    problem = environment.problem()
    assert problem is not None
    assert problem.startswith("drf-restflow 2.0.1 ")
    check = environment.run(
        "from restflow._installation import check_installation\n"
        "check_installation('restflow.test.plugin')"
    )
    assert check.returncode == 1
    assert (
        f"ImportError: restflow.test.plugin cannot be imported: {problem}"
        in check.stderr
    )


def test_uninstalling_drf_restflow_afterwards_takes_our_files(
    environment: Environment,
) -> None:
    environment.install("drf-restflow", "restflow-testing")
    environment.uninstall("drf-restflow")
    # pip deleted every file drf-restflow recorded, ours among them.
    shared = modules_in(environment.wheels["restflow-testing"]) & modules_in(
        environment.wheels["drf-restflow"]
    )
    assert "restflow/test/__init__.py" in shared
    for name in shared:
        assert not (environment.package.parent / name).exists()
    # restflow.test is now a namespace package: nothing of ours runs on
    # import, and the names are simply not there.
    assert environment.import_error(
        "from restflow.test import AsyncAPITestCase"
    ).startswith("cannot import name 'AsyncAPITestCase' from 'restflow.test'")
    # A surviving module of ours that runs the check (the plugin) can tell.
    problem = environment.problem()
    assert problem is not None
    assert problem.startswith(
        f"modules of restflow-testing are missing from {environment.package} "
        f"({len(shared)} in all, "
    )
    assert problem.endswith("pip install --force-reinstall --no-deps restflow-testing")


def test_uninstalling_the_2014_restflow_afterwards_is_caught(
    environment: Environment,
) -> None:
    # The two share restflow/__init__.py only, so restflow/test/__init__.py
    # is still ours and can tell.
    environment.install("restflow", "restflow-testing")
    environment.uninstall("restflow")
    problem = environment.problem()
    assert problem is not None
    assert problem.startswith(
        f"modules of restflow-testing are missing from {environment.package} "
        "(1 in all, restflow/__init__.py for example)."
    )
    assert environment.import_error("restflow.test") == (
        f"restflow.test cannot be imported: {problem}"
    )


@pytest.mark.parametrize(
    "order",
    [("restflow", "restflow-testing"), ("restflow-testing", "restflow")],
    ids=["restflow-first", "restflow-last"],
)
def test_the_2014_restflow_in_either_order_is_refused(
    environment: Environment, order: tuple[str, str]
) -> None:
    environment.install(*order)
    problem = environment.problem()
    assert problem is not None
    assert problem.startswith(
        "restflow 0.8b0 (a 2014 web service for HiFlow3 simulations) is "
        "installed in the same place as restflow-testing."
    )
    assert "pip uninstall -y restflow restflow-testing\n" in problem
    # Installed last, its restflow/__init__.py replaces ours, imports fine,
    # and our restflow/test/__init__.py raises instead.
    importing = "restflow" if order[-1] == "restflow-testing" else "restflow.test"
    assert environment.import_error("restflow.test") == (
        f"{importing} cannot be imported: {problem}"
    )


def test_the_2014_restflow_alone_has_no_restflow_test(
    environment: Environment,
) -> None:
    # What `pip install restflow` gives; nothing of ours is there to help.
    environment.install("restflow")
    assert environment.import_error("restflow.test") == (
        "No module named 'restflow.test'"
    )
