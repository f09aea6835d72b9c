"""The ``RESTFLOW_CACHING`` setting, read and validated in one place.

Everything the app does is steered by one dictionary in the project's
settings, so that the rules, the cache they live in and the timeouts can be
read (and overridden in tests) together::

    RESTFLOW_CACHING = {
        "CACHE": "default",
        "TIMEOUT": 300,
        "KEY_PREFIX": "restflow",
        "RULES": {
            "shop.Product": ["shop.views.ProductViewSet"],
        },
    }

The setting is read on every use rather than once at start-up, so
``override_settings(RESTFLOW_CACHING=...)`` takes effect immediately.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.exceptions import ImproperlyConfigured

__all__ = ["APP_NAME", "SETTING_NAME", "CachingSettings", "caching_settings"]

#: The name to put in ``INSTALLED_APPS``.
APP_NAME = "restflow.caching"
#: The name of the Django setting this module reads.
SETTING_NAME = "RESTFLOW_CACHING"

_KNOWN_KEYS = frozenset({"CACHE", "TIMEOUT", "KEY_PREFIX", "RULES"})


@dataclass(frozen=True)
class CachingSettings:
    """The validated contents of ``RESTFLOW_CACHING``.

    ``rules`` maps a model label (``"app_label.ModelName"``) to the cached
    views its changes make stale. A view is named by the dotted path of its
    class, or by the ``group`` given to its decorator or mixin.
    """

    cache_alias: str = "default"
    #: Seconds a cached response lives; ``None`` for ever. Left at Django's
    #: ``DEFAULT_TIMEOUT`` marker, the cache backend's own default applies.
    timeout: Any = DEFAULT_TIMEOUT
    key_prefix: str = "restflow"
    rules: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def require_app(self) -> None:
        """Refuse to work when rules exist but nothing will ever apply them.

        Rules bind to model signals in the app's ``ready()``. Without the app
        in ``INSTALLED_APPS`` that never happens, and cached views would serve
        stale data with no hint as to why; an error is kinder.
        """
        if self.rules and not apps.is_installed(APP_NAME):
            raise ImproperlyConfigured(
                f"{SETTING_NAME}['RULES'] declares invalidation rules, but "
                f"{APP_NAME!r} is not in INSTALLED_APPS, so the rules are never "
                "connected to model signals and cached responses would never "
                f"be invalidated. Add {APP_NAME!r} to INSTALLED_APPS."
            )


def caching_settings() -> CachingSettings:
    """Read ``RESTFLOW_CACHING`` from Django's settings and check its shape."""
    raw = getattr(settings, SETTING_NAME, None)
    if raw is None:
        return CachingSettings()
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(
            f"{SETTING_NAME} must be a dict, not {type(raw).__name__}."
        )
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    if unknown:
        raise ImproperlyConfigured(
            f"{SETTING_NAME} has unknown keys {unknown}; the known keys are "
            f"{sorted(_KNOWN_KEYS)}."
        )
    cache_alias = raw.get("CACHE", "default")
    if not isinstance(cache_alias, str):
        raise ImproperlyConfigured(f"{SETTING_NAME}['CACHE'] must be a cache alias.")
    timeout = raw.get("TIMEOUT", DEFAULT_TIMEOUT)
    if timeout is not DEFAULT_TIMEOUT and not (
        timeout is None
        or (isinstance(timeout, (int, float)) and not isinstance(timeout, bool))
    ):
        raise ImproperlyConfigured(
            f"{SETTING_NAME}['TIMEOUT'] must be a number of seconds or None, "
            f"not {timeout!r}."
        )
    key_prefix = raw.get("KEY_PREFIX", "restflow")
    if not isinstance(key_prefix, str) or not key_prefix:
        raise ImproperlyConfigured(
            f"{SETTING_NAME}['KEY_PREFIX'] must be a non-empty string."
        )
    return CachingSettings(
        cache_alias=cache_alias,
        timeout=timeout,
        key_prefix=key_prefix,
        rules=_read_rules(raw.get("RULES", {})),
    )


def _read_rules(raw: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(
            f"{SETTING_NAME}['RULES'] must map model labels to lists of views, "
            f"not be a {type(raw).__name__}."
        )
    rules: dict[str, tuple[str, ...]] = {}
    for label, views in raw.items():
        if not isinstance(label, str) or label.count(".") != 1:
            raise ImproperlyConfigured(
                f"{SETTING_NAME}['RULES'] key {label!r} is not a model label; "
                "write 'app_label.ModelName'."
            )
        if not isinstance(views, (list, tuple)) or not all(
            isinstance(view, str) for view in views
        ):
            raise ImproperlyConfigured(
                f"{SETTING_NAME}['RULES'][{label!r}] must be a list of view "
                "paths or cache group names (strings)."
            )
        rules[label] = tuple(views)
    return rules
