"""The live server: the project's ASGI application on a real socket.

:class:`AsyncAPILiveServerTestCase` (also importable from
:mod:`restflow.test`) starts Daphne or uvicorn in a background thread of the
test process before the first test of a class and stops it after the last,
for clients outside the test process's request machinery: ``httpx``, a
browser, another program.

The modules of this package are internal; import from here:

* ``_testcase``: the test case;
* ``_thread``: the server thread and the application wrapper it serves;
* ``_servers``: choosing a server, binding the socket, the adapters' shape;
* ``_daphne`` and ``_uvicorn``: one adapter per server, imported only when
  a live server runs on it.
"""

from restflow.test.liveserver._servers import ASGIApp, LiveServerError
from restflow.test.liveserver._testcase import AsyncAPILiveServerTestCase
from restflow.test.liveserver._thread import ASGILiveServerThread

__all__ = [
    "ASGIApp",
    "ASGILiveServerThread",
    "AsyncAPILiveServerTestCase",
    "LiveServerError",
]
