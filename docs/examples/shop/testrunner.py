"""Django's test runner, set up for the sample suite's cache.

The cache is not part of any test's transaction, so a response cached by one
test would still be there for the next. Under pytest, the autouse fixture in
tests/conftest.py empties the cache around each test; this runner does the
same for ``manage.py test`` (``python -m django test``).
"""

from django.core.cache import caches
from django.test.runner import DiscoverRunner
from django.test.utils import iter_test_cases


def clear_caches():
    for cache in caches.all():
        cache.clear()


class CacheClearingRunner(DiscoverRunner):
    """Empties every cache before the run and after each test."""

    def setup_test_environment(self, **kwargs):
        super().setup_test_environment(**kwargs)
        clear_caches()

    def build_suite(self, *args, **kwargs):
        suite = super().build_suite(*args, **kwargs)
        for test in iter_test_cases(suite):
            test.addCleanup(clear_caches)
        return suite
