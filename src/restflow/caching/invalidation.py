"""Invalidating cached views when the data behind them changes - after commit.

The app's ``ready()`` calls :func:`bind`, which connects receivers to
``post_save``, ``post_delete`` and ``m2m_changed`` for the models named in
the rules. A receiver does not touch the cache itself: it hands the work to
``transaction.on_commit``. Inside a transaction the cache is therefore only
invalidated once the write is committed, and never for a write that is rolled
back (including the transaction around each test of Django's ``TestCase``);
outside one, Django runs the callback at once.

Some writes send no signals: ``QuerySet.update()``, ``bulk_create()``,
``bulk_update()`` and raw SQL. After those, call :func:`invalidate_model`
(or :func:`ainvalidate_model` from async code), which defers the same way.
``QuerySet.delete()`` does send ``post_delete`` for each row here: Django
gives up its fast delete path for models that have delete receivers.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.apps import apps
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import Signal

from restflow.caching.config import APP_NAME, SETTING_NAME, caching_settings
from restflow.caching.rules import InvalidationRules
from restflow.caching.store import ResponseStore
from restflow.caching.views import CacheOptions

__all__ = [
    "ainvalidate_model",
    "ainvalidate_views",
    "bind",
    "bound_rules",
    "invalidate_model",
    "invalidate_views",
    "resync",
    "unbind",
]

_DISPATCH_UID = "restflow.caching.invalidation"
#: The action names of m2m_changed sent after the relation has changed.
_RELATION_CHANGED = frozenset({"post_add", "post_remove", "post_clear"})


@dataclass
class _Binding:
    rules: InvalidationRules = field(default_factory=InvalidationRules)
    connected: list[tuple[Signal, type[Model]]] = field(default_factory=list)


_binding = _Binding()


def bind() -> None:
    """Read the rules from settings and connect them to model signals.

    Called by the app's ``ready()`` and again whenever ``RESTFLOW_CACHING``
    or ``INSTALLED_APPS`` changes; receivers of earlier rules are
    disconnected first, so calling it twice connects nothing twice.
    """
    rules = InvalidationRules.resolve(caching_settings().rules)
    unbind()
    for sender in rules.senders():
        for signal in (post_save, post_delete):
            signal.connect(
                _record_changed, sender=sender, weak=False, dispatch_uid=_DISPATCH_UID
            )
            _binding.connected.append((signal, sender))
    for through in rules.relation_senders():
        m2m_changed.connect(
            _relation_changed, sender=through, weak=False, dispatch_uid=_DISPATCH_UID
        )
        _binding.connected.append((m2m_changed, through))
    _binding.rules = rules


def unbind() -> None:
    """Disconnect every receiver :func:`bind` connected and forget the rules."""
    for signal, sender in _binding.connected:
        signal.disconnect(sender=sender, dispatch_uid=_DISPATCH_UID)
    _binding.connected.clear()
    _binding.rules = InvalidationRules()


def bound_rules() -> InvalidationRules:
    """The rules currently connected to signals (empty when unbound)."""
    return _binding.rules


def resync(*, setting: str, **kwargs: Any) -> None:
    """Follow changes of the settings the binding depends on.

    Connected to ``setting_changed`` by the app, so that
    ``override_settings(RESTFLOW_CACHING=...)`` in a test binds the new
    rules, and removing the app from ``INSTALLED_APPS`` unbinds them.
    """
    if setting not in (SETTING_NAME, "INSTALLED_APPS"):
        return
    if apps.is_installed(APP_NAME):
        bind()
    else:
        unbind()


def invalidate_model(model: type[Model] | str, *, using: str | None = None) -> None:
    """Invalidate the views that rules tie to ``model``, once the transaction
    on ``using`` commits (at once outside a transaction).

    For the writes that send no signals: ``QuerySet.update()``,
    ``bulk_create()``, ``bulk_update()`` and raw SQL. ``model`` is a model
    class or an ``"app_label.ModelName"`` label.
    """
    caching_settings().require_app()
    if isinstance(model, str):
        model = apps.get_model(model)
    _defer(_binding.rules.groups_for(model), using)


async def ainvalidate_model(
    model: type[Model] | str, *, using: str | None = None
) -> None:
    """:func:`invalidate_model` for async code.

    It runs where the ORM's async methods run their queries, so it joins the
    same transaction as the write it follows.
    """
    await sync_to_async(invalidate_model)(model, using=using)


def invalidate_views(*views: type[Any] | str, using: str | None = None) -> None:
    """Invalidate the given cached views once the transaction on ``using``
    commits (at once outside a transaction).

    For changes no model rule describes. Each view is a view class or a
    cache group name (the ``group`` given to the decorator or mixin).
    """
    caching_settings().require_app()
    _defer(
        frozenset(
            view if isinstance(view, str) else CacheOptions().group_for(view)
            for view in views
        ),
        using,
    )


async def ainvalidate_views(*views: type[Any] | str, using: str | None = None) -> None:
    """:func:`invalidate_views` for async code, in the ORM's thread."""
    await sync_to_async(functools.partial(invalidate_views, *views, using=using))()


def _record_changed(sender: type[Model], using: str, **kwargs: Any) -> None:
    _defer(_binding.rules.groups_for(sender), using)


def _relation_changed(
    sender: type[Model],
    instance: Model,
    action: str,
    model: type[Model],
    using: str,
    **kwargs: Any,
) -> None:
    if action in _RELATION_CHANGED:
        _defer(_binding.rules.groups_for(type(instance), model), using)


def _defer(groups: Iterable[str], using: str | None) -> None:
    stale = frozenset(groups)
    if not stale:
        return

    # A plain function rather than a functools.partial: Django 5.2 logs a
    # failed robust callback by its __qualname__, which a partial lacks.
    def invalidate_after_commit() -> None:
        ResponseStore.from_settings(caching_settings()).bust(stale)

    # robust: by commit time the write has happened; a cache outage must not
    # turn it into an error for the caller. Django logs the failure.
    transaction.on_commit(invalidate_after_commit, using=using, robust=True)
