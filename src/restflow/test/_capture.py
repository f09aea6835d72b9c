"""What a request leaves behind besides its response.

Django's test client reports the templates a view rendered, with their
contexts, and re-raises the exception a view raised. Both arrive as signals
(``template_rendered``, ``got_request_exception``) that carry no reference
to the request. Django's clients connect a receiver per request and
disconnect it afterwards; with requests running concurrently, each one's
receiver then also records the others' templates and errors.

Here one receiver per signal is connected for good, and each request marks
the code it runs with a context variable: a view and everything it calls,
in whichever thread, inherit the request's context, so a signal lands on the
request that caused it.
"""

from __future__ import annotations

import contextvars
import dataclasses
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from django.core.handlers.asgi import ASGIRequest
from django.core.signals import got_request_exception
from django.http import HttpResponseBase
from django.test.client import store_rendered_templates  # type: ignore[attr-defined]
from django.test.signals import template_rendered

__all__ = ["RequestTrail", "capturing", "current_trail"]

ExcInfo = tuple[type[BaseException], BaseException, TracebackType]


@dataclasses.dataclass
class RequestTrail:
    """What one request left behind: the templates and contexts rendered,
    the view's error, and - when it went through the ASGI messages of a
    stream - the request and response objects Django made."""

    rendered: dict[str, Any] = dataclasses.field(default_factory=dict)
    exc_info: ExcInfo | None = None
    request: ASGIRequest | None = None
    response: HttpResponseBase | None = None


_current: contextvars.ContextVar[RequestTrail | None] = contextvars.ContextVar(
    "restflow_request_trail", default=None
)


def current_trail() -> RequestTrail | None:
    """The trail of the request whose code is running, if any."""
    return _current.get()


def _template_rendered(sender: Any, **kwargs: Any) -> None:
    trail = _current.get()
    if trail is not None:
        store_rendered_templates(trail.rendered, sender=sender, **kwargs)


def _exception_raised(sender: Any, **kwargs: Any) -> None:
    trail = _current.get()
    if trail is not None and trail.exc_info is None:
        trail.exc_info = sys.exc_info()  # type: ignore[assignment]


template_rendered.connect(_template_rendered, dispatch_uid=__name__)
got_request_exception.connect(_exception_raised, dispatch_uid=__name__)


@contextmanager
def capturing() -> Iterator[RequestTrail]:
    """Record what the request made inside the block leaves behind."""
    trail = RequestTrail()
    token = _current.set(trail)
    try:
        yield trail
    finally:
        _current.reset(token)
