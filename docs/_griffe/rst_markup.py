"""A griffe extension: render restflow's reST-flavoured docstrings as Markdown.

restflow's docstrings use a little reStructuredText, which reads well in an
editor and in ``help()``: cross-reference roles such as
``:class:`~restflow.test.AsyncAPIClient``` and literal blocks introduced by
``::``. mkdocstrings expects Markdown, so before the API reference is built
this extension rewrites

* a role that names one of restflow's public objects (or a member of one)
  into a link to its entry in the API reference;
* any other role (Django, DRF, a private helper) into inline code;
* a paragraph ending in ``::`` followed by an indented block into a sentence
  ending in ``:`` and a fenced Python code block.

Double backquotes need nothing: ````code```` is already a Markdown code span.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|meth|func|mod|attr|exc|data|obj):`(~?)([^`]+)`")

_SOURCE = Path(__file__).resolve().parents[2] / "src"


def _exported(package: str) -> list[str]:
    """A package's ``__all__``, read from its source without importing it
    (importing needs configured Django settings)."""
    init = _SOURCE.joinpath(*package.split("."), "__init__.py")
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    raise LookupError(f"{init} defines no __all__")


#: The public names the API reference documents, with their full paths; a
#: name two packages export is documented under the first.
_PUBLIC: dict[str, str] = {}
for _package in ("restflow.test", "restflow.test.liveserver", "restflow.caching"):
    for _name in _exported(_package):
        _PUBLIC.setdefault(_name, f"{_package}.{_name}")


def _reference_id(target: str) -> str | None:
    """The reference entry for ``target``, or None if it has none."""
    parts = target.split(".")
    if not target.startswith("restflow.") and len(parts) <= 2:
        parts = ["", *parts]  # a bare name, or Class.member
    for i, part in enumerate(parts):
        if part in _PUBLIC and (i == 0 or parts[0] in ("", "restflow")):
            members = parts[i + 1 :]
            if len(members) <= 1:
                return ".".join([_PUBLIC[part], *members])
    return None


def _role(match: re.Match[str]) -> str:
    short, target = match.group(1) == "~", match.group(2).strip()
    shown = target.rsplit(".", 1)[-1] if short else target
    identifier = _reference_id(target)
    return f"[`{shown}`][{identifier}]" if identifier else f"`{shown}`"


def _literal_blocks(text: str) -> str:
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        opens_block = line.rstrip().endswith("::") and i + 2 < len(lines)
        if opens_block and not lines[i + 1].strip() and lines[i + 2][:1] == " ":
            j = i + 2
            while j < len(lines) and (not lines[j].strip() or lines[j][:1] == " "):
                j += 1
            code = textwrap.dedent("\n".join(lines[i + 2 : j])).strip("\n")
            sentence = line.rstrip()[:-2].rstrip()
            out += [
                sentence + ":" if sentence else "",
                "",
                "```python",
                code,
                "```",
                "",
            ]
            i = j
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


class RstMarkup(griffe.Extension):
    """Rewrite each docstring once, as its object is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            value = _ROLE.sub(_role, obj.docstring.value)
            obj.docstring.value = _literal_blocks(value)
