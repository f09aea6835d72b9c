"""``AsyncAPILiveServerTestCase``: Django's live-server test case, serving ASGI."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test.testcases import LiveServerTestCase
from django.utils.functional import classproperty

from restflow.test.liveserver._servers import ASGIApp
from restflow.test.liveserver._thread import ASGILiveServerThread, project_application
from restflow.test.testcases import AsyncAPITestCaseMixin

__all__ = ["AsyncAPILiveServerTestCase"]


class AsyncAPILiveServerTestCase(AsyncAPITestCaseMixin, LiveServerTestCase):  # type: ignore[misc]
    """A :class:`~django.test.LiveServerTestCase` whose server speaks ASGI.

    Before the first test of the class, the project's ASGI application
    (``settings.ASGI_APPLICATION``, else Django's ``ASGIHandler``) starts on
    Daphne or uvicorn in a background thread; ``self.live_server_url`` is its
    address, for ``httpx.AsyncClient``, a browser or any other outside
    client. Like Django's live server it is a ``TransactionTestCase``: what
    the test writes is committed, so the server sees it, and the tables are
    flushed after each test. With in-memory SQLite the server uses the test's
    own connection.

    ``self.client`` is still an in-process
    :class:`~restflow.test.AsyncAPIClient`, and the async hooks
    (``asyncSetUp``, ``asyncTearDown``, ``addAsyncCleanup``) work as in the
    other bases.
    """

    #: The thread class that runs the server; a subclass may replace it.
    server_thread_class = ASGILiveServerThread
    #: The running server's thread, once the class is set up: its ``port``,
    #: and ``server_name`` (the server chosen).
    server_thread: ASGILiveServerThread

    #: Wraps the application to serve static files, applied when
    #: ``django.contrib.staticfiles`` is installed. ``None`` serves none.
    static_handler: Any = ASGIStaticFilesHandler

    #: ``"daphne"`` or ``"uvicorn"``. ``None`` defers to the
    #: ``RESTFLOW_LIVE_SERVER`` setting, then to whichever is installed,
    #: Daphne first.
    asgi_server: ClassVar[str | None] = None

    #: Seconds the server may take to start or to stop before the class fails
    #: with :class:`LiveServerError` instead of hanging the run.
    live_server_timeout: ClassVar[float] = 10.0

    #: Print the tracebacks of errors in the server's request handling to
    #: ``sys.stderr``. Turn off for a class that provokes errors on purpose.
    echo_server_errors: ClassVar[bool] = True

    @classproperty
    def live_server_url(cls) -> str:
        """``http://host:port`` of the running server."""
        return f"http://{cls.allowed_host}:{cls.server_thread.port}"

    @classproperty
    def allowed_host(cls) -> str:
        """``host`` as it appears in URLs and ``Host`` headers, which is how
        Django compares it with ``ALLOWED_HOSTS``: IPv6 addresses in brackets.
        """
        return f"[{cls.host}]" if ":" in cls.host else cls.host

    @classmethod
    def get_asgi_application(cls) -> ASGIApp:
        """Return the application to serve; called once per class, in the
        server's thread.

        Override to serve something else than the project's application,
        for example one built with different middleware.
        """
        return project_application()

    @classmethod
    def _create_server_thread(
        cls, connections_override: dict[str, BaseDatabaseWrapper]
    ) -> ASGILiveServerThread:
        return cls.server_thread_class(
            cls.host,
            cls.static_handler,
            connections_override=connections_override,
            port=cls.port,
            asgi_server=cls.asgi_server,
            get_application=cls.get_asgi_application,
            timeout=cls.live_server_timeout,
            echo_errors=cls.echo_server_errors,
        )
