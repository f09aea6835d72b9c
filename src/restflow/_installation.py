"""Refuse to run from a ``restflow`` package that other distributions share.

This library is distributed as ``restflow-testing`` but its import package is
``restflow``, a name two unrelated distributions on PyPI use for their own
top-level package too: ``drf-restflow`` (which also has a ``restflow.test``
and a ``restflow.caching``) and ``restflow`` (a 2014 simulation server).
Installed into one environment, they write into the same directory, and pip
lets whichever comes last overwrite the other's files without a word: the
result imports, and then behaves like neither library.

:func:`check_installation` runs when ``restflow``, ``restflow.test`` or
``restflow.caching`` is imported and raises an :class:`ImportError` that
names the distributions and the fix. It only runs if the importing module is
still ours, so it cannot catch the order in which another distribution was
installed last and replaced those ``__init__`` modules; the installation page
of the documentation describes what that looks like.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

__all__ = ["DISTRIBUTION", "check_installation"]

#: The name this library is installed by: ``pip install restflow-testing``.
DISTRIBUTION = "restflow-testing"

#: Distributions on PyPI that also install a top-level ``restflow`` package,
#: with what they are, for the error message.
CONFLICTING = {
    "drf-restflow": "a declarative toolkit for Django REST framework",
    "restflow": "a 2014 web service for HiFlow3 simulations",
}

#: The ``restflow`` package directory this module was imported from.
_PACKAGE_DIR = Path(__file__).resolve().parent

_checked = False


def check_installation(importing: str) -> None:
    """Raise :class:`ImportError` unless the ``restflow`` package is ours alone.

    ``importing`` is the module being imported, named in the message. Two
    things are checked, once per process when they pass:

    * no distribution in :data:`CONFLICTING` has files in the directory this
      package was imported from (whichever was installed last, the two have
      overwritten each other's files);
    * every file this distribution's ``RECORD`` lists in that directory is
      there (uninstalling one of two distributions that recorded the same
      file deletes it for both).

    An editable install records no package files, so only the first check
    applies to it.
    """
    global _checked
    if _checked:
        return
    problem = _shared_with_others() or _missing_own_files()
    if problem:
        raise ImportError(f"{importing} cannot be imported: {problem}")
    _checked = True


def _package_files(dist: importlib.metadata.Distribution) -> list[Path]:
    """The modules and data files ``dist`` recorded in this package directory
    (compiled ``__pycache__`` files left out), whether on disk or not."""
    found = []
    for file in dist.files or ():
        if file.parts[:1] != ("restflow",) or "__pycache__" in file.parts:
            continue
        path = Path(str(dist.locate_file(file))).resolve()
        if path.is_relative_to(_PACKAGE_DIR):
            found.append(path)
    return found


def _own_files() -> set[Path]:
    return {
        path
        for dist in importlib.metadata.distributions(name=DISTRIBUTION)
        for path in _package_files(dist)
    }


def _shared_with_others() -> str | None:
    for name, what in CONFLICTING.items():
        for dist in importlib.metadata.distributions(name=name):
            files = [path for path in _package_files(dist) if path.exists()]
            if not files:
                continue
            # Name a file only the other distribution has: it shows the mix
            # better than one both wrote.
            own = _own_files()
            example = next((path for path in files if path not in own), files[0])
            return (
                f"{name} {dist.metadata['Version']} ({what}) is installed in "
                f"the same place as {DISTRIBUTION}. Both install a top-level "
                f"package named 'restflow', so they cannot share an "
                f"environment: whichever was installed last has overwritten "
                f"files of the other, and {_PACKAGE_DIR} now holds files of "
                f"both ({len(files)} of {name}'s, {_shown(example)} for "
                f"example). Uninstall both, then reinstall the one this "
                f"environment is for:\n\n"
                f"    pip uninstall -y {name} {DISTRIBUTION}\n"
                f"    pip install {DISTRIBUTION}\n\n"
                f"and give {name} a virtual environment of its own if you "
                f"need it too."
            )
    return None


def _missing_own_files() -> str | None:
    missing = sorted(
        path for path in _own_files() if path.suffix == ".py" and not path.exists()
    )
    if not missing:
        return None
    others = " or ".join(CONFLICTING)
    return (
        f"modules of {DISTRIBUTION} are missing from {_PACKAGE_DIR} "
        f"({len(missing)} in all, {_shown(missing[0])} for example). This happens when "
        f"a distribution that installed the same files ({others}) is "
        f"uninstalled after {DISTRIBUTION} was installed: pip deletes every "
        f"file it recorded, also those {DISTRIBUTION} had written over. "
        f"Reinstall it:\n\n"
        f"    pip install --force-reinstall --no-deps {DISTRIBUTION}"
    )


def _shown(path: Path) -> str:
    return path.relative_to(_PACKAGE_DIR.parent).as_posix()
