"""Shared set-up of the sample suite under pytest."""

import pytest
from django.core.cache import caches


# --8<-- [start:clear-cache]
@pytest.fixture(autouse=True)
def empty_cache():
    """Start and end every test with an empty cache.

    The database is reset after each test, the cache is not: without this,
    a test could be served a product list that another test cached.
    """
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()
    # --8<-- [end:clear-cache]
