"""Contract testing: responses checked against the project's OpenAPI schema.

Needs the ``schema`` extra (``pip install "restflow-testing[schema]"``), which brings
drf-spectacular, to generate the schema, and jsonschema, to check bodies
against it. Nothing here is imported by :mod:`restflow.test` itself, so
projects without the extra pay nothing for it.
"""

from __future__ import annotations

try:
    import drf_spectacular  # noqa: F401
    import jsonschema  # noqa: F401
    import referencing  # noqa: F401
except ImportError as missing:
    _PACKAGES = {"drf_spectacular": "drf-spectacular"}
    _name = (missing.name or "").split(".")[0]
    raise ImportError(
        f"restflow.test.schema needs {_PACKAGES.get(_name, _name or 'a package')}, "
        'which is part of the schema extra: pip install "restflow-testing[schema]"'
    ) from missing

from restflow.test.schema._check import SchemaCheck, assert_matches_schema
from restflow.test.schema._document import clear_schema_cache
from restflow.test.schema._report import (
    Mismatch,
    SchemaMismatchError,
    UndocumentedOperationError,
)

__all__ = [
    "Mismatch",
    "SchemaCheck",
    "SchemaMismatchError",
    "UndocumentedOperationError",
    "assert_matches_schema",
    "clear_schema_cache",
]
