"""The private parts of Django and DRF that restflow relies on, each named.

restflow avoids private attributes of the projects it builds on; where it
cannot, the test below fails with a message that says what changed and where
restflow uses it, on the day a new release changes it.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.test.client import ClientMixin
from rest_framework.request import Request

from restflow.test import AsyncAPIRequestFactory, force_authenticate


def test_django_test_clients_parse_json_with_parse_json() -> None:
    """``AsyncAPIClient`` gives responses Django's own ``json()``:
    ``ClientMixin._parse_json(response, **kwargs)`` (restflow/test/client.py)."""
    parse = getattr(ClientMixin, "_parse_json", None)
    assert callable(parse), (
        "Django no longer has ClientMixin._parse_json; update "
        "AsyncAPIClient._received in restflow/test/client.py."
    )
    response = JsonResponse({"a": 1})
    assert parse(ClientMixin(), response) == {"a": 1}
    assert parse(ClientMixin(), response) is parse(ClientMixin(), response)


def test_csrf_middleware_honours_dont_enforce_csrf_checks() -> None:
    """The client and factory switch CSRF checks off the way Django's test
    clients do: ``request._dont_enforce_csrf_checks = True``
    (restflow/test/_handler.py, restflow/test/factory.py)."""
    factory = AsyncAPIRequestFactory(enforce_csrf_checks=True)
    request = factory.post("/x/", {"a": 1})
    middleware = CsrfViewMiddleware(lambda request: JsonResponse({}))
    refused = middleware.process_view(request, lambda r: None, (), {})
    assert refused is not None and refused.status_code == 403
    request = AsyncAPIRequestFactory().post("/x/", {"a": 1})
    assert request._dont_enforce_csrf_checks is True  # type: ignore[attr-defined]
    assert middleware.process_view(request, lambda r: None, (), {}) is None, (
        "CsrfViewMiddleware no longer reads request._dont_enforce_csrf_checks; "
        "update ClientHandler.create_request and AsyncAPIRequestFactory.generic."
    )


def test_drf_reads_force_auth_user_and_token() -> None:
    """``force_authenticate`` sets ``_force_auth_user`` and
    ``_force_auth_token``, which DRF's ``Request`` reads
    (restflow/test/authentication.py)."""
    request = AsyncAPIRequestFactory().get("/x/")
    user = User(username="khan")
    force_authenticate(request, user=user, token="t")
    drf_request = Request(request)
    assert (drf_request.user, drf_request.auth) == (user, "t"), (
        "DRF's Request no longer reads _force_auth_user/_force_auth_token; "
        "update restflow/test/authentication.py."
    )
