"""Refuse to run from a ``restflow`` package that other distributions share.

This library is distributed as ``restflow-testing`` but its import package is
``restflow``, a name two unrelated distributions on PyPI use for their own
top-level package too: ``drf-restflow`` (which also has a ``restflow.test``
and a ``restflow.caching``) and ``restflow`` (a 2014 web service for simulations).
Installed into one environment, they write into the same directory, and pip
lets whichever comes last overwrite the other's files without a word: the
result imports, and then behaves like neither library.

:func:`check_installation` runs when ``restflow``, ``restflow.test`` or
``restflow.caching`` is imported and raises an :class:`ImportError` that
names the distributions and the fix. It runs only where those ``__init__``
modules are still ours, so on import it cannot catch drf-restflow installed
*after* restflow-testing, which replaces all three; the install page of the
documentation describes what that looks like. Another module of ours that
survives (the pytest plugin, for one) can call it and catch that case too.
"""

from __future__ import annotations

import csv
import importlib.metadata
from collections.abc import Iterable
from pathlib import Path

__all__ = ["DISTRIBUTION", "check_installation", "installation_problem"]

#: The name this library is installed by: ``pip install restflow-testing``.
DISTRIBUTION = "restflow-testing"

#: Distributions on PyPI that also install a top-level ``restflow`` package,
#: with what they are, for the error message.
CONFLICTING = {
    "drf-restflow": "a declarative toolkit for Django REST framework",
    "restflow": "a 2014 web service for HiFlow3 simulations",
}

#: The ``restflow`` package directory this module was imported from.
PACKAGE_DIR = Path(__file__).resolve().parent

_checked = False


def check_installation(importing: str) -> None:
    """Raise :class:`ImportError` unless the ``restflow`` package is ours alone.

    ``importing`` is the module being imported, named in the message. Runs
    :func:`installation_problem` once per process, until it passes.
    """
    global _checked
    if _checked:
        return
    problem = installation_problem()
    if problem:
        raise ImportError(f"{importing} cannot be imported: {problem}")
    _checked = True


def installation_problem(
    package_dir: Path = PACKAGE_DIR, path: list[str] | None = None
) -> str | None:
    """What is wrong with the ``restflow`` package in ``package_dir``, or None.

    ``path`` is where to look for installed distributions (``sys.path`` by
    default). Two things are checked:

    * no distribution in :data:`CONFLICTING` has files in ``package_dir``
      (whichever was installed last, the two have overwritten each other's
      files);
    * every module this distribution's ``RECORD`` lists in ``package_dir``
      is there (uninstalling one of two distributions that recorded the same
      file deletes it for both).

    An editable install records no package files, so only the first check
    applies to it.
    """
    return _shared_with_others(package_dir, path) or _missing_own_files(
        package_dir, path
    )


def _package_files(
    dist: importlib.metadata.Distribution, package_dir: Path
) -> list[Path]:
    """The modules and data files ``dist``'s ``RECORD`` lists in
    ``package_dir`` (compiled ``__pycache__`` files left out), whether on
    disk or not.

    ``RECORD`` is read here rather than through ``Distribution.files``,
    which leaves out missing files from Python 3.12 on.
    """
    found = []
    for row in csv.reader((dist.read_text("RECORD") or "").splitlines()):
        parts = Path(row[0]).parts if row else ()
        if parts[:1] != ("restflow",) or "__pycache__" in parts:
            continue
        located = Path(str(dist.locate_file(row[0]))).resolve()
        if located.is_relative_to(package_dir):
            found.append(located)
    return found


def _distributions(
    name: str, path: list[str] | None
) -> Iterable[importlib.metadata.Distribution]:
    if path is None:
        return importlib.metadata.distributions(name=name)
    return importlib.metadata.distributions(name=name, path=path)


def _own_files(package_dir: Path, path: list[str] | None) -> set[Path]:
    return {
        file
        for dist in _distributions(DISTRIBUTION, path)
        for file in _package_files(dist, package_dir)
    }


def _shared_with_others(package_dir: Path, path: list[str] | None) -> str | None:
    for name, what in CONFLICTING.items():
        for dist in _distributions(name, path):
            files = [f for f in _package_files(dist, package_dir) if f.exists()]
            if not files:
                continue
            # Name a file only the other distribution has: it shows the mix
            # better than one both wrote.
            own = _own_files(package_dir, path)
            example = next((f for f in files if f not in own), files[0])
            return (
                f"{name} {dist.metadata['Version']} ({what}) is installed in "
                f"the same place as {DISTRIBUTION}. Both install a top-level "
                f"package named 'restflow', so they cannot share an "
                f"environment: whichever was installed last has overwritten "
                f"files of the other, and {package_dir} now holds files of "
                f"both ({len(files)} of {name}'s, "
                f"{_shown(example, package_dir)} for example). Uninstall both, "
                f"then reinstall the one this environment is for:\n\n"
                f"    pip uninstall -y {name} {DISTRIBUTION}\n"
                f"    pip install {DISTRIBUTION}\n\n"
                f"and give {name} a virtual environment of its own if you "
                f"need it too."
            )
    return None


def _missing_own_files(package_dir: Path, path: list[str] | None) -> str | None:
    missing = sorted(
        f for f in _own_files(package_dir, path) if f.suffix == ".py" and not f.exists()
    )
    if not missing:
        return None
    others = " or ".join(CONFLICTING)
    return (
        f"modules of {DISTRIBUTION} are missing from {package_dir} "
        f"({len(missing)} in all, {_shown(missing[0], package_dir)} for "
        f"example). This happens when a distribution that installed the same "
        f"files ({others}) is uninstalled after {DISTRIBUTION} was installed: "
        f"pip deletes every file it recorded, also those {DISTRIBUTION} had "
        f"written over. Reinstall it:\n\n"
        f"    pip install --force-reinstall --no-deps {DISTRIBUTION}"
    )


def _shown(file: Path, package_dir: Path) -> str:
    return file.relative_to(package_dir.parent).as_posix()
