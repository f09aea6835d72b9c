from django.urls import include, path
from rest_framework.routers import DefaultRouter

from tests.project import views

router = DefaultRouter()
router.register("products", views.ProductViewSet)

async_products = views.AsyncProductViewSet.as_view({"get": "list", "post": "create"})

urlpatterns = [
    path("echo/", views.EchoView.as_view()),
    path("echo/<path:rest>", views.EchoView.as_view()),
    path("echo-function/", views.echo_function),
    path("whoami/", views.WhoAmI.as_view()),
    path("active-products/", views.ProductList.as_view()),
    path("async/echo/", views.AsyncEcho.as_view()),
    path("async/products/", async_products),
    path("async/slow/", views.SlowAsyncView.as_view()),
    path("django-async/", views.django_async_view),
    path("stream/sync/", views.stream_sync),
    path("stream/async/", views.stream_async),
    path("redirect/loop/", views.redirect_loop),
    path("redirect/forever/<int:step>/", views.redirect_forever),
    path("redirect/<int:status>/", views.redirect_to),
    path("hop/", views.hop),
    path("hop/<path:rest>", views.hop),
    path("raises/", views.raises),
    path("async/raises/", views.raises_after_a_while),
    path("commit-aware/", views.CommitAwareCreate.as_view()),
    path("csrf-guarded/", views.CsrfGuarded.as_view()),
    path("api/", include(router.urls)),
    path("streams/", include("tests.project.streaming_views")),
]
