"""Views of every kind the client must drive: DRF, adrf, plain Django."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from adrf.views import APIView as AsyncAPIView
from adrf.viewsets import ViewSet as AsyncViewSet
from django.db import transaction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from rest_framework import generics, serializers, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import api_view
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tests.project.snapshot import jsonable, snapshot
from tests.testapp.models import Product


def _who(request: Request) -> dict[str, Any]:
    user = request.user
    return {
        "user": user.get_username() if user.is_authenticated else None,
        "auth": None if request.auth is None else str(request.auth),
        "authenticator": type(request.successful_authenticator).__name__
        if request.successful_authenticator
        else None,
    }


class EchoView(APIView):
    """Answers with everything it saw of the request, for every method."""

    def dispatch_any(self, request: Request, **kwargs: Any) -> Response:
        seen = jsonable(snapshot(request._request))
        seen.update(_who(request))
        seen["stamps"] = [
            getattr(request._request, "sync_stamp", None),
            getattr(request._request, "async_stamp", None),
        ]
        return Response(seen)

    get = post = put = patch = delete = options = dispatch_any

    def head(self, request: Request, **kwargs: Any) -> Response:
        return self.dispatch_any(request)


@api_view(["GET", "POST"])
def echo_function(request: Request) -> Response:
    """The function-view flavour of EchoView."""
    return Response({"method": request.method, "data": request.data, **_who(request)})


class WhoAmI(APIView):
    """Requires authentication by any configured authenticator."""

    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response(_who(request))

    def post(self, request: Request) -> Response:
        return Response(_who(request))


class ProductSerializer(serializers.ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "name", "price", "is_active"]


class ProductViewSet(viewsets.ModelViewSet[Product]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    permission_classes: list[Any] = []


class ProductList(generics.ListCreateAPIView[Product]):
    queryset = Product.objects.filter(is_active=True)
    serializer_class = ProductSerializer
    permission_classes: list[Any] = []


class AsyncEcho(AsyncAPIView):
    """An adrf async view."""

    permission_classes: list[Any] = []

    async def get(self, request: Request) -> Response:
        return Response({"async": True, "query": request.query_params, **_who(request)})

    async def post(self, request: Request) -> Response:
        count = await Product.objects.acount()
        return Response(
            {"async": True, "data": request.data, "products": count, **_who(request)}
        )


class AsyncProductViewSet(AsyncViewSet):
    """An adrf async view set, routed by hand."""

    permission_classes: list[Any] = []

    async def list(self, request: Request) -> Response:
        names = [p.name async for p in Product.objects.order_by("id")]
        return Response(names)

    async def create(self, request: Request) -> Response:
        product = await Product.objects.acreate(name=request.data["name"])
        return Response({"id": product.pk, "name": product.name}, status=201)


class SlowAsyncView(AsyncAPIView):
    """Awaits 50 ms, so concurrent requests can be seen to overlap."""

    permission_classes: list[Any] = []

    async def get(self, request: Request) -> Response:
        await asyncio.sleep(0.05)
        return Response({"slept": 0.05, **_who(request)})


async def django_async_view(request: HttpRequest) -> JsonResponse:
    """A plain Django async view, with the middleware's stamps."""
    user = await request.auser()
    return JsonResponse(
        {
            "method": request.method,
            "user": user.get_username() if user.is_authenticated else None,
            "stamps": [
                getattr(request, "sync_stamp", None),
                getattr(request, "async_stamp", None),
            ],
        }
    )


def _numbers() -> Iterator[bytes]:
    for i in range(3):
        yield f"{i},row{i}\n".encode()


async def _anumbers() -> AsyncIterator[bytes]:
    for i in range(3):
        await asyncio.sleep(0)
        yield f"{i},row{i}\n".encode()


def stream_sync(request: HttpRequest) -> StreamingHttpResponse:
    return StreamingHttpResponse(_numbers(), content_type="text/csv")


async def stream_async(request: HttpRequest) -> StreamingHttpResponse:
    return StreamingHttpResponse(_anumbers(), content_type="text/csv")


def redirect_to(request: HttpRequest, status: int) -> HttpResponse:
    target = request.GET.get("to", "/echo/")
    response = HttpResponseRedirect(target)
    response.status_code = status
    return response


def redirect_loop(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect("/redirect/loop/")


def raises(request: HttpRequest) -> HttpResponse:
    raise ZeroDivisionError("the view failed on purpose")


#: Names of products whose creation has been committed, appended by
#: on_commit callbacks registered in CommitAwareCreate.
COMMITTED: list[str] = []


class CommitAwareCreate(APIView):
    """Creates a product and records it once the transaction commits."""

    permission_classes: list[Any] = []

    def post(self, request: Request) -> Response:
        product = Product.objects.create(name=request.data["name"])
        transaction.on_commit(lambda: COMMITTED.append(product.name))
        return Response({"id": product.pk}, status=201)


class CsrfGuarded(APIView):
    """Session-authenticated, so DRF enforces CSRF on unsafe methods."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        return Response(_who(request))


def redirect_forever(request: HttpRequest, step: int) -> HttpResponse:
    """Each step redirects to the next one: a chain without a loop."""
    return HttpResponseRedirect(f"/redirect/forever/{step + 1}/")


async def raises_after_a_while(request: HttpRequest) -> HttpResponse:
    await asyncio.sleep(0.05)
    raise ZeroDivisionError("the async view failed on purpose")


def hop(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Redirects to ``?to=`` (with ``?status=``, 302 by default); without
    ``to``, answers with where the request arrived."""
    if "to" in request.GET:
        response = HttpResponseRedirect(request.GET["to"])
        response.status_code = int(request.GET.get("status", 302))
        return response
    return JsonResponse(
        {
            "method": request.method,
            "path": request.path,
            "query": sorted(request.GET.lists()),
            "host": request.get_host(),
            "scheme": request.scheme,
        }
    )
