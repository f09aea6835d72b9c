"""The test project's settings with a second database alias, ``other``.

Used only by the subprocess runs that count queries across databases, so the
rest of the suite does not pay for creating a second test database. On
SQLite it is a second in-memory database; on a server, a second database
next to the first, named after it.
"""

from __future__ import annotations

import copy

from tests.project.settings import *  # noqa: F403
from tests.project.settings import DATABASES

_other = copy.deepcopy(DATABASES["default"])
if _other["ENGINE"].endswith("sqlite3"):
    _other["NAME"] = ":memory:"
else:
    _other["NAME"] = f"{_other['NAME']}_other"
    _other["TEST"] = {"NAME": f"{DATABASES['default']['TEST']['NAME']}_other"}

DATABASES = {**DATABASES, "other": _other}
