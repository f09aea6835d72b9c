"""A real local-memory cache that also reports how it is used.

It refuses sync calls made on a thread that is running an event loop, which
is how an async view would block its loop, and it records the keys written,
so tests can count cache writes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.core.cache.backends.locmem import LocMemCache


class GuardedLocMemCache(LocMemCache):
    """``LocMemCache`` that raises when called synchronously inside a loop."""

    def __init__(self, name: str, params: dict[str, Any]) -> None:
        super().__init__(name, params)
        self.written: list[str] = []

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        _refuse_running_loop("get")
        return super().get(key, default, version)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        _refuse_running_loop("get_many")
        return super().get_many(keys, version)

    def add(self, key: Any, value: Any, *args: Any, **kwargs: Any) -> bool:
        _refuse_running_loop("add")
        return super().add(key, value, *args, **kwargs)

    def set(self, key: Any, value: Any, *args: Any, **kwargs: Any) -> None:
        _refuse_running_loop("set")
        self.written.append(key)
        super().set(key, value, *args, **kwargs)

    def set_many(self, data: Any, *args: Any, **kwargs: Any) -> list[Any]:
        _refuse_running_loop("set_many")
        return super().set_many(data, *args, **kwargs)


def _refuse_running_loop(method: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"cache.{method}() was called on the event loop's thread")
