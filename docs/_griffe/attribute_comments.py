"""A griffe extension: document attributes from their ``#:`` comments.

restflow documents a constant or an attribute with ``#:`` comment lines
right above it, the convention Sphinx's autodoc reads::

    #: Seconds the server may take to start or to stop.
    live_server_timeout: ClassVar[float] = 10.0

griffe only takes a string literal *after* the assignment as an attribute's
docstring, so without this extension those attributes would appear in the
API reference with no text, or not at all. It must be listed before
``rst_markup.py`` in ``mkdocs.yml``, so that the comments' reST roles are
rewritten like any other docstring's.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import griffe

_MARKER = "#:"


@functools.cache
def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def comment_above(path: Path, lineno: int) -> str | None:
    """The text of the ``#:`` lines right above line ``lineno`` (1-based) of
    ``path``, markers and one following space removed; None if there are none.
    """
    lines = _lines(path)
    text: list[str] = []
    index = lineno - 2
    while index >= 0 and lines[index].lstrip().startswith(_MARKER):
        comment = lines[index].lstrip()[len(_MARKER) :]
        text.insert(0, comment[1:] if comment.startswith(" ") else comment)
        index -= 1
    return "\n".join(text) if text else None


class AttributeComments(griffe.Extension):
    """Give an attribute without a docstring the ``#:`` comment above it."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if not obj.is_attribute or obj.docstring is not None or obj.lineno is None:
            return
        filepath = obj.filepath
        if not isinstance(filepath, Path):
            return  # a namespace package: no single file to read
        text = comment_above(filepath, obj.lineno)
        if text is not None:
            obj.docstring = griffe.Docstring(
                text, lineno=obj.lineno - text.count("\n") - 1, parent=obj
            )
