"""JSON Schema validators that read OpenAPI's Schema Objects the way OpenAPI means them.

An OpenAPI 3.1 Schema Object is JSON Schema 2020-12; a 3.0 one is an
extended subset of draft 4 (draft-wright-00). Both differ from plain JSON
Schema in three ways that matter when checking what an API sent:

* ``readOnly`` properties are not required in request bodies, and
  ``writeOnly`` ones are not required in responses, even when ``required``
  lists them (drf-spectacular lists both kinds).
* A ``discriminator`` picks the one ``oneOf``/``anyOf`` alternative that
  applies, so a mismatch is reported inside that alternative rather than as
  "valid under none of the alternatives".
* In 3.0 only, ``nullable: true`` allows ``null`` for the whole Schema
  Object, including drf-spectacular's ``{"allOf": [{"$ref": ...}],
  "nullable": true}`` for a nullable nested serializer, which has no
  ``type`` beside it.

The classes here extend :mod:`jsonschema`'s draft 4 and 2020-12 validators
with exactly those rules; everything else is jsonschema's own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Literal

from jsonschema import Draft4Validator, Draft202012Validator, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend

__all__ = ["Direction", "validator_class"]

#: Which way the checked document travels: ``"response"`` (the API wrote
#: it; ``writeOnly`` properties may be absent) or ``"request"`` (the client
#: wrote it; ``readOnly`` properties may be absent).
Direction = Literal["request", "response"]

_Keyword = Callable[
    [Any, Any, Any, Mapping[str, Any]], Iterable[ValidationError] | None
]


def _required(direction: Direction) -> _Keyword:
    """``required``, leaving out the properties the other side alone writes."""
    exempt = "writeOnly" if direction == "response" else "readOnly"

    def required(
        validator: Any, names: Any, instance: Any, schema: Mapping[str, Any]
    ) -> Iterator[ValidationError]:
        if not validator.is_type(instance, "object"):
            return
        properties = schema.get("properties", {})
        for name in names:
            if name in instance:
                continue
            declared = properties.get(name)
            if isinstance(declared, Mapping) and declared.get(exempt) is True:
                continue
            yield ValidationError(f"{name!r} is a required property")

    return required


def _discriminated(plain: _Keyword) -> _Keyword:
    """``oneOf``/``anyOf`` that follow a ``discriminator`` when there is one."""

    def alternatives(
        validator: Any, branches: Any, instance: Any, schema: Mapping[str, Any]
    ) -> Iterable[ValidationError]:
        discriminator = schema.get("discriminator")
        if not isinstance(discriminator, Mapping) or not validator.is_type(
            instance, "object"
        ):
            return plain(validator, branches, instance, schema) or ()
        return _follow_discriminator(validator, branches, instance, discriminator)

    return alternatives


def _follow_discriminator(
    validator: Any,
    branches: list[Any],
    instance: Mapping[str, Any],
    discriminator: Mapping[str, Any],
) -> Iterator[ValidationError]:
    name = str(discriminator.get("propertyName"))
    mapping: Mapping[str, str] = discriminator.get("mapping") or {}
    # Without a mapping, a value names a component schema (OpenAPI 3.x).
    known = dict(mapping) or {
        branch["$ref"].rsplit("/", 1)[-1]: branch["$ref"]
        for branch in branches
        if isinstance(branch, Mapping) and isinstance(branch.get("$ref"), str)
    }
    value = instance.get(name)
    target = known.get(value) if isinstance(value, str) else None
    index = next(
        (
            i
            for i, branch in enumerate(branches)
            if isinstance(branch, Mapping) and branch.get("$ref") == target
        ),
        None,
    )
    if index is None:
        error = ValidationError(
            f"{value!r} is not one of the discriminator values {sorted(known)}"
            if name in instance
            else f"{name!r} is a required property",
            validator="discriminator",
            validator_value=sorted(known),
            instance=value,
        )
        error.relative_path.appendleft(name)
        yield error
        return
    yield from validator.descend(instance, branches[index], schema_path=index)


def _allow_null(plain: _Keyword) -> _Keyword:
    """A keyword that stands aside for ``null`` when ``nullable`` is true (3.0)."""

    def keyword(
        validator: Any, value: Any, instance: Any, schema: Mapping[str, Any]
    ) -> Iterable[ValidationError]:
        if instance is None and schema.get("nullable") is True:
            return ()
        return plain(validator, value, instance, schema) or ()

    return keyword


def _build(base: Any, direction: Direction, *, nullable: bool) -> type[Validator]:
    keywords: dict[str, _Keyword] = dict(base.VALIDATORS)
    keywords["required"] = _required(direction)
    keywords["oneOf"] = _discriminated(keywords["oneOf"])
    keywords["anyOf"] = _discriminated(keywords["anyOf"])
    if nullable:
        keywords = {name: _allow_null(check) for name, check in keywords.items()}
    built: type[Validator] = extend(base, keywords)  # type: ignore[no-untyped-call]
    return built


@functools.cache
def validator_class(openapi_version: str, direction: Direction) -> type[Validator]:
    """The validator class for ``openapi_version`` documents going ``direction``."""
    if openapi_version.startswith("3.0"):
        return _build(Draft4Validator, direction, nullable=True)
    return _build(Draft202012Validator, direction, nullable=False)
