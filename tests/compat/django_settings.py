"""Settings for Django's own test suite under the compat harness.

Django's ``runtests.py`` defaults to its ``test_sqlite`` settings; these are
the same settings (SQLite, in memory) with the harness's test runner, which
records every test's outcome and, when asked, swaps in restflow's client.
"""

# Django's tests folder is on sys.path when runtests.py runs.
from test_sqlite import *  # type: ignore[import-not-found]  # noqa: F403

TEST_RUNNER = "django_runner.CompatRunner"

# Django's AsyncClient encodes bodies given without a content type as
# multipart; restflow's default is JSON unless the project says otherwise.
REST_FRAMEWORK = {"TEST_REQUEST_DEFAULT_FORMAT": "multipart"}
