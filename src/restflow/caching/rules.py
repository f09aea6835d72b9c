"""Invalidation rules: which model changes make which cached views stale.

The rules are declared as data in ``RESTFLOW_CACHING["RULES"]`` and resolved
here against the app registry, once models are loaded. Resolving answers
two questions for the signal receivers: which model classes must be
listened to, and which view groups a change to one of them invalidates.

A rule on a model also covers its proxies and its multi-table subclasses,
since saving either writes rows the model reads. Signals are sent with the
class that was saved as ``sender``, so each of those classes is listened to
individually.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model

from restflow.caching.config import SETTING_NAME

__all__ = ["InvalidationRules"]


@dataclass(frozen=True)
class InvalidationRules:
    """Rules resolved to model classes: every class whose signals matter,
    mapped to the cache groups a change to it invalidates.
    """

    groups_by_sender: Mapping[type[Model], frozenset[str]] = field(default_factory=dict)

    @classmethod
    def resolve(cls, declared: Mapping[str, Iterable[str]]) -> InvalidationRules:
        """Turn ``{"app_label.Model": [groups]}`` into rules on model classes.

        Needs a loaded app registry; raises ``ImproperlyConfigured`` for a
        label that names no installed model.
        """
        by_model: dict[type[Model], set[str]] = {}
        for label, groups in declared.items():
            try:
                model = apps.get_model(label)
            except (LookupError, ValueError) as exc:
                raise ImproperlyConfigured(
                    f"{SETTING_NAME}['RULES'] names the model {label!r}, which "
                    f"is not installed: {exc}"
                ) from exc
            by_model.setdefault(model, set()).update(groups)

        by_sender: dict[type[Model], frozenset[str]] = {}
        for candidate in apps.get_models():
            concrete = candidate._meta.concrete_model or candidate
            covering = {concrete, *concrete._meta.get_parent_list()}
            groups = set().union(
                *(
                    declared_groups
                    for model, declared_groups in by_model.items()
                    if model._meta.concrete_model in covering
                )
            )
            if groups:
                by_sender[candidate] = frozenset(groups)
        return cls(by_sender)

    def groups_for(self, *models: type[Model]) -> frozenset[str]:
        """The groups that changes to any of ``models`` invalidate."""
        found: set[str] = set()
        for model in models:
            found |= self.groups_by_sender.get(model, frozenset())
        return frozenset(found)

    def senders(self) -> frozenset[type[Model]]:
        """The model classes whose ``post_save`` and ``post_delete`` matter."""
        return frozenset(self.groups_by_sender)

    def relation_senders(self) -> frozenset[type[Model]]:
        """The ``through`` models of the many-to-many relations of watched models.

        ``m2m_changed`` is sent with the ``through`` model as sender, for
        changes made from either side of the relation.
        """
        through_models: set[type[Model]] = set()
        for model in self.groups_by_sender:
            for relation in model._meta.get_fields():
                if not relation.many_to_many:
                    continue
                through = getattr(relation, "through", None) or getattr(
                    relation.remote_field, "through", None
                )
                if isinstance(through, type) and issubclass(through, Model):
                    through_models.add(through)
        return frozenset(through_models)
