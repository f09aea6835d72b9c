from adrf.routers import SimpleRouter as AsyncRouter
from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tests.caching_app import views

router = SimpleRouter()
router.register("products", views.ProductViewSet)
async_router = AsyncRouter()
async_router.register("async-products", views.AsyncProductViewSet)

urlpatterns = [
    path("api/", include(router.urls)),
    path("api/", include(async_router.urls)),
    path("api/async-product-names/", views.AsyncProductNames.as_view()),
    path("api/active-products/", views.ActiveProducts.as_view()),
    path("api/product-count/", views.ProductCount.as_view()),
    path("api/product-summary/", views.NamedGroup.as_view()),
    path("api/user-groups/", views.UserGroups.as_view()),
    path("counted/", views.Counted.as_view()),
    path("async-counted/", views.AsyncCounted.as_view()),
    path("per-user/", views.PerUser.as_view()),
    path("shared/", views.Shared.as_view()),
    path("short-lived/", views.ShortLived.as_view()),
    path("settings-timeout/", views.SettingsTimeout.as_view()),
]
