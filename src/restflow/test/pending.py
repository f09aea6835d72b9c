"""The awaitable that the client's request methods return."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Coroutine, Generator
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

__all__ = ["NotAwaitedError", "PendingResponse"]

_T = TypeVar("_T")


class NotAwaitedError(AttributeError):
    """A pending request was used as if it were its response."""


class PendingResponse(Coroutine[Any, Any, _T]):
    """A request that has been built but not sent: ``await`` it for the response.

    ``await client.get("/x/")`` gives the response. Without ``await`` you hold
    this object, and reading anything a response has (``status_code``,
    ``data``, ``json()``, ``response["Content-Type"]``) raises
    :class:`NotAwaitedError` saying to add ``await``, instead of the puzzling
    ``'coroutine' object has no attribute 'status_code'``.

    It is a real coroutine (``asyncio.iscoroutine()`` is true), so it also
    works with ``asyncio.gather()``, ``asyncio.create_task()`` and
    ``asyncio.wait_for()``. One that is never awaited emits a
    ``RuntimeWarning`` naming the call, as a forgotten coroutine does.
    """

    __slots__ = ("_coroutine", "_description", "_used")

    def __init__(self, coroutine: Coroutine[Any, Any, _T], description: str) -> None:
        self._coroutine = coroutine
        self._description = description
        self._used = False

    def __await__(self) -> Generator[Any, None, _T]:
        self._used = True
        return self._coroutine.__await__()

    def send(self, value: Any) -> Any:
        """Resume the underlying coroutine (part of the coroutine protocol)."""
        self._used = True
        return self._coroutine.send(value)

    def throw(self, *args: Any) -> Any:
        """Raise into the underlying coroutine (part of the coroutine protocol)."""
        return self._coroutine.throw(*args)

    def close(self) -> None:
        """Close the underlying coroutine (part of the coroutine protocol)."""
        self._used = True
        self._coroutine.close()

    def __repr__(self) -> str:
        return f"<PendingResponse {self._description}: not awaited yet>"

    if not TYPE_CHECKING:  # pragma: no branch
        # Hidden from type checkers, so that reading a response attribute from
        # a pending request (a forgotten await) is a type error, not NoReturn.

        def __getattr__(self, name: str) -> NoReturn:
            raise NotAwaitedError(self._message(f"has no attribute {name!r}"))

        def __getitem__(self, key: object) -> NoReturn:
            raise NotAwaitedError(self._message(f"has no item {key!r}"))

    def _message(self, problem: str) -> str:
        return (
            f"{self._description} {problem}: it has not been awaited, so it "
            "is a pending request, not a response. Write "
            f"`response = await {self._description}`."
        )

    def __del__(self) -> None:
        if getattr(self, "_used", True):
            return
        coroutine = self._coroutine
        if inspect.iscoroutine(coroutine):
            # Never awaited: warn with the user's call instead of the
            # internal coroutine's name, then silence Python's own warning.
            warnings.warn(
                f"{self._description} was never awaited, so the request was "
                f"not sent. Write `await {self._description}`.",
                RuntimeWarning,
                stacklevel=2,
            )
            coroutine.close()
