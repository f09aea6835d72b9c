"""Cached views of every kind the caching app supports.

Views that are not about products count how often their body runs and say
so in the body and in an ``X-Computed`` header, so a test can tell a cache
hit (same count) from a fresh computation (next count), even for ``HEAD``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from adrf.views import APIView as AsyncAPIView
from adrf.viewsets import ReadOnlyModelViewSet as AsyncReadOnlyModelViewSet
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import generics, serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from restflow.caching import CachedResponseMixin, cache_response
from tests.testapp.models import Product

_counter: Iterator[int] = itertools.count(1)


def computed(**body: Any) -> Response:
    """A response numbered with the next value of a process-wide counter."""
    number = next(_counter)
    response = Response({"computed": number, **body})
    response["X-Computed"] = str(number)
    return response


class ProductSerializer(serializers.ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "name", "price", "is_active"]


class ProductViewSet(CachedResponseMixin, viewsets.ModelViewSet[Product]):
    """The guide's product API: a sync viewset cached through the mixin."""

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    permission_classes: list[Any] = []


class AsyncProductViewSet(CachedResponseMixin, AsyncReadOnlyModelViewSet):
    """An adrf viewset; the mixin wraps its ``async def alist``/``aretrieve``."""

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    permission_classes: list[Any] = []


class AsyncProductNames(AsyncAPIView):
    """An adrf view with a decorated ``async def get``."""

    permission_classes: list[Any] = []

    @cache_response()
    async def get(self, request: Request) -> Response:
        return Response([p.name async for p in Product.objects.order_by("id")])


class ActiveProducts(CachedResponseMixin, generics.ListAPIView[Product]):
    """Both ``get`` and ``list`` get wrapped; only one of them may cache."""

    queryset = Product.objects.filter(is_active=True)
    serializer_class = ProductSerializer
    permission_classes: list[Any] = []


class ProductCount(APIView):
    """Reads products but no rule names it: product writes leave it stale."""

    permission_classes: list[Any] = []

    @cache_response
    def get(self, request: Request) -> Response:
        return Response({"count": Product.objects.count()})


class UserGroups(APIView):
    """Invalidated through ``auth.User``, including its many-to-many groups."""

    permission_classes: list[Any] = []

    @cache_response
    def get(self, request: Request) -> Response:
        return Response(
            {
                user.username: sorted(group.name for group in user.groups.all())
                for user in User.objects.order_by("username")
            }
        )


def switched(request: Request) -> HttpResponse:
    """A numbered response shaped by the query string.

    ``?plain`` answers with a plain Django ``HttpResponse`` instead of a DRF
    ``Response``; ``?status=``, ``?cookie=``, ``?cache_control=`` and
    ``?vary=`` make it answer the way the caching rules must refuse (or
    accept) to store.
    """
    query = request.query_params
    language = request.headers.get("Accept-Language")
    response: HttpResponse
    if "plain" in query:
        number = next(_counter)
        response = JsonResponse({"computed": number, "language": language})
        response["X-Computed"] = str(number)
    else:
        response = computed(language=language)
    if "status" in query:
        response.status_code = int(query["status"])
    if "cookie" in query:
        response.set_cookie("flavour", query["cookie"])
    if "cache_control" in query:
        response["Cache-Control"] = query["cache_control"]
    if "vary" in query:
        response["Vary"] = query["vary"]
    return response


class Counted(APIView):
    """A sync view whose responses follow the query string (see
    :func:`switched`)."""

    permission_classes: list[Any] = []

    @cache_response(headers=["Accept-Language"])
    def get(self, request: Request) -> HttpResponse:
        return switched(request)

    post = get


class AsyncCounted(AsyncAPIView):
    """The async twin of :class:`Counted`."""

    permission_classes: list[Any] = []

    @cache_response
    async def get(self, request: Request) -> HttpResponse:
        return switched(request)

    post = get


class PerUser(APIView):
    """One cache entry per user."""

    permission_classes: list[Any] = []

    @cache_response(per_user=True)
    def get(self, request: Request) -> Response:
        user = request.user
        return computed(user=user.get_username() if user.is_authenticated else None)


class Shared(APIView):
    """The same entry for everyone, and only for authenticated users."""

    permission_classes = [IsAuthenticated]

    @cache_response
    def get(self, request: Request) -> Response:
        return computed()


class ShortLived(APIView):
    """Entries live one second, by the decorator's ``timeout``."""

    permission_classes: list[Any] = []

    @cache_response(timeout=1)
    def get(self, request: Request) -> Response:
        return computed()


class SettingsTimeout(CachedResponseMixin, APIView):
    """No timeout of its own: ``RESTFLOW_CACHING["TIMEOUT"]`` applies."""

    permission_classes: list[Any] = []

    def get(self, request: Request) -> Response:
        return computed()


class NamedGroup(CachedResponseMixin, APIView):
    """Refers to itself in rules by a group name instead of its path."""

    permission_classes: list[Any] = []
    cache_group = "product-summary"

    def get(self, request: Request) -> Response:
        return Response({"names": list(Product.objects.values_list("name", flat=True))})


def plain_django_view(request: HttpRequest) -> HttpResponse:
    """A function view: routed, but not a class, so never a cached handler."""
    return HttpResponse("plain")
