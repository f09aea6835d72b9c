"""Cached DRF responses that are invalidated when the data changes - on commit.

Add ``"restflow.caching"`` to ``INSTALLED_APPS``, cache views with
:func:`cache_response` or :class:`CachedResponseMixin`, and declare in
``RESTFLOW_CACHING["RULES"]`` which model changes make which views stale.
Invalidation waits for the transaction to commit, so a write that is rolled
back never empties the cache; see :mod:`restflow.caching.invalidation`.
"""

from restflow._installation import check_installation

check_installation("restflow.caching")

from restflow.caching.invalidation import (  # noqa: E402
    ainvalidate_model,
    ainvalidate_views,
    invalidate_model,
    invalidate_views,
)
from restflow.caching.views import CachedResponseMixin, cache_response  # noqa: E402

__all__ = [
    "CachedResponseMixin",
    "ainvalidate_model",
    "ainvalidate_views",
    "cache_response",
    "invalidate_model",
    "invalidate_views",
]
