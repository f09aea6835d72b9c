"""Test tools for async Django REST framework APIs.

The public surface mirrors :mod:`rest_framework.test`, but every request
travels the ASGI path that production uses.

The names are imported on first use. Importing them reads Django's settings,
and pytest imports ``restflow.test.plugin`` - and with it this package -
before pytest-django has configured the settings.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from restflow._installation import check_installation

# Also here, not only in restflow/__init__.py: another distribution installed
# after this one may have replaced that file (see restflow._installation).
check_installation("restflow.test")

if TYPE_CHECKING:
    from restflow.test._leftover_tasks import LeftoverTaskError, LeftoverTaskWarning
    from restflow.test._queries import CaptureAllQueries
    from restflow.test._timeouts import AsyncTimeoutError
    from restflow.test.authentication import force_authenticate
    from restflow.test.client import AsyncAPIClient
    from restflow.test.factory import AsyncAPIRequestFactory
    from restflow.test.liveserver import AsyncAPILiveServerTestCase
    from restflow.test.pending import NotAwaitedError, PendingResponse
    from restflow.test.response import ClientResponse
    from restflow.test.streaming import (
        ClientDisconnected,
        ServerSentEvent,
        SSEError,
        StreamClosedError,
        StreamContext,
        StreamedResponse,
    )
    from restflow.test.testcases import (
        AsyncAPISimpleTestCase,
        AsyncAPITestCase,
        AsyncAPITestCaseMixin,
        AsyncAPITransactionTestCase,
    )

_HOMES = {
    "AsyncAPIClient": "restflow.test.client",
    "AsyncAPILiveServerTestCase": "restflow.test.liveserver",
    "AsyncAPIRequestFactory": "restflow.test.factory",
    "AsyncAPISimpleTestCase": "restflow.test.testcases",
    "AsyncAPITestCase": "restflow.test.testcases",
    "AsyncAPITestCaseMixin": "restflow.test.testcases",
    "AsyncAPITransactionTestCase": "restflow.test.testcases",
    "AsyncTimeoutError": "restflow.test._timeouts",
    "CaptureAllQueries": "restflow.test._queries",
    "ClientDisconnected": "restflow.test.streaming",
    "ClientResponse": "restflow.test.response",
    "force_authenticate": "restflow.test.authentication",
    "LeftoverTaskError": "restflow.test._leftover_tasks",
    "LeftoverTaskWarning": "restflow.test._leftover_tasks",
    "NotAwaitedError": "restflow.test.pending",
    "PendingResponse": "restflow.test.pending",
    "ServerSentEvent": "restflow.test.streaming",
    "SSEError": "restflow.test.streaming",
    "StreamClosedError": "restflow.test.streaming",
    "StreamContext": "restflow.test.streaming",
    "StreamedResponse": "restflow.test.streaming",
}

__all__ = [
    "AsyncAPIClient",
    "AsyncAPILiveServerTestCase",
    "AsyncAPIRequestFactory",
    "AsyncAPISimpleTestCase",
    "AsyncAPITestCase",
    "AsyncAPITestCaseMixin",
    "AsyncAPITransactionTestCase",
    "AsyncTimeoutError",
    "CaptureAllQueries",
    "ClientDisconnected",
    "ClientResponse",
    "LeftoverTaskError",
    "LeftoverTaskWarning",
    "NotAwaitedError",
    "PendingResponse",
    "SSEError",
    "ServerSentEvent",
    "StreamClosedError",
    "StreamContext",
    "StreamedResponse",
    "force_authenticate",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
