"""A blocking client over restflow's ``AsyncAPIClient``, for DRF's own tests.

DRF's test suite is written against the sync ``APIClient``:
``response = self.client.get(...)``. To run those tests through
:class:`restflow.test.AsyncAPIClient` without rewriting them, the compat
harness puts :class:`SyncAPIClient` where ``APIClient`` was.

The adapter is deliberately almost nothing, because what is under test is
the async client, not this class:

- each request method builds the request with the async client's method of
  the same name and waits for the response with ``asgiref``'s
  ``async_to_sync``;
- every other attribute, read, written or deleted (``credentials``,
  ``force_authenticate``, ``login``, ``force_login``, ``logout``, ``cookies``,
  ``session``, ``defaults``, ``handler``, ``raise_request_exception``, ...),
  is the async client's own.

It uses only public names of ``AsyncAPIClient``, so it keeps working however
the client is built inside.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from asgiref.sync import async_to_sync

from restflow.test import AsyncAPIClient

__all__ = ["SyncAPIClient"]

_T = TypeVar("_T")


async def _result(pending: Awaitable[_T]) -> _T:
    # async_to_sync wants a coroutine *function*; the client's verbs return
    # an awaitable (a PendingResponse), so this one-line function awaits it.
    return await pending


def _wait(pending: Awaitable[_T]) -> _T:
    # The verb was called in the test's thread, so the request is built (and
    # a bad argument raises) there; async_to_sync runs it in an event loop
    # of its own and sends the sync code of views and middleware back to
    # this thread, inside the test's database transaction.
    return async_to_sync(_result)(pending)


class SyncAPIClient:
    """``APIClient``'s calls, answered by an :class:`AsyncAPIClient`.

    Constructor arguments are the async client's. ``async_client`` is that
    client; any attribute this class does not define is read from and
    written to it.
    """

    async_client: AsyncAPIClient

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Written past __setattr__, which forwards everything else.
        object.__setattr__(self, "async_client", AsyncAPIClient(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.async_client, name)

    # Assigning or deleting one of this class's own names (its request
    # methods) stays on the adapter, so mock.patch.object(client, "get")
    # patches what the test calls; any other name is the async client's.

    def __setattr__(self, name: str, value: Any) -> None:
        if name in vars(SyncAPIClient):
            object.__setattr__(self, name, value)
        else:
            setattr(self.async_client, name, value)

    def __delattr__(self, name: str) -> None:
        if name in vars(SyncAPIClient):
            object.__delattr__(self, name)
        else:
            delattr(self.async_client, name)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        """``AsyncAPIClient.get()``, waited for."""
        return _wait(self.async_client.get(*args, **kwargs))

    def post(self, *args: Any, **kwargs: Any) -> Any:
        """``AsyncAPIClient.post()``, waited for."""
        return _wait(self.async_client.post(*args, **kwargs))

    def put(self, *args: Any, **kwargs: Any) -> Any:
        """``AsyncAPIClient.put()``, waited for."""
        return _wait(self.async_client.put(*args, **kwargs))

    def patch(self, *args: Any, **kwargs: Any) -> Any:
        """``AsyncAPIClient.patch()``, waited for."""
        return _wait(self.async_client.patch(*args, **kwargs))

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        """``AsyncAPIClient.delete()``, waited for."""
        return _wait(self.async_client.delete(*args, **kwargs))

    def head(self, *args: Any, **kwargs: Any) -> Any:
        """``AsyncAPIClient.head()``, waited for."""
        return _wait(self.async_client.head(*args, **kwargs))

    def options(self, *args: Any, **kwargs: Any) -> Any:
        """``AsyncAPIClient.options()``, waited for."""
        return _wait(self.async_client.options(*args, **kwargs))

    def trace(self, *args: Any, **kwargs: Any) -> Any:
        """``AsyncAPIClient.trace()``, waited for."""
        return _wait(self.async_client.trace(*args, **kwargs))

    def generic(self, *args: Any, **kwargs: Any) -> Any:
        """``AsyncAPIClient.generic()``, waited for."""
        return _wait(self.async_client.generic(*args, **kwargs))
