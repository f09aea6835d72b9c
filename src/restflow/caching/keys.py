"""Cache keys: one per cached response, one per group of cached views.

A response key has to capture everything that can change the bytes a view
sends back for a ``GET``: which view and method, the URL (scheme and host
included, because DRF's hyperlinks and pagination links are absolute), the
query string, the ``Accept`` header (content negotiation), any further
request headers the view declares, and, when asked, the user. Query
parameters are put in a canonical order so that ``?a=1&b=2`` and
``?b=2&a=1`` share an entry; repeated values of one parameter keep their
order, since views may read them as a list.

Both kinds of key are hashed, so that they stay short and free of characters
some backends reject (memcached allows 250 characters and no spaces).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest

__all__ = ["group_key", "normalise_headers", "response_key", "user_identity"]

#: Content negotiation makes every DRF response depend on this header.
ALWAYS_VARY_ON = "accept"


def group_key(prefix: str, group: str) -> str:
    """The key that holds the current generation token of a view group."""
    return f"{prefix}:group:{_digest(group)}"


def response_key(
    prefix: str,
    group: str,
    request: HttpRequest,
    *,
    headers: Iterable[str] = (),
    user: str | None = None,
) -> str:
    """The key under which the response to ``request`` is cached.

    ``headers`` are the request headers, besides ``Accept``, that change the
    response; ``user`` is a :func:`user_identity`, or ``None`` when the
    response is the same for everyone.
    """
    parts: list[Any] = [
        group,
        request.method,
        request.scheme,
        request.get_host(),
        request.path,
        sorted(request.GET.lists()),
        [[name, request.headers.get(name, "")] for name in normalise_headers(headers)],
        user,
    ]
    return f"{prefix}:response:{_digest(json.dumps(parts))}"


def normalise_headers(headers: Iterable[str]) -> list[str]:
    """Lower-case, de-duplicate and sort header names, ``Accept`` included.

    The order in which a view lists its headers must not change its keys.
    """
    return sorted({ALWAYS_VARY_ON, *(name.strip().lower() for name in headers)})


def user_identity(user: Any) -> str:
    """A stable string for the authenticated user, or for anonymity."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    return f"user:{user.pk}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
