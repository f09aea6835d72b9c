"""``force_authenticate`` for requests built by the factory."""

from __future__ import annotations

import inspect
from typing import Any

from django.http import HttpRequest

__all__ = ["force_authenticate", "refuse_awaitables"]


def force_authenticate(
    request: HttpRequest, user: Any = None, token: Any = None
) -> None:
    """Make DRF treat ``request`` as authenticated by ``user`` and ``token``.

    DRF's :class:`~rest_framework.request.Request` looks for these values
    before it runs any authentication class, so the view's authenticators
    (session, token, JWT, ...) are skipped entirely and ``request.user`` and
    ``request.auth`` are what you pass here. Works with DRF views and adrf
    async views alike. Call it on the request before handing it to the view::

        request = factory.get("/orders/")
        force_authenticate(request, user=alice)
        response = await OrderList.as_view()(request)
    """
    refuse_awaitables(user, token)
    request._force_auth_user = user  # type: ignore[attr-defined]
    request._force_auth_token = token  # type: ignore[attr-defined]


def refuse_awaitables(user: Any, token: Any) -> None:
    """Raise ``TypeError`` if ``user`` or ``token`` is still an awaitable.

    ``User.objects.aget(...)`` without ``await`` is an easy slip; passed on,
    it would make every request "authenticated" as a coroutine object.
    """
    for name, value in (("user", user), ("token", token)):
        if inspect.isawaitable(value):
            raise TypeError(
                f"force_authenticate() got an awaitable as {name}=. Did you "
                f"forget to await it? Write {name}=await ... (for example "
                "user=await User.objects.aget(...))."
            )
