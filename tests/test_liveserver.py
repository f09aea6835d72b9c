"""AsyncAPILiveServerTestCase: real servers on real sockets, driven by httpx.

The classes at the top run against Daphne and uvicorn alike. The tests
further down start servers by hand (selection, failures) or run whole test
files in a subprocess (many classes in one run, pytest-xdist, Django's
``--parallel``), skipped inside those subprocesses.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import io
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIHandler
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.test import override_settings
from django.urls import path

from restflow.test import AsyncAPIClient, AsyncAPILiveServerTestCase
from restflow.test.liveserver import ASGILiveServerThread, LiveServerError
from restflow.test.liveserver._servers import SERVER_SETTING, choose_server
from tests.testapp.models import Product

ROOT = Path(__file__).resolve().parent.parent

#: Set in the subprocesses this file starts, so they do not start more.
CHILD_MARKER = "RESTFLOW_LIVESERVER_CHILD"
in_child = os.environ.get(CHILD_MARKER) == "1"


class LiveServerBehaviour:
    """The tests every server must pass; mixed into one class per server."""

    asgi_server: ClassVar[str | None]
    live_server_url: ClassVar[str]
    http: httpx.AsyncClient
    static_dir: ClassVar[Path]

    @classmethod
    def setUpClass(cls) -> None:
        cls.static_dir = Path(tempfile.mkdtemp())
        (cls.static_dir / "hello.txt").write_text("static hello\n")
        cls.addClassCleanup(shutil.rmtree, cls.static_dir)  # type: ignore[attr-defined]
        cls.enterClassContext(  # type: ignore[attr-defined]
            override_settings(STATICFILES_DIRS=[str(cls.static_dir)])
        )
        super().setUpClass()  # type: ignore[misc]

    async def asyncSetUp(self) -> None:
        # A client bound to the test's own loop, made in the async hook.
        self.http = httpx.AsyncClient(base_url=self.live_server_url, timeout=10)

    async def asyncTearDown(self) -> None:
        await self.http.aclose()

    async def test_served_by_the_chosen_server(self) -> None:
        response = await self.http.get("/echo/")
        assert response.status_code == 200
        assert response.headers["server"] == self.asgi_server
        assert response.json()["stamps"] == ["sync-ran", "async-ran"]

    async def test_outside_client_sees_rows_the_test_created(self) -> None:
        await Product.objects.acreate(name="Phone", price=300)
        await Product.objects.acreate(name="Case", price=20)
        response = await self.http.get("/api/products/")
        assert response.status_code == 200
        assert [p["name"] for p in response.json()] == ["Phone", "Case"]
        # An async view reaches the same data through the async ORM.
        response = await self.http.get("/async/products/")
        assert response.json() == ["Phone", "Case"]

    async def test_row_posted_by_outside_client_is_visible_to_test(self) -> None:
        lamp = {"name": "Lamp", "price": 5}
        response = await self.http.post("/api/products/", json=lamp)
        assert response.status_code == 201, response.text
        product = await Product.objects.aget(pk=response.json()["id"])
        assert (product.name, product.price) == ("Lamp", 5)

    async def test_self_client_is_the_in_process_async_client(self) -> None:
        assert type(self.client) is AsyncAPIClient  # type: ignore[attr-defined]
        await Product.objects.acreate(name="Seen in process")
        response = await self.client.get("/api/products/")  # type: ignore[attr-defined]
        assert [p["name"] for p in response.data] == ["Seen in process"]

    async def test_view_error_is_500_and_logged(self) -> None:
        stderr = io.StringIO()
        with (
            self.assertLogs("django.request", "ERROR") as logs,  # type: ignore[attr-defined]
            contextlib.redirect_stderr(stderr),
        ):
            response = await self.http.get("/raises/")
        assert response.status_code == 500
        assert "ZeroDivisionError" in logs.output[0]
        assert "the view failed on purpose" in logs.output[0]

    async def test_view_error_is_echoed_to_stderr(self) -> None:
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            response = await self.http.get("/raises/")
        assert response.status_code == 500
        echoed = stderr.getvalue()
        assert f"[{self.asgi_server} live server] django.request" in echoed
        assert "ZeroDivisionError: the view failed on purpose" in echoed

    async def test_static_files_are_served(self) -> None:
        response = await self.http.get("/static/hello.txt")
        assert response.status_code == 200
        assert response.text == "static hello\n"
        assert (await self.http.get("/static/missing.txt")).status_code == 404


class DaphneLiveServerTests(LiveServerBehaviour, AsyncAPILiveServerTestCase):
    asgi_server = "daphne"


class UvicornLiveServerTests(LiveServerBehaviour, AsyncAPILiveServerTestCase):
    asgi_server = "uvicorn"


def only_in_this_class(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"from": "urlpatterns"})


class UrlpatternsAreServedTests(AsyncAPILiveServerTestCase):
    """The class's ``urlpatterns`` apply to the live server too."""

    asgi_server = "uvicorn"
    urlpatterns = [path("only-here/", only_in_this_class)]

    async def test_class_urlpatterns(self) -> None:
        async with httpx.AsyncClient(base_url=self.live_server_url) as http:
            assert (await http.get("/only-here/")).json() == {"from": "urlpatterns"}
            assert (await http.get("/echo/")).status_code == 404


@override_settings(MIDDLEWARE=["tests.project.middleware.async_stamp_middleware"])
class OwnApplicationTests(AsyncAPILiveServerTestCase):
    """get_asgi_application() runs after the class's settings apply."""

    asgi_server = "daphne"

    @classmethod
    def get_asgi_application(cls) -> Any:
        return ASGIHandler()

    async def test_application_built_under_the_class_settings(self) -> None:
        async with httpx.AsyncClient(base_url=self.live_server_url) as http:
            response = await http.get("/echo/")
        assert response.headers["x-async-middleware"] == "1"
        assert "x-sync-middleware" not in response.headers


# -- database connections on a database server ------------------------------------


def sessions_of_others() -> int:
    """Connections to the test database other than the test's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        row = cursor.fetchone()
    return int(row[0])


class PersistentConnectionsBehaviour:
    """With ``CONN_MAX_AGE`` set, Django keeps each thread's connection open
    after the request - and the thread that ran a live request's sync code
    ends right after it. The live server must close those connections, or
    PostgreSQL refuses to flush or drop the test database."""

    live_server_url: ClassVar[str]

    @classmethod
    def setUpClass(cls) -> None:
        if connection.vendor != "postgresql":
            raise unittest.SkipTest("needs a database server")
        settings_dict = connection.settings_dict
        saved = settings_dict["CONN_MAX_AGE"]
        settings_dict["CONN_MAX_AGE"] = 60
        cls.addClassCleanup(settings_dict.__setitem__, "CONN_MAX_AGE", saved)  # type: ignore[attr-defined]
        super().setUpClass()  # type: ignore[misc]

    async def test_request_threads_leave_no_connection_open(self) -> None:
        async with httpx.AsyncClient(base_url=self.live_server_url) as http:
            for name in ["a", "b", "c"]:
                response = await http.post("/api/products/", json={"name": name})
                assert response.status_code == 201
                response = await http.get("/async/products/")
                assert response.status_code == 200
        # The server closes them just after sending its response.
        deadline = time.monotonic() + 5
        while (others := await sync_to_async(sessions_of_others)()) and (
            time.monotonic() < deadline
        ):
            await asyncio.sleep(0.01)
        assert others == 0


class DaphnePersistentConnectionsTests(
    PersistentConnectionsBehaviour, AsyncAPILiveServerTestCase
):
    asgi_server = "daphne"


class UvicornPersistentConnectionsTests(
    PersistentConnectionsBehaviour, AsyncAPILiveServerTestCase
):
    asgi_server = "uvicorn"


# -- choosing the server ---------------------------------------------------------


class InstalledServerIsUsedTests(AsyncAPILiveServerTestCase):
    """No attribute, no setting: the first installed server, Daphne."""

    echo_server_errors = False

    async def test_daphne_is_preferred(self) -> None:
        assert self.server_thread.server_name == "daphne"
        async with httpx.AsyncClient(base_url=self.live_server_url) as http:
            response = await http.get("/echo/")
        assert response.headers["server"] == "daphne"

    async def test_echo_can_be_turned_off(self) -> None:
        stderr = io.StringIO()
        async with httpx.AsyncClient(base_url=self.live_server_url) as http:
            with contextlib.redirect_stderr(stderr):
                response = await http.get("/raises/")
        assert response.status_code == 500
        assert stderr.getvalue() == ""


@override_settings(**{SERVER_SETTING: "uvicorn"})
class SettingChoosesServerTests(AsyncAPILiveServerTestCase):
    async def test_setting_is_used_without_attribute(self) -> None:
        assert self.server_thread.server_name == "uvicorn"
        async with httpx.AsyncClient(base_url=self.live_server_url) as http:
            response = await http.get("/echo/")
        assert response.headers["server"] == "uvicorn"


@override_settings(**{SERVER_SETTING: "uvicorn"})
class AttributeBeatsSettingTests(AsyncAPILiveServerTestCase):
    asgi_server = "daphne"

    async def test_attribute_wins(self) -> None:
        assert self.server_thread.server_name == "daphne"
        async with httpx.AsyncClient(base_url=self.live_server_url) as http:
            response = await http.get("/echo/")
        assert response.headers["server"] == "daphne"


def test_choose_server_order_and_names() -> None:
    assert choose_server(None) == "daphne"
    assert choose_server("UVICORN") == "uvicorn"
    with override_settings(**{SERVER_SETTING: "uvicorn"}):
        assert choose_server(None) == "uvicorn"
        assert choose_server("daphne") == "daphne"
    unknown = "The asgi_server attribute is 'hypercorn'; the live server supports"
    with pytest.raises(ImproperlyConfigured, match=unknown):
        choose_server("hypercorn")
    unknown = "The RESTFLOW_LIVE_SERVER setting is 'gunicorn'"
    with (
        override_settings(**{SERVER_SETTING: "gunicorn"}),
        pytest.raises(ImproperlyConfigured, match=unknown),
    ):
        choose_server(None)


# -- servers that are not installed, honestly: blocked in a fresh interpreter ----

NOT_INSTALLED_PROBE = """
import sys

for name in sys.argv[1:]:
    sys.modules[name] = None  # "import name" now fails, find_spec() finds nothing

import django

django.setup()

import restflow.test

loaded = [m for m in ("daphne", "twisted", "uvicorn") if sys.modules.get(m) is not None]
print("imported:", loaded)

from restflow.test import AsyncAPILiveServerTestCase


def start(**attributes):
    attributes["__module__"] = "probe"
    case = type("Probe", (AsyncAPILiveServerTestCase,), attributes)
    try:
        case.setUpClass()
    except Exception as exc:
        print(f"error: {type(exc).__name__}: {exc}")
    else:
        import urllib.request

        with urllib.request.urlopen(case.live_server_url + "/echo/") as response:
            server = response.headers["server"]
            print("served by:", case.server_thread.server_name, server)
    finally:
        case.doClassCleanups()


start()
start(asgi_server="daphne")
"""


def run_probe(*blocked: str) -> list[str]:
    completed = subprocess.run(
        [sys.executable, "-c", NOT_INSTALLED_PROBE, *blocked],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.project.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.splitlines()


@pytest.mark.skipif(in_child, reason="runs in the outer test run only")
def test_neither_server_installed() -> None:
    imported, default, daphne = run_probe("daphne", "uvicorn")
    assert imported == "imported: []"  # restflow.test imports no server
    assert default == (
        "error: ImproperlyConfigured: The live server needs an ASGI server, and "
        "neither Daphne nor uvicorn is installed. Install one of them: pip "
        "install 'restflow-testing[daphne]' or pip install "
        "'restflow-testing[uvicorn]'."
    )
    assert daphne == (
        "error: ImproperlyConfigured: The asgi_server attribute asks for daphne, "
        "which is not installed. Install it with pip install "
        "'restflow-testing[daphne]'."
    )


@pytest.mark.skipif(in_child, reason="runs in the outer test run only")
def test_only_uvicorn_installed() -> None:
    imported, default, daphne = run_probe("daphne")
    assert imported == "imported: []"
    assert default == "served by: uvicorn uvicorn"
    assert daphne.startswith(
        "error: ImproperlyConfigured: The asgi_server attribute asks for daphne"
    )


@pytest.mark.skipif(in_child, reason="runs in the outer test run only")
def test_daphne_found_but_not_importable() -> None:
    # Daphne is there, but a dependency of it is broken: find_spec() finds
    # Daphne, and the import of the adapter fails.
    imported, default, daphne = run_probe("twisted")
    assert imported == "imported: []"
    assert default == daphne
    # The ImportError's wording varies with the Python version.
    assert re.fullmatch(
        r"error: ImproperlyConfigured: The daphne live server could not be "
        r"imported \(.*'twisted.*\)\. Install it with pip install "
        r"'restflow-testing\[daphne\]'\.",
        default,
    ), default


# -- start-up failures -----------------------------------------------------------


def start_class(**attributes: Any) -> type[AsyncAPILiveServerTestCase]:
    """Create a live-server class and run its setUpClass, as a runner would."""
    attributes["__module__"] = __name__
    case = type("Probe", (AsyncAPILiveServerTestCase,), attributes)
    try:
        case.setUpClass()
    except BaseException:
        case.doClassCleanups()
        raise
    return case


@pytest.mark.parametrize("server", ["daphne", "uvicorn"])
def test_port_in_use_fails_fast_with_a_clear_error(server: str) -> None:
    with socket.create_server(("localhost", 0)) as taken:
        port = taken.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(LiveServerError) as failure:
            start_class(asgi_server=server, port=port, live_server_timeout=60.0)
        # Fails at once rather than after the (here very long) start timeout;
        # the margin is wide so that a loaded machine cannot flake it.
        assert time.monotonic() - started < 30
    assert str(failure.value) == (
        f"The live server cannot listen on localhost:{port}: Address already in "
        "use. Something else is listening on that port; set port = 0 to let the "
        "operating system pick a free one."
    )


@pytest.mark.parametrize("server", ["daphne", "uvicorn"])
def test_unresolvable_host_fails_fast(server: str) -> None:
    expected = r"cannot listen on no-such-host\.invalid:0: .*does not resolve\.$"
    with pytest.raises(LiveServerError, match=expected):
        start_class(asgi_server=server, host="no-such-host.invalid")


def test_application_that_fails_to_load_fails_the_class() -> None:
    def broken(cls: type) -> Any:
        raise RuntimeError("the application is broken")

    with pytest.raises(RuntimeError, match="the application is broken"):
        start_class(asgi_server="uvicorn", get_asgi_application=classmethod(broken))


@pytest.mark.django_db(transaction=True)  # Django's request signals use the database
@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
@pytest.mark.parametrize("server", ["daphne", "uvicorn"])
def test_host_is_configurable(server: str, host: str) -> None:
    # No host allowed but the one the class adds for itself.
    with override_settings(ALLOWED_HOSTS=[]):
        case = start_class(asgi_server=server, host=host)
        try:
            url = case.live_server_url
            assert urlsplit(url).hostname == host
            assert url.startswith(
                "http://[::1]:" if host == "::1" else "http://127.0.0.1:"
            )
            response = httpx.get(url + "/echo/")
            assert response.status_code == 200
            assert response.headers["server"] == server
        finally:
            case.doClassCleanups()


async def broken_application(scope: Any, receive: Any, send: Any) -> None:
    raise RuntimeError("escaped from the application")


@pytest.mark.parametrize("server", ["daphne", "uvicorn"])
def test_exception_escaping_the_application(server: str) -> None:
    case = start_class(
        asgi_server=server,
        get_asgi_application=classmethod(lambda cls: broken_application),
    )
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            response = httpx.get(case.live_server_url + "/anything/")
    finally:
        case.doClassCleanups()
    assert response.status_code == 500
    assert "traceback is in the test output" in response.text
    echoed = stderr.getvalue()
    assert echoed.startswith(
        f"[{server} live server] restflow.test.liveserver: Exception in the live "
        "server's application (GET /anything/)\nTraceback"
    )
    assert echoed.rstrip().endswith("RuntimeError: escaped from the application")


@pytest.mark.parametrize("server", ["daphne", "uvicorn"])
def test_a_started_class_stops_cleanly(server: str) -> None:
    before = set(threading.enumerate())
    handlers = list(logging.getLogger("django.request").handlers)
    case = start_class(asgi_server=server)
    thread = case.server_thread
    assert thread.is_alive() and thread.port != 0
    assert len(logging.getLogger("django.request").handlers) == len(handlers) + 1
    case.doClassCleanups()
    assert not thread.is_alive()
    assert logging.getLogger("django.request").handlers == handlers
    with pytest.raises(httpx.ConnectError):
        httpx.get(case.live_server_url + "/echo/")
    leftover = set(threading.enumerate()) - before
    assert all(t.name == "restflow-twisted-reactor" for t in leftover), leftover


@pytest.mark.parametrize(
    "failure",
    [FileNotFoundError(errno.ENOENT, "No such file"), SystemExit(3)],
    ids=["OSError", "SystemExit"],
)
def test_start_failure_without_a_message_of_its_own_is_wrapped(
    failure: BaseException,
) -> None:
    # An OSError says nothing of the live server, and a SystemExit (uvicorn
    # exits on failure) would end the thread silently.
    def broken(cls: type) -> Any:
        raise failure

    with pytest.raises(LiveServerError) as raised:
        start_class(asgi_server="uvicorn", get_asgi_application=classmethod(broken))
    assert str(raised.value) == (
        f"The uvicorn live server failed to start: {failure!r}"
    )
    assert raised.value.__cause__ is failure


@pytest.mark.django_db(transaction=True)  # Django's request signals use the database
@pytest.mark.parametrize(
    ("attributes", "installed", "status"),
    [
        ({}, True, 200),
        ({"static_handler": None}, True, 404),
        ({}, False, 404),
    ],
    ids=["served", "no-handler", "staticfiles-not-installed"],
)
def test_static_files_only_with_handler_and_app(
    tmp_path: Path, attributes: dict[str, Any], installed: bool, status: int
) -> None:
    (tmp_path / "hello.txt").write_text("static hello\n")
    apps_ = [
        app
        for app in settings.INSTALLED_APPS
        if installed or app != "django.contrib.staticfiles"
    ]
    with override_settings(STATICFILES_DIRS=[str(tmp_path)], INSTALLED_APPS=apps_):
        case = start_class(asgi_server="uvicorn", **attributes)
        try:
            response = httpx.get(case.live_server_url + "/static/hello.txt")
        finally:
            case.doClassCleanups()
    assert response.status_code == status


async def fails_mid_response(scope: Any, receive: Any, send: Any) -> None:
    headers = [(b"content-length", b"100")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"partial", "more_body": True})
    raise RuntimeError("failed mid-response")


def test_exception_after_the_response_started() -> None:
    # No second response (a 500) can follow a started one: the error goes
    # on to the server, which drops the connection. (Not on Daphne: its own
    # error handling then fails, and leaves the client waiting.)
    server = "uvicorn"
    case = start_class(
        asgi_server=server,
        get_asgi_application=classmethod(lambda cls: fails_mid_response),
    )
    stderr = io.StringIO()
    try:
        with (
            contextlib.redirect_stderr(stderr),
            pytest.raises(httpx.RemoteProtocolError),
        ):
            httpx.get(case.live_server_url + "/partial/")
    finally:
        case.doClassCleanups()
    echoed = stderr.getvalue()
    assert echoed.startswith(
        f"[{server} live server] restflow.test.liveserver: Exception in the live "
        "server's application (GET /partial/)\nTraceback"
    )
    assert "RuntimeError: failed mid-response" in echoed


def test_exception_in_a_websocket_connection_reaches_daphne() -> None:
    # Daphne's own housekeeping reports it to the client: the handshake is
    # refused with a 500.
    case = start_class(
        asgi_server="daphne",
        get_asgi_application=classmethod(lambda cls: broken_application),
    )
    handshake = (
        b"GET /ws/ HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    stderr = io.StringIO()
    try:
        address = ("localhost", case.server_thread.port)
        with (
            contextlib.redirect_stderr(stderr),
            socket.create_connection(address) as client,
        ):
            client.sendall(handshake)
            answer = read_until_closed(client)
    finally:
        case.doClassCleanups()
    assert answer.startswith(b"HTTP/1.1 500 "), answer
    echoed = stderr.getvalue()
    assert echoed.startswith(
        "[daphne live server] restflow.test.liveserver: Exception in the live "
        "server's application (websocket /ws/)\nTraceback"
    )
    assert echoed.rstrip().endswith("RuntimeError: escaped from the application")


class BrokenStderr(io.StringIO):
    """A standard error whose reader has gone away."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def test_echo_that_cannot_write_does_not_break_the_response() -> None:
    case = start_class(
        asgi_server="uvicorn",
        get_asgi_application=classmethod(lambda cls: broken_application),
    )
    try:
        with contextlib.redirect_stderr(BrokenStderr()):
            response = httpx.get(case.live_server_url + "/anything/")
    finally:
        case.doClassCleanups()
    # The live server's own 500, not one from uvicorn after an exception in
    # the live server's error handling.
    assert response.status_code == 500
    assert "traceback is in the test output" in response.text


def test_terminating_a_thread_that_never_started() -> None:
    thread = ASGILiveServerThread("localhost", None, asgi_server="uvicorn")
    thread.terminate()
    assert not thread.is_alive() and thread.ident is None


@pytest.mark.parametrize("server", ["daphne", "uvicorn"])
def test_server_that_does_not_start_in_time(server: str) -> None:
    release = threading.Event()

    def slow_application() -> Any:
        release.wait(10)
        return broken_application

    thread = ASGILiveServerThread(
        "localhost",
        None,
        asgi_server=server,
        get_application=slow_application,
        timeout=0.5,
    )
    started = time.monotonic()
    thread.start()
    # Gave up at the timeout: not before it, and not hanging (wide margin).
    assert 0.5 <= time.monotonic() - started < 30
    assert isinstance(thread.error, LiveServerError)
    assert str(thread.error) == "The live server did not start within 0.5 s."
    # The stop request comes first; the server is created after it and
    # never serves.
    timer = threading.Timer(0.1, release.set)
    timer.start()
    thread.terminate()
    timer.join()
    assert not thread.is_alive()
    assert thread.server is not None and thread.port != 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://localhost:{thread.port}/")


def read_until_closed(client: socket.socket) -> bytes:
    """What the server still sends before it closes the connection (waits
    up to 5 s for that)."""
    client.settimeout(5)
    received = b""
    try:
        while data := client.recv(1024):
            received += data
    except ConnectionResetError:
        pass
    return received


def test_daphne_stop_closes_idle_and_busy_connections() -> None:
    entered = threading.Event()
    disconnected = threading.Event()

    async def application(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/done/":
            headers = [(b"content-length", b"4")]
            await send(
                {"type": "http.response.start", "status": 200, "headers": headers}
            )
            await send({"type": "http.response.body", "body": b"done"})
            return
        entered.set()
        while (await receive())["type"] != "http.disconnect":
            pass
        disconnected.set()

    thread = ASGILiveServerThread(
        "localhost", None, asgi_server="daphne", get_application=lambda: application
    )
    thread.start()
    assert thread.error is None
    address = ("localhost", thread.port)
    with (
        socket.create_connection(address) as idle,
        socket.create_connection(address) as busy,
    ):
        idle.sendall(b"GET /done/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
        idle.settimeout(5)
        received = b""
        while not received.endswith(b"\r\n\r\ndone"):
            received += idle.recv(1024) or pytest.fail(f"closed: {received!r}")
        assert received.startswith(b"HTTP/1.1 200 ")
        busy.sendall(b"GET /wait/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert entered.wait(5)
        thread.terminate()
        # terminate() waits at most the thread's timeout and raises if the
        # server has not stopped by then; not raising is the proof.
        assert not thread.is_alive()
        assert read_until_closed(idle) == read_until_closed(busy) == b""
    # The application learnt that its client had gone, and finished by itself.
    assert disconnected.is_set()


def test_daphne_stop_closes_an_idle_connection() -> None:
    thread = ASGILiveServerThread("localhost", None, asgi_server="daphne")
    thread.start()
    assert thread.error is None
    with socket.create_connection(("localhost", thread.port)) as idle:
        thread.terminate()
        assert read_until_closed(idle) == b""


def test_server_that_does_not_stop_in_time() -> None:
    entered = threading.Event()

    async def slow_to_stop(scope: Any, receive: Any, send: Any) -> None:
        entered.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            time.sleep(0.5)  # a clean-up that blocks the server's loop
            raise

    thread = ASGILiveServerThread(
        "localhost",
        None,
        asgi_server="uvicorn",
        get_application=lambda: slow_to_stop,
        timeout=0.2,
    )
    thread.start()
    assert thread.error is None
    with socket.create_connection(("localhost", thread.port)) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert entered.wait(5)
        expected = r"^The uvicorn live server did not stop within 0\.2 s\.$"
        with pytest.raises(LiveServerError, match=expected):
            thread.terminate()
        # The request is cancelled after the grace period; the thread ends
        # once the application's clean-up lets it.
        thread.join(5)
        assert not thread.is_alive()
        assert read_until_closed(client).startswith(b"HTTP/1.1 500 ")


def test_call_in_daphne_reactor_reports_failures_and_timeouts() -> None:
    from twisted.internet import defer

    from restflow.test.liveserver._daphne import _call_in_reactor, shared_reactor

    reactor = shared_reactor(5)

    def raises() -> None:
        raise ValueError("raised at once")

    async def coroutine_raises() -> None:
        raise KeyError("raised by a coroutine")

    assert _call_in_reactor(reactor, lambda: defer.succeed(3), 5, "to add") == 3
    with pytest.raises(ValueError, match="raised at once"):
        _call_in_reactor(reactor, raises, 5, "to fail")
    with pytest.raises(LookupError, match="failed later"):
        _call_in_reactor(
            reactor, lambda: defer.fail(LookupError("failed later")), 5, "to fail"
        )
    with pytest.raises(KeyError, match="raised by a coroutine"):
        _call_in_reactor(reactor, coroutine_raises, 5, "to fail")
    never: defer.Deferred[None] = defer.Deferred()
    with pytest.raises(LiveServerError, match=r"^Daphne took more than 0\.05 s "):
        _call_in_reactor(reactor, lambda: never, 0.05, "to answer")


REACTOR_PROBE = """
import logging
import threading

import django

django.setup()

from twisted.logger import Logger, globalLogBeginner

# This process chooses where Twisted's log events go, before any live server.
events = []
globalLogBeginner.beginLoggingTo([events.append], redirectStandardIO=False)
records = []


class Keep(logging.Handler):
    def emit(self, record):
        records.append(record)


# Where restflow sends Twisted's events when nobody chose.
logging.getLogger("twisted").addHandler(Keep())

from restflow.test import AsyncAPILiveServerTestCase


def start():
    attributes = {"__module__": "probe", "asgi_server": "daphne"}
    case = type("Probe", (AsyncAPILiveServerTestCase,), attributes)
    try:
        case.setUpClass()
    except Exception as exc:
        print(f"error: {type(exc).__name__}: {exc}")
    else:
        print("started")
    finally:
        case.doClassCleanups()


start()
Logger(namespace="probe").error("probe event")
mine = [e["log_format"] for e in events if e.get("log_namespace") == "probe"]
print("twisted observer:", mine)
print("logging records:", len(records))
from twisted.internet import reactor

reactor.callFromThread(reactor.stop)
for thread in threading.enumerate():
    if thread.name == "restflow-twisted-reactor":
        thread.join(5)
start()
"""


@pytest.mark.skipif(in_child, reason="runs in the outer test run only")
def test_daphne_after_the_shared_reactor_stopped() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", REACTOR_PROBE],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.project.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        "started",
        # The process's own choice stays: restflow does not add its observer.
        "twisted observer: ['probe event']",
        "logging records: 0",
        "error: LiveServerError: Twisted's reactor has stopped, and a reactor "
        "cannot be started twice in one process; Daphne live servers are "
        "unavailable.",
    ]


# -- whole runs in a subprocess ----------------------------------------------------


def child_environment() -> dict[str, str]:
    """The environment for a test run in a subprocess.

    On a database server the child gets a database name of its own: this
    run's test database is in use, and the child must create, and drop, its
    own.
    """
    env = {
        **os.environ,
        CHILD_MARKER: "1",
        "DJANGO_SETTINGS_MODULE": "tests.project.settings",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
        ),
    }
    url = os.environ.get("RESTFLOW_TEST_DATABASE_URL")
    if url and not url.startswith("sqlite"):
        name = f"restflow_live_{uuid.uuid4().hex[:10]}"
        private = urlsplit(url)._replace(path=f"/{name}")
        env["RESTFLOW_TEST_DATABASE_URL"] = urlunsplit(private)
    return env


def run_child(*command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


MANY_CLASSES = """
import json
import logging
import os
import sys
import threading
import time
import unittest

import django

django.setup()

import httpx
from django.core.handlers.asgi import ASGIHandler
from django.db import connection
from django.test.runner import DiscoverRunner
from django.test.utils import setup_test_environment, teardown_test_environment

from restflow.test import AsyncAPILiveServerTestCase
from tests.testapp.models import Product


def make_case(index, server):
    async def test_round_trip(self):
        await Product.objects.acreate(name=f"product {index}")
        async with httpx.AsyncClient(base_url=self.live_server_url) as http:
            response = await http.get("/api/products/")
            created = await http.post("/api/products/", json={"name": "posted"})
        assert response.headers["server"] == server
        assert [p["name"] for p in response.json()] == [f"product {index}"]
        assert created.status_code == 201
        assert await Product.objects.acount() == 2

    attributes = {"asgi_server": server, "test_round_trip": test_round_trip}
    return type(f"Live{index}", (AsyncAPILiveServerTestCase,), attributes)


def run(cases):
    loader = unittest.defaultTestLoader
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(case) for case in cases)
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=0).run(suite)
    assert result.wasSuccessful(), result.errors + result.failures
    return result.testsRun


def sockets():
    if not os.path.isdir("/proc/self/fd"):
        return None  # Linux only; elsewhere the count is not compared
    fds = os.listdir("/proc/self/fd")
    links = []
    for fd in fds:
        try:
            links.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    return sum(link.startswith("socket:") for link in links)


def threads():
    return sorted((t.name, t.daemon) for t in threading.enumerate())


def settled(measure, expected):
    # Worker threads that have done their last job (asgiref's, for one) end
    # when their executor is collected, which may take a moment.
    deadline = time.monotonic() + 2
    while (value := measure()) != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return value


# After the warm-up: the test runner's thread, the database thread restflow
# keeps for the next test, and Daphne's shared reactor.
STEADY = [
    ("MainThread", False),
    ("restflow-test-database", True),
    ("restflow-twisted-reactor", True),
]


def other_sessions():
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


setup_test_environment()
runner = DiscoverRunner(verbosity=0, interactive=False)
databases = runner.setup_databases()
servers = ["daphne", "uvicorn"]
warm_up = run([make_case(i, server) for i, server in enumerate(servers)])
threads_before = settled(threads, STEADY)
sockets_before = sockets()
count = int(sys.argv[1])
ran = run([make_case(i, servers[i % 2]) for i in range(2, 2 + count)])
report = {
    "ran": ran,
    "threads_before": threads_before,
    "threads_after": settled(threads, STEADY),
    "sockets_before": sockets_before,
    "sockets_after": settled(sockets, sockets_before),
    "other_sessions": other_sessions(),
}
# On PostgreSQL this fails if any connection to the test database is left.
runner.teardown_databases(databases)
teardown_test_environment()
print(json.dumps(report))
"""


@pytest.mark.skipif(in_child, reason="runs in the outer test run only")
def test_thirty_classes_leave_no_thread_socket_or_connection(tmp_path: Path) -> None:
    script = tmp_path / "many_classes.py"
    script.write_text(MANY_CLASSES)
    report = json.loads(run_child(str(script), "30").stdout)
    assert report["ran"] == 30
    # Before and after: the main thread, restflow's one database thread kept
    # between tests, and Daphne's shared reactor, only.
    steady = [
        ["MainThread", False],
        ["restflow-test-database", True],
        ["restflow-twisted-reactor", True],
    ]
    assert report["threads_before"] == report["threads_after"] == steady
    assert report["sockets_after"] == report["sockets_before"]
    assert report["other_sessions"] in (None, 0)


LIVE_CLASSES = "DaphneLiveServerTests or UvicornLiveServerTests"


@pytest.mark.skipif(in_child, reason="runs in the outer test run only")
def test_pytest_xdist_run() -> None:
    completed = run_child(
        "-m", "pytest", "tests/test_liveserver.py", "-n", "2", "-v", "-k", LIVE_CLASSES
    )
    assert "created: 2/2 workers" in completed.stdout
    assert "[gw0]" in completed.stdout and "[gw1]" in completed.stdout  # both did work
    assert "14 passed" in completed.stdout


@pytest.mark.skipif(in_child, reason="runs in the outer test run only")
def test_django_parallel_run() -> None:
    completed = run_child(
        "-m",
        "django",
        "test",
        "tests.test_liveserver",
        "--parallel",
        "2",
        "-k",
        "DaphneLiveServerTests",
        "-k",
        "UvicornLiveServerTests",
    )
    assert completed.stderr.count("Cloning test database") == 2  # one per worker
    assert "Ran 14 tests" in completed.stderr
    assert "\nOK\n" in completed.stderr
