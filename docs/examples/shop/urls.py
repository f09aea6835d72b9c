from django.urls import include, path
from rest_framework.routers import DefaultRouter

from shop import views

router = DefaultRouter()
router.register("products", views.ProductViewSet)

urlpatterns = [
    path("api/", include(router.urls)),
    path("api/orders/", views.OrderList.as_view()),
    path("api/orders/<int:pk>/events/", views.OrderEvents.as_view()),
    path("api/users/", views.SignUp.as_view()),
    path("api/users/me/", views.Me.as_view()),
    path("api/exports/products.csv", views.export_products),
    path("api/v1/orders/", views.old_orders),
    path("catalogue/", views.old_catalogue),
    path("health/", views.health),
]
