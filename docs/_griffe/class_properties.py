"""A griffe extension: show Django's ``classproperty`` as an attribute.

griffe knows ``property`` and ``functools.cached_property``, but sees a
method decorated with ``django.utils.functional.classproperty`` as a plain
method, so the reference would show ``live_server_url()`` - a call nobody
should write. This replaces each such method with an attribute carrying the
method's return annotation and docstring, labelled as a class property.
"""

from __future__ import annotations

from typing import Any

import griffe

_CLASSPROPERTY = "django.utils.functional.classproperty"


class ClassProperties(griffe.Extension):
    """Turn ``@classproperty`` methods into class attributes."""

    def on_function_instance(self, *, func: griffe.Function, **kwargs: Any) -> None:
        if not any(d.callable_path == _CLASSPROPERTY for d in func.decorators):
            return
        attribute = griffe.Attribute(
            func.name,
            annotation=func.returns,
            lineno=func.lineno,
            endlineno=func.endlineno,
        )
        if func.docstring is not None:
            attribute.docstring = griffe.Docstring(
                func.docstring.value, lineno=func.docstring.lineno, parent=attribute
            )
        attribute.labels |= {"class-attribute", "property"}
        parent = func.parent
        assert isinstance(parent, griffe.Class)
        parent.set_member(func.name, attribute)
