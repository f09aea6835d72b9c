"""The app config: where the invalidation rules get bound to model signals."""

from __future__ import annotations

from django.apps import AppConfig
from django.core import checks
from django.test.signals import setting_changed

__all__ = ["CachingConfig"]


class CachingConfig(AppConfig):
    """Binds ``RESTFLOW_CACHING["RULES"]`` to model signals once models load.

    Rules can only be resolved to model classes after the app registry is
    ready, which is why this has to be an installed app rather than code run
    on import: without it in ``INSTALLED_APPS``, nothing invalidates.
    """

    name = "restflow.caching"
    label = "restflow_caching"
    verbose_name = "restflow response caching"

    def ready(self) -> None:
        """Register the checks, bind the rules and follow later setting changes."""
        from restflow.caching import checks as caching_checks
        from restflow.caching import invalidation

        checks.register(caching_checks.check_cache_alias, checks.Tags.caches)
        checks.register(caching_checks.check_rule_targets, checks.Tags.caches)
        invalidation.bind()
        setting_changed.connect(
            invalidation.resync, dispatch_uid="restflow.caching.resync"
        )
