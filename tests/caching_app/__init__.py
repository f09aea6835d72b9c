"""Views, URLs and a cache backend for the tests of :mod:`restflow.caching`.

Not an installed app: it has no models, and the tests route to it with
``override_settings(ROOT_URLCONF="tests.caching_app.urls")``.
"""
