"""Check that the built API reference documents every public name.

Run after ``mkdocs build``, with the site directory::

    python docs/_griffe/check_reference.py site

It reads the public names the way the reference's readers would find them -
the ``__all__`` of ``restflow.test``, ``restflow.test.liveserver`` and
``restflow.caching``, the pytest plugin's fixtures, and the public classes
those names lead to (:data:`ALSO_PUBLIC`) - and checks, in the built page:

* every public name, and every public method and attribute its class
  defines, has an entry (an element whose ``id`` is its path);
* every entry has a docstring (read with griffe and the same extensions the
  build uses, so ``#:`` comments count);
* every signature was wrapped (no line longer than :data:`LONGEST_LINE`),
  which tells that a formatter (ruff, from the ``docs`` extra) was installed.

Deliberate omissions are listed in :data:`NOT_RENDERED` with the reason, and
known gaps in :data:`KNOWN_GAPS`; an entry there that is no longer needed is
an error too, so the lists only shrink.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import griffe

DOCS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(DOCS / "_griffe"))

from attribute_comments import AttributeComments  # noqa: E402
from class_properties import ClassProperties  # noqa: E402
from rst_markup import RstMarkup  # noqa: E402

#: Packages whose ``__all__`` is public, in the order the reference prefers
#: a name's path when two export it.
PACKAGES = ("restflow.test", "restflow.test.liveserver", "restflow.caching")

#: Public classes no ``__all__`` above exports: what the factory returns and
#: raises.
ALSO_PUBLIC = (
    "restflow.test.factory.FactoryRequest",
    "restflow.test.factory.MiddlewareAttributeError",
)

#: Members users get from a parent class that the reference must show.
INHERITED: dict[str, tuple[str, ...]] = {}

#: Public by name, left out on purpose.
NOT_RENDERED = {
    "restflow.test.AsyncAPIClient.handler": "Django's client attribute, "
    "replaced with restflow's handler; not something tests use",
    "restflow.test.AsyncAPIRequestFactory.renderer_classes_list": "DRF's "
    "factory attribute, set from DRF's settings for each factory",
    "restflow.test.AsyncAPIRequestFactory.default_format": "DRF's factory "
    "attribute, set from DRF's settings for each factory",
    "restflow.test.liveserver.ASGILiveServerThread.run": "threading.Thread.run, "
    "called by start()",
    "restflow.test.liveserver.ASGILiveServerThread.daemon": "threading.Thread's "
    "flag, always true here",
}

#: Entries rendered without a docstring, and what would fix them.
KNOWN_GAPS: dict[str, str] = {}

#: The longest signature line the reference may show. ruff wraps them at
#: mkdocstrings' default of 60 characters, a little more where one
#: parameter does not fit.
LONGEST_LINE = 88

_FIXTURE_DECORATORS = {"pytest.fixture", "pytest_asyncio.fixture"}


def public_objects(package: griffe.Module) -> dict[str, griffe.Object | griffe.Alias]:
    """Public path (as the reference shows it) -> object."""
    found: dict[str, griffe.Object | griffe.Alias] = {}
    seen: set[str] = set()
    for module_path in PACKAGES:
        module = package[module_path.removeprefix("restflow.")]
        for name in module.exports or ():
            target = module[name]
            if target.canonical_path not in seen:
                seen.add(target.canonical_path)
                found[f"{module_path}.{name}"] = target
    for path in ALSO_PUBLIC:
        found[path] = package[path.removeprefix("restflow.")]
    plugin = package["test.plugin"]
    for name, member in plugin.members.items():
        if name.startswith("_") or member.is_alias or not member.is_function:
            continue
        if any(d.callable_path in _FIXTURE_DECORATORS for d in member.decorators):
            found[f"restflow.test.plugin.{name}"] = member
    return found


def expected_entries(package: griffe.Module) -> dict[str, str | None]:
    """Every entry the page must have -> its docstring (None: has none)."""
    entries: dict[str, str | None] = {}
    for path, found in public_objects(package).items():
        obj = found.final_target if found.is_alias else found
        entries[path] = obj.docstring.value if obj.docstring else None
        if not obj.is_class:
            continue
        for name, member in obj.members.items():
            if name.startswith("_") or member.is_alias:
                continue
            entries[f"{path}.{name}"] = (
                member.docstring.value if member.docstring else None
            )
        for name in INHERITED.get(path, ()):
            # Not overridden here: the parent's text (Django's) is not ours.
            entries.setdefault(f"{path}.{name}", None)
    return entries


def signature_lines(page: str) -> list[str]:
    blocks = re.findall(r'<div class="doc-signature[^"]*"><pre>(.*?)</pre>', page, re.S)
    text = "\n".join(html.unescape(re.sub(r"<[^>]+>", "", b)) for b in blocks)
    return text.splitlines()


def problems(site: Path) -> list[str]:
    loader_extensions = griffe.load_extensions(
        AttributeComments, RstMarkup, ClassProperties
    )
    package = griffe.load(
        "restflow",
        search_paths=[str(DOCS.parent / "src")],
        extensions=loader_extensions,
        docstring_parser="google",
    )
    assert isinstance(package, griffe.Module)
    page = (site / "reference" / "index.html").read_text(encoding="utf-8")
    rendered = set(re.findall(r'id="(restflow\.[^"]+)"', page))
    found: list[str] = []
    entries = expected_entries(package)
    for path, docstring in entries.items():
        if path in NOT_RENDERED:
            if path in rendered:
                found.append(f"{path} is rendered: remove it from NOT_RENDERED")
            continue
        if path not in rendered:
            found.append(f"{path} has no entry in docs/reference.md")
        if docstring is None and path not in KNOWN_GAPS:
            found.append(f"{path} has no docstring")
        if docstring is not None and path in KNOWN_GAPS:
            found.append(f"{path} is documented now: remove it from KNOWN_GAPS")
    for path in [*NOT_RENDERED, *KNOWN_GAPS]:
        if path not in entries:
            found.append(f"{path} is not a public name any more: remove it")
    for line in signature_lines(page):
        if len(line) > LONGEST_LINE:
            found.append(
                f"signature line of {len(line)} characters, not wrapped (is ruff "
                f'installed? pip install -e ".[docs]"): {line.strip()[:60]}...'
            )
    return found


def main() -> int:
    site = Path(sys.argv[1] if len(sys.argv) > 1 else "site")
    found = problems(site)
    for problem in found:
        print(f"check_reference: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
