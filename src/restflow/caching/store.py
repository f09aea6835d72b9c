"""Where cached responses live, and how a whole group of them goes stale at once.

Django's cache API cannot delete "every key of this view": there is no
pattern delete, and one view may have thousands of entries (per page, per
filter, per user). So each group of cached views has a *generation token*,
a random string kept under its own key, and every cached response is stored
together with the token that was current when the view started computing
it. A response is only served while its token is still the group's current
one. Invalidating a group is then a single write - a new token - and the old
entries simply expire.

This ordering also closes the usual race between a slow reader and a writer:
the token is read *before* the view queries the database, so a response
computed from data that a concurrent commit has since changed is filed
under the old token and is never served.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, NamedTuple

from django.core.cache import BaseCache, caches
from django.http import HttpResponseBase

from restflow.caching.config import CachingSettings
from restflow.caching.keys import group_key

__all__ = ["Lookup", "ResponseStore"]


class Lookup(NamedTuple):
    """The outcome of reading the cache for one request.

    ``token`` is the group's generation token at the time of the read; a
    response computed after a miss must be saved under it.
    """

    token: str
    response: HttpResponseBase | None


class ResponseStore:
    """Cached responses of the views of one cache, with generation tokens.

    The sync methods are for sync views and for commit callbacks; views that
    run on the event loop use the ``a``-prefixed twins, which go through the
    cache's async API.
    """

    def __init__(self, cache: BaseCache, prefix: str) -> None:
        self.cache = cache
        self.prefix = prefix

    @classmethod
    def from_settings(cls, conf: CachingSettings) -> ResponseStore:
        """The store for the cache alias and key prefix in ``conf``."""
        return cls(caches[conf.cache_alias], conf.key_prefix)

    # -- reading -------------------------------------------------------------

    def lookup(self, group: str, key: str) -> Lookup:
        """Return the current token of ``group`` and the live entry under ``key``."""
        token_key = group_key(self.prefix, group)
        found = self.cache.get_many([token_key, key])
        token = found.get(token_key)
        if token is None:
            token = self._start_generation(token_key)
        return Lookup(token, _live_response(found.get(key), token))

    async def alookup(self, group: str, key: str) -> Lookup:
        """:meth:`lookup` through the cache's async API."""
        token_key = group_key(self.prefix, group)
        found = await self.cache.aget_many([token_key, key])
        token = found.get(token_key)
        if token is None:
            token = await self._astart_generation(token_key)
        return Lookup(token, _live_response(found.get(key), token))

    # -- writing -------------------------------------------------------------

    def save(
        self, key: str, token: str, response: HttpResponseBase, timeout: Any
    ) -> None:
        """File a rendered response under ``key`` for generation ``token``."""
        self.cache.set(key, (token, response), timeout)

    async def asave(
        self, key: str, token: str, response: HttpResponseBase, timeout: Any
    ) -> None:
        """:meth:`save` through the cache's async API."""
        await self.cache.aset(key, (token, response), timeout)

    # -- invalidating --------------------------------------------------------

    def bust(self, groups: Iterable[str]) -> None:
        """Make every cached response of ``groups`` stale, in one cache write."""
        self.cache.set_many(self._new_tokens(groups), timeout=None)

    async def abust(self, groups: Iterable[str]) -> None:
        """:meth:`bust` through the cache's async API."""
        await self.cache.aset_many(self._new_tokens(groups), timeout=None)

    def _new_tokens(self, groups: Iterable[str]) -> dict[str, str]:
        return {group_key(self.prefix, group): _new_token() for group in groups}

    def _start_generation(self, token_key: str) -> str:
        # Tokens never expire; if the backend evicts one anyway, starting a
        # new generation only costs misses, never stale answers.
        token = _new_token()
        if self.cache.add(token_key, token, timeout=None):
            return token
        current: str | None = self.cache.get(token_key)
        return current or token

    async def _astart_generation(self, token_key: str) -> str:
        token = _new_token()
        if await self.cache.aadd(token_key, token, timeout=None):
            return token
        current: str | None = await self.cache.aget(token_key)
        return current or token


def _new_token() -> str:
    return uuid.uuid4().hex


def _live_response(entry: object, token: str) -> HttpResponseBase | None:
    if (
        isinstance(entry, tuple)
        and len(entry) == 2
        and entry[0] == token
        and isinstance(entry[1], HttpResponseBase)
    ):
        return entry[1]
    return None
