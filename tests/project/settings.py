"""Settings for restflow's own test project.

The database comes from ``RESTFLOW_TEST_DATABASE_URL``; without it the
tests run on in-memory SQLite, so a fresh clone needs no server. Examples::

    sqlite://:memory:
    postgres://postgres@127.0.0.1:5432/restflow
    mysql://root@127.0.0.1:3306/restflow
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote, urlsplit

SECRET_KEY = "restflow-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "tests.project.urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
ASGI_APPLICATION = "tests.project.asgi.application"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "tests.testapp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tests.project.middleware.sync_stamp_middleware",
    "tests.project.middleware.async_stamp_middleware",
]

STATIC_URL = "/static/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    # Contract tests (tests/test_schema.py) generate the schema with it.
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.MultiPartRenderer",
    ],
}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def database_from_url(url: str) -> dict[str, Any]:
    """Translate a database URL into a Django ``DATABASES`` entry."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        name = parts.netloc + parts.path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": ":memory:" if name in ("", ":memory:") else name,
        }
    engines = {
        "postgres": "django.db.backends.postgresql",
        "postgresql": "django.db.backends.postgresql",
        "mysql": "django.db.backends.mysql",
        "mariadb": "django.db.backends.mysql",
    }
    if parts.scheme not in engines:
        raise ValueError(
            f"RESTFLOW_TEST_DATABASE_URL has the unknown scheme {parts.scheme!r}; "
            f"use one of sqlite, {', '.join(engines)}."
        )
    name = parts.path.lstrip("/") or "restflow"
    return {
        "ENGINE": engines[parts.scheme],
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        # Subprocess runs started by the suite add a suffix, so they do not
        # collide with the test database of the run that started them.
        "TEST": {
            "NAME": f"test_{name}{os.environ.get('RESTFLOW_TEST_DATABASE_SUFFIX', '')}"
        },
    }


DATABASES = {
    "default": database_from_url(
        os.environ.get("RESTFLOW_TEST_DATABASE_URL", "sqlite://:memory:")
    )
}
