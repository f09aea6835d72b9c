"""The public surface of ``restflow.test``."""

from __future__ import annotations

import subprocess
import sys

import pytest

import restflow.test


def test_every_public_name_is_exported_and_importable() -> None:
    for name in restflow.test.__all__:
        assert getattr(restflow.test, name).__name__ == name


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'AsyncAPIClent'"):
        restflow.test.AsyncAPIClent  # type: ignore[attr-defined]  # noqa: B018


def test_dir_lists_the_public_names() -> None:
    assert set(restflow.test.__all__) <= set(dir(restflow.test))


def test_importing_the_package_needs_no_settings() -> None:
    # pytest imports the plugin (and so this package) before pytest-django
    # has configured Django.
    code = (
        "import restflow.test, restflow.test.plugin, django.conf as c;"
        "print(c.settings.configured)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
