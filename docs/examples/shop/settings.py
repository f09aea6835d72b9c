"""Settings of the sample shop whose tests show restflow in use."""

SECRET_KEY = "sample-shop-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "shop.urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# --8<-- [start:installed-apps]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "shop",
    # Connects the invalidation rules below to model signals; without it,
    # cached responses would never be invalidated.
    "restflow.caching",
]

# Local memory is enough for one test process. The cache outlives each
# test's transaction, so the sample suite clears it around every test
# (tests/conftest.py under pytest, shop/testrunner.py under Django's runner).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# --8<-- [end:installed-apps]

# --8<-- [start:restflow-caching]
RESTFLOW_CACHING = {
    # Seconds a cached response is kept, unless a write invalidates it first.
    "TIMEOUT": 300,
    # A committed change to any product makes the cached product list and
    # product details stale.
    "RULES": {"shop.Product": ["shop.views.ProductViewSet"]},
}
# --8<-- [end:restflow-caching]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

# SQLite in memory: the suite needs no database server.
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# Uploaded photos are kept in memory, so the tests leave no files behind.
STORAGES = {"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}

# The sample prints the mail it sends. Django 6.1 configures mail with
# MAILERS; older versions ignore it. In tests, Django's test set-up (which
# pytest-django runs too) swaps in an in-memory backend whatever is set
# here, and sent mail lands in django.core.mail.outbox.
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = "shop@example.com"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticatedOrReadOnly",
    ],
    # --8<-- [start:schema-class]
    # drf-spectacular generates the API's OpenAPI schema: the contract the
    # test suite checks every response against (see tests/test_contract.py).
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # --8<-- [end:schema-class]
}

SPECTACULAR_SETTINGS = {"TITLE": "Sample shop", "VERSION": "1.0.0"}

# manage.py test with a cache emptied after each test, as pytest does with
# the autouse fixture of tests/conftest.py.
TEST_RUNNER = "shop.testrunner.CacheClearingRunner"

# A fast hasher: the tests create users, and the default one is slow on purpose.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
