"""System checks for the likely ways of getting the caching app wrong.

Both checks are registered by the app's ``ready()``: an invalid setting or
a missing cache alias (errors, since no cached view could work), and a rule
naming a view that no URL routes to a cached handler (a warning: usually a
typo in a dotted path, which would otherwise show up only as a view that
never refreshes).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, URLResolver, get_resolver

from restflow.caching.config import APP_NAME, SETTING_NAME, caching_settings
from restflow.caching.views import cache_options_of

__all__ = ["check_cache_alias", "check_rule_targets", "routed_cache_groups"]


def check_cache_alias(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """``restflow_caching.E001``: ``RESTFLOW_CACHING`` must be valid;
    ``restflow_caching.E002``: its ``CACHE`` must be an alias in ``CACHES``.
    """
    if not apps.is_installed(APP_NAME):
        return []
    try:
        conf = caching_settings()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="restflow_caching.E001")]
    if conf.cache_alias not in settings.CACHES:
        return [
            Error(
                f"{SETTING_NAME}['CACHE'] is {conf.cache_alias!r}, which is not "
                "an alias in CACHES.",
                hint=f"Use one of {sorted(settings.CACHES)}, or add the alias.",
                id="restflow_caching.E002",
            )
        ]
    return []


def check_rule_targets(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """``restflow_caching.W001``: every view a rule names must be a routed,
    cached view (or the ``group`` of one).
    """
    if not apps.is_installed(APP_NAME):
        return []
    try:
        conf = caching_settings()
        known = routed_cache_groups()
    except Exception:
        # A broken setting or URLconf is reported by the checks made for it.
        return []
    return [
        Warning(
            f"{SETTING_NAME}['RULES'][{label!r}] names {target!r}, but no URL "
            "routes to a cached view with that dotted path or cache group, so "
            "the rule invalidates nothing.",
            hint="Check the spelling, and that the view is decorated with "
            "@cache_response or uses CachedResponseMixin.",
            obj=label,
            id="restflow_caching.W001",
        )
        for label, targets in conf.rules.items()
        for target in targets
        if target not in known
    ]


def routed_cache_groups(urlconf: str | None = None) -> set[str]:
    """The cache groups of every cached handler reachable from the URLconf."""
    return {
        options.group_for(view_class)
        for view_class, handler in _routed_handlers(get_resolver(urlconf).url_patterns)
        if (options := cache_options_of(handler)) is not None
    }


def _routed_handlers(patterns: Sequence[Any]) -> Iterator[tuple[type[Any], Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routed_handlers(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            callback = pattern.callback
            view_class = getattr(callback, "cls", None) or getattr(
                callback, "view_class", None
            )
            if not isinstance(view_class, type):
                continue
            # Viewsets route methods to actions; other views to the handler
            # named after the method.
            actions = getattr(callback, "actions", None) or {}
            names = {*actions.values(), *getattr(view_class, "http_method_names", ())}
            for name in names:
                handler = getattr(view_class, name, None)
                if handler is not None:
                    yield view_class, handler
