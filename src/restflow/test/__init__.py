"""Test tools for async Django REST framework APIs.

The public surface mirrors :mod:`rest_framework.test`, but every request
travels the ASGI path that production uses.
"""

from restflow.test.authentication import force_authenticate
from restflow.test.client import AsyncAPIClient
from restflow.test.factory import AsyncAPIRequestFactory
from restflow.test.pending import NotAwaitedError, PendingResponse
from restflow.test.testcases import (
    AsyncAPISimpleTestCase,
    AsyncAPITestCase,
    AsyncAPITestCaseMixin,
    AsyncAPITransactionTestCase,
)

__all__ = [
    "AsyncAPIClient",
    "AsyncAPIRequestFactory",
    "AsyncAPISimpleTestCase",
    "AsyncAPITestCase",
    "AsyncAPITestCaseMixin",
    "AsyncAPITransactionTestCase",
    "NotAwaitedError",
    "PendingResponse",
    "force_authenticate",
]
