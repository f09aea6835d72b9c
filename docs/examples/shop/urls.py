from django.urls import include, path
from rest_framework.routers import DefaultRouter

from shop import views

router = DefaultRouter()
router.register("products", views.ProductViewSet)

urlpatterns = [
    path("api/", include(router.urls)),
    path("api/orders/", views.OrderList.as_view()),
    path("api/exports/products.csv", views.export_products),
    path("catalogue/", views.old_catalogue),
]
